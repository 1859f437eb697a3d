import * as assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { CoreV1Event, V1Node, V1Pod } from "@kubernetes/client-node";
import { LiveClusterSource } from "../../tools/doctor/cluster";
import { FIXED_SEEDS, GeneratedCluster, appPodSpec, describeCluster, freshSeed, generateCluster, healthOf, verdictFor } from "../../tools/doctor/generate";
import { nodeReport } from "../../tools/doctor/report";
import { KubeNode, KubePod, Taint, schedulerWording } from "../../tools/doctor/schedule";
import { KWOK_NODE_ANNOTATION } from "../../dev/testbed/cluster";
import { CONTEXT } from "../../dev/testbed/layout";
import { waitFor } from "../../dev/testbed/processes";
import { kube, useTestbed } from "./support";

// The doctor's verdict against the real kube-scheduler's, on clusters drawn from seeds (tools/doctor/
// generate.ts): for each, the generated nodes (kwok keeps the Ready ones Ready; the others report
// NotReady or nothing, as the generator says) and the other teams' pods are created, then one pod of the
// frontend's own shape; the scheduler's FailedScheduling message (or the node it chose) must be, word for
// word, what the doctor reads from the same cluster. Every node counts in "0/N": the testbed's own nodes
// get a NoSchedule taint of this test's for the duration (taken off again whatever happens), and the
// doctor reads them like any other.
//
// E2E_SCHEDULER_SEEDS=28,12 runs only those seeds; E2E_SCHEDULER_FRESH sets how many fresh ones (15).

type Kube = Awaited<ReturnType<typeof kube>>;

/** Marks what this test creates (nodes, pods) and the taint it puts on the testbed's own nodes. */
const LABEL = "launchpad.testbed/scheduler-e2e";
const AWAY: Taint = { key: LABEL, value: "away", effect: "NoSchedule" };
const APP_NAMESPACE = "launchpad-scheduler-e2e";
const OTHERS_NAMESPACE = "launchpad-scheduler-e2e-others";
/** How long the scheduler's verdict must stay the same before it is taken as its last word. */
const QUIET_MS = 1500;

interface Run { seed: number; kind: "fixed" | "fresh" | "asked" }

function seedsForRun(): Run[] {
    const asked = process.env.E2E_SCHEDULER_SEEDS;
    if (asked) return asked.split(",").map((s) => ({ seed: Number(s.trim()), kind: "asked" }));
    const fixed = [...new Set([...FIXED_SEEDS, ...Array.from({ length: 40 }, (_, i) => i + 1)])];
    const fresh = Array.from({ length: Number(process.env.E2E_SCHEDULER_FRESH ?? 15) }, freshSeed);
    return [...fixed.map((seed) => ({ seed, kind: "fixed" as const })), ...fresh.map((seed) => ({ seed, kind: "fresh" as const }))];
}

const isAway = (t: { key?: string; effect?: string }) => t.key === AWAY.key && t.effect === AWAY.effect;

/** Rewrites a node's taints, retrying when the node changed in between (the test op on resourceVersion). */
async function changeTaints(k: Kube, name: string, change: (taints: Taint[]) => Taint[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        const node = await k.core.readNode({ name });
        const taints = JSON.parse(JSON.stringify(node.spec?.taints ?? [])) as Taint[];
        const next = change(taints);
        if (JSON.stringify(next) === JSON.stringify(taints)) return;
        const body = [
            { op: "test", path: "/metadata/resourceVersion", value: node.metadata!.resourceVersion },
            { op: "add", path: "/spec/taints", value: next },
        ];
        try {
            await k.core.patchNode({ name, body }, k.k8s.setHeaderOptions("Content-Type", k.k8s.PatchStrategy.JsonPatch));
            return;
        } catch (e) {
            if (attempt >= 5) throw e;
        }
    }
}

/** Takes this test's taint off every node that has it: after the run, or when it is cut short. */
async function restoreNodes(k: Kube): Promise<void> {
    for (const n of (await k.core.listNode()).items) {
        if ((n.spec?.taints ?? []).some(isAway)) await changeTaints(k, n.metadata!.name!, (taints) => taints.filter((t) => !isAway(t)));
    }
}

/** Deletes every node and pod this test made, and waits until the nodes are gone. */
async function removeGenerated(k: Kube): Promise<void> {
    const labelSelector = `${LABEL}=true`;
    for (const namespace of [APP_NAMESPACE, OTHERS_NAMESPACE]) {
        await k.core.deleteCollectionNamespacedPod({ namespace, labelSelector, gracePeriodSeconds: 0 }).catch(() => undefined);
    }
    await k.core.deleteCollectionNode({ labelSelector });
    if (!(await waitFor(async () => (await k.core.listNode({ labelSelector })).items.length === 0, 30))) throw new Error("the generated nodes are still there after 30 s");
}

/** A namespace that exists and is not terminating, with the default ServiceAccount pods need. */
async function ensureNamespace(k: Kube, name: string): Promise<void> {
    const ready = await waitFor(async () => {
        const ns = await k.core.readNamespace({ name }).catch((e: { code?: number }) => (e.code === 404 ? undefined : Promise.reject(e)));
        if (!ns) await k.core.createNamespace({ body: { metadata: { name, labels: { [LABEL]: "true" } } } });
        else if (ns.status?.phase !== "Active") return false;
        return k.core.readNamespacedServiceAccount({ name: "default", namespace: name }).then(() => true);
    }, 120, 500);
    if (!ready) throw new Error(`namespace ${name} with its default ServiceAccount: not within 120 s`);
}

/** The node as the generator says the API server holds it: kwok keeps a Ready node Ready; the others report their conditions once, now. */
function nodeBody(n: KubeNode): V1Node {
    const kwok = healthOf(n) === "Ready";
    const now = new Date();
    const conditions = (n.status?.conditions ?? []).map((c) => ({
        ...c, lastHeartbeatTime: now, lastTransitionTime: now, reason: "LaunchpadSchedulerE2E", message: `generated: ${c.type} is ${c.status}`,
    }));
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
            name: n.metadata.name,
            labels: { ...n.metadata.labels, [LABEL]: "true" },
            ...(kwok ? { annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" } } : {}),
        },
        spec: n.spec,
        status: { allocatable: n.status?.allocatable, capacity: n.status?.capacity, ...(kwok ? {} : { conditions }) },
    } as V1Node;
}

function podBody(p: KubePod, namespace: string): V1Pod {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: p.metadata.name, namespace, labels: { [LABEL]: "true" } },
        spec: { ...p.spec, terminationGracePeriodSeconds: 0, automountServiceAccountToken: false },
    } as V1Pod;
}

/** When an event was last seen: the events API's series, its eventTime, or the core API's timestamps. */
function lastSeen(e: CoreV1Event): number {
    const at = e.series?.lastObservedTime ?? e.eventTime ?? e.lastTimestamp ?? e.metadata?.creationTimestamp;
    return at ? new Date(at as unknown as string).getTime() : 0;
}

interface Outcome { placedOn?: string; message?: string; condition?: string }

/** What the scheduler did with the pod: the node it bound it to, or its newest FailedScheduling message once it stays the same for QUIET_MS. */
async function schedulerOutcome(k: Kube, name: string): Promise<Outcome> {
    const read = async (): Promise<Outcome> => {
        const pod = await k.core.readNamespacedPod({ name, namespace: APP_NAMESPACE });
        const events = (await k.core.listNamespacedEvent({ namespace: APP_NAMESPACE, fieldSelector: `involvedObject.name=${name},reason=FailedScheduling` })).items;
        const newest = [...events].sort((a, b) => lastSeen(a) - lastSeen(b)).at(-1);
        const condition = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False")?.message;
        return { placedOn: pod.spec?.nodeName || undefined, message: newest?.message, condition };
    };
    let outcome: Outcome = {};
    if (!(await waitFor(async () => ((outcome = await read()), !!(outcome.placedOn || outcome.message)), 30, 200))) {
        throw new Error(`pod ${APP_NAMESPACE}/${name}: neither placed nor a FailedScheduling event within 30 s`);
    }
    for (;;) {
        if (outcome.placedOn) return outcome;
        await sleep(QUIET_MS);
        const again = await read();
        if (again.placedOn === outcome.placedOn && again.message === outcome.message) return again;
        outcome = again;
    }
}

describe("e2e: the doctor's verdict is kube-scheduler's, on generated clusters", function () {
    this.timeout(20 * 60_000);
    const runs = seedsForRun();
    let k: Kube;
    let source: LiveClusterSource;
    const tally = { placed: 0, refused: 0 };
    const onSignal = (signal: NodeJS.Signals) => {
        // Cut short (Ctrl-C): the testbed's nodes must not keep this test's taint.
        void (k ? restoreNodes(k) : Promise.resolve()).catch(() => undefined).finally(() => process.kill(process.pid, signal));
    };

    before(async function () {
        this.timeout(10 * 60_000);
        const env = await useTestbed();
        k = await kube(env);
        source = new LiveClusterSource({ context: CONTEXT, kubeconfig: env.KUBECONFIG });
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        await removeGenerated(k);
        await ensureNamespace(k, APP_NAMESPACE);
        await ensureNamespace(k, OTHERS_NAMESPACE);
        for (const n of (await k.core.listNode()).items) {
            if (n.metadata?.labels?.[LABEL] !== "true") await changeTaints(k, n.metadata!.name!, (taints) => (taints.some(isAway) ? taints : [...taints, AWAY]));
        }
    });

    after(async () => {
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
        if (k) {
            await removeGenerated(k).catch((e) => console.log(`      cleaning up: ${(e as Error).message}`));
            await restoreNodes(k);
            for (const name of [APP_NAMESPACE, OTHERS_NAMESPACE]) await k.core.deleteNamespace({ name }).catch(() => undefined);
        }
        console.log(`      ${tally.placed + tally.refused} clusters compared: ${tally.refused} refused the pod, ${tally.placed} placed it`);
    });

    /** The doctor's verdict on the cluster as the API server holds it now, read the way `npm run doctor` reads it live. */
    async function doctorSays(c: GeneratedCluster) {
        const snapshot = await source.read();
        const { verdict, states } = verdictFor(c.config, snapshot.nodes, snapshot.pods, schedulerWording(snapshot.serverVersion));
        return { verdict, states, words: verdict.ok ? `it fits on ${verdict.schedulable.join(", ")}` : verdict.message! };
    }

    runs.forEach(({ seed, kind }, index) => {
        it(`seed ${seed} (${kind})`, async function () {
            this.timeout(120_000);
            const c = generateCluster(seed, `sched-${index}-${seed}`);
            const podName = `frontend-${index}-${seed}`;
            try {
                for (const n of c.nodes) await k.core.createNode({ body: nodeBody(n) });
                for (const p of c.pods) await k.core.createNamespacedPod({ namespace: OTHERS_NAMESPACE, body: podBody(p, OTHERS_NAMESPACE) });

                // Before the pod: kwok has taken its nodes, and the doctor's verdict holds still for a second.
                const kwokReady = await waitFor(async () => {
                    const nodes = (await k.core.listNode({ labelSelector: `${LABEL}=true` })).items;
                    return c.nodes.every((g) => healthOf(g) !== "Ready" || nodes.some((n) => n.metadata?.name === g.metadata.name && n.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True")));
                }, 30, 200);
                assert.ok(kwokReady, `seed ${seed}: kwok did not report the Ready nodes Ready within 30 s`);
                let previous = "";
                const still = await waitFor(async () => {
                    const { words } = await doctorSays(c);
                    const same = words === previous;
                    previous = words;
                    return same;
                }, 30, 1000);
                assert.ok(still, `seed ${seed}: the cluster did not hold still for 30 s`);
                const atStart = await doctorSays(c);

                await k.core.createNamespacedPod({
                    namespace: APP_NAMESPACE,
                    body: { apiVersion: "v1", kind: "Pod", metadata: { name: podName, namespace: APP_NAMESPACE, labels: { [LABEL]: "true" } }, spec: appPodSpec(c.config) } as V1Pod,
                });
                const outcome = await schedulerOutcome(k, podName);
                // The doctor again, on the cluster the scheduler last looked at.
                const atEnd = outcome.placedOn ? atStart : await doctorSays(c);

                const others = atEnd.states.filter((s) => !c.nodes.some((n) => n.metadata.name === s.name)).map((s) => {
                    const r = nodeReport(s);
                    return `  node ${r.name} (the testbed's): ready ${r.ready}${r.unschedulable ? ", cordoned" : ""}; free cpu ${r.free.cpu}/${r.allocatable.cpu}, memory ${r.free.memory}/${r.allocatable.memory}, pods ${r.free.pods}/${r.allocatable.pods}; taints ${r.taints.join(", ") || "-"}`;
                });
                const report = [
                    `seed ${seed}: the doctor and kube-scheduler disagree (rerun: E2E_SCHEDULER_SEEDS=${seed} npm run e2e -- --grep "generated clusters")`,
                    `  the doctor:    ${atEnd.words}`,
                    ...(atEnd.words !== atStart.words ? [`  (before the pod was created it said: ${atStart.words})`] : []),
                    `  the scheduler: ${outcome.placedOn ? `placed the pod on ${outcome.placedOn}` : outcome.message}`,
                    ...(outcome.condition && outcome.condition !== outcome.message ? [`  (its PodScheduled condition: ${outcome.condition})`] : []),
                    describeCluster(c),
                    ...others,
                ].join("\n");
                if (outcome.placedOn) {
                    tally.placed++;
                    assert.ok(atStart.verdict.ok && atStart.verdict.schedulable.includes(outcome.placedOn), report);
                } else {
                    tally.refused++;
                    assert.equal(atEnd.words, outcome.message, report);
                }
            } finally {
                await k.core.deleteNamespacedPod({ name: podName, namespace: APP_NAMESPACE, gracePeriodSeconds: 0 }).catch(() => undefined);
                await removeGenerated(k);
            }
        });
    });
});
