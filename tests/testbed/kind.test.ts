import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { kindIngressManifest } from "../../dev/testbed/addons";
import { KIND_PROXY, kindBridgeSpecs, kindClientConfig, kindDaemonConfig, kindFiles } from "../../dev/testbed/kind";
import { HOST, layout, PORTS } from "../../dev/testbed/layout";
import { envFileText } from "../../dev/testbed/lifecycle";
import { defaultKindSettings, manifestProblem, manifestTargets } from "../../tools/up/kind";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-kind-test-"));

describe("testbed: the kind platform's Docker Engine", () => {
    const l = layout({ LAUNCHPAD_TESTBED_HOME: "/srv/tb" });
    const f = kindFiles(l);

    it("keeps its data, socket, pid and containers' cgroup its own, apart from the testbed's other Engine", () => {
        const c = kindDaemonConfig(f) as Record<string, unknown>;
        assert.equal(c["data-root"], "/srv/tb/data/kind-docker");
        assert.deepEqual(c.hosts, ["unix:///srv/tb/run/kind/docker.sock"]);
        assert.equal(c.pidfile, "/srv/tb/run/kind-dockerd.pid");
        assert.equal(c["cgroup-parent"], `/${f.netnsName}`);
        assert.match(f.netnsName, /^launchpad-kind-[0-9a-f]{8}$/);
        assert.notEqual(kindFiles(layout({ LAUNCHPAD_TESTBED_HOME: "/srv/other" })).netnsName, f.netnsName, "a testbed in another folder has its own namespace");
    });

    it("runs containers through the runtime without CAP_SYS_RESOURCE, pulls Hub names through the hub mirror, and owns iptables only in its namespace", () => {
        const c = kindDaemonConfig(f) as Record<string, unknown>;
        assert.equal(c["default-runtime"], "kind-runc");
        assert.deepEqual(c.runtimes, { "kind-runc": { path: f.runtime } });
        assert.ok(fs.statSync(f.runtime).mode & 0o111, "the runtime is executable");
        assert.deepEqual(c["registry-mirrors"], [`http://${HOST}:${PORTS.hubMirror}`]);
        assert.equal(c.iptables, true);
        assert.equal(c.bip, KIND_PROXY.subnet);
    });

    it("gives its users a proxy for builds, and none for the kind network's registry and the cluster's addresses", () => {
        const proxies = (kindClientConfig() as { proxies: { default: Record<string, string> } }).proxies.default;
        assert.equal(proxies.httpsProxy, `http://${KIND_PROXY.gateway}:${KIND_PROXY.port}`);
        for (const direct of ["kind-registry", "localhost", "10.0.0.0/8", "172.16.0.0/12"]) assert.ok(proxies.noProxy.split(",").includes(direct), direct);
    });

    it("bridges the hub mirror and a CONNECT proxy, and nothing else, from its namespace to the host", () => {
        const { host, ns } = kindBridgeSpecs(f);
        assert.deepEqual(host.routes.map((r) => r.to), [{ host: HOST, port: PORTS.hubMirror }, "connect"]);
        assert.deepEqual(ns.routes.map((r) => r.listen), [{ host: HOST, port: PORTS.hubMirror }, { host: "0.0.0.0", port: KIND_PROXY.port }]);
        assert.deepEqual(ns.routes.map((r) => r.to), host.routes.map((r) => r.listen));
    });

    it("is named in the env file: its namespace, Engine, client config, node image and ingress manifest", () => {
        const text = envFileText(l);
        for (const v of ["NETNS", "DOCKER_HOST", "DOCKER_CONFIG", "NODE_IMAGE", "INGRESS_MANIFEST"]) assert.match(text, new RegExp(`^export LAUNCHPAD_TESTBED_KIND_${v}='.+'$`, "m"), v);
        assert.match(text, /^export LAUNCHPAD_TESTBED_KIND_NODE_IMAGE='launchpad-testbed\/kind-node:v\d+\.\d+\.\d+'$/m);
    });
});

describe("testbed: the kind platform's runtime drops CAP_SYS_RESOURCE, and only it", () => {
    /** Runs the wrapper with a stand-in runc on PATH that records its arguments. */
    function runWrapper(args: (dir: string) => string[], setup: (dir: string) => void) {
        const dir = tmp();
        fs.writeFileSync(path.join(dir, "runc"), `#!/bin/sh\necho "$@" > "${dir}/args"\n`, { mode: 0o755 });
        setup(dir);
        const r = spawnSync(kindFiles(layout()).runtime, args(dir), { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: "utf8" });
        return { dir, r, args: fs.existsSync(path.join(dir, "args")) ? fs.readFileSync(path.join(dir, "args"), "utf8").trim() : "" };
    }
    const caps = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_NET_ADMIN"];

    it("edits a container's bundle before runc creates it, passing every argument on", () => {
        const { dir, r, args } = runWrapper(
            (d) => ["--root", "/run/x", "create", "--bundle", path.join(d, "bundle"), "--pid-file", "p", "id1"],
            (d) => {
                fs.mkdirSync(path.join(d, "bundle"));
                fs.writeFileSync(path.join(d, "bundle", "config.json"), JSON.stringify({ process: { args: ["sh"], capabilities: { bounding: caps, effective: caps, permitted: caps } }, root: { path: "rootfs" } }));
            },
        );
        assert.equal(r.status, 0, r.stderr);
        const config = JSON.parse(fs.readFileSync(path.join(dir, "bundle", "config.json"), "utf8"));
        for (const set of ["bounding", "effective", "permitted"]) assert.deepEqual(config.process.capabilities[set], ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"], set);
        assert.deepEqual(config.process.args, ["sh"]);
        assert.equal(args, `--root /run/x create --bundle ${dir}/bundle --pid-file p id1`);
    });

    it("edits docker exec's process file", () => {
        const { dir, r } = runWrapper(
            (d) => ["exec", "--process", path.join(d, "process.json"), "--detach", "id1"],
            (d) => fs.writeFileSync(path.join(d, "process.json"), JSON.stringify({ args: ["ls"], capabilities: { bounding: caps, inheritable: ["CAP_SYS_RESOURCE"] } })),
        );
        assert.equal(r.status, 0, r.stderr);
        const process_ = JSON.parse(fs.readFileSync(path.join(dir, "process.json"), "utf8"));
        assert.deepEqual(process_.capabilities, { bounding: ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"], inheritable: [] });
    });

    it("passes any other command through untouched", () => {
        const { r, args } = runWrapper(() => ["--version"], () => undefined);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(args, "--version");
    });
});

describe("testbed: the kind stack's ingress controller manifest", () => {
    const text = kindIngressManifest();

    it("is what up waits for on a kind stack that names it: a controller in ingress-nginx and the IngressClass nginx", () => {
        assert.equal(manifestProblem(manifestTargets(text), defaultKindSettings()), undefined);
    });

    it("runs on the node labelled ingress-ready, on host port 80, from an image the node holds, in a namespace that admits a host port", () => {
        const objects = parseAllDocuments(text).map((d) => d.toJS());
        const deployment = objects.find((o) => o.kind === "Deployment");
        const pod = deployment.spec.template.spec;
        assert.deepEqual(pod.nodeSelector, { "ingress-ready": "true" });
        assert.ok(pod.tolerations.some((t: { key: string }) => t.key === "node-role.kubernetes.io/control-plane"));
        assert.equal(pod.containers[0].imagePullPolicy, "IfNotPresent");
        assert.ok(pod.containers[0].ports.some((p: { hostPort?: number }) => p.hostPort === 80));
        const ns = objects.find((o) => o.kind === "Namespace");
        assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], undefined, "a restricted namespace would refuse the host port");
        assert.deepEqual(objects.find((o) => o.kind === "IngressClass").spec, { controller: "k8s.io/ingress-nginx" });
    });
});
