import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { dnsEgressSpec } from "../../components/networkPolicies";
import { addons, COREFILE, INGRESS_NAMESPACE } from "../../dev/testbed/addons";
import { type BridgeSpec, connectTarget, startBridge } from "../../dev/testbed/bridge";
import { CLUSTER_IPS, HOST, layout, PORTS, REAL_NODE } from "../../dev/testbed/layout";
import { bridgeSpecs, cgroupDirs, cniConfig, containerdConfig, egressSelectorConfig, kubeletConfig, mountsUnder, nodeFiles, processesIn, shimSockets } from "../../dev/testbed/node";
import type { Pki } from "../../dev/testbed/pki";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-node-test-"));

/** Sends `text` to a socket and resolves with everything it answers until it closes. */
function exchange(to: net.NetConnectOpts, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
        let got = "";
        const c = net.connect(to, () => c.write(text));
        c.on("data", (d) => (got += d));
        c.on("end", () => resolve(got));
        c.on("error", reject);
    });
}

/** A TCP server on loopback that answers each connection with a greeting and what it received, then closes. */
async function echoServer(): Promise<{ port: number; close: () => void }> {
    const server = net.createServer((s) => s.once("data", (d) => s.end(`hello from upstream: ${d}`)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

describe("testbed: the bridge between the host and the real node's network namespace", () => {
    it("reads the target of a CONNECT request, and nothing else", () => {
        assert.deepEqual(connectTarget("CONNECT 10.246.0.1:10250 HTTP/1.1\r\nHost: 10.246.0.1:10250\r\n\r\n"), { host: "10.246.0.1", port: 10250 });
        assert.deepEqual(connectTarget("CONNECT [::1]:443 HTTP/1.0\r\n\r\n"), { host: "::1", port: 443 });
        assert.equal(connectTarget("GET / HTTP/1.1\r\n\r\n"), undefined);
        assert.equal(connectTarget("CONNECT host:70000 HTTP/1.1\r\n\r\n"), undefined);
    });

    it("forwards a Unix socket to a TCP port and a TCP port to a Unix socket, both ways, and writes its ready file", async () => {
        const dir = tmp();
        const upstream = await echoServer();
        const spec: BridgeSpec = {
            readyFile: path.join(dir, "ready"),
            routes: [
                { listen: { unix: path.join(dir, "a.sock") }, to: { host: "127.0.0.1", port: upstream.port } },
                { listen: { host: "127.0.0.1", port: 0 }, to: { unix: path.join(dir, "a.sock") } },
            ],
        };
        const close = await startBridge(spec);
        try {
            assert.equal(fs.readFileSync(spec.readyFile, "utf8").trim(), String(process.pid));
            assert.equal(await exchange({ path: path.join(dir, "a.sock") }, "ping"), "hello from upstream: ping");
        } finally {
            await close();
            upstream.close();
        }
        assert.ok(!fs.existsSync(spec.readyFile), "the ready file goes with it");
    });

    it("answers CONNECT on a Unix socket with 200 and then carries the bytes to the target, and 502 when nothing listens", async () => {
        const dir = tmp();
        const upstream = await echoServer();
        const sock = path.join(dir, "kubelet.sock");
        const close = await startBridge({ readyFile: path.join(dir, "ready"), routes: [{ listen: { unix: sock }, to: "connect" }] });
        try {
            const through = await exchange({ path: sock }, `CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\nping`);
            assert.equal(through, "HTTP/1.1 200 Connection established\r\n\r\nhello from upstream: ping");
            upstream.close();
            const refused = await exchange({ path: sock }, `CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`);
            assert.match(refused, /^HTTP\/1\.1 502 Bad Gateway/);
            assert.match(await exchange({ path: sock }, "GET / HTTP/1.1\r\n\r\n"), /^HTTP\/1\.1 405/);
        } finally {
            await close();
        }
    });

    it("routes the API server and both registries into the node's namespace, the ingress controller and the kubelet out of it", () => {
        const f = nodeFiles(layout({ LAUNCHPAD_TESTBED_HOME: "/h" }));
        const { host, node } = bridgeSpecs(f);
        assert.deepEqual(host.routes.map((r) => r.to), [{ host: HOST, port: PORTS.apiserver }, { host: HOST, port: PORTS.registry }, { host: HOST, port: PORTS.hubMirror }, { unix: f.socket("ingress") }]);
        assert.deepEqual(host.routes[3].listen, { host: HOST, port: PORTS.ingress }, "the host reaches the ingress controller on loopback only");
        assert.deepEqual(node.routes.map((r) => r.listen), [
            { host: "0.0.0.0", port: PORTS.apiserver },
            { host: HOST, port: PORTS.registry },
            { host: HOST, port: PORTS.hubMirror },
            { unix: f.socket("kubelet") },
            { unix: f.socket("ingress") },
        ]);
        assert.equal(node.routes[3].to, "connect");
        assert.deepEqual(node.routes[4].to, { host: CLUSTER_IPS.ingress, port: 80 });
        const egress = parseYaml(egressSelectorConfig(f));
        assert.deepEqual(egress.egressSelections, [{ name: "cluster", connection: { proxyProtocol: "HTTPConnect", transport: { uds: { udsName: f.socket("kubelet") } } } }]);
    });
});

describe("testbed: the real node's configuration", () => {
    const l = layout({ LAUNCHPAD_TESTBED_HOME: "/h" });
    const f = nodeFiles(l);

    it("keeps containerd's root, state, socket and runc's root in the testbed's folders, with the settings this machine needs", () => {
        const toml = containerdConfig(f);
        for (const own of [f.containerdRoot, f.containerdState, f.containerdSocket, path.join(f.run, "runc"), f.cniConf, f.registryHosts]) assert.ok(toml.includes(JSON.stringify(own)), own);
        assert.match(toml, /restrict_oom_score_adj = true/);
        assert.match(toml, /netns_mounts_under_state_dir = true/);
        assert.match(toml, /SystemdCgroup = false/);
        assert.match(toml, /sandbox_image = "127\.0\.0\.1:26501\/launchpad-testbed\/pause:3\.10\.2"/);
    });

    it("gives pods addresses on one bridge that holds the node's address, with hairpin for a pod reaching its own Service", () => {
        const [bridge] = (cniConfig(f) as { plugins: Record<string, unknown>[] }).plugins;
        assert.equal(bridge.bridge, REAL_NODE.bridge);
        assert.equal(bridge.hairpinMode, true);
        assert.deepEqual((bridge.ipam as { ranges: unknown }).ranges, [[{ subnet: REAL_NODE.podCidr, gateway: REAL_NODE.ip }]]);
        assert.equal((bridge.ipam as { dataDir: string }).dataDir, f.cniData);
    });

    it("runs the kubelet on cgroup v1 with cgroupfs under a cgroup of ours, authenticating and authorizing every caller", () => {
        const pki = { ca: "/pki/ca.crt", kubelet: { cert: "/pki/kubelet.crt", key: "/pki/kubelet.key" } } as Pki;
        const c = kubeletConfig(f, pki) as Record<string, unknown>;
        assert.deepEqual([c.tlsCertFile, c.tlsPrivateKeyFile], [pki.kubelet.cert, pki.kubelet.key]);
        assert.equal(c.failCgroupV1, false);
        assert.equal(c.cgroupDriver, "cgroupfs");
        assert.equal(c.cgroupRoot, `/${f.cgroup}`);
        assert.equal(c.address, REAL_NODE.ip);
        assert.equal(c.readOnlyPort, 0);
        assert.deepEqual(c.authentication, { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.ca } });
        assert.deepEqual(c.authorization, { mode: "Webhook" });
        assert.deepEqual(c.clusterDNS, [CLUSTER_IPS.dns]);
    });

    it("names its network namespace and cgroup after the testbed's folder, so that a testbed elsewhere never touches them", () => {
        const other = nodeFiles(layout({ LAUNCHPAD_TESTBED_HOME: "/elsewhere" }));
        assert.match(f.netnsName, /^launchpad-testbed-[0-9a-f]{8}$/);
        assert.notEqual(f.netnsName, other.netnsName);
        assert.equal(f.netns, `/run/netns/${f.netnsName}`);
        assert.equal(f.cgroup, f.netnsName);
    });

    it("finds the mounts under its folders in a mount table, deepest first, and no others", () => {
        const line = (point: string) => `36 25 0:31 / ${point} rw,relatime shared:1 - tmpfs tmpfs rw`;
        const table = [line("/"), line("/h/run/node/containerd/io.containerd.grpc.v1.cri/sandboxes/x/shm"), line("/h/data/node/kubelet/pods/p/volumes/v"), line("/h/run/node"), line("/h/run/nodes-other"), line("/elsewhere")].join("\n");
        assert.deepEqual(mountsUnder(["/h/run/node", "/h/data/node"], table), [
            "/h/run/node/containerd/io.containerd.grpc.v1.cri/sandboxes/x/shm",
            "/h/data/node/kubelet/pods/p/volumes/v",
            "/h/run/node",
        ]);
    });

    it("knows where containerd 1.6 puts a shim's socket: a hash of its address, the namespace and the task's id", () => {
        // sha256("/run/x/containerd.sock/k8s.io/abc"), as runtime/v2/shim/util_unix.go computes it.
        assert.deepEqual(shimSockets("/run/x/containerd.sock", ["abc"]), ["/run/containerd/s/4b5f7cdae6b27b26870ef49bd6487e789b767856244ce0a43302a346a1ccae0c"]);
    });

    it("lists the processes of a cgroup tree, and none of one that does not exist", () => {
        const root = tmp();
        fs.mkdirSync(path.join(root, "a", "b"), { recursive: true });
        fs.writeFileSync(path.join(root, "cgroup.procs"), "10\n");
        fs.writeFileSync(path.join(root, "a", "cgroup.procs"), "");
        fs.writeFileSync(path.join(root, "a", "b", "cgroup.procs"), "11\n12\n");
        assert.deepEqual(processesIn(root).sort(), [10, 11, 12]);
        assert.deepEqual(processesIn(path.join(root, "missing")), []);
    });

    it("makes its cgroup in every v1 hierarchy, or in the unified one on v2", () => {
        const v1 = tmp();
        for (const h of ["pids", "memory"]) {
            fs.mkdirSync(path.join(v1, h));
            fs.writeFileSync(path.join(v1, h, "cgroup.procs"), "");
        }
        assert.deepEqual(cgroupDirs("ours", v1).sort(), [path.join(v1, "memory", "ours"), path.join(v1, "pids", "ours")]);
        const v2 = tmp();
        fs.writeFileSync(path.join(v2, "cgroup.controllers"), "cpu memory pids");
        assert.deepEqual(cgroupDirs("ours", v2), [path.join(v2, "ours")]);
    });
});

describe("testbed: the real node's add-ons", () => {
    const objects = addons();
    const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as Record<string, any> | undefined;

    it("serves DNS from a kube-system pod labelled k8s-app=kube-dns, the one the app's DNS policy admits, at the kubelet's clusterDNS", () => {
        const dns = find("Deployment", "coredns")!;
        assert.equal(dns.metadata.namespace, "kube-system");
        assert.deepEqual(dns.spec.template.metadata.labels, { "k8s-app": "kube-dns" });
        const service = find("Service", "kube-dns")!;
        assert.equal(service.spec.clusterIP, CLUSTER_IPS.dns);
        assert.deepEqual(service.spec.ports.map((p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`), ["53/UDP", "53/TCP"]);
        assert.match(COREFILE, /kubernetes cluster\.local/);
        // A NetworkPolicy sees the pod's port, not the Service's: the app's DNS rule must admit what CoreDNS listens on.
        const allowed = ((dnsEgressSpec([]) as { egress: { ports: { protocol: string; port: number }[] }[] }).egress[0].ports).map((p) => `${p.port}/${p.protocol}`).sort();
        const listens = dns.spec.template.spec.containers[0].ports.map((p: { containerPort: number; protocol: string }) => `${p.containerPort}/${p.protocol}`).sort();
        assert.deepEqual(listens, allowed);
    });

    it("enforces NetworkPolicies with kube-router's firewall alone, as a DaemonSet the doctor recognises", () => {
        const router = find("DaemonSet", "kube-router")!;
        const args: string[] = router.spec.template.spec.containers[0].args;
        for (const a of ["--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false"]) assert.ok(args.includes(a), a);
        assert.equal(router.spec.template.spec.hostNetwork, true);
        assert.equal(router.spec.template.spec.containers[0].securityContext.privileged, undefined, "not privileged: this machine's root cannot grant all capabilities");
    });

    it("runs the ingress controller in the namespace the app's policies admit, as a restricted pod, at the Service address the host's bridge forwards to", () => {
        const traefik = find("Deployment", "traefik")!;
        assert.equal(traefik.metadata.namespace, INGRESS_NAMESPACE);
        const sc = traefik.spec.template.spec.containers[0].securityContext;
        assert.deepEqual([sc.runAsNonRoot, sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.capabilities.drop], [true, true, false, ["ALL"]]);
        assert.equal(find("Service", "traefik")!.spec.clusterIP, CLUSTER_IPS.ingress);
        assert.equal(find("Namespace", INGRESS_NAMESPACE)!.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    });

    it("points the kubernetes Service at the node's address, where the bridge reaches the API server", () => {
        const slice = find("EndpointSlice", "kubernetes")!;
        assert.deepEqual(slice.endpoints.map((e: { addresses: string[] }) => e.addresses), [[REAL_NODE.ip]]);
        assert.deepEqual(slice.ports, [{ name: "https", port: PORTS.apiserver, protocol: "TCP" }]);
    });
});
