import * as assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import {
    clusterListed,
    deleteKindPlatform,
    ensureKindPlatform,
    ingressAction,
    ingressNginxManifestUrl,
    INGRESS_NGINX,
    inspectKindPlatform,
    kindClusterConfig,
    localRegistryHostingConfigMap,
    REGISTRY_HOSTS_DIR,
    registryAction,
    registryHostsToml,
    registryOnNetwork,
} from "../../tools/up/kind";
import { loadConfig } from "../../components/config";
import { KIND } from "../../lib/kind";
import { stackConfig } from "../../tools/harness";
import { FakeMachine, freshMachine, NODE, readyMachine } from "./fakes";

const res = (code: number, stdout = "", stderr = "") => ({ code, stdout, stderr });

describe("up: the kind platform's specs", () => {
    it("names the cluster launchpad, labels its node ingress-ready and maps host ports 80 and 443 on loopback", () => {
        const cfg = parseYaml(kindClusterConfig());
        assert.equal(cfg.kind, "Cluster");
        assert.equal(cfg.apiVersion, "kind.x-k8s.io/v1alpha4");
        assert.equal(cfg.name, "launchpad");
        assert.equal(cfg.nodes.length, 1);
        const [node] = cfg.nodes;
        assert.equal(node.role, "control-plane");
        assert.deepEqual(node.labels, { "ingress-ready": "true" });
        assert.deepEqual(
            node.extraPortMappings.map((m: { containerPort: number; hostPort: number; listenAddress: string }) => [m.containerPort, m.hostPort, m.listenAddress]),
            [
                [80, 80, "127.0.0.1"],
                [443, 443, "127.0.0.1"],
            ],
        );
    });

    it("points containerd's registry config_path at /etc/containerd/certs.d", () => {
        const patch: string = parseYaml(kindClusterConfig()).containerdConfigPatches[0];
        assert.match(patch, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]/);
        assert.match(patch, /config_path = "\/etc\/containerd\/certs\.d"/);
    });

    it("aliases the dev stack's registry on the nodes to the registry container over plain HTTP", () => {
        // containerd looks up <config_path>/<host:port>/hosts.toml for the host an image names.
        const { registry } = loadConfig(stackConfig("dev"), { stack: "dev" });
        assert.equal(REGISTRY_HOSTS_DIR, `/etc/containerd/certs.d/${registry.server}`);
        assert.equal(registryHostsToml(), '[host."http://kind-registry:5000"]\n');
    });

    it("documents the registry in the local-registry-hosting ConfigMap in kube-public", () => {
        const cm = parseYaml(localRegistryHostingConfigMap());
        assert.equal(cm.kind, "ConfigMap");
        assert.deepEqual(cm.metadata, { name: "local-registry-hosting", namespace: "kube-public" });
        assert.deepEqual(parseYaml(cm.data["localRegistryHosting.v1"]), { host: "localhost:5001", help: "https://kind.sigs.k8s.io/docs/user/local-registry/" });
    });

    it("pins ingress-nginx to one controller release of the upstream kind manifest", () => {
        assert.match(INGRESS_NGINX.version, /^\d+\.\d+\.\d+$/);
        assert.equal(
            ingressNginxManifestUrl("1.14.3"),
            "https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.14.3/deploy/static/provider/kind/deploy.yaml",
        );
        assert.ok(ingressNginxManifestUrl().includes(`/controller-v${INGRESS_NGINX.version}/`), "the default is the pinned release");
    });
});

describe("up: the kind platform's decisions", () => {
    it("creates the registry when docker does not know it, starts it when stopped, keeps it when running", () => {
        assert.equal(registryAction(res(1, "", "Error: No such object: kind-registry")), "create");
        assert.equal(registryAction(res(0, "false\n")), "start");
        assert.equal(registryAction(res(0, "true\n")), "keep");
    });

    it("finds the launchpad cluster only as a whole line of kind get clusters", () => {
        assert.equal(clusterListed(res(0, "kind\nlaunchpad\n")), true);
        assert.equal(clusterListed(res(0, "launchpad-old\n")), false);
        assert.equal(clusterListed(res(0, "", "No kind clusters found.\n")), false);
    });

    it("reads null from docker inspect as not connected to the kind network", () => {
        assert.equal(registryOnNetwork(res(0, "null\n")), false);
        assert.equal(registryOnNetwork(res(0, '{"NetworkID":"x"}\n')), true);
    });

    it("installs ingress-nginx when absent, upgrades another release, waits for an unready one and keeps a ready one", () => {
        const dep = (version: string, ready: number) => res(0, JSON.stringify({ metadata: { labels: { "app.kubernetes.io/version": version } }, status: { readyReplicas: ready } }));
        assert.equal(ingressAction(res(1, "", "NotFound")), "install");
        assert.equal(ingressAction(dep("1.9.0", 1)), "upgrade");
        assert.equal(ingressAction(dep(INGRESS_NGINX.version, 0)), "wait");
        assert.equal(ingressAction(dep(INGRESS_NGINX.version, 1)), "keep");
    });
});

describe("up: building the kind platform", () => {
    it("on a fresh machine follows kind's guide: registry, cluster, node registry config, network, ConfigMap, then ingress-nginx until ready", async () => {
        const m = new FakeMachine(freshMachine());
        await ensureKindPlatform(m);
        assert.deepEqual(m.mutations(), [
            "docker run -d --restart=always -p 127.0.0.1:5001:5000 --network bridge --name kind-registry registry:3",
            "kind create cluster --name launchpad --config -",
            `docker exec ${NODE} mkdir -p ${REGISTRY_HOSTS_DIR}`,
            `docker exec -i ${NODE} cp /dev/stdin ${REGISTRY_HOSTS_DIR}/hosts.toml`,
            "docker network connect kind kind-registry",
            "kubectl --context kind-launchpad apply -f -",
            `kubectl --context kind-launchpad apply -f ${ingressNginxManifestUrl()}`,
        ]);
        const waits = m.calls.filter((c) => / wait | rollout status /.test(c));
        assert.deepEqual(waits, [
            "kubectl --context kind-launchpad -n ingress-nginx wait --for=condition=complete job/ingress-nginx-admission-patch --timeout=300s",
            "kubectl --context kind-launchpad -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s",
        ]);
        assert.ok(m.calls.indexOf(waits[1]) > m.calls.indexOf(`kubectl --context kind-launchpad apply -f ${ingressNginxManifestUrl()}`));
        assert.equal(m.inputs.get("kind create cluster --name launchpad --config -"), kindClusterConfig());
        assert.equal(m.inputs.get(`docker exec -i ${NODE} cp /dev/stdin ${REGISTRY_HOSTS_DIR}/hosts.toml`), registryHostsToml());
        assert.equal(m.inputs.get("kubectl --context kind-launchpad apply -f -"), localRegistryHostingConfigMap());
        assert.equal(m.state.ingress?.ready, true);
    });

    it("changes nothing on a second run", async () => {
        const m = new FakeMachine(freshMachine());
        await ensureKindPlatform(m);
        const second = new FakeMachine(m.state);
        const steps = await ensureKindPlatform(second);
        assert.deepEqual(second.mutations(), []);
        assert.ok(steps.every((s) => s.state === "ok"), JSON.stringify(steps));
        assert.equal(second.calls.filter((c) => / wait | rollout status /.test(c)).length, 0, "a ready controller is not waited for");
    });

    it("does not create the cluster when it already exists", async () => {
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        await ensureKindPlatform(m);
        assert.ok(!m.calls.some((c) => c.startsWith("kind create")));
    });

    it("does not start the registry when it is running", async () => {
        const m = new FakeMachine(readyMachine());
        await ensureKindPlatform(m);
        assert.ok(!m.calls.some((c) => c.startsWith("docker run") || c.startsWith("docker start")));
    });

    it("starts a stopped registry instead of creating a second one", async () => {
        const m = new FakeMachine(readyMachine({ registry: "stopped" }));
        await ensureKindPlatform(m);
        assert.deepEqual(m.mutations(), ["docker start kind-registry"]);
    });

    it("starts the cluster's node when Docker left it stopped", async () => {
        const m = new FakeMachine(readyMachine({ nodeRunning: false }));
        await ensureKindPlatform(m);
        assert.deepEqual(m.mutations(), [`docker start ${NODE}`]);
    });

    it("does not connect the registry to the kind network again when it is already connected", async () => {
        const m = new FakeMachine(readyMachine());
        await ensureKindPlatform(m);
        assert.ok(!m.calls.includes("docker network connect kind kind-registry"));
        const n = new FakeMachine(readyMachine({ registryOnKindNetwork: false }));
        await ensureKindPlatform(n);
        assert.deepEqual(n.mutations(), ["docker network connect kind kind-registry"]);
    });

    it("rewrites a node's hosts.toml only when its content differs", async () => {
        const m = new FakeMachine(readyMachine({ hostsToml: new Map([[NODE, '[host."http://elsewhere:5000"]\n']]) }));
        await ensureKindPlatform(m);
        assert.deepEqual(m.mutations(), [`docker exec ${NODE} mkdir -p ${REGISTRY_HOSTS_DIR}`, `docker exec -i ${NODE} cp /dev/stdin ${REGISTRY_HOSTS_DIR}/hosts.toml`]);
    });

    it("exports the kubeconfig context when the cluster exists but the context was removed", async () => {
        const m = new FakeMachine(readyMachine({ context: false }));
        await ensureKindPlatform(m);
        assert.deepEqual(m.mutations(), ["kind export kubeconfig --name launchpad"]);
    });

    it("leaves a ready ingress controller of the pinned release alone", async () => {
        const m = new FakeMachine(readyMachine());
        await ensureKindPlatform(m);
        assert.ok(!m.calls.some((c) => c.includes("ingress-nginx") && !c.includes(" get deployment ")), m.calls.join("\n"));
    });

    it("only waits for an installed controller of the pinned release that is not ready yet", async () => {
        const m = new FakeMachine(readyMachine({ ingress: { version: INGRESS_NGINX.version, ready: false } }));
        await ensureKindPlatform(m);
        assert.deepEqual(m.mutations(), []);
        assert.ok(m.calls.some((c) => c.includes("rollout status deployment/ingress-nginx-controller")));
        assert.equal(m.state.ingress?.ready, true);
    });

    it("replaces the finished admission Jobs before applying another ingress-nginx release", async () => {
        const m = new FakeMachine(readyMachine({ ingress: { version: "1.9.4", ready: true } }));
        await ensureKindPlatform(m);
        assert.deepEqual(m.mutations(), [
            "kubectl --context kind-launchpad -n ingress-nginx delete job ingress-nginx-admission-create ingress-nginx-admission-patch --ignore-not-found",
            `kubectl --context kind-launchpad apply -f ${ingressNginxManifestUrl()}`,
        ]);
        assert.equal(m.state.ingress?.version, INGRESS_NGINX.version);
    });

    it("accepts a cluster that already cleaned up the admission patch Job", async () => {
        const m = new FakeMachine(readyMachine({ ingress: { version: INGRESS_NGINX.version, ready: false }, admissionJob: false }));
        await ensureKindPlatform(m);
        assert.equal(m.state.ingress?.ready, true);
    });

    it("says that kubectl downloads the manifest when it cannot be fetched", async () => {
        const m = new FakeMachine(readyMachine({ ingress: undefined, manifestReachable: false }));
        await assert.rejects(ensureKindPlatform(m), /kubectl apply -f https:\/\/raw\.githubusercontent\.com[\s\S]*internet connection/);
    });

    it("runs every kubectl command against the kind-launchpad context, never the current one", async () => {
        const m = new FakeMachine(freshMachine());
        await ensureKindPlatform(m);
        for (const c of m.calls.filter((c) => c.startsWith("kubectl ") && !c.startsWith("kubectl config get-contexts"))) {
            assert.ok(c.startsWith(`kubectl --context ${KIND.context} `), c);
        }
    });

    it("reports one line per step", async () => {
        const lines: string[] = [];
        await ensureKindPlatform(new FakeMachine(readyMachine()), { info: (l) => lines.push(l) });
        assert.deepEqual(
            lines.map((l) => l.replace(/:.*$/, "")),
            [
                "  [ok  ] registry kind-registry",
                "  [ok  ] kind cluster launchpad",
                "  [ok  ] kubeconfig context kind-launchpad",
                `  [ok  ] registry config on ${NODE}`,
                "  [ok  ] registry on the kind network",
                "  [ok  ] ConfigMap kube-public/local-registry-hosting",
                `  [ok  ] ingress-nginx ${INGRESS_NGINX.version}`,
            ],
        );
    });
});

describe("up: checking the kind platform without changing it", () => {
    it("lists what is missing on a fresh machine and changes nothing", async () => {
        const m = new FakeMachine(freshMachine());
        const steps = await inspectKindPlatform(m);
        assert.deepEqual(m.mutations(), []);
        assert.deepEqual(
            steps.filter((s) => s.state === "missing").map((s) => s.name),
            ["registry kind-registry", "kind cluster launchpad", "registry wiring and ingress-nginx"],
        );
    });

    it("reports a ready platform as ready", async () => {
        const steps = await inspectKindPlatform(new FakeMachine(readyMachine()));
        assert.ok(steps.every((s) => s.state === "ok"));
    });

    it("reports an unready ingress controller as missing instead of waiting for it", async () => {
        const m = new FakeMachine(readyMachine({ ingress: { version: INGRESS_NGINX.version, ready: false } }));
        const steps = await inspectKindPlatform(m);
        assert.deepEqual(steps.filter((s) => s.state === "missing").map((s) => s.detail), ["controller not ready"]);
        assert.ok(!m.calls.some((c) => / wait | rollout status /.test(c)));
    });
});

describe("up: deleting the kind platform", () => {
    it("deletes the cluster, then the registry with its storage", async () => {
        const m = new FakeMachine(readyMachine());
        await deleteKindPlatform(m);
        assert.deepEqual(m.mutations(), ["kind delete cluster --name launchpad", "docker rm -f -v kind-registry"]);
    });

    it("deletes nothing that does not exist", async () => {
        const m = new FakeMachine(freshMachine());
        await deleteKindPlatform(m);
        assert.deepEqual(m.mutations(), []);
    });
});
