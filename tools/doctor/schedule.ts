// Kubernetes' own scheduling rules, as the default kube-scheduler applies them to one pod and one node.
// Pure: plain objects in (the JSON `kubectl get ... -o json` prints), verdicts out. The wording of every
// reason is the scheduler's, so what the doctor prints is what `kubectl describe pod` would show.
//
// Upstream, for the reader who wants to check (k8s.io/kubernetes v1.37.2, pkg/scheduler/ unless named):
//   framework/plugins/nodeunschedulable/node_unschedulable.go  "node(s) were unschedulable"
//   framework/plugins/tainttoleration/taint_toleration.go      "node(s) had untolerated taint(s)"
//   framework/plugins/nodeaffinity/node_affinity.go            "node(s) didn't match Pod's node affinity/selector"; PreFilter on metadata.name
//   framework/plugins/nodeports/node_ports.go                  "node(s) didn't have free ports for the requested pod ports"
//   framework/plugins/noderesources/fit.go                     "Too many pods", "Insufficient cpu", "Insufficient memory"
//   framework/runtime/framework.go (RunPreFilterPlugins, RunFilterPlugins)  a node stops at its first failing filter
//   schedule_one.go (findNodesThatFitPod, handleSchedulingFailure)          nodes a PreFilter leaves out; the event's 1024-byte cut
//   framework/types.go (FitError.Error)                        "0/N nodes are available: <count reason, sorted>."
//   framework/preemption/preemption.go, plugins/defaultpreemption/default_preemption.go  " preemption: 0/N nodes are available: …"
//   pkg/controller/nodelifecycle/node_lifecycle_controller.go  the NoSchedule taints a node's conditions bring

import { isWorkloadKind, podTemplateOf, WorkloadKindName } from "../../lib/podTemplates";
import { milliValue, unitValue } from "../../lib/quantity";

// ---------------------------------------------------------------------------------------------------
// Shapes (the subset of the Kubernetes API the rules read)

export interface Taint { key: string; value?: string; effect: string; timeAdded?: string }
export interface Toleration { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }
export interface NodeSelectorRequirement { key: string; operator: string; values?: string[] }
export interface NodeSelectorTerm { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }
export interface Affinity {
    nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] }; [k: string]: unknown };
    [k: string]: unknown;
}
export interface ResourceList { [name: string]: string | number | undefined }
export interface Container {
    name: string;
    image?: string;
    resources?: { requests?: ResourceList; limits?: ResourceList };
    ports?: { containerPort: number; hostPort?: number; protocol?: string; hostIP?: string }[];
    restartPolicy?: string;
}
export interface PodSpec {
    containers: Container[];
    initContainers?: Container[];
    nodeSelector?: Record<string, string>;
    affinity?: Affinity;
    tolerations?: Toleration[];
    overhead?: ResourceList;
    /** Pod-level resources (PodLevelResources, on by default since 1.34): its cpu and memory requests win over the containers'. */
    resources?: { requests?: ResourceList; limits?: ResourceList };
    /** "Never": the pod may not preempt others, and the scheduler says so instead of a per-node verdict. */
    preemptionPolicy?: string;
    nodeName?: string;
    [k: string]: unknown;
}
export interface NodeCondition { type: string; status: string; reason?: string; message?: string; lastHeartbeatTime?: string }
export interface KubeNode {
    metadata: { name: string; labels?: Record<string, string>; [k: string]: unknown };
    spec?: { taints?: Taint[]; unschedulable?: boolean; [k: string]: unknown };
    status?: { allocatable?: ResourceList; capacity?: ResourceList; conditions?: NodeCondition[]; [k: string]: unknown };
}
export interface KubePod {
    metadata: { name: string; namespace?: string; [k: string]: unknown };
    spec: PodSpec;
    status?: { phase?: string; [k: string]: unknown };
}

// Well-known taint keys (k8s.io/api/core/v1/well_known_taints.go).
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

// ---------------------------------------------------------------------------------------------------
// Quantities, for people

/** Millicores for people: 1500 → "1500m", 2000 → "2". */
export function formatCpu(milli: number): string {
    return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes for people, rounded up to the unit shown: 536870912 → "512Mi". */
export function formatMemory(bytes: number): string {
    const gi = 2 ** 30, mi = 2 ** 20, ki = 2 ** 10;
    if (bytes % gi === 0 && bytes >= gi) return `${bytes / gi}Gi`;
    if (bytes >= mi) return `${Math.ceil(bytes / mi)}Mi`;
    if (bytes >= ki) return `${Math.ceil(bytes / ki)}Ki`;
    return String(bytes);
}

// ---------------------------------------------------------------------------------------------------
// What a pod asks for

/** cpu in millicores, memory in bytes. */
export interface Requests { milliCpu: number; memory: number }

function containerRequests(c: Container): Requests {
    // API defaulting: a resource with a limit and no request requests its limit.
    const pick = (name: string) => c.resources?.requests?.[name] ?? c.resources?.limits?.[name];
    const cpu = pick("cpu"), memory = pick("memory");
    return { milliCpu: cpu === undefined ? 0 : milliValue(cpu), memory: memory === undefined ? 0 : unitValue(memory) };
}

const add = (a: Requests, b: Requests): Requests => ({ milliCpu: a.milliCpu + b.milliCpu, memory: a.memory + b.memory });
const max = (a: Requests, b: Requests): Requests => ({ milliCpu: Math.max(a.milliCpu, b.milliCpu), memory: Math.max(a.memory, b.memory) });

/**
 * The pod's effective requests, as the scheduler computes them (k8s.io/component-helpers resource
 * PodRequests): containers add up; sidecars (init containers with restartPolicy Always) add to them; an
 * ordinary init container needs its own request plus the sidecars started before it; the pod needs the
 * larger; pod-level requests replace that for cpu and memory; plus overhead.
 */
export function podRequests(spec: PodSpec): Requests {
    let sum = (spec.containers ?? []).map(containerRequests).reduce(add, { milliCpu: 0, memory: 0 });
    let sidecars: Requests = { milliCpu: 0, memory: 0 };
    let initPeak: Requests = { milliCpu: 0, memory: 0 };
    for (const c of spec.initContainers ?? []) {
        const r = containerRequests(c);
        if (c.restartPolicy === "Always") {
            sidecars = add(sidecars, r);
            sum = add(sum, r);
            initPeak = max(initPeak, sidecars);
        } else {
            initPeak = max(initPeak, add(r, sidecars));
        }
    }
    let total = max(sum, initPeak);
    const podLevel = spec.resources?.requests;
    if (podLevel?.cpu !== undefined) total = { ...total, milliCpu: milliValue(podLevel.cpu) };
    if (podLevel?.memory !== undefined) total = { ...total, memory: unitValue(podLevel.memory) };
    if (spec.overhead) total = add(total, containerRequests({ name: "overhead", resources: { requests: spec.overhead } }));
    return total;
}

// ---------------------------------------------------------------------------------------------------
// Taints and tolerations (k8s.io/api/core/v1 Toleration.ToleratesTaint)

/**
 * Whether one toleration tolerates one taint: an empty effect matches every effect, an empty key matches
 * every key, operator Exists matches any value, Equal (or no operator) compares values. Any other operator
 * (the alpha Lt/Gt behind a feature gate that is off by default) matches nothing.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
    if (toleration.effect && toleration.effect !== taint.effect) return false;
    if (toleration.key && toleration.key !== taint.key) return false;
    switch (toleration.operator ?? "") {
        case "":
        case "Equal":
            return (toleration.value ?? "") === (taint.value ?? "");
        case "Exists":
            return true;
        default:
            return false;
    }
}

/** The first taint that blocks scheduling (NoSchedule or NoExecute; PreferNoSchedule never does) and no toleration matches. */
export function findUntoleratedTaint(taints: Taint[], tolerations: Toleration[]): Taint | undefined {
    return taints.find(
        (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerations.some((tol) => toleratesTaint(tol, t)),
    );
}

/** A taint the way kubectl and the scheduler print it: key=value:Effect, or key:Effect without a value. */
export function formatTaint(t: Taint): string {
    return `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
}

/**
 * What the DefaultTolerationSeconds admission plugin adds to every pod the API server admits: tolerate
 * not-ready and unreachable nodes for 300 s with effect NoExecute (so running pods are not evicted at the
 * first missed heartbeat). It does not tolerate the NoSchedule taints, so new pods still avoid such nodes.
 * The plugin adds one unless a toleration names that key (or none) with effect NoExecute (or none),
 * whatever its operator and value: a toleration `unreachable=x` keeps the default out, and then tolerates
 * only the taint with value x.
 */
export function withAdmissionDefaults(spec: PodSpec): PodSpec {
    const tolerations = [...(spec.tolerations ?? [])];
    for (const key of [TAINT_NOT_READY, TAINT_UNREACHABLE]) {
        if (!tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === "NoExecute"))) {
            tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
        }
    }
    return { ...spec, tolerations };
}

// ---------------------------------------------------------------------------------------------------
// Node selector and required node affinity (k8s.io/component-helpers/scheduling/corev1/nodeaffinity)

const integer = /^[+-]?\d+$/;

/**
 * One matchExpressions requirement against a node's labels. In/NotIn need values, Exists/DoesNotExist
 * none, Gt/Lt exactly one integer; a malformed requirement matches nothing (upstream ignores the term).
 * NotIn and DoesNotExist match a node without the label; Gt/Lt need the label to be an integer.
 */
export function matchesRequirement(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
    const values = req.values ?? [];
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
        case "In":
            return values.length > 0 && has && values.includes(value);
        case "NotIn":
            return values.length > 0 && (!has || !values.includes(value));
        case "Exists":
            return values.length === 0 && has;
        case "DoesNotExist":
            return values.length === 0 && !has;
        case "Gt":
        case "Lt": {
            if (values.length !== 1 || !integer.test(values[0]) || !has || !integer.test(value)) return false;
            const [node, wanted] = [BigInt(value), BigInt(values[0])];
            return req.operator === "Gt" ? node > wanted : node < wanted;
        }
        default:
            return false;
    }
}

/** A matchFields requirement: only metadata.name with In/NotIn exists. */
function matchesField(req: NodeSelectorRequirement, nodeName: string): boolean {
    if (req.key !== "metadata.name") return false;
    return matchesRequirement({ ...req, key: "name" }, { name: nodeName });
}

/** A term matches when every expression and field matches (ANDed); an empty term matches nothing. */
export function matchesTerm(term: NodeSelectorTerm, node: KubeNode): boolean {
    const exprs = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    if (exprs.length === 0 && fields.length === 0) return false;
    const labels = node.metadata.labels ?? {};
    return exprs.every((r) => matchesRequirement(r, labels)) && fields.every((r) => matchesField(r, node.metadata.name));
}

/** Terms are ORed; an empty list matches nothing. */
export function matchesNodeSelectorTerms(terms: NodeSelectorTerm[], node: KubeNode): boolean {
    return terms.some((t) => matchesTerm(t, node));
}

/** The pod's nodeSelector (every label equal) and, if present, its required node affinity. */
export function matchesNodeAffinity(spec: PodSpec, node: KubeNode): boolean {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
    const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required) return matchesNodeSelectorTerms(required.nodeSelectorTerms ?? [], node);
    return true;
}

// ---------------------------------------------------------------------------------------------------
// Nodes as the scheduler sees them

/** Allocatable and requested: cpu in millicores, memory in bytes, pods as a count. */
export interface Capacity extends Requests { pods: number }

export interface NodeState {
    name: string;
    node: KubeNode;
    /** The Ready condition's status: "True", "False", "Unknown", or "Missing" when the node reports none. */
    ready: string;
    /** Taints the scheduler will see, including those the node lifecycle controller adds for the node's conditions. */
    taints: Taint[];
    /** Taints added here because the condition says so but the node object did not carry them yet. */
    impliedTaints: Taint[];
    unschedulable: boolean;
    allocatable: Capacity;
    requested: Capacity;
    /** Host ports in use, as "protocol/ip/port". */
    hostPorts: string[];
}

function quantityOf(list: ResourceList, name: string, parse: (q: string | number) => number): number {
    const q = list[name];
    return q === undefined ? 0 : parse(q);
}

/**
 * What the node offers the scheduler (its NodeInfo reads status.allocatable alone). The API server copies
 * capacity into allocatable only when a node has no allocatable at all (pkg/apis/core/v1/defaults.go,
 * SetDefaults_NodeStatus); a resource missing from an allocatable that exists is zero.
 */
function allocatableOf(node: KubeNode): Capacity {
    const alloc = node.status?.allocatable;
    const list = alloc && Object.keys(alloc).length > 0 ? alloc : node.status?.capacity ?? {};
    return { milliCpu: quantityOf(list, "cpu", milliValue), memory: quantityOf(list, "memory", unitValue), pods: quantityOf(list, "pods", unitValue) };
}

/**
 * The NoSchedule taint the node lifecycle controller keeps on a node for each condition
 * (nodeConditionToTaintKeyStatusMap): Ready False (not-ready) or Unknown (unreachable: the kubelet
 * stopped reporting), and MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable True.
 */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
    Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
    MemoryPressure: { True: "node.kubernetes.io/memory-pressure" },
    DiskPressure: { True: "node.kubernetes.io/disk-pressure" },
    PIDPressure: { True: "node.kubernetes.io/pid-pressure" },
    NetworkUnavailable: { True: "node.kubernetes.io/network-unavailable" },
};

/**
 * The taints the node lifecycle controller puts on a node for its conditions, with effect NoSchedule, if
 * the node does not carry them yet (the controller matches an existing taint by key and effect).
 */
export function impliedTaints(node: KubeNode): Taint[] {
    const taints = node.spec?.taints ?? [];
    const implied: Taint[] = [];
    for (const c of node.status?.conditions ?? []) {
        const key = CONDITION_TAINTS[c.type]?.[c.status];
        if (key && ![...taints, ...implied].some((t) => t.key === key && t.effect === "NoSchedule")) implied.push({ key, effect: "NoSchedule" });
    }
    return implied;
}

function hostPortsOf(spec: PodSpec): string[] {
    const ports: string[] = [];
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
        for (const p of c.ports ?? []) {
            if (p.hostPort) ports.push(`${p.protocol ?? "TCP"}/${p.hostIP || "0.0.0.0"}/${p.hostPort}`);
        }
    }
    return ports;
}

function portsConflict(wanted: string[], used: string[]): boolean {
    return wanted.some((w) => {
        const [proto, ip, port] = w.split("/");
        return used.some((u) => {
            const [uproto, uip, uport] = u.split("/");
            return proto === uproto && port === uport && (ip === uip || ip === "0.0.0.0" || uip === "0.0.0.0");
        });
    });
}

/**
 * The scheduler's view of each node: its taints (plus the ones its conditions imply), allocatable
 * cpu/memory/pods, and what the pods already bound to it request. Pods that finished (Succeeded, Failed)
 * hold nothing, as in the scheduler's cache.
 */
export function nodeStates(nodes: KubeNode[], pods: KubePod[] = []): NodeState[] {
    return nodes.map((node) => {
        const implied = impliedTaints(node);
        const state: NodeState = {
            name: node.metadata.name,
            node,
            ready: node.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Missing",
            taints: [...(node.spec?.taints ?? []), ...implied],
            impliedTaints: implied,
            unschedulable: node.spec?.unschedulable === true,
            allocatable: allocatableOf(node),
            requested: { milliCpu: 0, memory: 0, pods: 0 },
            hostPorts: [],
        };
        for (const pod of pods) {
            if (pod.spec?.nodeName !== state.name) continue;
            if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
            addPod(state, pod.spec);
        }
        return state;
    });
}

function addPod(state: NodeState, spec: PodSpec): void {
    const r = podRequests(spec);
    state.requested = { milliCpu: state.requested.milliCpu + r.milliCpu, memory: state.requested.memory + r.memory, pods: state.requested.pods + 1 };
    state.hostPorts = [...state.hostPorts, ...hostPortsOf(spec)];
}

// ---------------------------------------------------------------------------------------------------
// The filter: one pod, one node

export type FilterPlugin = "NodeUnschedulable" | "TaintToleration" | "NodeAffinity" | "NodePorts" | "NodeResourcesFit";

/** How much of a resource a node lacks for the pod. */
export interface Shortfall { resource: "cpu" | "memory" | "pods"; requested: number; free: number; allocatable: number }

export type FilterResult =
    | { fits: true }
    | {
          fits: false;
          plugin: FilterPlugin;
          reasons: string[];
          /**
           * The status UnschedulableAndUnresolvable: evicting pods from the node cannot make room, so the
           * default preemption plugin does not try it ("Preemption is not helpful for scheduling").
           */
          unresolvable: boolean;
          /** Rejected by a PreFilter plugin for the whole cluster: the scheduler gives its reason once, without a count. */
          preFilter?: boolean;
          taint?: Taint;
          shortfalls?: Shortfall[];
      };

/** The scheduler's reason for a taint, value printed even when empty: "{node-role.kubernetes.io/master: }". */
export function untoleratedTaintReason(t: Taint): string {
    return `node(s) had untolerated taint {${t.key}: ${t.value ?? ""}}`;
}

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
/** A node NodeAffinity's PreFilter left out (schedule_one.go: `node(s) didn't satisfy plugin(s) %v` of the plugins' sorted names). */
export const REASON_PREFILTERED = "node(s) didn't satisfy plugin(s) [NodeAffinity]";
/** NodeAffinity's PreFilter, when every term names nodes by metadata.name and no name satisfies a whole term. */
export const REASON_AFFINITY_CONFLICT = "pod affinity terms conflict";

/**
 * Runs the default filter plugins in the scheduler's order (NodeUnschedulable, TaintToleration,
 * NodeAffinity, NodePorts, NodeResourcesFit) and stops at the first that rejects the node, as
 * RunFilterPlugins does. `spec` should already carry the admission defaults (withAdmissionDefaults).
 * All but NodePorts and NodeResourcesFit reject a node UnschedulableAndUnresolvable.
 */
export function filterNode(spec: PodSpec, node: NodeState): FilterResult {
    const tolerations = spec.tolerations ?? [];
    if (node.unschedulable && !tolerations.some((t) => toleratesTaint(t, { key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" }))) {
        return { fits: false, plugin: "NodeUnschedulable", reasons: [REASON_UNSCHEDULABLE], unresolvable: true };
    }
    const taint = findUntoleratedTaint(node.taints, tolerations);
    if (taint) return { fits: false, plugin: "TaintToleration", reasons: [untoleratedTaintReason(taint)], unresolvable: true, taint };
    if (!matchesNodeAffinity(spec, node.node)) return { fits: false, plugin: "NodeAffinity", reasons: [REASON_AFFINITY], unresolvable: true };
    if (portsConflict(hostPortsOf(spec), node.hostPorts)) return { fits: false, plugin: "NodePorts", reasons: [REASON_PORTS], unresolvable: false };

    // fit.go fitsRequest: every resource short is a reason of its own, so a node short of cpu and memory
    // counts once under each. A request larger than the node's whole allocatable is unresolvable (no
    // eviction frees more than that); a full pod count never is.
    const want = podRequests(spec);
    const { allocatable: a, requested: r } = node;
    const shortfalls: Shortfall[] = [];
    const reasons: string[] = [];
    let unresolvable = false;
    if (r.pods + 1 > a.pods) {
        reasons.push("Too many pods");
        shortfalls.push({ resource: "pods", requested: 1, free: a.pods - r.pods, allocatable: a.pods });
    }
    if (want.milliCpu > 0 && want.milliCpu > a.milliCpu - r.milliCpu) {
        reasons.push("Insufficient cpu");
        shortfalls.push({ resource: "cpu", requested: want.milliCpu, free: a.milliCpu - r.milliCpu, allocatable: a.milliCpu });
        unresolvable ||= want.milliCpu > a.milliCpu;
    }
    if (want.memory > 0 && want.memory > a.memory - r.memory) {
        reasons.push("Insufficient memory");
        shortfalls.push({ resource: "memory", requested: want.memory, free: a.memory - r.memory, allocatable: a.memory });
        unresolvable ||= want.memory > a.memory;
    }
    if (reasons.length > 0) return { fits: false, plugin: "NodeResourcesFit", reasons, unresolvable, shortfalls };
    return { fits: true };
}

/**
 * NodeAffinity's PreFilter (node_affinity.go): when every required term names nodes with a matchFields
 * `metadata.name In` requirement, only the nodes those terms name (the names within a term intersected,
 * the terms united) go through the filters. "conflict" when that leaves no name; undefined when every
 * node goes through. A pod without required node affinity (nodeSelector alone) is never narrowed.
 */
export function nodeAffinityPreFilter(spec: PodSpec): ReadonlySet<string> | "conflict" | undefined {
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    if (terms.length === 0) return undefined;
    const names = new Set<string>();
    for (const term of terms) {
        let termNames: Set<string> | undefined;
        for (const r of term.matchFields ?? []) {
            if (r.key !== "metadata.name" || r.operator !== "In") continue;
            const values = new Set(r.values ?? []);
            termNames = termNames === undefined ? values : new Set([...termNames].filter((n) => values.has(n)));
        }
        // A term that names no node lets every node through: the terms are ORed.
        if (termNames === undefined) return undefined;
        for (const n of termNames) names.add(n);
    }
    return names.size === 0 ? "conflict" : names;
}

/**
 * Each node's verdict for one pod, as findNodesThatFitPod reaches it: the PreFilter first (a conflict
 * rejects every node at once; a node it leaves out is not filtered), then the filters, node by node.
 */
export function filterNodes(spec: PodSpec, nodes: readonly NodeState[]): FilterResult[] {
    const narrowed = nodeAffinityPreFilter(spec);
    if (narrowed === "conflict") {
        return nodes.map(() => ({ fits: false, plugin: "NodeAffinity", reasons: [REASON_AFFINITY_CONFLICT], unresolvable: true, preFilter: true }));
    }
    return nodes.map((n) =>
        narrowed && !narrowed.has(n.name) ? { fits: false, plugin: "NodeAffinity", reasons: [REASON_PREFILTERED], unresolvable: true } : filterNode(spec, n),
    );
}

/** What the default preemption plugin finds on a node (no pod of lower priority than the incoming one is assumed). */
export const PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const PREEMPTION_NO_VICTIMS = "No preemption victims found for incoming pod";

/** An event's note is cut to 1024 bytes, ending in " ..." (schedule_one.go truncateMessage, validation.NoteLengthLimit). */
const EVENT_NOTE_LIMIT = 1024;

function truncateMessage(message: string): string {
    const bytes = Buffer.from(message, "utf8");
    if (bytes.length <= EVENT_NOTE_LIMIT) return message;
    const suffix = " ...";
    return bytes.subarray(0, EVENT_NOTE_LIMIT - suffix.length).toString("utf8") + suffix;
}

/** Go's sort.Strings: byte-wise, which for these ASCII strings is UTF-16 order. */
function sortStrings(values: string[]): string[] {
    return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The scheduler's FailedScheduling message for one pod (types.go FitError.Error): "0/N nodes are
 * available: " and each distinct reason with the number of nodes that gave it, as "count reason" strings
 * sorted byte-wise, joined by ", ", ending in "."; a PreFilter's rejection instead is its message alone.
 * From 1.26, what the default preemption plugin found follows, in the same form: a node whose filter
 * rejected it UnschedulableAndUnresolvable is "not helpful", any other has no victims (preemption.go
 * evaluate, default_preemption.go SelectVictimsOnNode); a pod with preemptionPolicy Never is "not
 * eligible". With no nodes at all the scheduler says "no nodes available to schedule pods". The event
 * cuts the whole at 1024 bytes.
 */
export function fitErrorMessage(results: FilterResult[], wording: SchedulerWording = OLDEST_WORDING, pod: Pick<PodSpec, "preemptionPolicy"> = {}): string {
    if (results.length === 0) return "no nodes available to schedule pods";
    const rejected = results.filter((r): r is Extract<FilterResult, { fits: false }> => !r.fits);
    const available = `0/${results.length} nodes are available:`;
    const sentence = (reasonsOf: (r: Extract<FilterResult, { fits: false }>) => string[]) => {
        const counts = new Map<string, number>();
        for (const r of rejected) for (const reason of reasonsOf(r)) counts.set(reason, (counts.get(reason) ?? 0) + 1);
        return `${available} ${sortStrings([...counts].map(([reason, n]) => `${n} ${reason}`)).join(", ")}.`;
    };
    const preFilter = rejected.find((r) => r.preFilter);
    const fit = preFilter
        ? `${available} ${preFilter.reasons.join(", ")}.`
        : sentence((r) => (r.plugin === "TaintToleration" && !wording.namedTaints ? [REASON_TAINTS] : r.reasons));
    // A PreFilter's rejection stops the PreFilters that follow, DynamicResources' among them: its PostFilter,
    // which runs before the default preemption's, then fails to read its own state (dynamicresources.go
    // PostFilter, getStateData: framework.ErrNotFound), and the scheduler says that error's words.
    if (preFilter && wording.draPostFilter) return truncateMessage(`${fit} not found`);
    if (!wording.preemption) return truncateMessage(fit);
    const preemption = pod.preemptionPolicy === "Never"
        ? "not eligible due to preemptionPolicy=Never."
        : sentence((r) => [r.unresolvable ? PREEMPTION_NOT_HELPFUL : PREEMPTION_NO_VICTIMS]);
    return truncateMessage(`${fit} preemption: ${preemption}`);
}

/** How a scheduler words its FitError: it changed across Kubernetes releases. */
export interface SchedulerWording {
    /** "had untolerated taint {key: value}" (named) or "had untolerated taint(s)". */
    readonly namedTaints: boolean;
    /** The " preemption: 0/N nodes are available: …" part the default preemption plugin adds. */
    readonly preemption: boolean;
    /** DynamicResources' PostFilter runs first (DRA on by default), and answers a PreFilter's rejection with "not found". */
    readonly draPostFilter: boolean;
}

/** What the doctor assumes when it does not know the version (offline, from kubectl dumps). */
export const OLDEST_WORDING: SchedulerWording = { namedTaints: true, preemption: false, draPostFilter: false };

/** Since Kubernetes 1.35 (pull request 134740) a taint's key and value are no longer in the message. */
export const REASON_TAINTS = "node(s) had untolerated taint(s)";

/**
 * The wording of the scheduler of a cluster, from the API server's gitVersion ("v1.37.2"). Known from
 * real schedulers: from 1.26 it appends the preemption part; from 1.35 it names no taints (some
 * 1.32–1.34 patch releases have the change too, and are read as naming them); and from 1.34, where
 * DRA is on by default, it answers a PreFilter's rejection with DynamicResources' "not found". An
 * unreadable version gets the oldest wording.
 */
export function schedulerWording(gitVersion: string | undefined): SchedulerWording {
    const m = /^v?(\d+)\.(\d+)/.exec(gitVersion ?? "");
    if (!m || Number(m[1]) !== 1) return OLDEST_WORDING;
    const minor = Number(m[2]);
    return { namedTaints: minor < 35, preemption: minor >= 26, draPostFilter: minor >= 34 };
}

// ---------------------------------------------------------------------------------------------------
// Workloads: every replica of every Deployment/StatefulSet the stack creates

export interface Workload {
    kind: string;
    name: string;
    namespace: string;
    replicas: number;
    /** The pod template's spec with the admission defaults applied. */
    spec: PodSpec;
    labels: Record<string, string>;
}

export interface ManifestLike {
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string> };
    spec?: any;
}

/**
 * How many pods of each kind the doctor places. Not DaemonSets (one pod per matching node, not a
 * placement to find) nor CronJobs (their pods come at the schedule's time).
 */
const PLACED_REPLICAS: Partial<Record<WorkloadKindName, (spec: any) => number>> = {
    Deployment: (spec) => spec?.replicas ?? 1,
    StatefulSet: (spec) => spec?.replicas ?? 1,
    ReplicaSet: (spec) => spec?.replicas ?? 1,
    Job: (spec) => spec?.parallelism ?? 1,
    Pod: () => 1,
};

/** The pods a manifest would create, or undefined for objects that create none (Services, Secrets…). */
export function workloadOf(obj: ManifestLike): Workload | undefined {
    const replicasOf = isWorkloadKind(obj.kind) ? PLACED_REPLICAS[obj.kind] : undefined;
    if (replicasOf === undefined) return undefined;
    const template: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } | undefined = podTemplateOf(obj);
    const replicas = replicasOf(obj.spec);
    if (!template?.spec) return undefined;
    return {
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace ?? "default",
        replicas,
        spec: withAdmissionDefaults(template.spec),
        labels: { ...(obj.metadata.labels ?? {}), ...(template.metadata?.labels ?? {}) },
    };
}

/**
 * Every workload among the manifests, with the replicas that will actually run: a Deployment scaled by a
 * HorizontalPodAutoscaler has no replicas of its own (1 by default) and is raised to the HPA's minReplicas.
 */
export function workloadsOf(objects: readonly ManifestLike[]): Workload[] {
    const workloads = objects.map((o) => workloadOf(o)).filter((w): w is Workload => w !== undefined);
    for (const hpa of objects.filter((o) => o.kind === "HorizontalPodAutoscaler")) {
        const target = hpa.spec?.scaleTargetRef;
        const namespace = hpa.metadata.namespace ?? "default";
        const w = workloads.find((x) => x.kind === target?.kind && x.name === target?.name && x.namespace === namespace);
        if (w) w.replicas = Math.max(w.replicas, hpa.spec?.minReplicas ?? 1);
    }
    return workloads;
}

export interface NodeVerdict { node: string; result: FilterResult }

export interface WorkloadVerdict {
    workload: Workload;
    /** Nodes that would accept one of its pods, given what already runs on the cluster. */
    schedulable: string[];
    /** Each node's verdict for one pod against the cluster as it is. */
    perNode: NodeVerdict[];
    /** Where each replica that fits would go, when all workloads are placed together. */
    placements: string[];
    /** The per-node verdicts for the first replica that would stay Pending, if any. */
    pending?: NodeVerdict[];
    /** The scheduler's message for the first pod that would stay Pending; undefined when all fit. */
    message?: string;
    ok: boolean;
}

function cloneState(s: NodeState): NodeState {
    return { ...s, requested: { ...s.requested }, hostPorts: [...s.hostPorts] };
}

/** LeastAllocated-style score: the mean share of cpu and memory left free after placing the pod. */
function freeShareAfter(node: NodeState, want: Requests): number {
    const share = (alloc: number, used: number) => (alloc <= 0 ? 0 : (alloc - used) / alloc);
    return (share(node.allocatable.milliCpu, node.requested.milliCpu + want.milliCpu) + share(node.allocatable.memory, node.requested.memory + want.memory)) / 2;
}

/**
 * Schedules every replica of every workload, in order, the way the scheduler would if they were created
 * now: each pod goes to the feasible node with the most room left, and what it requests is no longer free
 * for the next. A workload is ok when all its replicas find a node.
 */
export function scheduleWorkloads(workloads: Workload[], nodes: NodeState[], wording: SchedulerWording = OLDEST_WORDING): WorkloadVerdict[] {
    const live = nodes.map(cloneState);
    return workloads.map((workload) => {
        const perNode = filterNodes(workload.spec, nodes).map((result, i) => ({ node: nodes[i].name, result }));
        const schedulable = perNode.filter((v) => v.result.fits).map((v) => v.node);
        const placements: string[] = [];
        let pending: NodeVerdict[] | undefined;
        const want = podRequests(workload.spec);
        for (let i = 0; i < workload.replicas; i++) {
            const verdicts = filterNodes(workload.spec, live).map((result, n) => ({ node: live[n], result }));
            const feasible = verdicts.filter((v) => v.result.fits).map((v) => v.node);
            if (feasible.length === 0) {
                pending = verdicts.map((v) => ({ node: v.node.name, result: v.result }));
                break;
            }
            feasible.sort((a, b) => freeShareAfter(b, want) - freeShareAfter(a, want) || (a.name < b.name ? -1 : 1));
            addPod(feasible[0], workload.spec);
            placements.push(feasible[0].name);
        }
        const message = pending ? fitErrorMessage(pending.map((v) => v.result), wording, workload.spec) : undefined;
        return { workload, schedulable, perNode, placements, pending, message, ok: !pending };
    });
}
