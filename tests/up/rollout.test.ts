import * as assert from "node:assert/strict";
import { podCause, type PodStatusView, stuckPodLines } from "../../tools/up/rollout";

const pod = (name: string, tier: string, status: PodStatusView["status"]): PodStatusView => ({ metadata: { name, labels: { "app.kubernetes.io/component": tier } }, status });
const running = { phase: "Running", conditions: [{ type: "PodScheduled", status: "True" }, { type: "Ready", status: "True" }] };
const unschedulable = {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }." }],
};

describe("up: why a rollout's pods did not start", () => {
    it("takes the scheduler's message for a pod no node fits", () => {
        assert.equal(podCause(pod("a", "frontend", unschedulable)), "not scheduled: 0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }.");
    });

    it("names the container and the kubelet's reason for one that cannot start, but not one still being created", () => {
        const pulling = { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True" }], containerStatuses: [{ name: "api", state: { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image \"r/x@sha256:1\"" } } }] };
        assert.equal(podCause(pod("b", "backend", pulling)), 'container api: ImagePullBackOff: Back-off pulling image "r/x@sha256:1"');
        const crashed = { phase: "Running", containerStatuses: [{ name: "api", state: { terminated: { reason: "Error", exitCode: 1 } } }] };
        assert.equal(podCause(pod("c", "backend", crashed)), "container api: Error (exit code 1)");
        const creating = { phase: "Pending", conditions: [{ type: "Ready", status: "False", message: "containers with unready status: [api]" }], containerStatuses: [{ name: "api", state: { waiting: { reason: "ContainerCreating" } } }] };
        assert.equal(podCause(pod("d", "backend", creating)), "not ready: containers with unready status: [api]");
    });

    it("finds nothing wrong with a running, ready pod", () => {
        assert.equal(podCause(pod("e", "db", running)), undefined);
    });

    it("gives one line per tier and cause, counting the pods, and none for the ready ones", () => {
        const lines = stuckPodLines([pod("f1", "frontend", unschedulable), pod("f2", "frontend", unschedulable), pod("b1", "backend", running), pod("d1", "database", unschedulable)]);
        assert.deepEqual(lines, [
            "database: 1 pod not scheduled: 0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }.",
            "frontend: 2 pods not scheduled: 0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }.",
        ]);
        assert.deepEqual(stuckPodLines([pod("b1", "backend", running)]), []);
    });
});
