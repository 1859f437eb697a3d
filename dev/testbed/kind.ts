import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { kindIngressManifest } from "./addons";
import type { BridgeSpec } from "./bridge";
import { HOST, type Layout, PORTS, VERSIONS } from "./layout";
import { mountsUnder, sh } from "./node";
import { type Daemon, livePid, pidFileOf, stopByPidFile } from "./processes";
import { httpStatus } from "./servers";

// The kind stack's platform on the testbed: a Docker Engine of its own, as kind needs one (its nodes
// are privileged containers on a bridge network of Docker's, with ports published), in a network
// namespace of its own, so its bridges and iptables rules never touch the host's network. `npm run up`
// on a kind stack, kind, kubectl and Chromium run in that namespace, as on a laptop with Docker; the
// namespace reaches the host only through two Unix sockets: the hub mirror (the Engine's
// registry-mirrors) and an HTTP CONNECT proxy to the internet the host reaches (npm's registry, for
// the Dockerfiles' `npm ci`), which the Engine's users name in Docker's client config, as behind a
// company's proxy. The machine-specific part: docs/testing.md.

/** Where build containers (on Docker's default bridge) and kind's nodes reach the proxy: the bridge's gateway. */
export const KIND_PROXY = { gateway: "172.17.0.1", subnet: "172.17.0.1/16", port: 3128 } as const;

/** The kind node image the testbed builds from its own Kubernetes binaries (launchpad:kindNodeImage names it). */
export const KIND_NODE_IMAGE = `launchpad-testbed/kind-node:v${VERSIONS.kubernetes}`;

export function kindFiles(l: Layout) {
    const run = path.join(l.run, "kind");
    const name = `launchpad-kind-${createHash("sha256").update(l.home).digest("hex").slice(0, 8)}`;
    return {
        run,
        /** The network namespace, as `ip netns` names it and `nsenter --net=` finds it. */
        netnsName: name,
        netns: `/run/netns/${name}`,
        /** The cgroup the Engine's containers (kind's nodes) are made under. */
        cgroupParent: `/${name}`,
        dockerData: path.join(l.data, "kind-docker"),
        dockerExec: path.join(run, "docker-exec"),
        dockerSocket: path.join(run, "docker.sock"),
        dockerPid: pidFileOf(l.run, "kind-dockerd"),
        daemonJson: path.join(run, "daemon.json"),
        /** DOCKER_CONFIG for the Engine's users: its proxies. */
        clientConfig: path.join(run, "docker-config"),
        runtime: path.join(__dirname, "kind", "runc-without-sys-resource"),
        hostBridge: path.join(run, "bridge-host.json"),
        nsBridge: path.join(run, "bridge-ns.json"),
        socket: (what: "hub-mirror" | "proxy") => path.join(run, `${what}.sock`),
        ingressManifest: path.join(run, "ingress-controller.yaml"),
        /** Whether /lib/modules existed before kind's node mounted it (Docker makes a missing one). */
        hostState: path.join(l.run, "kind-host-state.json"),
    };
}

export type KindFiles = ReturnType<typeof kindFiles>;

/** The Engine's configuration: its own folders, socket and cgroup, the runtime the build machines need, the hub mirror over the bridge. */
export function kindDaemonConfig(f: KindFiles): object {
    return {
        "data-root": f.dockerData,
        "exec-root": f.dockerExec,
        pidfile: f.dockerPid,
        hosts: [`unix://${f.dockerSocket}`],
        // kind's nodes ask for every capability; root on the build machines lacks CAP_SYS_RESOURCE (kind/runc-without-sys-resource).
        runtimes: { "kind-runc": { path: f.runtime } },
        "default-runtime": "kind-runc",
        "registry-mirrors": [`http://${HOST}:${PORTS.hubMirror}`],
        "cgroup-parent": f.cgroupParent,
        bip: KIND_PROXY.subnet,
        iptables: true,
    };
}

/** Docker's client config for the Engine's users: the proxy for builds and containers, not for the cluster's and registry's own addresses. */
export function kindClientConfig(): object {
    const proxy = `http://${KIND_PROXY.gateway}:${KIND_PROXY.port}`;
    return { proxies: { default: { httpProxy: proxy, httpsProxy: proxy, noProxy: "localhost,127.0.0.0/8,kind-registry,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,.svc,.local" } } };
}

/** The two halves of the bridge between the namespace and the host. */
export function kindBridgeSpecs(f: KindFiles): { host: BridgeSpec; ns: BridgeSpec } {
    return {
        host: {
            readyFile: path.join(f.run, "bridge-host.ready"),
            routes: [
                { listen: { unix: f.socket("hub-mirror") }, to: { host: HOST, port: PORTS.hubMirror } },
                { listen: { unix: f.socket("proxy") }, to: "connect" },
            ],
        },
        ns: {
            readyFile: path.join(f.run, "bridge-ns.ready"),
            routes: [
                { listen: { host: HOST, port: PORTS.hubMirror }, to: { unix: f.socket("hub-mirror") } },
                { listen: { host: "0.0.0.0", port: KIND_PROXY.port }, to: { unix: f.socket("proxy") } },
            ],
        },
    };
}

/** The kind platform's processes, in start order: the bridge's two halves, the Docker Engine. */
export function kindDaemons(l: Layout): Daemon[] {
    const f = kindFiles(l);
    const netns = `--net=${f.netns}`;
    const repo = path.resolve(__dirname, "..", "..");
    const bridge = path.join(__dirname, "bridge.ts");
    const tsNode = ["--require", require.resolve("ts-node/register/transpile-only", { paths: [repo] })];
    const specs = kindBridgeSpecs(f);
    const ready = (file: string) => async () => livePid(file) !== undefined;
    return [
        { name: "kind-bridge-host", command: process.execPath, args: [...tsNode, bridge, f.hostBridge], ports: [], ready: ready(specs.host.readyFile) },
        { name: "kind-bridge", command: "nsenter", args: [netns, process.execPath, ...tsNode, bridge, f.nsBridge], ports: [], ready: ready(specs.ns.readyFile) },
        {
            name: "kind-dockerd",
            command: "nsenter",
            args: [netns, "dockerd", `--config-file=${f.daemonJson}`],
            ports: [],
            pidFile: f.dockerPid,
            ready: async () => fs.existsSync(f.dockerSocket) && (await httpStatus("http://docker/_ping", undefined, f.dockerSocket).catch(() => 0)) === 200,
        },
    ];
}

export const KIND_DAEMONS = ["kind-dockerd", "kind-bridge", "kind-bridge-host"] as const;

/** The namespace, the Engine's and its users' config, the ingress controller's manifest; what the host had. */
export async function prepareKind(l: Layout, log: (line: string) => void): Promise<void> {
    const left = kindLeftovers(l);
    if (left.length > 0) {
        await sweepKind(l);
        log(`testbed: swept what an interrupted run of the kind platform left (${left.join(", ")})`);
    }
    const f = kindFiles(l);
    fs.mkdirSync(f.clientConfig, { recursive: true });
    fs.mkdirSync(f.dockerData, { recursive: true, mode: 0o700 });
    fs.writeFileSync(f.daemonJson, JSON.stringify(kindDaemonConfig(f), null, 2));
    fs.writeFileSync(path.join(f.clientConfig, "config.json"), JSON.stringify(kindClientConfig(), null, 2));
    const specs = kindBridgeSpecs(f);
    fs.writeFileSync(f.hostBridge, JSON.stringify(specs.host));
    fs.writeFileSync(f.nsBridge, JSON.stringify(specs.ns));
    fs.writeFileSync(f.ingressManifest, kindIngressManifest());
    if (!fs.existsSync(f.hostState)) fs.writeFileSync(f.hostState, JSON.stringify({ libModulesAbsent: !fs.existsSync("/lib/modules") }));
    sh("ip", ["netns", "add", f.netnsName], "creating the kind platform's network namespace");
    sh("nsenter", [`--net=${f.netns}`, "ip", "link", "set", "lo", "up"], "bringing up the kind namespace's loopback");
}

/** What of the kind platform exists although its Engine does not run. */
export function kindLeftovers(l: Layout): string[] {
    const f = kindFiles(l);
    const found: string[] = [];
    if (fs.existsSync(f.netns)) found.push(`network namespace ${f.netnsName}`);
    if (mountsUnder([f.run, f.dockerData]).length > 0) found.push("mounts");
    return found;
}

/**
 * Ends the kind platform: every container of its Engine first (kind's nodes and registry, which would
 * otherwise come back at the Engine's next start), then the Engine and the bridge by pid, their mounts,
 * the namespace (with its bridges and rules), and /lib/modules when Docker made it for a node.
 */
export async function sweepKind(l: Layout): Promise<string[]> {
    const f = kindFiles(l);
    const stopped: string[] = [];
    if (livePid(f.dockerPid) !== undefined) {
        const env = { ...process.env, DOCKER_HOST: `unix://${f.dockerSocket}` };
        const ids = spawnSync("docker", ["ps", "-aq"], { env, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
        if (ids.length > 0) spawnSync("docker", ["rm", "-f", "-v", ...ids], { env, stdio: "ignore" });
    }
    for (const [name, seconds] of [["kind-dockerd", 30], ["kind-bridge", 10], ["kind-bridge-host", 10]] as const) {
        if (await stopByPidFile(l.run, name, seconds)) stopped.push(name);
    }
    for (const point of mountsUnder([f.run, f.dockerData])) spawnSync("umount", ["-l", point]);
    if (fs.existsSync(f.netns)) sh("ip", ["netns", "delete", f.netnsName], "deleting the kind platform's network namespace");
    if (fs.existsSync(f.hostState)) {
        const state = JSON.parse(fs.readFileSync(f.hostState, "utf8")) as { libModulesAbsent?: boolean };
        if (state.libModulesAbsent && fs.existsSync("/lib/modules") && fs.readdirSync("/lib/modules").length === 0) fs.rmdirSync("/lib/modules");
        fs.rmSync(f.hostState, { force: true });
    }
    fs.rmSync(f.dockerSocket, { force: true });
    return stopped;
}
