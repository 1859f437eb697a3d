import * as assert from "node:assert/strict";
import { podSpecPath, podTemplateOf, WORKLOAD_KIND_NAMES, WorkloadKindName } from "../../lib/podTemplates";
import { WORKLOAD_KINDS } from "../../policy/workloads";
import { buildModel } from "../../tools/diagram/model";
import { workloadOf } from "../../tools/doctor/schedule";
import type { KubeObject } from "../../tools/harness";

// One list of the kinds that carry pods: the policy checks them, the diagram draws them, the doctor
// places the ones that get pods placed now.

const podSpec = { containers: [{ name: "app", image: "ghcr.io/acme/app:1" }] };
const template = { metadata: { labels: { app: "x" } }, spec: podSpec };
const specs = {
    Deployment: { replicas: 2, template },
    StatefulSet: { replicas: 2, template },
    DaemonSet: { template },
    ReplicaSet: { replicas: 2, template },
    Job: { parallelism: 2, template },
    CronJob: { jobTemplate: { spec: { template } } },
    Pod: podSpec,
};
const manifest = (kind: WorkloadKindName): KubeObject => ({
    apiVersion: "v1", kind, metadata: { name: kind.toLowerCase(), namespace: "ns", labels: { app: "x" } }, spec: specs[kind],
});

describe("one list of the kinds that carry pods", () => {
    it("finds the pod template of every kind where Kubernetes keeps it", () => {
        for (const kind of WORKLOAD_KIND_NAMES) {
            assert.deepEqual(podTemplateOf(manifest(kind))?.spec, podSpec, kind);
        }
        assert.equal(podSpecPath("CronJob"), "spec.jobTemplate.spec.template.spec");
        assert.equal(podTemplateOf({ kind: "Service", spec: { template } }), undefined);
    });

    it("the policy checks every one of them", () => {
        assert.deepEqual(WORKLOAD_KINDS.map((k) => k.kind), [...WORKLOAD_KIND_NAMES]);
    });

    it("the diagram draws every one of them, bare Pods included", () => {
        const titles = buildModel("test", WORKLOAD_KIND_NAMES.map(manifest)).nodes.map((n) => n.title);
        for (const kind of WORKLOAD_KIND_NAMES) assert.ok(titles.includes(`${kind} ${kind.toLowerCase()}`), `${kind} in ${titles}`);
    });

    it("the doctor places pods of all but DaemonSets (one per node) and CronJobs (pods come later)", () => {
        const placed = WORKLOAD_KIND_NAMES.filter((kind) => workloadOf(manifest(kind)) !== undefined);
        assert.deepEqual(placed, ["Deployment", "StatefulSet", "ReplicaSet", "Job", "Pod"]);
        assert.equal(workloadOf(manifest("Job"))?.replicas, 2);
    });
});
