import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import type { BridgeSpec } from "./bridge";
import { bins, CLUSTER_IPS, HOST, type Layout, PORTS, REAL_NODE, SERVICE_CIDR, traefikBuild } from "./layout";
import { kubeconfig, type Pki } from "./pki";
import { type Daemon, livePid, sleep, stopByPidFile as stopByPidFileOf, TestbedError, waitFor } from "./processes";

/**
 * The testbed's real node: containerd (Debian's, with runc) and a kubelet and kube-proxy built from the
 * Kubernetes module, in a network namespace of the node's own. Inside it: a bridge that holds the
 * node's address and its pods' veths, kube-proxy's and the policy enforcer's iptables rules and ipsets,
 * and ip_forward; none of it touches the host's network, and deleting the namespace removes all of it.
 * The control plane and the registries stay on the host's 127.0.0.1, reached through the bridge program
 * (dev/testbed/bridge.ts). The runtime, its shims and every pod live in one cgroup of ours, so `stop`
 * finds each process to end by its cgroup, never by its name.
 */

/**
 * The images the node runs for the testbed, ours, served by the hub mirror. Pause (the pods' sandbox)
 * and CoreDNS at the versions kubeadm pins for the Kubernetes version, pause built here from its C source.
 */
export const NODE_IMAGES = {
    pause: "launchpad-testbed/pause:3.10.2",
    coredns: "launchpad-testbed/coredns:v1.14.6",
    kubeRouter: "launchpad-testbed/kube-router:v2.1.0",
    /** Tagged with our patches' hash too, so that a changed patch is a new image the node pulls. */
    traefik: `launchpad-testbed/traefik:v${traefikBuild()}`,
    /** netcat and getent: the throw-away pods of the network tests. */
    probe: "launchpad-testbed/probe:1",
} as const;

/** An image of the testbed's own, as the node pulls it: from the hub mirror, over the bridge. */
export function nodeImage(name: keyof typeof NODE_IMAGES): string {
    return `${HOST}:${PORTS.hubMirror}/${NODE_IMAGES[name]}`;
}

/** The kernel settings the kubelet changes at start (container_manager_linux.go), restored by `stop`. */
const KUBELET_SYSCTLS = ["vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes"] as const;

/** Paths the kubelet, containerd's shims and the CNI library use whatever they are told; `stop` removes those it created. */
const FIXED_PATHS = ["/var/lib/kubelet", "/var/log/containers", "/var/lib/cni", "/run/containerd"] as const;

/**
 * The node's files, and the names of what it makes outside them: its network namespace and cgroup are
 * named after the testbed's folder, so that a testbed (or a test) in another folder never touches them.
 */
export function nodeFiles(l: Layout) {
    const run = path.join(l.run, "node");
    const data = path.join(l.data, "node");
    const name = `${REAL_NODE.namePrefix}-${createHash("sha256").update(l.home).digest("hex").slice(0, 8)}`;
    return {
        run,
        data,
        /** The network namespace, as `ip netns` names it and `nsenter --net=` finds it. */
        netnsName: name,
        netns: `/run/netns/${name}`,
        /** The cgroup (in every hierarchy) the node's runtime, shims and pods live in: what `stop` sweeps. */
        cgroup: name,
        containerdConfig: path.join(run, "containerd.toml"),
        containerdSocket: path.join(run, "containerd.sock"),
        containerdRoot: path.join(data, "containerd"),
        containerdState: path.join(run, "containerd"),
        registryHosts: path.join(run, "certs.d"),
        cniConf: path.join(run, "cni"),
        cniData: path.join(data, "cni"),
        kubeletConfig: path.join(run, "kubelet.yaml"),
        kubeletKubeconfig: path.join(run, "kubelet.kubeconfig"),
        proxyKubeconfig: path.join(run, "kube-proxy.kubeconfig"),
        kubeletRoot: path.join(data, "kubelet"),
        podLogs: path.join(data, "pod-logs"),
        resolvConf: path.join(run, "resolv.conf"),
        hostBridge: path.join(run, "bridge-host.json"),
        nodeBridge: path.join(run, "bridge-node.json"),
        socket: (name: "apiserver" | "registry" | "hub-mirror" | "kubelet" | "ingress") => path.join(run, `${name}.sock`),
        hostState: path.join(l.run, "node-host-state.json"),
        /** The egress selector's file: how the API server reaches the node's kubelet. */
        egressSelector: path.join(l.run, "egress-selector.yaml"),
    };
}

type NodeFiles = ReturnType<typeof nodeFiles>;

/** containerd's configuration: its own root, state and socket, the CRI with the bridge CNI and our registries. */
export function containerdConfig(f: NodeFiles): string {
    const q = JSON.stringify;
    return `version = 2
root = ${q(f.containerdRoot)}
state = ${q(f.containerdState)}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(f.containerdSocket)}

[ttrpc]
  address = ${q(`${f.containerdSocket}.ttrpc`)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(path.join(f.data, "opt"))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(nodeImage("pause"))}
  # This machine's root lacks CAP_SYS_RESOURCE: without this, runc cannot lower a sandbox's OOM score.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(path.join(f.run, "runc"))}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${q(f.cniConf)}
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ${q(f.registryHosts)}
`;
}

/** The node's pod network: one bridge holding the node's address, host-local addresses, hairpin for Services. */
export function cniConfig(f: NodeFiles): object {
    return {
        cniVersion: "1.0.0",
        name: "launchpad-testbed",
        plugins: [
            {
                type: "bridge",
                bridge: REAL_NODE.bridge,
                isGateway: true,
                ipMasq: false,
                hairpinMode: true,
                ipam: {
                    type: "host-local",
                    ranges: [[{ subnet: REAL_NODE.podCidr, gateway: REAL_NODE.ip }]],
                    routes: [{ dst: "0.0.0.0/0" }],
                    dataDir: f.cniData,
                },
            },
            { type: "portmap", capabilities: { portMappings: true } },
        ],
    };
}

export function kubeletConfig(f: NodeFiles, pki: Pki): object {
    return {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        address: REAL_NODE.ip,
        port: 10250,
        readOnlyPort: 0,
        healthzBindAddress: "127.0.0.1",
        healthzPort: 10248,
        tlsCertFile: pki.kubelet.cert,
        tlsPrivateKeyFile: pki.kubelet.key,
        authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.ca } },
        authorization: { mode: "Webhook" },
        // This machine has cgroup v1 (hybrid), which the kubelet refuses unless told.
        failCgroupV1: false,
        cgroupDriver: "cgroupfs",
        cgroupRoot: `/${f.cgroup}`,
        containerRuntimeEndpoint: `unix://${f.containerdSocket}`,
        clusterDNS: [CLUSTER_IPS.dns],
        clusterDomain: "cluster.local",
        resolvConf: f.resolvConf,
        podLogsDir: f.podLogs,
        rotateCertificates: false,
        serverTLSBootstrap: false,
        failSwapOn: false,
        // A build machine's disk is shared and busy: evict only when it is truly full.
        evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%" },
        imageGCHighThresholdPercent: 99,
        imageGCLowThresholdPercent: 98,
    };
}

/** The two halves of the bridge: what the node's namespace reaches on the host, and what the host reaches in it. */
export function bridgeSpecs(f: NodeFiles): { host: BridgeSpec; node: BridgeSpec } {
    const any = "0.0.0.0";
    return {
        host: {
            readyFile: path.join(f.run, "bridge-host.ready"),
            routes: [
                { listen: { unix: f.socket("apiserver") }, to: { host: HOST, port: PORTS.apiserver } },
                { listen: { unix: f.socket("registry") }, to: { host: HOST, port: PORTS.registry } },
                { listen: { unix: f.socket("hub-mirror") }, to: { host: HOST, port: PORTS.hubMirror } },
                { listen: { host: HOST, port: PORTS.ingress }, to: { unix: f.socket("ingress") } },
            ],
        },
        node: {
            readyFile: path.join(f.run, "bridge-node.ready"),
            routes: [
                // On every address of the node: pods reach the API server through the kubernetes Service.
                { listen: { host: any, port: PORTS.apiserver }, to: { unix: f.socket("apiserver") } },
                { listen: { host: HOST, port: PORTS.registry }, to: { unix: f.socket("registry") } },
                { listen: { host: HOST, port: PORTS.hubMirror }, to: { unix: f.socket("hub-mirror") } },
                { listen: { unix: f.socket("kubelet") }, to: "connect" },
                { listen: { unix: f.socket("ingress") }, to: { host: CLUSTER_IPS.ingress, port: 80 } },
            ],
        },
    };
}

/** The API server's egress selector: connections to nodes (logs, exec) go through the CONNECT proxy in the node's namespace. */
export function egressSelectorConfig(f: NodeFiles): string {
    return toYaml({
        apiVersion: "apiserver.k8s.io/v1beta1",
        kind: "EgressSelectorConfiguration",
        egressSelections: [{ name: "cluster", connection: { proxyProtocol: "HTTPConnect", transport: { uds: { udsName: f.socket("kubelet") } } } }],
    });
}

/** Registry hosts containerd pulls from over plain HTTP: the team registry and the hub mirror, both on the host. */
function writeRegistryHosts(f: NodeFiles): void {
    for (const port of [PORTS.registry, PORTS.hubMirror]) {
        for (const host of ["localhost", HOST]) {
            const dir = path.join(f.registryHosts, `${host}:${port}`);
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "hosts.toml"), `server = "http://${host}:${port}"\n\n[host."http://${host}:${port}"]\n  capabilities = ["pull", "resolve"]\n`);
        }
    }
}

/** Writes every configuration file of the node (and the API server's egress selector). */
export function writeNodeFiles(l: Layout, pki: Pki): NodeFiles {
    const f = nodeFiles(l);
    for (const dir of [f.run, f.data, f.cniConf, f.cniData, f.kubeletRoot, f.podLogs]) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(f.containerdConfig, containerdConfig(f));
    fs.writeFileSync(path.join(f.cniConf, "10-launchpad-testbed.conflist"), JSON.stringify(cniConfig(f), null, 2));
    writeRegistryHosts(f);
    fs.writeFileSync(f.kubeletConfig, toYaml(kubeletConfig(f, pki)));
    fs.writeFileSync(f.kubeletKubeconfig, kubeconfig(pki, "kubelet"), { mode: 0o600 });
    fs.writeFileSync(f.proxyKubeconfig, kubeconfig(pki, "kube-proxy"), { mode: 0o600 });
    // The node has no upstream DNS: pods resolve through the cluster DNS only.
    fs.writeFileSync(f.resolvConf, "# launchpad testbed: the real node has no upstream name server\n");
    const specs = bridgeSpecs(f);
    fs.writeFileSync(f.hostBridge, JSON.stringify(specs.host, null, 2));
    fs.writeFileSync(f.nodeBridge, JSON.stringify(specs.node, null, 2));
    fs.writeFileSync(f.egressSelector, egressSelectorConfig(f));
    return f;
}

/** Runs a command; throws its last lines as a TestbedError saying `what` failed. */
export function sh(cmd: string, args: readonly string[], what: string): string {
    const r = spawnSync(cmd, [...args], { encoding: "utf8" });
    if (r.error || r.status !== 0) throw new TestbedError(`${what} failed: ${(r.stderr || r.stdout || r.error?.message || "").trim().split("\n").slice(-3).join(" ")}`);
    return r.stdout;
}

/** Runs a command inside the node's network namespace (`netns`: its path, nodeFiles' `netns`). */
export function inNode(netns: string, args: readonly string[], what: string): string {
    return sh("nsenter", [`--net=${netns}`, ...args], what);
}

/** The node's network namespace with its bridge up and the node's address on it, forwarding between pods on. */
function createNetns(f: NodeFiles): void {
    sh("ip", ["netns", "add", f.netnsName], "creating the node's network namespace");
    const inside = (args: readonly string[], what: string) => inNode(f.netns, args, what);
    inside(["ip", "link", "set", "lo", "up"], "bringing up the node's loopback");
    inside(["ip", "link", "add", REAL_NODE.bridge, "type", "bridge"], "creating the node's bridge");
    inside(["ip", "addr", "add", `${REAL_NODE.ip}/${REAL_NODE.podCidr.split("/")[1]}`, "dev", REAL_NODE.bridge], "addressing the node's bridge");
    inside(["ip", "link", "set", REAL_NODE.bridge, "up"], "bringing up the node's bridge");
    // The node's own connections to Service addresses (hostNetwork pods: kube-router) need a route for
    // kube-proxy's DNAT to act on; pods have theirs through the bridge's address.
    inside(["ip", "route", "add", SERVICE_CIDR, "dev", REAL_NODE.bridge, "src", REAL_NODE.ip], "routing the Service range in the node's namespace");
    // Per namespace: Service traffic is routed back out of the bridge, and bridged traffic meets iptables.
    inside(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"], "turning on forwarding in the node's namespace");
}

/** The cgroup directories of ours, one per hierarchy (cgroup v1), or the one of the unified hierarchy (v2). */
export function cgroupDirs(name: string, root = "/sys/fs/cgroup"): string[] {
    if (fs.existsSync(path.join(root, "cgroup.controllers"))) return [path.join(root, name)];
    return fs.readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, "cgroup.procs")))
        .map((e) => path.join(root, e.name, name));
}

/** The hierarchy `stop` reads the processes of: pids on cgroup v1 (every task is in it), the unified one on v2. */
export function trackingCgroup(name: string, root = "/sys/fs/cgroup"): string {
    return fs.existsSync(path.join(root, "cgroup.controllers")) ? path.join(root, name) : path.join(root, "pids", name);
}

function createCgroups(name: string): void {
    for (const dir of cgroupDirs(name)) {
        fs.mkdirSync(dir, { recursive: true });
        // A new cpuset admits no task until it has CPUs and memory nodes: its parent's.
        for (const file of ["cpuset.cpus", "cpuset.mems"]) {
            const own = path.join(dir, file);
            if (fs.existsSync(own) && fs.readFileSync(own, "utf8").trim() === "") fs.writeFileSync(own, fs.readFileSync(path.join(path.dirname(dir), file), "utf8"));
        }
    }
}

/** Every process in a cgroup tree. */
export function processesIn(dir: string): number[] {
    if (!fs.existsSync(dir)) return [];
    const pids: number[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
        if (e.name !== "cgroup.procs") continue;
        const text = fs.readFileSync(path.join(e.parentPath, e.name), "utf8");
        for (const line of text.split("\n")) if (line.trim()) pids.push(Number(line));
    }
    return pids;
}

/** What the host had before the node changed it: the kubelet's kernel settings, and which fixed paths existed. */
interface HostState {
    readonly sysctls: Record<string, string>;
    readonly absentPaths: string[];
}

function recordHostState(f: NodeFiles): void {
    if (fs.existsSync(f.hostState)) return; // an interrupted run's record holds the host's original values
    const sysctls: Record<string, string> = {};
    for (const key of KUBELET_SYSCTLS) sysctls[key] = fs.readFileSync(`/proc/sys/${key}`, "utf8").trim();
    const state: HostState = { sysctls, absentPaths: FIXED_PATHS.filter((p) => !fs.existsSync(p)) };
    fs.writeFileSync(f.hostState, JSON.stringify(state, null, 2));
}

/** The processes of the node, in start order: the bridge's two halves, containerd, the kubelet, kube-proxy. */
export function nodeDaemons(l: Layout): Daemon[] {
    const f = nodeFiles(l);
    const k8s = bins(l);
    const netns = `--net=${f.netns}`;
    const repo = path.resolve(__dirname, "..", "..");
    const bridge = path.join(__dirname, "bridge.ts");
    const node = process.execPath;
    const tsNode = ["--require", require.resolve("ts-node/register/transpile-only", { paths: [repo] })];
    const ready = (file: string) => async () => livePid(file) !== undefined;
    const cgroupProcs = path.join(trackingCgroup(f.cgroup), "runtime", "cgroup.procs");
    const specs = bridgeSpecs(f);
    return [
        { name: "node-bridge-host", command: node, args: [...tsNode, bridge, f.hostBridge], ports: [PORTS.ingress], ready: ready(specs.host.readyFile) },
        { name: "node-bridge", command: "nsenter", args: [netns, node, ...tsNode, bridge, f.nodeBridge], ports: [], ready: ready(specs.node.readyFile) },
        {
            // Started in the node's cgroup, so its shims and their containers are found there by `stop`.
            name: "containerd",
            command: "sh",
            args: ["-c", `mkdir -p "${path.dirname(cgroupProcs)}" && echo $$ > "${cgroupProcs}" && exec nsenter ${netns} containerd --config "${f.containerdConfig}"`],
            ports: [],
            ready: () => unixSocketAnswers(f.containerdSocket),
        },
        {
            // Started again a second after it exits, as systemd does for a node's kubelet: it exits when
            // containerd's socket answers before its CRI service is initialized.
            name: "kubelet",
            command: "nsenter",
            restart: true,
            args: [
                netns,
                k8s.kubelet,
                `--config=${f.kubeletConfig}`,
                `--kubeconfig=${f.kubeletKubeconfig}`,
                `--root-dir=${f.kubeletRoot}`,
                `--hostname-override=${REAL_NODE.name}`,
                `--node-ip=${REAL_NODE.ip}`,
                `--node-labels=${REAL_NODE.label.key}=${REAL_NODE.label.value}`,
                "--v=1",
            ],
            ports: [],
            ready: async () => netnsHttpStatus(f.netns, "http://127.0.0.1:10248/healthz").then((s) => s === 200),
        },
        {
            name: "kube-proxy",
            command: "nsenter",
            args: [
                netns,
                k8s.kubeProxy,
                `--kubeconfig=${f.proxyKubeconfig}`,
                `--hostname-override=${REAL_NODE.name}`,
                "--proxy-mode=iptables",
                `--cluster-cidr=${REAL_NODE.podCidr}`,
                "--healthz-bind-address=127.0.0.1:10256",
                "--metrics-bind-address=127.0.0.1:10249",
                // The namespace cannot change the host's conntrack table size: leave conntrack settings alone.
                "--conntrack-max-per-core=0",
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                "--iptables-localhost-nodeports=false",
            ],
            ports: [],
            ready: async () => netnsHttpStatus(f.netns, "http://127.0.0.1:10256/healthz").then((s) => s === 200),
        },
    ];
}

/** The processes of the node, newest first: the order `stop` ends them in. */
export const NODE_DAEMONS = ["kube-proxy", "kubelet", "containerd", "node-bridge", "node-bridge-host"] as const;

function unixSocketAnswers(socket: string): Promise<boolean> {
    return new Promise((resolve) => {
        if (!fs.existsSync(socket)) return resolve(false);
        const c = net.connect({ path: socket });
        c.once("connect", () => {
            c.destroy();
            resolve(true);
        });
        c.once("error", () => resolve(false));
    });
}

/** An HTTP GET from inside the node's namespace (the host cannot reach its addresses): the status, or 0. */
export async function netnsHttpStatus(netns: string, url: string): Promise<number> {
    const r = spawnSync("nsenter", [`--net=${netns}`, "curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", url], { encoding: "utf8" });
    return Number(r.stdout) || 0;
}

/**
 * Everything the node needs before its processes start: a clean slate (whatever an interrupted run
 * left is swept first), the host's settings recorded, the cgroup and the network namespace.
 */
export async function prepareNode(l: Layout, pki: Pki, log: (line: string) => void): Promise<void> {
    const left = leftovers(l);
    if (left.length > 0) {
        await sweepNode(l);
        log(`testbed: swept what an interrupted run of the real node left (${left.join(", ")})`);
    }
    const f = writeNodeFiles(l, pki);
    recordHostState(f);
    createCgroups(f.cgroup);
    createNetns(f);
}

/** What of the node exists although none of its processes runs. */
export function leftovers(l: Layout): string[] {
    const f = nodeFiles(l);
    const found: string[] = [];
    if (fs.existsSync(f.netns)) found.push(`network namespace ${f.netnsName}`);
    if (processesIn(trackingCgroup(f.cgroup)).length > 0) found.push("processes in its cgroup");
    if (mountsUnder(ownedMountRoots(l)).length > 0) found.push("mounts");
    if (fs.existsSync(f.hostState)) found.push("changed host settings");
    return found;
}

function ownedMountRoots(l: Layout): string[] {
    const f = nodeFiles(l);
    return [f.run, f.data];
}

/** Mount points at or under the given folders, deepest first (from this process's mount table). */
export function mountsUnder(roots: readonly string[], mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8")): string[] {
    const points = mountinfo
        .split("\n")
        .filter((line) => line.trim())
        .map((line) => line.split(" ")[4].replace(/\\040/g, " "))
        .filter((p) => roots.some((r) => p === r || p.startsWith(`${r}/`)));
    return [...new Set(points)].sort((a, b) => b.split("/").length - a.split("/").length || b.localeCompare(a));
}

/**
 * Ends and removes everything of the node, in an order that leaves nothing behind: its processes (the
 * kubelet and kube-proxy by pid, then every process in its cgroup: containers, then containerd and its
 * shims), the bridge, every mount under its folders, the network namespace (with its bridge, veths,
 * rules and ipsets), the cgroups, and the host's kernel settings and fixed paths as they were.
 */
export async function sweepNode(l: Layout): Promise<string[]> {
    const f = nodeFiles(l);
    const stopped: string[] = [];
    const stopByPidFile = async (name: string) => {
        if (await stopByPidFileOf(l.run, name, 20)) stopped.push(name);
    };
    for (const name of ["kube-proxy", "kubelet"]) await stopByPidFile(name);
    const ids = endTasks(f);
    await killCgroup(path.join(trackingCgroup(f.cgroup), "kubepods"));
    await stopByPidFile("containerd");
    await killCgroup(trackingCgroup(f.cgroup));
    // A shim ended by a signal leaves its socket in the one folder containerd 1.6 cannot be told to move.
    for (const socket of shimSockets(f.containerdSocket, [...ids, ...taskIds(f)])) fs.rmSync(socket, { force: true });
    for (const name of ["node-bridge", "node-bridge-host"]) await stopByPidFile(name);
    for (const point of mountsUnder(ownedMountRoots(l))) spawnSync("umount", ["-l", point]);
    if (fs.existsSync(f.netns)) sh("ip", ["netns", "delete", f.netnsName], "deleting the node's network namespace");
    for (const dir of cgroupDirs(f.cgroup)) removeCgroupTree(dir);
    restoreHost(f);
    return stopped;
}

/** The ids of the pods' sandboxes and containers containerd has state for. */
function taskIds(f: NodeFiles): string[] {
    const dir = path.join(f.containerdState, "io.containerd.runtime.v2.task", "k8s.io");
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/**
 * Ends every container and sandbox through containerd while it runs, so that each shim removes its
 * socket and exits as it should; returns the ids it found.
 */
function endTasks(f: NodeFiles): string[] {
    const ctr = (args: string[]) => spawnSync("ctr", ["--address", f.containerdSocket, "--namespace", "k8s.io", ...args], { encoding: "utf8", timeout: 30_000 });
    if (!fs.existsSync(f.containerdSocket)) return [];
    const ids = (ctr(["tasks", "ls", "--quiet"]).stdout ?? "").split("\n").filter((l) => l.trim());
    for (const id of ids) ctr(["tasks", "kill", "--signal", "SIGKILL", id]);
    for (const id of ids) ctr(["tasks", "delete", "--force", id]);
    return ids;
}

/**
 * Where a shim of this containerd listens for a task: containerd 1.6 names the socket after a hash of its
 * own address, the namespace and the task's id, in /run/containerd/s (runtime/v2/shim/util_unix.go).
 */
export function shimSockets(containerdAddress: string, ids: readonly string[]): string[] {
    return ids.map((id) => path.join("/run/containerd/s", createHash("sha256").update(path.join(containerdAddress, "k8s.io", id)).digest("hex")));
}

/** SIGKILLs every process in a cgroup tree until none is left (a container's processes may fork while dying). */
async function killCgroup(dir: string): Promise<void> {
    for (let round = 0; round < 50; round++) {
        const pids = processesIn(dir);
        if (pids.length === 0) return;
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        await sleep(100);
    }
    throw new TestbedError(`processes in ${dir} survived SIGKILL for 5 s: ${processesIn(dir).join(", ")}`);
}

function removeCgroupTree(dir: string): void {
    if (!fs.existsSync(dir)) return;
    const children = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
    for (const child of children) removeCgroupTree(child);
    fs.rmdirSync(dir);
}

function restoreHost(f: NodeFiles): void {
    if (!fs.existsSync(f.hostState)) return;
    const state = JSON.parse(fs.readFileSync(f.hostState, "utf8")) as HostState;
    for (const [key, value] of Object.entries(state.sysctls)) {
        if (fs.readFileSync(`/proc/sys/${key}`, "utf8").trim() !== value) fs.writeFileSync(`/proc/sys/${key}`, value);
    }
    for (const p of state.absentPaths) fs.rmSync(p, { recursive: true, force: true });
    fs.rmSync(f.hostState);
}

type NodeView = { status?: { conditions?: { type: string; status: string; lastHeartbeatTime?: Date | string }[] } };

/** Waits until this kubelet reports the node Ready to the API server: a heartbeat since `since`, not an earlier run's. */
export async function nodeReady(readNode: () => Promise<NodeView>, since: Date, seconds: number): Promise<boolean> {
    return waitFor(async () => {
        const ready = (await readNode()).status?.conditions?.find((c) => c.type === "Ready");
        return ready?.status === "True" && ready.lastHeartbeatTime !== undefined && new Date(ready.lastHeartbeatTime).getTime() >= Math.floor(since.getTime() / 1000) * 1000;
    }, seconds, 500);
}
