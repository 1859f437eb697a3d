// Turns the scheduler's verdicts into plain words and concrete fixes: which stack config key to set and to
// what, or that the cluster itself is broken and no app setting will help. Pure.

import {
    FilterResult, NodeState, Taint, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, Toleration,
    Workload, WorkloadVerdict, filterNode, formatCpu, formatMemory, formatTaint,
} from "./schedule";
import { shellWord } from "../../components/validate";

/** The app's tiers, which own the per-tier config keys (frontendCpu, backendMemory, dbCpu…). */
export type Tier = "frontend" | "backend" | "db";

/** One thing the user can do, with the exact commands or stack-file block. */
export interface Fix {
    title: string;
    /** The stack config key the fix sets, fully qualified ("launchpad:tolerations"). */
    configKey?: string;
    /** The value to set (for tolerations: the entry to append to the list). */
    value?: unknown;
    commands?: string[];
    /** The same change as a block for Pulumi.<stack>.yaml. */
    yaml?: string;
    /** Why this is usually the wrong move, when it is. */
    caution?: string;
}

export interface Diagnosis {
    /** Plain-words sentences, most important first. */
    summary: string[];
    fixes: Fix[];
}

export interface DiagnoseContext {
    stack: string;
    platform?: "kind" | "cloud" | string;
    /** How many tolerations the stack already sets, so a new one is appended, not overwritten. */
    existingTolerations?: number;
}

const PROJECT = "launchpad";

/** Taints that report a node's health; the node lifecycle controller (or kubelet) sets and clears them. */
const HEALTH_TAINTS: Record<string, string> = {
    [TAINT_UNREACHABLE]: "unreachable",
    [TAINT_NOT_READY]: "not ready",
    "node.kubernetes.io/memory-pressure": "out of memory",
    "node.kubernetes.io/disk-pressure": "out of disk",
    "node.kubernetes.io/pid-pressure": "out of process ids",
    "node.kubernetes.io/network-unavailable": "without a working network",
    "node.kubernetes.io/out-of-service": "marked out of service",
    "node.cloudprovider.kubernetes.io/uninitialized": "still being initialised by the cloud provider",
};
const CONTROL_PLANE_TAINTS = ["node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane"];

/** What a dedicated node's role name usually means, for the sentence about why tolerating it is rarely right. */
const ROLE_WORDS: Record<string, string> = {
    lb: "load balancers", loadbalancer: "load balancers", ingress: "ingress controllers", edge: "edge traffic",
    gpu: "GPU jobs", infra: "infrastructure services", monitoring: "monitoring", logging: "logging", storage: "storage daemons",
    system: "system components", db: "databases", database: "databases",
};

/** Guesses the tier from the workload's labels and name: component/name labels first, a StatefulSet is the database. */
export function tierOf(workload: Pick<Workload, "kind" | "name" | "labels">): Tier | undefined {
    const l = workload.labels;
    const hints = [l["app.kubernetes.io/component"], l["app.kubernetes.io/name"], l["tier"], l["app"], workload.name];
    for (const h of hints) {
        if (!h) continue;
        if (/front|\bweb\b|\bui\b/i.test(h)) return "frontend";
        if (/back|\bapi\b|\bserver\b/i.test(h)) return "backend";
        if (/\bdb\b|database|postgres|\bpg\b/i.test(h)) return "db";
    }
    return workload.kind === "StatefulSet" ? "db" : undefined;
}

function listNames(names: string[]): string {
    return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
    return `${n} ${n === 1 ? one : many}`;
}

/** `pulumi config set --path` reads "true"/"false" and integers as booleans and numbers; Kubernetes wants strings here. */
export function setPath(stack: string, path: string, value: string): string {
    const typed = /^(true|false|[+-]?\d+)$/.test(value) ? " --type string" : "";
    return `pulumi config set --stack ${shellWord(stack)} --path ${shellWord(path)} ${shellWord(value)}${typed}`;
}

function yamlScalar(value: string): string {
    return /^(true|false|yes|no|on|off|null|~|[+-]?\d+(\.\d+)?)$/i.test(value) || !/^[A-Za-z0-9_./-][A-Za-z0-9_./:-]*$/.test(value)
        ? JSON.stringify(value)
        : value;
}

/** The fix that appends one toleration to launchpad:tolerations (applied to every tier). */
export function tolerationFix(toleration: Toleration, ctx: DiagnoseContext, title: string, caution?: string): Fix {
    const i = ctx.existingTolerations ?? 0;
    const fields = (["key", "operator", "value", "effect"] as const).filter((f) => toleration[f] !== undefined);
    const commands = fields.map((f) => setPath(ctx.stack, `tolerations[${i}].${f}`, String(toleration[f])));
    const yaml = [
        `# Pulumi.${ctx.stack}.yaml${i > 0 ? ` (append to the existing ${PROJECT}:tolerations list)` : ""}`,
        "config:",
        `  ${PROJECT}:tolerations:`,
        ...fields.map((f, n) => `    ${n === 0 ? "- " : "  "}${f}: ${yamlScalar(String(toleration[f]))}`),
    ].join("\n");
    return { title, configKey: `${PROJECT}:tolerations`, value: toleration, commands, yaml, ...(caution ? { caution } : {}) };
}

/** The fix that sets one plain stack config key. */
export function configFix(ctx: DiagnoseContext, key: string, value: string | number, title: string): Fix {
    const text = String(value);
    return {
        title,
        configKey: `${PROJECT}:${key}`,
        value,
        commands: [`pulumi config set --stack ${shellWord(ctx.stack)} ${shellWord(key)} ${shellWord(text)}`],
        yaml: `# Pulumi.${ctx.stack}.yaml\nconfig:\n  ${PROJECT}:${key}: ${typeof value === "number" ? text : yamlScalar(text)}`,
    };
}

/** The toleration that matches exactly this taint. */
export function tolerationFor(taint: Taint): Toleration {
    return taint.value
        ? { key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect }
        : { key: taint.key, operator: "Exists", effect: taint.effect };
}

function roleOf(taint: Taint): string | undefined {
    const m = /^node-role\.[^/]+\/(.+)$/.exec(taint.key) ?? /(?:^|\/)(?:dedicated|role|pool)$/.exec(taint.key);
    if (!m) return undefined;
    const role = m[1] ?? taint.value ?? "";
    return role || undefined;
}

type Group = "unhealthy" | "cordoned" | "control-plane" | "dedicated" | "affinity" | "ports" | "resources";

function groupOf(node: NodeState, result: Extract<FilterResult, { fits: false }>): Group {
    if (node.ready === "False" || node.ready === "Unknown") return "unhealthy";
    if (result.plugin === "NodeUnschedulable") return "cordoned";
    if (result.plugin === "TaintToleration" && result.taint) {
        if (result.taint.key in HEALTH_TAINTS) return "unhealthy";
        if (result.taint.key === TAINT_UNSCHEDULABLE) return "cordoned";
        if (CONTROL_PLANE_TAINTS.includes(result.taint.key)) return "control-plane";
        return "dedicated";
    }
    if (result.plugin === "NodeAffinity") return "affinity";
    if (result.plugin === "NodePorts") return "ports";
    return "resources";
}

function healthWords(node: NodeState, taint?: Taint): string {
    if (node.ready === "Unknown") return "unreachable (Ready=Unknown: the kubelet stopped reporting)";
    if (node.ready === "False") {
        const c = node.node.status?.conditions?.find((x) => x.type === "Ready");
        return `not ready (Ready=False${c?.reason ? `: ${c.reason}` : ""})`;
    }
    return taint ? HEALTH_TAINTS[taint.key] ?? "unhealthy" : "unhealthy";
}

interface Rejection { node: NodeState; result: Extract<FilterResult, { fits: false }> }

/**
 * Explains why a workload's pods would not (all) schedule and what to change. Speaks of the replica that
 * would stay Pending; returns no sentences for a workload whose replicas all fit. The nodes that refuse
 * it are grouped by why (unhealthy, cordoned, control plane, set aside, affinity, host ports, resources),
 * and each group is explained in that order, the cluster's own faults first.
 */
export function diagnose(verdict: WorkloadVerdict, nodes: NodeState[], ctx: DiagnoseContext): Diagnosis {
    if (verdict.ok) return { summary: [], fixes: [] };
    if (nodes.length === 0) return { summary: ["The cluster has no nodes at all: nothing can run until its operator adds some."], fixes: [] };
    const w = verdict.workload;
    const rejections = rejectionsOf(verdict, nodes);
    const groups = groupRejections(rejections);
    const group = (g: Group) => groups.get(g) ?? [];
    const unhealthy = group("unhealthy");
    const cordoned = group("cordoned");
    return combine([
        { summary: [opening(verdict, nodes)], fixes: [] },
        unhealthyWords(unhealthy, nodes),
        cordonedWords(cordoned),
        ...group("control-plane").map((r) => controlPlaneWords(r, nodes, ctx)),
        ...group("dedicated").map((r) => dedicatedWords(r, w, rejections, nodes, ctx)),
        group("affinity").length > 0 ? { summary: affinityWords(w, group("affinity").map((r) => r.node), nodes), fixes: affinityFixes(w, nodes, ctx) } : NOTHING,
        portWords(w, group("ports")),
        group("resources").length > 0 ? resourceWords(w, tierOf(w), group("resources"), verdict, ctx) : NOTHING,
        unhealthy.length > 0 && unhealthy.length + cordoned.length < rejections.length
            ? { summary: ["Fix the cluster first: the unhealthy nodes are where the app's pods belong; the other nodes are excluded on purpose."], fixes: [] }
            : NOTHING,
    ]);
}

const NOTHING: Diagnosis = { summary: [], fixes: [] };

/** Several parts' sentences and fixes, in the parts' order. */
function combine(parts: readonly Diagnosis[]): Diagnosis {
    return { summary: parts.flatMap((p) => p.summary), fixes: parts.flatMap((p) => p.fixes) };
}

/** The nodes that refuse the replica that would stay Pending, with why. */
function rejectionsOf(verdict: WorkloadVerdict, nodes: NodeState[]): Rejection[] {
    const byName = new Map(nodes.map((n) => [n.name, n]));
    return (verdict.pending ?? verdict.perNode).flatMap((v) => {
        const node = byName.get(v.node);
        return node && !v.result.fits ? [{ node, result: v.result }] : [];
    });
}

function groupRejections(rejections: readonly Rejection[]): Map<Group, Rejection[]> {
    const groups = new Map<Group, Rejection[]>();
    for (const r of rejections) {
        const g = groupOf(r.node, r.result);
        groups.set(g, [...(groups.get(g) ?? []), r]);
    }
    return groups;
}

/** The first sentence: no node takes a pod, or only some replicas find room. */
function opening(verdict: WorkloadVerdict, nodes: NodeState[]): string {
    if (verdict.schedulable.length === 0) return `No node would accept one of its pods: ${plural(nodes.length, "node")}, each ruled out below.`;
    return `Only ${verdict.placements.length} of ${verdict.workload.replicas} replicas find room once the stack's other pods are placed; the next would stay Pending.`;
}

/** Nodes that cannot run pods at all: the operator's problem, which no toleration should paper over. */
function unhealthyWords(unhealthy: readonly Rejection[], nodes: NodeState[]): Diagnosis {
    if (unhealthy.length === 0) return NOTHING;
    const names = unhealthy.map((r) => r.node.name);
    const byState = new Map<string, string[]>();
    for (const r of unhealthy) {
        const words = healthWords(r.node, r.result.taint);
        byState.set(words, [...(byState.get(words) ?? []), r.node.name]);
    }
    const described = [...byState].map(([words, ns]) => `${listNames(ns)} ${ns.length === 1 ? "is" : "are"} ${words}`);
    const taintKeys = [...new Set(unhealthy.map((r) => r.result.taint?.key).filter((k): k is string => !!k))];
    return {
        summary: [
            `The cluster is unhealthy: ${unhealthy.length} of ${nodes.length} nodes cannot run pods. ${described.join("; ")}` +
                (taintKeys.length ? `, so Kubernetes tainted ${unhealthy.length === 1 ? "it" : "them"} ${taintKeys.join(", ")}` : "") +
                ". That is an operator's problem, not the app's: no setting in this stack fixes it, and tolerating those taints would only send pods to machines that cannot run them.",
        ],
        fixes: [{
            title: `Have the cluster's operator repair or replace ${listNames(names)} (the kubelet, the machine or its network).`,
            commands: ["kubectl get nodes -o wide", ...names.map((n) => `kubectl describe node ${n}`)],
        }],
    };
}

/** Nodes being drained for maintenance: the operator's call. */
function cordonedWords(cordoned: readonly Rejection[]): Diagnosis {
    if (cordoned.length === 0) return NOTHING;
    const names = cordoned.map((r) => r.node.name);
    return {
        summary: [
            `${listNames(names)} ${cordoned.length === 1 ? "is" : "are"} cordoned (spec.unschedulable: someone is draining ${cordoned.length === 1 ? "it" : "them"} for maintenance). That is the operator's call, not the app's.`,
        ],
        fixes: [{ title: `When maintenance is over, the operator uncordons ${listNames(names)}.`, commands: names.map((n) => `kubectl uncordon ${n}`) }],
    };
}

/** A control-plane node: why not to tolerate its taint, and on a laptop kind cluster how to remove it. */
function controlPlaneWords(r: Rejection, nodes: NodeState[], ctx: DiagnoseContext): Diagnosis {
    const taint = r.result.taint as Taint;
    const tol = tolerationFor(taint);
    // Offer to remove the taint only on what is plainly a laptop kind cluster, never on a shared one.
    const onKind = ctx.platform === "kind" && (nodes.length === 1 || String(r.node.node.spec?.providerID ?? "").startsWith("kind://"));
    return {
        summary: [
            `${r.node.name} is a control-plane node (taint ${formatTaint(taint)}): it runs the cluster's own API server, etcd and scheduler. ` +
                `The toleration ${JSON.stringify(tol)} in ${PROJECT}:tolerations would let the app onto it. That is rarely right: the app would compete with the control plane for CPU and memory, and a busy or crashing pod could take the cluster's API down with it.` +
                (onKind ? " On a one-node kind cluster, though, the control-plane node is the only node, and kind normally removes this taint." : ""),
        ],
        fixes: onKind
            ? [{
                title: `On this laptop kind cluster, remove the control-plane taint from ${r.node.name} (kind's own default for a single node).`,
                commands: [`kubectl taint nodes ${r.node.name} ${taint.key}:${taint.effect}-`],
            }]
            : [],
    };
}

/** A node set aside for other workloads by a taint: the toleration that would open it, and why that is rarely right. */
function dedicatedWords(r: Rejection, w: Workload, rejections: readonly Rejection[], nodes: NodeState[], ctx: DiagnoseContext): Diagnosis {
    const taint = r.result.taint as Taint;
    const tol = tolerationFor(taint);
    const role = roleOf(taint);
    const purpose = role ? ROLE_WORDS[role.toLowerCase()] ?? `"${role}" workloads` : undefined;
    const withTol = filterNode({ ...w.spec, tolerations: [...(w.spec.tolerations ?? []), tol] }, r.node);
    const stillBlocked = withTol.fits ? "" : ` (and even then it would refuse the pod: ${withTol.reasons.join(", ")})`;
    const alone = rejections.length === nodes.length && rejections.filter((x) => groupOf(x.node, x.result) === "dedicated").length === 1;
    const why =
        `The taint is there to keep ordinary pods off that node${purpose ? `, so ${purpose} keep the capacity and network they need` : ""}` +
        (alone && nodes.length > 1 ? `; and with every other node ruled out, all of the app's tiers would crowd onto this one node with no redundancy` : "") +
        ". Add it only if the cluster's operator says the app belongs there.";
    return {
        summary: [
            `${r.node.name} is set aside ${purpose ? `for ${purpose}` : "for other workloads"} (taint ${formatTaint(taint)}). ` +
                `The toleration ${JSON.stringify(tol)} in ${PROJECT}:tolerations would let every tier run there${stillBlocked}. That is rarely right: ${why.charAt(0).toLowerCase()}${why.slice(1)}`,
        ],
        fixes: [tolerationFix(tol, ctx, `Only if the operator agrees: tolerate ${formatTaint(taint)} to use ${r.node.name} (applies to every tier).`, why)],
    };
}

/** Nodes whose host port the workload asks for is taken. */
function portWords(w: Workload, ports: readonly Rejection[]): Diagnosis {
    if (ports.length === 0) return NOTHING;
    return {
        summary: [
            `${listNames(ports.map((r) => r.node.name))} already ${ports.length === 1 ? "has" : "have"} a pod on the host port ${w.name} asks for; only one pod per node can hold a hostPort.`,
        ],
        fixes: [],
    };
}

function describeSelector(w: Workload): string {
    const parts: string[] = [];
    const sel = w.spec.nodeSelector ?? {};
    if (Object.keys(sel).length) parts.push(`nodeSelector ${Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(", ")}`);
    const terms = w.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (terms) {
        const t = terms.map((term) =>
            [
                ...(term.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values?.length ? ` ${e.values.join("|")}` : ""}`),
                ...(term.matchFields ?? []).map((e) => `${e.key} ${e.operator} ${(e.values ?? []).join("|")}`),
            ].join(" and ") || "(an empty term, which matches nothing)",
        );
        parts.push(`required node affinity ${t.map((x) => `(${x})`).join(" or ")}`);
    }
    return parts.join(" plus ");
}

function affinityWords(w: Workload, rejected: NodeState[], nodes: NodeState[]): string[] {
    const keys = [
        ...Object.keys(w.spec.nodeSelector ?? {}),
        ...(w.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []).flatMap((t) =>
            (t.matchExpressions ?? []).map((e) => e.key),
        ),
    ];
    const seen = [...new Set(keys)].map((k) => {
        const values = [...new Set(nodes.map((n) => n.node.metadata.labels?.[k]).filter((v): v is string => v !== undefined))];
        return values.length ? `${k} is ${values.join(" or ")} there` : `no node has a ${k} label`;
    });
    return [
        `${listNames(rejected.map((n) => n.name))} ${rejected.length === 1 ? "does" : "do"} not match the pod's ${describeSelector(w)} (set by ${PROJECT}:nodeSelector / ${PROJECT}:affinity)` +
            (seen.length ? `: ${seen.join("; ")}.` : "."),
    ];
}

function affinityFixes(w: Workload, nodes: NodeState[], ctx: DiagnoseContext): Fix[] {
    const fixes: Fix[] = [];
    const sel = w.spec.nodeSelector ?? {};
    for (const [k, v] of Object.entries(sel)) {
        const values = [...new Set(nodes.filter((n) => n.ready === "True").map((n) => n.node.metadata.labels?.[k]).filter((x): x is string => !!x))];
        const other = values.find((x) => x !== v);
        if (other !== undefined) {
            fixes.push({
                title: `Select a label value the nodes carry: ${k}=${other} instead of ${v}.`,
                configKey: `${PROJECT}:nodeSelector`,
                value: { ...sel, [k]: other },
                commands: [setPath(ctx.stack, `nodeSelector["${k}"]`, other)],
            });
        }
    }
    if (Object.keys(sel).length) {
        fixes.push({
            title: `Or drop the node selector, so any node will do.`,
            configKey: `${PROJECT}:nodeSelector`,
            commands: [`pulumi config rm --stack ${shellWord(ctx.stack)} nodeSelector`, "kubectl get nodes --show-labels"],
        });
    }
    if (w.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution) {
        fixes.push({
            title: `Loosen ${PROJECT}:affinity to labels the nodes carry (see kubectl get nodes --show-labels), or remove it.`,
            configKey: `${PROJECT}:affinity`,
            commands: ["kubectl get nodes --show-labels", `pulumi config rm --stack ${shellWord(ctx.stack)} affinity`],
        });
    }
    return fixes;
}

function resourceWords(w: Workload, tier: Tier | undefined, rejected: Rejection[], verdict: WorkloadVerdict, ctx: DiagnoseContext): Diagnosis {
    const summary: string[] = [];
    const fixes: Fix[] = [];
    const all = rejected.flatMap((r) => (r.result.shortfalls ?? []).map((s) => ({ node: r.node.name, s })));
    const placed = verdict.placements.length;
    for (const resource of ["cpu", "memory"] as const) {
        const short = all.filter((x) => x.s.resource === resource);
        if (short.length === 0) continue;
        // The roomiest of the nodes that would take the pod but for this resource.
        const best = short.reduce((a, b) => (b.s.free > a.s.free ? b : a));
        const fmt = resource === "cpu" ? formatCpu : formatMemory;
        const free = Math.max(0, best.s.free);
        const missing = best.s.requested - free;
        summary.push(
            `Not enough ${resource}: each ${w.name} pod requests ${fmt(best.s.requested)}, and the roomiest eligible node (${best.node}) has ${fmt(free)} of its ${fmt(best.s.allocatable)} free` +
                ` after what already runs there: ${fmt(missing)} short.`,
        );
        const key = tier ? `${tier}${resource === "cpu" ? "Cpu" : "Memory"}` : undefined;
        if (key && free > 0) {
            const suggested = fmt(resource === "cpu" ? free : roundDownMi(free));
            fixes.push(configFix(ctx, key, suggested, `Lower ${key} to at most ${suggested} so a pod fits on ${best.node}.`));
        } else if (key) {
            summary.push(`No eligible node has any ${resource} left, so lowering ${key} alone will not help.`);
        }
        fixes.push({ title: `Or free ${fmt(missing)} of ${resource} on a node (scale something down), or add a node.`, commands: ["kubectl describe nodes | grep -A 8 'Allocated resources'"] });
    }
    const pods = all.filter((x) => x.s.resource === "pods");
    if (pods.length > 0) {
        summary.push(`${listNames([...new Set(pods.map((x) => x.node))])} already run${pods.length === 1 ? "s" : ""} as many pods as ${pods.length === 1 ? "it allows" : "they allow"} (allocatable pods).`);
        fixes.push({ title: "Add a node, or remove pods that are no longer needed.", commands: ["kubectl get pods -A -o wide"] });
    }
    if (placed > 0 && tier && tier !== "db") {
        fixes.push(configFix(ctx, `${tier}Replicas`, placed, `Or run ${placed} ${tier} replica${placed === 1 ? "" : "s"}, which fit${placed === 1 ? "s" : ""}.`));
    }
    return { summary, fixes };
}

/** A memory value people write: rounded down to whole Mi, so the suggested request really fits. */
function roundDownMi(bytes: number): number {
    const mi = 2 ** 20;
    return bytes >= mi ? Math.floor(bytes / mi) * mi : bytes;
}
