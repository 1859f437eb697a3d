// Seeded clusters for the doctor's differential tests: a few nodes as an operator's cluster has them
// (taints of every effect, cordons, sick nodes, small and full nodes, other teams' pods) and the stack's
// scheduling config, drawn from one seed so that a failure found once is found again. Pure; the unit
// suite feeds them to the doctor's model, the e2e suite to the real kube-scheduler as well.
//
// Every cluster is one the real control plane keeps as it is while a test looks at it: the node lifecycle
// controller would remove a not-ready, unreachable or pressure NoSchedule taint from a Ready node and add
// it to a sick one (pkg/controller/nodelifecycle, doNoScheduleTaintingPass), so those taints follow the
// node's conditions here; the other teams' pods fit their nodes, as the kubelet admits no more; the
// config is one `loadConfig` accepts.

import { loadConfig } from "../../components/config";
import { podSpec as webPodSpec } from "../../components/webService";
import type {
    KubeNode, KubePod, NodeCondition, NodeSelectorRequirement, NodeSelectorTerm, NodeState, PodSpec, SchedulerWording, Taint, Toleration,
    WorkloadVerdict,
} from "./schedule";
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, formatTaint, nodeStates, scheduleWorkloads, workloadOf } from "./schedule";
import { milliValue, unitValue } from "../../lib/quantity";

/** mulberry32: a tiny, well-mixed 32-bit generator, so a seed means the same cluster everywhere. */
export class Random {
    private state: number;
    constructor(seed: number) {
        this.state = seed >>> 0;
    }
    /** A float in [0, 1). */
    next(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let t = this.state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    }
    /** An integer from lo to hi, both included. */
    int(lo: number, hi: number): number {
        return lo + Math.floor(this.next() * (hi - lo + 1));
    }
    chance(p: number): boolean {
        return this.next() < p;
    }
    pick<T>(values: readonly T[]): T {
        return values[Math.floor(this.next() * values.length)];
    }
}

/** A fresh seed for a run, to be printed with any failure. */
export function freshSeed(): number {
    return Math.floor(Math.random() * 2 ** 31);
}

/** What the generated nodes' labels are drawn from; the stack's nodeSelector and affinity ask for the same. */
export const LABELS: Readonly<Record<string, readonly string[]>> = {
    pool: ["apps", "batch", "lb"],
    disk: ["ssd", "hdd"],
    zone: ["a", "b", "c"],
    cores: ["2", "4", "8", "16"],
};

const TAINT_KEYS = ["dedicated", "team", "example.com/lb", "node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"];
/** Keys the node lifecycle controller owns with effect NoSchedule (and the first two with NoExecute): drawn only with PreferNoSchedule. */
const LIFECYCLE_KEYS = [TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, "node.kubernetes.io/memory-pressure"];
const TAINT_VALUES = [undefined, "gpu", "apps", "true"];
const EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
/** The conditions a sick node's kubelet may still have reported, and the taint the controller gives each. */
const PRESSURE: readonly [string, string][] = [
    ["MemoryPressure", "node.kubernetes.io/memory-pressure"],
    ["DiskPressure", "node.kubernetes.io/disk-pressure"],
    ["PIDPressure", "node.kubernetes.io/pid-pressure"],
];

/** How a node is doing: Ready (a kubelet, or kwok, reports it), NotReady (reports Ready=False), Unreachable (stopped reporting). */
export type Health = "Ready" | "NotReady" | "Unreachable";

export interface GeneratedCluster {
    readonly seed: number;
    /** 1 to 8 nodes, as the API server holds them once the node lifecycle controller has acted. */
    readonly nodes: KubeNode[];
    /** Other teams' pods, bound to the nodes, in OTHER_NAMESPACE. */
    readonly pods: KubePod[];
    /** The stack's raw config (`launchpad:<key>` → string), as in Pulumi.<stack>.yaml: scheduling and the frontend's size. */
    readonly config: Record<string, string>;
}

export const OTHER_NAMESPACE = "other-team";

export function healthOf(node: KubeNode): Health {
    const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status;
    return ready === "True" ? "Ready" : ready === "False" ? "NotReady" : "Unreachable";
}

function taintKey(t: Taint): string {
    return `${t.key}:${t.effect}`;
}

/** Taints by chance, unique by key and effect as the API server requires; lifecycle keys only where the controller leaves them. */
function randomTaints(r: Random): Taint[] {
    const taints = new Map<string, Taint>();
    for (let i = r.pick([0, 0, 1, 1, 2, 3]); i > 0; i--) {
        const lifecycle = r.chance(0.2);
        const key = lifecycle ? r.pick(LIFECYCLE_KEYS) : r.pick(TAINT_KEYS);
        const value = r.pick(TAINT_VALUES);
        const taint: Taint = { key, ...(value ? { value } : {}), effect: lifecycle ? "PreferNoSchedule" : r.pick(EFFECTS) };
        taints.set(taintKey(taint), taint);
    }
    return [...taints.values()];
}

/** The taints the node lifecycle controller keeps on a node in this health, cordoned or not, under these conditions. */
function lifecycleTaints(r: Random, health: Health, cordoned: boolean, conditions: NodeCondition[]): Taint[] {
    const valued = (key: string): Taint => ({ key, ...(r.chance(0.15) ? { value: "x" } : {}), effect: "NoSchedule" });
    const taints: Taint[] = [];
    if (health === "NotReady") taints.push(valued(TAINT_NOT_READY), { key: TAINT_NOT_READY, effect: "NoExecute" });
    if (health === "Unreachable") taints.push(valued(TAINT_UNREACHABLE), { key: TAINT_UNREACHABLE, effect: "NoExecute" });
    for (const [type, key] of PRESSURE) if (conditions.some((c) => c.type === type && c.status === "True")) taints.push(valued(key));
    if (cordoned) taints.push({ key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" });
    return taints;
}

const CPU = ["0", "100m", "250m", "500m", "1", "2", "4", "8"];
const MEMORY = ["0", "64Mi", "256Mi", "512Mi", "1Gi", "4Gi", "16Gi"];
const PODS = ["0", "1", "2", "3", "110", "110", "110"];

function generateNode(r: Random, name: string): KubeNode {
    const health: Health = r.pick(["Ready", "Ready", "Ready", "Ready", "Ready", "NotReady", "Unreachable"]);
    const cordoned = r.chance(0.15);
    const conditions: NodeCondition[] = [{ type: "Ready", status: { Ready: "True", NotReady: "False", Unreachable: "Unknown" }[health] }];
    if (health === "NotReady" && r.chance(0.4)) conditions.push({ type: r.pick(PRESSURE)[0], status: "True" });
    const labels: Record<string, string> = { "kubernetes.io/hostname": name };
    for (const [key, values] of Object.entries(LABELS)) if (r.chance(0.6)) labels[key] = r.pick(values);
    const taints = new Map<string, Taint>();
    for (const t of [...lifecycleTaints(r, health, cordoned, conditions), ...randomTaints(r)]) if (!taints.has(taintKey(t))) taints.set(taintKey(t), t);
    const capacity = { cpu: r.pick(CPU), memory: r.pick(MEMORY), pods: r.pick(PODS) };
    // Now and then an allocatable without cpu, which the scheduler reads as none at all.
    const { cpu, ...withoutCpu } = capacity;
    const allocatable = r.chance(0.05) ? withoutCpu : { cpu, ...withoutCpu };
    return {
        metadata: { name, labels },
        spec: { ...(taints.size ? { taints: [...taints.values()] } : {}), ...(cordoned ? { unschedulable: true } : {}) },
        status: { allocatable, capacity, conditions },
    };
}

/** Other teams' pods on a node: within what it allocates, as the kubelet admits them; tolerating all, as the taint manager would evict them otherwise. */
function generatePods(r: Random, node: KubeNode): KubePod[] {
    const alloc = node.status?.allocatable ?? {};
    let cpu = alloc.cpu === undefined ? 0 : milliValue(alloc.cpu);
    let memory = alloc.memory === undefined ? 0 : Math.floor(unitValue(alloc.memory) / 2 ** 20);
    const slots = Math.min(3, alloc.pods === undefined ? 0 : unitValue(alloc.pods));
    const pods: KubePod[] = [];
    for (let i = 0, n = r.int(0, slots); i < n; i++) {
        const takeCpu = Math.floor(cpu * r.pick([0, 0.25, 0.5, 1]));
        const takeMemory = Math.floor(memory * r.pick([0, 0.25, 0.5, 1]));
        cpu -= takeCpu;
        memory -= takeMemory;
        const requests = { ...(takeCpu ? { cpu: `${takeCpu}m` } : {}), ...(takeMemory ? { memory: `${takeMemory}Mi` } : {}) };
        // Some ask at the pod level (PodLevelResources, beta and on since 1.34), which the scheduler reads instead.
        const podLevel = Object.keys(requests).length > 0 && r.chance(0.15);
        pods.push({
            metadata: { name: `${node.metadata.name}-p${i}`, namespace: OTHER_NAMESPACE },
            spec: {
                nodeName: node.metadata.name,
                containers: [{ name: "work", image: "registry.invalid/other-team/work:1", ...(podLevel ? {} : { resources: { requests } }) }],
                ...(podLevel ? { resources: { requests } } : {}),
                tolerations: [{ operator: "Exists" }],
            },
        });
    }
    return pods;
}

/** A toleration the stack might ask for: often one of the cluster's own taints, sometimes a near miss, rarely all. */
function generateToleration(r: Random, taints: readonly Taint[]): Toleration {
    const roll = r.next();
    if (roll < 0.03) return { operator: "Exists" };
    if (roll < 0.13) return { key: TAINT_UNSCHEDULABLE, operator: "Exists", effect: "NoSchedule" };
    const taint = taints.length > 0 && roll < 0.7 ? r.pick(taints) : { key: r.pick(TAINT_KEYS), value: r.pick(TAINT_VALUES), effect: r.pick(EFFECTS) };
    const effect = r.chance(0.25) ? undefined : r.chance(0.85) ? taint.effect : r.pick(EFFECTS);
    const value = r.chance(0.8) ? taint.value : r.pick(TAINT_VALUES);
    const exists = value === undefined ? r.chance(0.7) : r.chance(0.3);
    return {
        key: taint.key,
        operator: exists ? "Exists" : "Equal",
        ...(!exists && value ? { value } : {}),
        ...(effect ? { effect } : {}),
        ...(effect === "NoExecute" && r.chance(0.3) ? { tolerationSeconds: 60 } : {}),
    };
}

function labelValue(r: Random, nodes: readonly KubeNode[], key: string): string {
    const carried = nodes.map((n) => n.metadata.labels?.[key]).filter((v): v is string => v !== undefined);
    return carried.length > 0 && r.chance(0.7) ? r.pick(carried) : r.pick(LABELS[key]);
}

function generateRequirement(r: Random, nodes: readonly KubeNode[]): NodeSelectorRequirement {
    const operator = r.pick(["In", "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]);
    if (operator === "Gt" || operator === "Lt") return { key: "cores", operator, values: [r.pick(["1", "3", "8", "20"])] };
    const key = r.pick(Object.keys(LABELS));
    if (operator === "Exists" || operator === "DoesNotExist") return { key, operator };
    const values = [...new Set([labelValue(r, nodes, key), ...(r.chance(0.3) ? [r.pick(LABELS[key])] : [])])];
    return { key, operator, values };
}

function generateTerm(r: Random, nodes: readonly KubeNode[]): NodeSelectorTerm {
    const byName = r.chance(0.2);
    const expressions = Array.from({ length: byName ? r.int(0, 1) : r.int(1, 2) }, () => generateRequirement(r, nodes));
    // Two names in one term can only both hold for a node of two names: NodeAffinity's PreFilter calls that a conflict.
    const names = byName ? Array.from({ length: r.chance(0.15) ? 2 : 1 }, () => (r.chance(0.8) ? r.pick(nodes).metadata.name : "no-such-node")) : [];
    return {
        ...(expressions.length ? { matchExpressions: expressions } : {}),
        ...(names.length ? { matchFields: names.map((n) => ({ key: "metadata.name", operator: "In", values: [n] })) } : {}),
    };
}

/** The stack's side: tolerations, nodeSelector, affinity and the frontend's requests, as Pulumi.<stack>.yaml would hold them. */
function generateConfig(r: Random, nodes: readonly KubeNode[]): Record<string, string> {
    const config: Record<string, string> = {};
    const taints = nodes.flatMap((n) => n.spec?.taints ?? []);
    if (r.chance(0.55)) config["launchpad:tolerations"] = JSON.stringify(Array.from({ length: r.int(1, 3) }, () => generateToleration(r, taints)));
    if (r.chance(0.35)) {
        const selector: Record<string, string> = {};
        for (let i = r.int(1, 2); i > 0; i--) {
            const key = r.pick(Object.keys(LABELS));
            selector[key] = labelValue(r, nodes, key);
        }
        config["launchpad:nodeSelector"] = JSON.stringify(selector);
    }
    if (r.chance(0.35)) {
        const terms = Array.from({ length: r.int(1, 2) }, () => generateTerm(r, nodes));
        config["launchpad:affinity"] = JSON.stringify({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
    }
    const memory = r.pick(["32Mi", "64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi"]);
    config["launchpad:frontendCpu"] = r.pick(["50m", "100m", "250m", "500m", "1", "1500m", "2", "3"]);
    config["launchpad:frontendMemory"] = memory;
    config["launchpad:frontendMemoryLimit"] = memory;
    return config;
}

/** The cluster and stack config of one seed. `namePrefix` names the nodes (`<prefix>-<n>`); the e2e suite gives each run its own. */
export function generateCluster(seed: number, namePrefix = `s${seed}`): GeneratedCluster {
    const r = new Random(seed);
    const nodes = Array.from({ length: r.int(1, 8) }, (_, i) => generateNode(r, `${namePrefix}-${i}`));
    const pods = nodes.flatMap((n) => generatePods(r, n));
    return { seed, nodes, pods, config: generateConfig(r, nodes) };
}

/** The image of the app's pod: never pulled, since no container of it is meant to run. */
export const APP_IMAGE = "registry.invalid/launchpad/frontend@sha256:" + "0".repeat(64);

/**
 * The frontend's pod spec exactly as the program builds it (components/webService.ts podSpec) from this
 * stack config, read by the program's own loadConfig: its requests, tolerations, nodeSelector and affinity.
 */
export function appPodSpec(config: Record<string, string>): PodSpec {
    const c = loadConfig(config, { stack: "generated" });
    const spec = webPodSpec({
        identity: { partOf: c.appName, instance: c.stack, name: `${c.appName}-frontend`, component: "frontend" },
        image: APP_IMAGE,
        port: c.frontend.port,
        replicas: 1,
        env: {},
        probes: c.frontend.probes,
        resources: c.frontend.resources,
        scheduling: c.scheduling,
        imagePullSecrets: [],
        rollout: c.rollout,
    });
    // Plain values throughout (no Output), so the JSON form is the object itself.
    return JSON.parse(JSON.stringify(spec)) as PodSpec;
}

/**
 * Seeds both suites always run: those whose messages tests/doctor/generated.test.ts derives by hand from
 * the scheduler's code, then those on which a run of tests/e2e/scheduler.e2e.ts found the model and the
 * real scheduler apart.
 */
export const FIXED_SEEDS: readonly number[] = [28, 12, 32, 96, 49, 106, 27];

/** The doctor's verdict for one frontend pod of this config on these nodes and pods, as `npm run doctor` reaches it. */
export function verdictFor(config: Record<string, string>, nodes: KubeNode[], pods: KubePod[], wording: SchedulerWording) {
    const workload = workloadOf({ kind: "Pod", metadata: { name: "frontend", namespace: "launchpad" }, spec: appPodSpec(config) })!;
    const states: NodeState[] = nodeStates(nodes, pods);
    const [verdict]: WorkloadVerdict[] = scheduleWorkloads([workload], states, wording);
    return { verdict, states, spec: workload.spec };
}

/** The cluster for a failure message: one line per node and pod, then the config. */
export function describeCluster(c: GeneratedCluster): string {
    const nodeLine = (n: KubeNode) => {
        const a = n.status?.allocatable ?? {};
        const conditions = (n.status?.conditions ?? []).map((x) => `${x.type}=${x.status}`).join(",");
        const labels = Object.entries(n.metadata.labels ?? {}).filter(([k]) => k !== "kubernetes.io/hostname").map(([k, v]) => `${k}=${v}`).join(",");
        return `  node ${n.metadata.name}: ${conditions}${n.spec?.unschedulable ? " cordoned" : ""}; allocatable cpu ${a.cpu ?? "-"}, memory ${a.memory ?? "-"}, pods ${a.pods ?? "-"}` +
            `; labels ${labels || "-"}; taints ${(n.spec?.taints ?? []).map(formatTaint).join(", ") || "-"}`;
    };
    const podLine = (p: KubePod) => {
        const requests = p.spec.resources?.requests ?? p.spec.containers[0].resources?.requests ?? {};
        return `  pod ${p.metadata.namespace}/${p.metadata.name} on ${p.spec.nodeName}: ${JSON.stringify(requests)}${p.spec.resources ? " (pod level)" : ""}`;
    };
    return [`seed ${c.seed}:`, ...c.nodes.map(nodeLine), ...c.pods.map(podLine), ...Object.entries(c.config).map(([k, v]) => `  ${k}: ${v}`)].join("\n");
}
