import * as assert from "node:assert/strict";
import {
    FilterResult, KubeNode, PodSpec, Toleration, filterNode, fitErrorMessage, matchesRequirement, schedulerWording, nodeStates,
    podRequests, scheduleWorkloads, toleratesTaint, withAdmissionDefaults, workloadOf, workloadsOf,
} from "../../tools/doctor/schedule";
import { milliValue, quantityFraction, unitValue } from "../../lib/quantity";
import { node, podSpec, requiredAffinity, runningPod } from "./helpers";

const GPU = { key: "dedicated", value: "gpu", effect: "NoSchedule" };

function verdict(n: KubeNode, spec: PodSpec, pods = [] as ReturnType<typeof runningPod>[]): string {
    const [state] = nodeStates([n], pods);
    const r: FilterResult = filterNode(withAdmissionDefaults(spec), state);
    return r.fits ? "fits" : r.reasons.join(" + ");
}

describe("doctor: Kubernetes quantities", () => {
    const cases: [string, number, number][] = [
        // text, milliValue, unitValue (both round up, as resource.Quantity does)
        ["100m", 100, 1],
        ["0.1", 100, 1],
        [".5", 500, 1],
        ["1", 1000, 1],
        ["1.5", 1500, 2],
        ["2e3", 2_000_000, 2000],
        ["1E", 1e21, 1e18],
        ["1k", 1_000_000, 1000],
        ["1M", 1e9, 1e6],
        ["1G", 1e12, 1e9],
        ["1Ki", 1_024_000, 1024],
        ["123Mi", 128_974_848_000, 128_974_848],
        ["1.5Gi", 1_610_612_736_000, 1_610_612_736],
        ["129e6", 129e9, 129e6],
        ["1n", 1, 1],
        ["500u", 1, 1],
        ["1.1", 1100, 2],
        ["16283100Ki", 16_673_894_400_000, 16_673_894_400],
    ];
    for (const [text, milli, unit] of cases) {
        it(`reads ${text} as ${milli} thousandths and ${unit} whole units, rounding up`, () => {
            assert.equal(milliValue(text), milli);
            assert.equal(unitValue(text), unit);
        });
    }
    for (const bad of ["abc", "1.2.3", "5 Mi", "Mi", "1Kb", "", "1e"]) {
        it(`rejects ${JSON.stringify(bad)} with the text in the message`, () => {
            assert.throws(() => quantityFraction(bad), new RegExp(`"${bad.replace(/\./g, "\\.")}" is not a Kubernetes quantity`));
        });
    }
});

describe("doctor: a pod's effective requests", () => {
    it("adds up the containers' requests", () => {
        const spec = podSpec({ cpu: "250m", memory: "256Mi" });
        spec.containers.push({ name: "sidecar", resources: { requests: { cpu: "50m", memory: "64Mi" } } });
        assert.deepEqual(podRequests(spec), { milliCpu: 300, memory: 320 * 2 ** 20 });
    });
    it("takes a limit as the request when only the limit is set", () => {
        assert.deepEqual(podRequests(podSpec({ cpu: "1", memory: "1Gi", limitsOnly: true })), { milliCpu: 1000, memory: 2 ** 30 });
    });
    it("takes the larger of the containers and the biggest init container", () => {
        assert.deepEqual(podRequests(podSpec({ cpu: "100m", init: [{ cpu: "2" }, { cpu: "500m" }] })).milliCpu, 2000);
    });
    it("counts sidecar init containers with the containers and under later init containers", () => {
        const spec = podSpec({ cpu: "100m", init: [{ cpu: "200m", sidecar: true }, { cpu: "250m" }] });
        // containers 100m + sidecar 200m = 300m; the second init container runs beside the sidecar: 450m.
        assert.equal(podRequests(spec).milliCpu, 450);
    });
    it("adds the pod overhead", () => {
        assert.equal(podRequests({ ...podSpec({ cpu: "100m" }), overhead: { cpu: "10m" } }).milliCpu, 110);
    });
});

describe("doctor: toleration matching", () => {
    const cases: [string, Toleration, boolean][] = [
        ["Equal with the same value", { key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }, true],
        ["Equal with another value", { key: "dedicated", operator: "Equal", value: "cpu", effect: "NoSchedule" }, false],
        ["no operator, same value (means Equal)", { key: "dedicated", value: "gpu", effect: "NoSchedule" }, true],
        ["no operator, no value (Equal to the empty value)", { key: "dedicated", effect: "NoSchedule" }, false],
        ["Exists on the key", { key: "dedicated", operator: "Exists", effect: "NoSchedule" }, true],
        ["Exists with an empty key (every taint)", { operator: "Exists" }, true],
        ["an empty effect (every effect)", { key: "dedicated", operator: "Exists" }, true],
        ["another effect", { key: "dedicated", operator: "Exists", effect: "NoExecute" }, false],
        ["another key", { key: "team", operator: "Exists", effect: "NoSchedule" }, false],
        ["an unknown operator", { key: "dedicated", operator: "Gt", value: "1", effect: "NoSchedule" }, false],
    ];
    for (const [name, tol, expected] of cases) {
        it(`${expected ? "tolerates" : "does not tolerate"} dedicated=gpu:NoSchedule with ${name}`, () => {
            assert.equal(toleratesTaint(tol, GPU), expected);
        });
    }
});

describe("doctor: node selector requirements", () => {
    const labels = { zone: "a", disk: "ssd", cores: "8" };
    const cases: [string, boolean][] = [
        ["zone In a,b", true],
        ["zone In b,c", false],
        ["gpu In yes", false],
        ["zone NotIn b", true],
        ["zone NotIn a", false],
        ["gpu NotIn yes", true],
        ["disk Exists", true],
        ["gpu Exists", false],
        ["gpu DoesNotExist", true],
        ["disk DoesNotExist", false],
        ["cores Gt 4", true],
        ["cores Gt 8", false],
        ["cores Lt 16", true],
        ["cores Lt 8", false],
        ["zone Gt 1", false],
        ["gpu Gt 1", false],
        ["cores Gt 4,5", false],
    ];
    for (const [expr, expected] of cases) {
        it(`${expected ? "matches" : "does not match"} "${expr}" on zone=a, disk=ssd, cores=8`, () => {
            const [key, operator, values] = expr.split(" ");
            assert.equal(matchesRequirement({ key, operator, values: values?.split(",") }, labels), expected);
        });
    }
});

describe("doctor: the filter for one pod on one node", () => {
    const unreachable = [
        { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
        { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
    ];
    const cases: { name: string; node: KubeNode; pod: PodSpec; expect: string; pods?: ReturnType<typeof runningPod>[] }[] = [
        { name: "an untainted, ready node with room accepts the pod", node: node("n"), pod: podSpec({ cpu: "1" }), expect: "fits" },
        { name: "a NoSchedule taint without a toleration blocks", node: node("n", { taints: [GPU] }), pod: podSpec(), expect: "node(s) had untolerated taint {dedicated: gpu}" },
        {
            name: "a NoExecute taint without a toleration blocks",
            node: node("n", { taints: [{ key: "maintenance", effect: "NoExecute" }] }),
            pod: podSpec(),
            expect: "node(s) had untolerated taint {maintenance: }",
        },
        { name: "a PreferNoSchedule taint never blocks", node: node("n", { taints: [{ key: "spot", value: "true", effect: "PreferNoSchedule" }] }), pod: podSpec(), expect: "fits" },
        { name: "a matching Equal toleration lets the pod in", node: node("n", { taints: [GPU] }), pod: podSpec({ tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] }), expect: "fits" },
        { name: "an Exists toleration with an empty key tolerates every taint", node: node("n", { taints: [GPU, { key: "x", value: "y", effect: "NoExecute" }] }), pod: podSpec({ tolerations: [{ operator: "Exists" }] }), expect: "fits" },
        {
            name: "every blocking taint must be tolerated, and the first untolerated one is named",
            node: node("n", { taints: [GPU, { key: "team", value: "data", effect: "NoSchedule" }] }),
            pod: podSpec({ tolerations: [{ key: "dedicated", operator: "Exists" }] }),
            expect: "node(s) had untolerated taint {team: data}",
        },
        { name: "a cordoned node is excluded", node: node("n", { unschedulable: true }), pod: podSpec(), expect: "node(s) were unschedulable" },
        {
            name: "a pod tolerating the unschedulable taint may use a cordoned node",
            node: node("n", { unschedulable: true }),
            pod: podSpec({ tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] }),
            expect: "fits",
        },
        {
            name: "the admission defaults do not tolerate an unreachable node's NoSchedule taint",
            node: node("n", { ready: "Unknown", taints: unreachable }),
            pod: podSpec(),
            expect: "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
        },
        {
            name: "the admission defaults tolerate an unreachable NoExecute taint on its own",
            node: node("n", { taints: [unreachable[1]] }),
            pod: podSpec(),
            expect: "fits",
        },
        {
            name: "a NotReady node without taints gets the not-ready taint its condition implies",
            node: node("n", { ready: "False" }),
            pod: podSpec(),
            expect: "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
        },
        {
            name: "a node whose Ready condition is Unknown gets the unreachable taint even before the controller adds it",
            node: node("n", { ready: "Unknown" }),
            pod: podSpec(),
            expect: "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
        },
        { name: "a matching nodeSelector lets the pod in", node: node("n", { labels: { disk: "ssd" } }), pod: podSpec({ nodeSelector: { disk: "ssd" } }), expect: "fits" },
        { name: "a nodeSelector with another value blocks", node: node("n", { labels: { disk: "hdd" } }), pod: podSpec({ nodeSelector: { disk: "ssd" } }), expect: "node(s) didn't match Pod's node affinity/selector" },
        { name: "a nodeSelector on a missing label blocks", node: node("n"), pod: podSpec({ nodeSelector: { disk: "ssd" } }), expect: "node(s) didn't match Pod's node affinity/selector" },
        {
            name: "required affinity terms are ORed",
            node: node("n", { labels: { zone: "b" } }),
            pod: podSpec({ affinity: requiredAffinity(["zone In a"], ["zone In b"]) }),
            expect: "fits",
        },
        {
            name: "expressions within a term are ANDed",
            node: node("n", { labels: { zone: "a", disk: "hdd" } }),
            pod: podSpec({ affinity: requiredAffinity(["zone In a", "disk In ssd"]) }),
            expect: "node(s) didn't match Pod's node affinity/selector",
        },
        {
            name: "required affinity with no terms matches no node",
            node: node("n"),
            pod: podSpec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } }),
            expect: "node(s) didn't match Pod's node affinity/selector",
        },
        {
            name: "an empty term matches no node",
            node: node("n"),
            pod: podSpec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } }),
            expect: "node(s) didn't match Pod's node affinity/selector",
        },
        {
            name: "nodeSelector and required affinity must both match",
            node: node("n", { labels: { zone: "a" } }),
            pod: podSpec({ nodeSelector: { disk: "ssd" }, affinity: requiredAffinity(["zone In a"]) }),
            expect: "node(s) didn't match Pod's node affinity/selector",
        },
        {
            name: "matchFields on metadata.name picks the node by name",
            node: node("worker-3"),
            pod: podSpec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["worker-3"] }] }] } } } }),
            expect: "fits",
        },
        {
            name: "preferred affinity never blocks",
            node: node("n"),
            pod: podSpec({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["z"] }] } }] } } }),
            expect: "fits",
        },
        { name: "a pod asking for more cpu than is free is refused", node: node("n", { cpu: "2" }), pod: podSpec({ cpu: "2100m" }), expect: "Insufficient cpu" },
        { name: "a pod asking for exactly what is free fits", node: node("n", { cpu: "2", memory: "1Gi" }), pod: podSpec({ cpu: "2", memory: "1Gi" }), expect: "fits" },
        { name: "a pod asking for more memory than is free is refused", node: node("n", { memory: "1Gi" }), pod: podSpec({ memory: "1025Mi" }), expect: "Insufficient memory" },
        { name: "both shortages are reported together", node: node("n", { cpu: "1", memory: "1Gi" }), pod: podSpec({ cpu: "2", memory: "2Gi" }), expect: "Insufficient cpu + Insufficient memory" },
        {
            name: "what running pods request is not free",
            node: node("n", { cpu: "2" }),
            pod: podSpec({ cpu: "500m" }),
            pods: [runningPod("big", "n", { cpu: "1600m" })],
            expect: "Insufficient cpu",
        },
        {
            name: "finished pods hold nothing",
            node: node("n", { cpu: "2" }),
            pod: podSpec({ cpu: "500m" }),
            pods: [runningPod("done", "n", { cpu: "2", phase: "Succeeded" }), runningPod("crashed", "n", { cpu: "2", phase: "Failed" })],
            expect: "fits",
        },
        {
            name: "pods on other nodes do not count",
            node: node("n", { cpu: "2" }),
            pod: podSpec({ cpu: "500m" }),
            pods: [runningPod("elsewhere", "m", { cpu: "2" })],
            expect: "fits",
        },
        { name: "a node at its pod limit is refused even for a pod without requests", node: node("n", { pods: "1" }), pod: podSpec(), pods: [runningPod("p", "n")], expect: "Too many pods" },
        { name: "a pod without requests fits a node whose cpu is all requested", node: node("n", { cpu: "1" }), pod: podSpec(), pods: [runningPod("p", "n", { cpu: "1" })], expect: "fits" },
        { name: "a limit without a request counts as the request", node: node("n", { cpu: "1" }), pod: podSpec({ cpu: "2", limitsOnly: true }), expect: "Insufficient cpu" },
        { name: "a host port already taken on the node blocks", node: node("n"), pod: podSpec({ hostPort: 80 }), pods: [runningPod("ingress", "n", { hostPort: 80 })], expect: "node(s) didn't have free ports for the requested pod ports" },
        {
            name: "a node stops at its first failing filter: a taint hides a cpu shortage",
            node: node("n", { cpu: "1", taints: [GPU] }),
            pod: podSpec({ cpu: "2" }),
            expect: "node(s) had untolerated taint {dedicated: gpu}",
        },
        {
            name: "a node stops at its first failing filter: cordoned before tainted",
            node: node("n", { unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] }),
            pod: podSpec(),
            expect: "node(s) were unschedulable",
        },
    ];
    for (const c of cases) {
        it(`${c.name} (${c.expect})`, () => {
            assert.equal(verdict(c.node, c.pod, c.pods), c.expect);
        });
    }
});

describe("doctor: the scheduler-style summary", () => {
    it("counts each reason and sorts the entries byte-wise, as the scheduler's FitError does", () => {
        const f = (reasons: string[]): FilterResult => ({ fits: false, plugin: "NodeResourcesFit", reasons, unresolvable: false });
        const results = [
            ...Array.from({ length: 10 }, () => f(["node(s) had untolerated taint {a: }"])),
            f(["node(s) had untolerated taint {b: }"]), f(["node(s) had untolerated taint {b: }"]),
            f(["Insufficient cpu", "Insufficient memory"]),
            { fits: true } as FilterResult,
        ];
        assert.equal(
            fitErrorMessage(results),
            "0/14 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 10 node(s) had untolerated taint {a: }, 2 node(s) had untolerated taint {b: }.",
        );
    });
    it("says there are no nodes at all the way the scheduler does", () => {
        assert.equal(fitErrorMessage([]), "no nodes available to schedule pods");
    });

    const taint = (key: string, value = ""): FilterResult => ({ fits: false, plugin: "TaintToleration", reasons: [`node(s) had untolerated taint {${key}: ${value}}`], unresolvable: true });
    const cpu: FilterResult = { fits: false, plugin: "NodeResourcesFit", reasons: ["Insufficient cpu"], unresolvable: false };
    const product = [taint("node-role.dkosv3.9rum.cc/lb", "true"), taint("node-role.kubernetes.io/master"), taint("node.kubernetes.io/unreachable"), taint("node.kubernetes.io/unreachable")];

    it("words it as the cluster's scheduler does: 1.37 names no taint and adds the preemption verdict (the taint case seen on the testbed)", () => {
        assert.equal(
            fitErrorMessage(product, schedulerWording("v1.37.2")),
            "0/4 nodes are available: 4 node(s) had untolerated taint(s). preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
        );
        assert.equal(
            fitErrorMessage([cpu, cpu], schedulerWording("v1.37.2")),
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        );
    });

    it("names the taints before 1.35, adds the preemption verdict from 1.26, and takes the oldest wording for an unknown version", () => {
        assert.equal(
            fitErrorMessage([taint("node-role.kubernetes.io/control-plane")], schedulerWording("v1.26.1")),
            "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        );
        assert.deepEqual(schedulerWording("v1.34.1"), { namedTaints: true, preemption: true, draPostFilter: true });
        assert.deepEqual(schedulerWording("v1.33.4"), { namedTaints: true, preemption: true, draPostFilter: false });
        assert.deepEqual(schedulerWording("v1.25.0"), { namedTaints: true, preemption: false, draPostFilter: false });
        assert.deepEqual(schedulerWording(undefined), { namedTaints: true, preemption: false, draPostFilter: false });
        assert.deepEqual(schedulerWording("v1.35.0+k3s1"), { namedTaints: false, preemption: true, draPostFilter: true });
    });
});

describe("doctor: placing every replica of the stack", () => {
    const deployment = (name: string, replicas: number, cpu: string) => ({
        kind: "Deployment",
        metadata: { name, namespace: "app" },
        spec: { replicas, template: { metadata: { labels: { app: name } }, spec: podSpec({ cpu }) } },
    });

    it("spreads replicas over the nodes with the most room", () => {
        const nodes = nodeStates([node("a", { cpu: "1" }), node("b", { cpu: "1" })]);
        const [v] = scheduleWorkloads([workloadOf(deployment("web", 2, "600m"))!], nodes);
        assert.equal(v.ok, true);
        assert.deepEqual([...v.placements].sort(), ["a", "b"]);
    });

    it("reports the replica that would stay Pending with the scheduler's message", () => {
        const nodes = nodeStates([node("a", { cpu: "1" }), node("b", { cpu: "1" })]);
        const [v] = scheduleWorkloads([workloadOf(deployment("web", 3, "600m"))!], nodes);
        assert.equal(v.ok, false);
        assert.equal(v.placements.length, 2);
        assert.deepEqual(v.schedulable, ["a", "b"]);
        assert.equal(v.message, "0/2 nodes are available: 2 Insufficient cpu.");
    });

    it("lets an earlier workload take the room a later one needed", () => {
        const nodes = nodeStates([node("a", { cpu: "1" })]);
        const [first, second] = scheduleWorkloads([workloadOf(deployment("db", 1, "800m"))!, workloadOf(deployment("web", 1, "300m"))!], nodes);
        assert.equal(first.ok, true);
        assert.equal(second.ok, false);
        assert.deepEqual(second.schedulable, ["a"], "on its own the node would take it");
    });

    it("treats a workload with zero replicas as fine", () => {
        const [v] = scheduleWorkloads([workloadOf(deployment("web", 0, "100m"))!], nodeStates([node("a", { taints: [GPU] })]));
        assert.equal(v.ok, true);
        assert.equal(v.message, undefined);
    });

    it("runs as many replicas as a HorizontalPodAutoscaler's minReplicas when it scales the Deployment", () => {
        const scaled = deployment("web", 1, "100m");
        delete (scaled.spec as { replicas?: number }).replicas;
        const hpa = { kind: "HorizontalPodAutoscaler", metadata: { name: "web", namespace: "app" }, spec: { minReplicas: 3, maxReplicas: 6, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" } } };
        assert.deepEqual(workloadsOf([scaled, hpa]).map((w) => w.replicas), [3]);
    });

    it("ignores objects that create no pods", () => {
        assert.equal(workloadOf({ kind: "Service", metadata: { name: "web" }, spec: {} }), undefined);
    });

    it("gives every pod the admission controller's not-ready and unreachable NoExecute tolerations", () => {
        const w = workloadOf(deployment("web", 1, "100m"))!;
        assert.deepEqual(
            w.spec.tolerations?.map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`),
            ["node.kubernetes.io/not-ready:NoExecute:300", "node.kubernetes.io/unreachable:NoExecute:300"],
        );
    });

    it("adds no default for a key a toleration already names without an effect or with NoExecute, whatever its value (DefaultTolerationSeconds looks at key and effect only)", () => {
        const spec: PodSpec = { containers: [], tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Equal", value: "x" }] };
        assert.deepEqual(withAdmissionDefaults(spec).tolerations?.map((t) => `${t.key}=${t.value ?? ""}:${t.effect ?? ""}`), [
            "node.kubernetes.io/unreachable=x:",
            "node.kubernetes.io/not-ready=:NoExecute",
        ]);
        // So an unreachable node's NoExecute taint without a value stays untolerated, as kube-scheduler found (seed 595814562).
        const node = { metadata: { name: "n" }, spec: { taints: [{ key: "node.kubernetes.io/unreachable", value: "x", effect: "NoSchedule" }, { key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }, status: { conditions: [{ type: "Ready", status: "Unknown" }], allocatable: { cpu: "1", memory: "1Gi", pods: "10" } } } as KubeNode;
        assert.match(messageFor([node], spec) ?? "", /1 node\(s\) had untolerated taint/);
    });
});

/** The message the doctor predicts for one pod of `spec` on `nodes`, worded as a scheduler of `version` words it. */
function messageFor(nodes: KubeNode[], spec: PodSpec, pods: ReturnType<typeof runningPod>[] = [], version = "v1.37.2"): string | undefined {
    const [v] = scheduleWorkloads([workloadOf({ kind: "Pod", metadata: { name: "p", namespace: "app" }, spec })!], nodeStates(nodes, pods), schedulerWording(version));
    return v.message;
}

describe("doctor: the 1.37.2 scheduler's message, rule by rule (pkg/scheduler, read from its source)", () => {
    it("counts a node short of cpu and memory once under each reason (fit.go fitsRequest keeps every reason)", () => {
        const nodes = [node("a", { cpu: "1", memory: "1Gi" }), node("b", { cpu: "1", memory: "1Gi" })];
        assert.equal(
            messageFor(nodes, podSpec({ cpu: "500m", memory: "512Mi" }), [runningPod("x", "a", { cpu: "800m", memory: "800Mi" }), runningPod("y", "b", { cpu: "800m", memory: "800Mi" })]),
            "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        );
    });

    it("says preemption is not helpful on a node whose whole allocatable is smaller than the request (fit.go Unresolvable)", () => {
        const nodes = [node("small", { cpu: "1", memory: "1Gi" }), node("tiny", { cpu: "1", memory: "1Gi" })];
        assert.equal(
            messageFor(nodes, podSpec({ cpu: "2", memory: "2Gi" })),
            "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        );
    });

    it("tells a node too small from a node too full, and sorts the preemption counts byte-wise", () => {
        const nodes = [node("small", { cpu: "1" }), node("full", { cpu: "4" }), node("fuller", { cpu: "4" })];
        const pods = [runningPod("x", "full", { cpu: "3500m" }), runningPod("y", "fuller", { cpu: "3900m" })];
        assert.equal(
            messageFor(nodes, podSpec({ cpu: "2" }), pods),
            "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        );
    });

    it("calls a node too small in one resource unresolvable even when the other is only taken", () => {
        const nodes = [node("n", { cpu: "1", memory: "4Gi" })];
        assert.equal(
            messageFor(nodes, podSpec({ cpu: "2", memory: "1Gi" }), [runningPod("x", "n", { memory: "3500Mi" })]),
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        );
    });

    it("leaves a node with no room for one more pod to preemption, even with zero allocatable pods (Too many pods is never unresolvable)", () => {
        assert.equal(
            messageFor([node("n", { pods: "0" })], podSpec({ cpu: "100m" })),
            "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
        );
    });

    it("leaves a taken host port to preemption (NodePorts rejects Unschedulable, not Unresolvable)", () => {
        assert.equal(
            messageFor([node("n")], podSpec({ hostPort: 80 }), [runningPod("ingress", "n", { hostPort: 80 })]),
            "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
        );
    });

    it("says a cordoned, tainted or unmatched node is not helped by preemption", () => {
        const nodes = [node("c", { unschedulable: true }), node("t", { taints: [GPU] }), node("l", { labels: { disk: "hdd" } })];
        assert.equal(
            messageFor(nodes, podSpec({ nodeSelector: { disk: "ssd" } })),
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        );
    });

    it("says the pod may not preempt when its preemptionPolicy is Never (default_preemption.go PodEligibleToPreemptOthers)", () => {
        assert.equal(
            messageFor([node("n", { cpu: "1" })], { ...podSpec({ cpu: "2" }), preemptionPolicy: "Never" }),
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
        );
    });

    const byName = (...terms: string[][]) => ({
        nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: terms.map((names) => ({ matchFields: names.map((n) => ({ key: "metadata.name", operator: "In", values: [n] })) })),
            },
        },
    });

    it("filters only the nodes a required affinity names by metadata.name; the others did not satisfy NodeAffinity's PreFilter", () => {
        const nodes = [node("a", { taints: [GPU] }), node("b"), node("c")];
        assert.equal(
            messageFor(nodes, podSpec({ affinity: byName(["a"]) })),
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        );
    });

    it("counts every node as left out when the named node does not exist", () => {
        assert.equal(
            messageFor([node("a"), node("b")], podSpec({ affinity: byName(["gone"]) })),
            "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        );
    });

    it("gives the PreFilter's conflict once, without a count, when no name satisfies a whole term, and DynamicResources' \"not found\" after it", () => {
        assert.equal(
            messageFor([node("a"), node("b")], podSpec({ affinity: byName(["a", "b"]) })),
            "0/2 nodes are available: pod affinity terms conflict. not found",
        );
        // Before DRA's PostFilter (1.34), the default preemption's verdict follows, as after any filter.
        assert.equal(
            messageFor([node("a"), node("b")], podSpec({ affinity: byName(["a", "b"]) }), [], "v1.30.0"),
            "0/2 nodes are available: pod affinity terms conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        );
    });

    it("does not narrow the nodes when one term names none (the terms are ORed)", () => {
        const affinity = requiredAffinity(["disk In ssd"]);
        affinity.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms!.push({ matchFields: [{ key: "metadata.name", operator: "In", values: ["a"] }] });
        assert.equal(
            messageFor([node("a", { taints: [GPU] }), node("b")], podSpec({ affinity })),
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        );
    });

    it("cuts the event's message at 1024 bytes, as the scheduler's truncateMessage does", () => {
        const nodes = Array.from({ length: 40 }, (_, i) => node(`n${i}`, { taints: [{ key: `example.com/dedicated-to-team-${i}`, value: "yes", effect: "NoSchedule" }] }));
        const message = messageFor(nodes, podSpec(), [], "v1.34.1")!;
        assert.equal(Buffer.byteLength(message), 1024);
        assert.ok(message.startsWith("0/40 nodes are available: 1 node(s) had untolerated taint {example.com/dedicated-to-team-0: yes}, "));
        assert.ok(message.endsWith(" ..."));
    });

    it("reads a resource missing from a node's allocatable as zero, and capacity only when allocatable is absent (defaults.go)", () => {
        const partial = node("partial");
        partial.status = { allocatable: { memory: "8Gi", pods: "110" }, capacity: { cpu: "4", memory: "8Gi", pods: "110" } };
        const none = node("none");
        none.status = { capacity: { cpu: "4", memory: "8Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True" }] };
        const [p, n] = nodeStates([partial, none]);
        assert.deepEqual([p.allocatable.milliCpu, n.allocatable.milliCpu], [0, 4000]);
        assert.equal(
            messageFor([partial], podSpec({ cpu: "100m" })),
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        );
    });

    it("adds the NoSchedule taint of every condition the node lifecycle controller taints for (memory, disk, pid pressure, network)", () => {
        const pressed = node("n");
        pressed.status!.conditions = [{ type: "Ready", status: "True" }, { type: "MemoryPressure", status: "True" }, { type: "DiskPressure", status: "False" }];
        const [state] = nodeStates([pressed]);
        assert.deepEqual(state.impliedTaints, [{ key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule" }]);
        assert.equal(
            messageFor([pressed], podSpec(), [], "v1.34.1"),
            "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        );
    });

    it("takes pod-level requests over the containers' (component-helpers PodRequests)", () => {
        assert.deepEqual(podRequests({ ...podSpec({ cpu: "100m", memory: "64Mi" }), resources: { requests: { cpu: "2" } } }), { milliCpu: 2000, memory: 64 * 2 ** 20 });
    });
});
