import * as assert from "node:assert/strict";
import { FIXED_SEEDS, GeneratedCluster, describeCluster, freshSeed, generateCluster, verdictFor } from "../../tools/doctor/generate";
import {
    KubeNode, PREEMPTION_NO_VICTIMS, PREEMPTION_NOT_HELPFUL, REASON_AFFINITY_CONFLICT, filterNode, nodeStates, podRequests, schedulerWording,
} from "../../tools/doctor/schedule";

// The doctor's model on clusters drawn from seeds, against what kube-scheduler 1.37.2's code guarantees
// whatever the cluster (pkg/scheduler: framework/types.go FitError.Error, noderesources/fit.go,
// preemption/preemption.go). tests/e2e/scheduler.e2e.ts puts the same clusters before the real scheduler.

const WORDING = schedulerWording("v1.37.2");

function predict(c: GeneratedCluster, nodes: KubeNode[] = c.nodes) {
    return verdictFor(c.config, nodes, c.pods, WORDING);
}

/** "3 Insufficient cpu, 1 Too many pods" → [[3, "Insufficient cpu"], [1, "Too many pods"]]. */
function histogram(list: string): [number, string][] {
    return list.split(", ").map((entry) => {
        const m = /^(\d+) (.+)$/.exec(entry);
        assert.ok(m, `"${entry}" is "<count> <reason>"`);
        return [Number(m[1]), m[2]];
    });
}

const byteWise = (values: string[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The taints the node lifecycle controller keeps (NoSchedule) for a node's conditions and cordon, by key. */
function controllerTaints(node: KubeNode): string[] {
    const keys: string[] = [];
    for (const c of node.status?.conditions ?? []) {
        if (c.type === "Ready" && c.status === "False") keys.push("node.kubernetes.io/not-ready");
        if (c.type === "Ready" && c.status === "Unknown") keys.push("node.kubernetes.io/unreachable");
        if (c.type === "MemoryPressure" && c.status === "True") keys.push("node.kubernetes.io/memory-pressure");
        if (c.type === "DiskPressure" && c.status === "True") keys.push("node.kubernetes.io/disk-pressure");
        if (c.type === "PIDPressure" && c.status === "True") keys.push("node.kubernetes.io/pid-pressure");
    }
    if (node.spec?.unschedulable) keys.push("node.kubernetes.io/unschedulable");
    return keys.sort();
}

const CONTROLLER_KEYS = new Set([
    "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/memory-pressure", "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure", "node.kubernetes.io/network-unavailable", "node.kubernetes.io/unschedulable",
]);

/** What must hold for any seed; fails naming the seed and the cluster. */
function checkSeed(seed: number): void {
    const c = generateCluster(seed);
    const where = () => `\n${describeCluster(c)}`;
    assert.deepEqual(generateCluster(seed), c, `the same seed makes the same cluster${where()}`);

    // The cluster, as the control plane would keep it.
    assert.ok(c.nodes.length >= 1 && c.nodes.length <= 8, `1 to 8 nodes${where()}`);
    for (const n of c.nodes) {
        const taints = n.spec?.taints ?? [];
        assert.equal(new Set(taints.map((t) => `${t.key}:${t.effect}`)).size, taints.length, `${n.metadata.name}: taints unique by key and effect${where()}`);
        const kept = taints.filter((t) => t.effect === "NoSchedule" && CONTROLLER_KEYS.has(t.key)).map((t) => t.key).sort();
        assert.deepEqual(kept, controllerTaints(n), `${n.metadata.name}: the lifecycle controller's NoSchedule taints follow its conditions${where()}`);
    }
    const { verdict, states, spec } = predict(c);
    for (const s of states) {
        const { allocatable: a, requested: r } = s;
        assert.ok(r.pods <= a.pods && r.milliCpu <= a.milliCpu && r.memory <= a.memory, `${s.name}: other pods fit it, as the kubelet admits them${where()}`);
    }

    // The message does not depend on the order the nodes are listed in: FitError counts them in a map and sorts.
    assert.equal(predict(c, [...c.nodes].reverse()).verdict.message, verdict.message, `node order${where()}`);

    if (verdict.ok) {
        assert.equal(verdict.message, undefined);
        assert.ok(verdict.schedulable.length > 0);
        for (const name of verdict.schedulable) assert.ok(filterNode(spec, states.find((s) => s.name === name)!).fits, `${name} accepts the pod${where()}`);
        return;
    }
    const n = c.nodes.length;
    if (verdict.pending!.some((p) => !p.result.fits && p.result.preFilter)) {
        // A PreFilter's rejection is its message alone, and DynamicResources' PostFilter then fails on its missing state.
        assert.equal(verdict.message, `0/${n} nodes are available: ${REASON_AFFINITY_CONFLICT}. not found`, `a PreFilter's rejection${where()}`);
        return;
    }
    const m = /^0\/(\d+) nodes are available: (.+)\. preemption: 0\/(\d+) nodes are available: (.+)\.$/.exec(verdict.message ?? "");
    assert.ok(m, `"${verdict.message}" has the FitError's form${where()}`);
    assert.deepEqual([Number(m[1]), Number(m[3])], [n, n], `both parts count every node${where()}`);
    const pending = verdict.pending!.map((p) => p.result).filter((r) => !r.fits);
    assert.equal(pending.length, n, `every node refused the pod${where()}`);

    // The filters' part: one count per distinct reason, sorted byte-wise; a node counted once under each of its reasons.
    {
        const fit = histogram(m[2]);
        assert.deepEqual(byteWise(fit.map(([k, reason]) => `${k} ${reason}`)), fit.map(([k, reason]) => `${k} ${reason}`), `sorted byte-wise${where()}`);
        assert.equal(new Set(fit.map(([, reason]) => reason)).size, fit.length, `each reason once${where()}`);
        assert.ok(fit.every(([k]) => k >= 1 && k <= n), `no reason counts more nodes than there are${where()}`);
        assert.equal(fit.reduce((sum, [k]) => sum + k, 0), pending.reduce((sum, r) => sum + r.reasons.length, 0), `a node counts once per reason it fails${where()}`);
    }
    const want = podRequests(spec);
    verdict.pending!.forEach(({ node, result }) => {
        if (result.fits) return;
        // A node stops at its first failing filter; only fit.go reports several reasons: each resource short, in its order.
        if (result.plugin !== "NodeResourcesFit") return assert.equal(result.reasons.length, 1, `${node}: one reason${where()}`);
        const { allocatable: a, requested: r } = states.find((s) => s.name === node)!;
        const short = [
            ...(r.pods + 1 > a.pods ? ["Too many pods"] : []),
            ...(want.milliCpu > a.milliCpu - r.milliCpu ? ["Insufficient cpu"] : []),
            ...(want.memory > a.memory - r.memory ? ["Insufficient memory"] : []),
        ];
        assert.deepEqual(result.reasons, short, `${node}: every resource short, in fit.go's order${where()}`);
    });

    // The preemption part: each node once, "not helpful" exactly for the unresolvable ones.
    const preemption = new Map(histogram(m[4]).map(([k, reason]) => [reason, k]));
    assert.ok([...preemption.keys()].every((reason) => reason === PREEMPTION_NOT_HELPFUL || reason === PREEMPTION_NO_VICTIMS), `${m[4]}${where()}`);
    assert.equal(preemption.get(PREEMPTION_NOT_HELPFUL) ?? 0, pending.filter((r) => r.unresolvable).length, `not helpful = unresolvable${where()}`);
    assert.equal((preemption.get(PREEMPTION_NOT_HELPFUL) ?? 0) + (preemption.get(PREEMPTION_NO_VICTIMS) ?? 0), n, `each node once${where()}`);

    // What "unresolvable" means in fit.go: evicting every pod of the node would (not) make room. The one
    // exception is the scheduler's own: a node that allows no pod at all is still left to preemption.
    verdict.pending!.forEach(({ node, result }) => {
        if (result.fits || result.plugin !== "NodeResourcesFit") return;
        const [empty] = nodeStates(c.nodes.filter((x) => x.metadata.name === node), []);
        const fitsEmpty = filterNode(spec, empty).fits;
        if (result.unresolvable) assert.ok(!fitsEmpty, `${node}: too small even empty${where()}`);
        else assert.ok(fitsEmpty || empty.allocatable.pods === 0, `${node}: room once its pods were evicted${where()}`);
    });
}

describe("doctor: generated clusters against the model (what kube-scheduler's code guarantees)", () => {
    const range = Array.from({ length: 300 }, (_, i) => i + 1);
    const fresh = Array.from({ length: 30 }, freshSeed);

    const checkAll = (seeds: number[]) => {
        for (const seed of seeds) {
            try {
                checkSeed(seed);
            } catch (e) {
                (e as Error).message = `seed ${seed}: ${(e as Error).message}`;
                throw e;
            }
        }
    };

    it(`holds for the fixed seeds and seeds 1–${range.length}`, () => checkAll([...FIXED_SEEDS, ...range]));
    it(`holds for ${fresh.length} fresh seeds`, () => checkAll(fresh));
});

describe("doctor: generated clusters, each message derived by hand from kube-scheduler 1.37.2's code", () => {
    const expected: [number, string, string | undefined][] = [
        [
            28,
            "tolerates all; no cpu in s28-0's allocatable and its memory taken; s28-1 allows 0 pods; s28-3's 512Mi is below 1Gi (pod-level request)",
            "0/4 nodes are available: 1 Too many pods, 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
        ],
        [
            12,
            "a dedicated node, a not-ready node under memory pressure, a node with no cpu",
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        ],
        [
            32,
            "affinity names s32-3 by metadata.name: the others are left out by the PreFilter; s32-3's cordon is tolerated, its dedicated taint not",
            "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
        ],
        [
            96,
            "one term names two different nodes: no node is both; DynamicResources' PostFilter then fails on its missing state (seen on the testbed's kube-scheduler 1.37.2)",
            "0/1 nodes are available: pod affinity terms conflict. not found",
        ],
        [
            49,
            "tolerates all; pool DoesNotExist rules out two nodes; the third allows no pod and has 1Gi for a 4Gi pod",
            "0/3 nodes are available: 1 Insufficient memory, 1 Too many pods, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        ],
        [
            106,
            "the named node is cordoned (tolerated), has no cpu and its memory taken; the other is left out",
            "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        ],
        [27, "fits s27-1 (1 cpu of 1) and s27-2", undefined],
    ];
    it("covers every fixed seed", () => {
        assert.deepEqual(expected.map(([seed]) => seed), [...FIXED_SEEDS]);
    });
    for (const [seed, what, message] of expected) {
        it(`seed ${seed}: ${what}`, () => {
            const c = generateCluster(seed);
            assert.equal(predict(c).verdict.message, message, describeCluster(c));
        });
    }
});
