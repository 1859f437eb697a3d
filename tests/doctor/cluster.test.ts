import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Failure, UsageError } from "../../tools/cli";
import { FileClusterSource, LiveClusterSource, parseKubectlList } from "../../tools/doctor/cluster";
import type { KubeNode, KubePod } from "../../tools/doctor/schedule";
import { FakeServer, startFakeApiServer, writeKubeconfig } from "./fakes";
import { fixtureItems, fixturePath } from "./helpers";

async function tempFile(name: string, text: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-files-"));
    const file = path.join(dir, name);
    await fs.writeFile(file, text);
    return file;
}

describe("doctor: cluster state from kubectl files", () => {
    it("reads the nodes of `kubectl get nodes -o json` and the pods of `kubectl get pods -A -o json`", async () => {
        const snapshot = await new FileClusterSource(fixturePath("nodes-kind.json"), fixturePath("pods-kind-full.json")).read();
        assert.deepEqual(snapshot.nodes.map((n) => n.metadata.name), ["launchpad-control-plane"]);
        assert.equal(snapshot.pods.length, 11);
        assert.equal(snapshot.ingressClasses, undefined, "files say nothing about IngressClasses");
    });

    it("accepts a single Node object as well as a list", () => {
        const one = fixtureItems<KubeNode>("nodes-kind.json")[0];
        assert.equal(parseKubectlList<KubeNode>(JSON.stringify(one), "n.json", "Node", "--nodes").length, 1);
    });

    it("names the flag and the file when the file does not exist", async () => {
        await assert.rejects(new FileClusterSource("/no/such/nodes.json").read(), (e: Error) => {
            assert.ok(e instanceof UsageError);
            assert.equal(e.message, "--nodes /no/such/nodes.json: cannot read it (no such file)");
            return true;
        });
    });

    it("says a file that is not JSON is not JSON, and what was expected", async () => {
        const file = await tempFile("nodes.yaml", "apiVersion: v1\nitems: []\n");
        await assert.rejects(new FileClusterSource(file).read(), /--nodes .*nodes\.yaml: not valid JSON \(.*\); expected the output of `kubectl get nodes -o json`/);
    });

    it("says a pods dump given as --nodes holds Pods, not Nodes", async () => {
        await assert.rejects(new FileClusterSource(fixturePath("pods-kind-full.json")).read(), /item 0 \(coredns-7db6d8ff4d-5xk2p\) is a Pod, not a Node/);
    });

    it("rejects a list item without a name", () => {
        assert.throws(() => parseKubectlList<KubePod>('{"items":[{"kind":"Pod","spec":{}}]}', "p.json", "Pod", "--pods"), /--pods p\.json: item 0 has no metadata.name/);
    });

    it("keeps every error message on one line", async () => {
        const file = await tempFile("nodes.json", "{ not json");
        await assert.rejects(new FileClusterSource(file).read(), (e: Error) => !e.message.includes("\n"));
    });
});

describe("doctor: the live cluster through a kubeconfig context (fake API server over HTTP)", () => {
    const token = "doctor-test-token";
    let api: FakeServer;
    let kubeconfig: string;
    before(async () => {
        api = await startFakeApiServer({
            nodes: fixtureItems("nodes-kind.json"),
            pods: fixtureItems("pods-kind-full.json"),
            ingressClasses: [{ name: "nginx", controller: "k8s.io/ingress-nginx", isDefault: true }],
            storageClasses: [{ name: "standard", provisioner: "rancher.io/local-path", isDefault: true }, { name: "fast", provisioner: "rancher.io/local-path" }],
            token,
        });
        kubeconfig = await writeKubeconfig(api, "kind-launchpad", token);
    });
    after(() => api.close());

    it("lists nodes, running pods, IngressClasses and StorageClasses through @kubernetes/client-node", async () => {
        const snapshot = await new LiveClusterSource({ context: "kind-launchpad", kubeconfig }).read();
        assert.deepEqual(snapshot.nodes.map((n) => n.metadata.name), ["launchpad-control-plane"]);
        assert.equal(snapshot.nodes[0].status?.allocatable?.cpu, "8");
        assert.equal(snapshot.pods.length, 9, "the API server left out the Succeeded and Failed pods");
        assert.ok(snapshot.pods.every((p) => typeof p.spec.nodeName === "string"));
        assert.deepEqual(snapshot.ingressClasses, [{ name: "nginx", isDefault: true, detail: "k8s.io/ingress-nginx" }]);
        assert.deepEqual(snapshot.storageClasses?.map((c) => [c.name, c.isDefault]), [["standard", true], ["fast", false]]);
        assert.ok(api.requests.some((r) => r.url.startsWith("/api/v1/pods?") && r.url.includes("fieldSelector=status.phase")));
        assert.equal(snapshot.serverVersion, "v1.31.2", "the scheduler's wording follows the server's version");
    });

    it("uses the stack's context, not the kubeconfig's current one", async () => {
        api.requests.length = 0;
        await new LiveClusterSource({ context: "kind-launchpad", kubeconfig }).read();
        assert.ok(api.requests.length > 0 && api.requests.every((r) => r.authorization === `Bearer ${token}`));
    });

    it("names the contexts the kubeconfig has when the stack's is not among them, the key to set, and --nodes", async () => {
        await assert.rejects(new LiveClusterSource({ context: "prod-cluster", kubeconfig, stack: "prod" }).read(), (e: Error) => {
            assert.ok(e instanceof Failure);
            assert.equal(
                e.message,
                `the kubeconfig ${kubeconfig} has no context "prod-cluster" (it has: kind-launchpad, somewhere-else): set launchpad:kubeContext in Pulumi.prod.yaml ` +
                    "to the cluster's context (`kubectl config get-contexts` lists them), or launchpad:kubeconfig to the file that has it; " +
                    "or check it offline with --nodes <file> from `kubectl get nodes -o json` (and --pods <file> from `kubectl get pods -A -o json`), taken where the cluster is reachable",
            );
            return true;
        });
    });

    it("says there is no kubeconfig when there is none, not that a made-up one lacks the context", async () => {
        const home = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-home-"));
        const unloaded = async (): Promise<never> => assert.fail("the client is not needed to see that no kubeconfig exists");
        try {
            for (const env of [{ HOME: home }, { KUBECONFIG: path.join(home, "nope") }]) {
                const where = env.KUBECONFIG ?? path.join(home, ".kube", "config");
                await assert.rejects(new LiveClusterSource({ context: "prod-cluster", stack: "prod" }, unloaded, env).read(), (e: Error) => {
                    assert.ok(e instanceof Failure);
                    assert.match(e.message, new RegExp(`^there is no kubeconfig \\(${where.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} does not exist\\), so the doctor cannot reach the cluster of context "prod-cluster" \\(launchpad:kubeContext in Pulumi\\.prod\\.yaml\\)\\. Get the cluster's kubeconfig .*; or check it offline with --nodes <file> from \`kubectl get nodes -o json\``));
                    assert.doesNotMatch(e.message, /loaded-context/);
                    return true;
                });
            }
            await assert.rejects(new LiveClusterSource({ context: "kind-launchpad", kindCluster: "launchpad", stack: "dev" }, unloaded, { HOME: home }).read(), /^Failure: the kind cluster "launchpad" does not exist yet \(there is no kubeconfig: .*\); `npm run up` creates it/);
        } finally {
            await fs.rm(home, { recursive: true, force: true });
        }
    });

    it("says that a kind stack's cluster does not exist yet, and that `npm run up` creates it, instead of listing unrelated contexts", async () => {
        const other = await writeKubeconfig(api, "minikube", token);
        await assert.rejects(new LiveClusterSource({ context: "kind-launchpad", kubeconfig: other, kindCluster: "launchpad" }).read(), (e: Error) => {
            assert.ok(e instanceof Failure);
            assert.equal(
                e.message,
                'the kind cluster "launchpad" does not exist yet (the kubeconfig has no context kind-launchpad); `npm run up` creates it, or pass --nodes to check against kubectl\'s dumps of another cluster',
            );
            return true;
        });
    });

    it("turns a refused request into one line naming the context", async () => {
        const badConfig = await writeKubeconfig(api, "kind-launchpad", "not-the-token");
        await assert.rejects(new LiveClusterSource({ context: "kind-launchpad", kubeconfig: badConfig }).read(), (e: Error) => {
            assert.ok(e instanceof Failure);
            assert.match(e.message, /^cannot read the cluster through context kind-launchpad in .*: /);
            assert.ok(!e.message.includes("\n"));
            return true;
        });
    });
});
