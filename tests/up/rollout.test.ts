import * as assert from "node:assert/strict";
import { causeFix, podCause, type PodStatusView, stuckPodLines, unfinishedRollouts, type WorkloadStatusView } from "../../tools/up/rollout";

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

    it("gives the kubelet's failed probe as the cause of a running pod that is not ready", () => {
        const unready = { ...pod("g", "backend", { phase: "Running", conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [backend]" }] }), warnings: ["Pulling image", "Readiness probe failed: HTTP probe failed with statuscode: 404"] };
        assert.equal(podCause(unready), "not ready: Readiness probe failed: HTTP probe failed with statuscode: 404");
    });

    it("says how a crash-looping container last ended", () => {
        const looping = { phase: "Running", containerStatuses: [{ name: "backend", restartCount: 3, state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container=backend" } }, lastState: { terminated: { reason: "Error", exitCode: 1 } } }] };
        assert.equal(podCause(pod("h", "backend", looping)), "container backend: CrashLoopBackOff: back-off 40s restarting failed container=backend (exit code 1)");
        const oom = { ...looping, containerStatuses: [{ ...looping.containerStatuses[0], lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } } }] };
        assert.match(podCause(pod("i", "backend", oom))!, /\(OOMKilled, exit code 137\)$/);
    });

    it("points each kubelet cause at the config key that changes it", () => {
        assert.match(causeFix("backend", "not ready: Readiness probe failed: HTTP probe failed with statuscode: 404")!, /launchpad:backendReadinessPath on launchpad:backendPort/);
        assert.match(causeFix("frontend", "not ready: Liveness probe failed: Get ...")!, /launchpad:frontendLivenessPath/);
        assert.match(causeFix("backend", 'container backend: ErrImagePull: failed to pull and unpack image "r/x@sha256:1": unexpected status from HEAD request: 401 Unauthorized')!, /launchpad:registryUsername and launchpad:registryPassword/);
        assert.match(causeFix("frontend", "container web: ImagePullBackOff: ... not found")!, /launchpad:registry says/);
        assert.match(causeFix("backend", "container backend: CrashLoopBackOff: back-off (exit code 1)")!, /launchpad:backendContext exits at start/);
        assert.match(causeFix("backend", "container backend: CrashLoopBackOff: back-off (OOMKilled, exit code 137)")!, /raise launchpad:backendMemoryLimit/);
        assert.match(causeFix("database", "container postgres: CrashLoopBackOff: back-off (exit code 1)")!, /launchpad:dbImage/);
        assert.equal(causeFix("frontend", "not scheduled: 0/3 nodes are available: 3 Insufficient cpu."), undefined);
    });

    it("puts the fix on the cause's line and a stopped container's last log lines under it", () => {
        const looping = { phase: "Running", containerStatuses: [{ name: "backend", state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 10s" } }, lastState: { terminated: { exitCode: 1 } } }] };
        const lines = stuckPodLines([{ ...pod("b1", "backend", looping), lastLogLines: { backend: ["launchpad-backend: DB_HOST is not set"] } }]);
        assert.deepEqual(lines, [
            "backend: 1 pod container backend: CrashLoopBackOff: back-off 10s (exit code 1) → the image built from launchpad:backendContext exits at start: the lines below are its last words",
            "  | launchpad-backend: DB_HOST is not set",
        ]);
    });
});

describe("up: whether the update's rollouts are complete", () => {
    const deployment = (status: WorkloadStatusView["status"], generation = 3): WorkloadStatusView => ({
        kind: "Deployment",
        metadata: { name: "backend-x", generation, labels: { "app.kubernetes.io/component": "backend" } },
        spec: { replicas: 2 },
        status,
    });

    it("finds none unfinished when every pod of the new version is available and no old one is left", () => {
        assert.deepEqual(unfinishedRollouts([deployment({ observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })]), []);
    });

    it("names the tier whose new pods are not all available, as while they crash (the old pod still serving)", () => {
        assert.deepEqual(unfinishedRollouts([deployment({ observedGeneration: 3, replicas: 3, updatedReplicas: 1, availableReplicas: 2 })]), ["backend: 1 of 2 pods of the new version available"]);
    });

    it("names a spec the controller has not seen yet, and old pods still running", () => {
        assert.deepEqual(unfinishedRollouts([deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })]), ["backend: the Deployment controller has not yet seen its latest spec"]);
        assert.deepEqual(unfinishedRollouts([deployment({ observedGeneration: 3, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })]), ["backend: 1 old pods still running"]);
    });

    it("holds a StatefulSet to its update revision and its ready pods", () => {
        const db = (status: WorkloadStatusView["status"]): WorkloadStatusView => ({ kind: "StatefulSet", metadata: { name: "db", generation: 1, labels: { "app.kubernetes.io/component": "database" } }, spec: { replicas: 1 }, status });
        assert.deepEqual(unfinishedRollouts([db({ observedGeneration: 1, readyReplicas: 1, currentRevision: "db-a", updateRevision: "db-a" })]), []);
        assert.deepEqual(unfinishedRollouts([db({ observedGeneration: 1, readyReplicas: 1, currentRevision: "db-a", updateRevision: "db-b" })]), ["database: 1 of 1 pods ready, not all of the new version"]);
    });
});

