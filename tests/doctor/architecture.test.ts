import * as assert from "node:assert/strict";
import { checkArchitecture, nodePlatform } from "../../tools/doctor/architecture";
import { KubeNode, ManifestLike, nodeStates, scheduleWorkloads, Taint, workloadsOf } from "../../tools/doctor/schedule";
import { node, podSpec } from "./helpers";

const amd = (name: string, taints?: Taint[]) => node(name, { labels: { "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" }, taints });
const arm = (name: string, taints?: Taint[]) => node(name, { labels: { "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64" }, taints });

function deployment(name: string, nodeSelector?: Record<string, string>): ManifestLike {
    return { kind: "Deployment", metadata: { name, namespace: "shop" }, spec: { replicas: 1, template: { metadata: { labels: { app: name } }, spec: podSpec({ cpu: "100m", nodeSelector }) } } };
}

function check(nodes: KubeNode[], imagePlatform = "linux/amd64", objects: ManifestLike[] = [deployment("frontend"), deployment("backend")]) {
    const verdicts = scheduleWorkloads(workloadsOf(objects), nodeStates(nodes));
    const found = checkArchitecture(nodes, verdicts, { stack: "prod", imagePlatform });
    assert.equal(found.length, 1);
    return found[0];
}

describe("doctor: the nodes' architecture against imagePlatform", () => {
    it("reads a node's platform from its labels, or from nodeInfo when a label is missing", () => {
        assert.equal(nodePlatform(arm("a")), "linux/arm64");
        const bare: KubeNode = { metadata: { name: "b" }, status: { nodeInfo: { operatingSystem: "linux", architecture: "amd64" } } };
        assert.equal(nodePlatform(bare), "linux/amd64");
        assert.equal(nodePlatform({ metadata: { name: "c" } }), undefined);
    });

    it("passes when every node the pods may run on has the images' platform", () => {
        const c = check([amd("a"), amd("b")]);
        assert.equal(c.status, "ok");
        assert.equal(c.message, "the images are built for linux/amd64 (imagePlatform), the platform of the nodes the pods may run on (a, b)");
        assert.deepEqual(c.usedBy, ["Deployment/frontend", "Deployment/backend"]);
    });

    it("fails on an all-arm64 cluster with amd64 images, and names the imagePlatform to set", () => {
        const c = check([arm("graviton-1"), arm("graviton-2")]);
        assert.deepEqual([c.status, c.ok], ["failed", false]);
        assert.equal(
            c.message,
            "the images are built for linux/amd64 (imagePlatform), but the nodes the pods may run on are linux/arm64 (graviton-1, graviton-2), " +
                "where their containers would fail with `exec format error`; build for theirs: pulumi config set --stack prod imagePlatform linux/arm64",
        );
    });

    it("fails on a mixed cluster the pods may spread over, and pins them to the matching nodes by kubernetes.io/arch", () => {
        const c = check([amd("x86-1"), arm("arm-1")]);
        assert.equal(c.status, "failed");
        assert.match(c.message, /but the pods may run on linux\/arm64 nodes \(arm-1\), where .*; keep the pods on the linux\/amd64 nodes: pulumi config set --stack prod --path 'nodeSelector\["kubernetes\.io\/arch"\]' amd64$/);
    });

    it("passes a mixed cluster when the stack's nodeSelector already keeps the pods on matching nodes", () => {
        const pinned = [deployment("frontend", { "kubernetes.io/arch": "amd64" }), deployment("backend", { "kubernetes.io/arch": "amd64" })];
        assert.equal(check([amd("x86-1"), arm("arm-1")], "linux/amd64", pinned).status, "ok");
    });

    it("compares only the platform, not the variant: linux/arm64/v8 images run on arm64 nodes", () => {
        assert.equal(check([arm("a")], "linux/arm64/v8").status, "ok");
    });

    it("compares every node when no node would take the pods (GKE taints its Arm nodes kubernetes.io/arch=arm64:NoSchedule)", () => {
        const c = check([arm("t2a-1", [{ key: "kubernetes.io/arch", value: "arm64", effect: "NoSchedule" }])]);
        assert.equal(c.status, "failed");
        assert.match(c.message, /but the nodes are linux\/arm64 \(t2a-1\)/);
    });

    it("says it cannot tell when no node has an architecture label", () => {
        const c = check([node("n1")]);
        assert.deepEqual([c.status, c.ok], ["unknown", true]);
        assert.match(c.message, /^cannot tell whether the nodes the pods may run on run linux\/amd64 images \(imagePlatform\): none has a kubernetes\.io\/arch label$/);
    });
});
