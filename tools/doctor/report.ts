// The doctor's findings as one object, printed as text for people or as --json for scripts. Pure.

import type { ClusterCheck } from "./checks";
import type { Diagnosis, Fix } from "./diagnose";
import type { ImageCheck } from "../../lib/registry";
import { NodeState, WorkloadVerdict, formatCpu, formatMemory, formatTaint } from "./schedule";

export interface NodeReport {
    name: string;
    /** The Ready condition: "True", "False", "Unknown" or "Missing". */
    ready: string;
    unschedulable: boolean;
    taints: string[];
    allocatable: { cpu: string; memory: string; pods: number };
    free: { cpu: string; memory: string; pods: number };
}

export interface WorkloadReport {
    kind: string;
    name: string;
    namespace: string;
    replicas: number;
    /** Nodes that would accept one of its pods, given what already runs there. */
    schedulable: string[];
    /** How many replicas find a node when the whole stack is placed together. */
    placed: number;
    ok: boolean;
    /** The scheduler's own message for the first pod that would stay Pending; null when all fit. */
    message: string | null;
    diagnosis: string[];
    fixes: Fix[];
}

export interface ImageReport extends ImageCheck {
    /** The workloads whose containers use it, as Kind/name. */
    usedBy: string[];
    /** The stack builds (or mirrors) and pushes it itself, so before the first `pulumi up` it may not exist yet. */
    pushedByStack: boolean;
    /** Whether this result makes the doctor fail. */
    blocking: boolean;
}

export interface DoctorReport {
    stack: string;
    /** Where the cluster's state came from. */
    source: string;
    nodes: NodeReport[];
    workloads: WorkloadReport[];
    images: ImageReport[];
    routingAndStorage: ClusterCheck[];
    /** NetworkPolicy enforcement, the ingress controller's namespace, the nodes' platform against the images'. */
    networkAndNodes: ClusterCheck[];
    /** Checks not run, and why (offline files have no registry or classes). */
    skipped: string[];
    ok: boolean;
}

export function nodeReport(n: NodeState): NodeReport {
    return {
        name: n.name,
        ready: n.ready,
        unschedulable: n.unschedulable,
        taints: n.taints.map(formatTaint),
        allocatable: { cpu: formatCpu(n.allocatable.milliCpu), memory: formatMemory(n.allocatable.memory), pods: n.allocatable.pods },
        free: {
            cpu: formatCpu(Math.max(0, n.allocatable.milliCpu - n.requested.milliCpu)),
            memory: formatMemory(Math.max(0, n.allocatable.memory - n.requested.memory)),
            pods: Math.max(0, n.allocatable.pods - n.requested.pods),
        },
    };
}

export function workloadReport(v: WorkloadVerdict, d: Diagnosis): WorkloadReport {
    const w = v.workload;
    return {
        kind: w.kind, name: w.name, namespace: w.namespace, replicas: w.replicas,
        schedulable: v.schedulable, placed: v.placements.length, ok: v.ok,
        message: v.message ?? null, diagnosis: d.summary, fixes: d.fixes,
    };
}

export function buildReport(parts: Omit<DoctorReport, "ok">): DoctorReport {
    const ok = parts.workloads.every((w) => w.ok) && parts.images.every((i) => !i.blocking) && [...parts.routingAndStorage, ...parts.networkAndNodes].every((c) => c.ok);
    return { ...parts, ok };
}

export function formatJson(report: DoctorReport): string {
    return `${JSON.stringify(report, null, 2)}\n`;
}

const MARKS: Record<ClusterCheck["status"], string> = { ok: "✓", failed: "✗", warning: "!", unknown: "?" };

function indent(text: string, by: string): string {
    return text.split("\n").map((l) => (l ? by + l : l)).join("\n");
}

function fixLines(fixes: Fix[], pad: string): string[] {
    const out: string[] = [];
    fixes.forEach((f, i) => {
        out.push(`${pad}${i + 1}. ${f.title}`);
        if (f.caution) out.push(`${pad}   Caution: ${f.caution}`);
        for (const c of f.commands ?? []) out.push(`${pad}   $ ${c}`);
        if (f.yaml) out.push(`${pad}   or in the stack file:`, indent(f.yaml, `${pad}     `));
    });
    return out;
}

/** The report for a terminal: nodes, then each workload, its scheduler message, why and what to change. */
export function formatText(report: DoctorReport): string {
    const out: string[] = [`launchpad doctor: stack ${report.stack}, cluster from ${report.source}`, ""];
    out.push(`Nodes (${report.nodes.length})`);
    const width = Math.max(4, ...report.nodes.map((n) => n.name.length));
    for (const n of report.nodes) {
        const state = n.ready === "True" ? (n.unschedulable ? "Ready,SchedulingDisabled" : "Ready") : `NotReady (Ready=${n.ready})`;
        out.push(
            `  ${n.name.padEnd(width)}  ${state}; free cpu ${n.free.cpu}/${n.allocatable.cpu}, memory ${n.free.memory}/${n.allocatable.memory}, pods ${n.free.pods}/${n.allocatable.pods}` +
                (n.taints.length ? `; taints ${n.taints.join(", ")}` : ""),
        );
    }
    out.push("", "Workloads");
    // Workloads that fail for the same reasons share one explanation, printed after the last of them.
    const keyOf = (w: WorkloadReport) => JSON.stringify([w.diagnosis, w.fixes]);
    const groups = new Map<string, WorkloadReport[]>();
    for (const w of report.workloads) if (!w.ok) groups.set(keyOf(w), [...(groups.get(keyOf(w)) ?? []), w]);
    for (const w of report.workloads) {
        const head = `${w.kind} ${w.namespace}/${w.name}`;
        if (w.ok) {
            out.push(`  ✓ ${head}: ${w.replicas} replica${w.replicas === 1 ? "" : "s"} fit (nodes that accept it: ${w.schedulable.join(", ") || "none needed"})`);
            continue;
        }
        out.push(`  ✗ ${head}: ${w.placed} of ${w.replicas} replica${w.replicas === 1 ? "" : "s"} would be scheduled; the next stays Pending with`);
        out.push(`      ${w.message}`);
        const group = groups.get(keyOf(w)) ?? [w];
        if (group[group.length - 1] !== w) continue;
        const shared = group.length > 1 ? ` (the same for ${group.map((g) => g.name).join(", ")})` : "";
        if (w.diagnosis.length) {
            out.push(`    Why${shared}:`);
            for (const s of w.diagnosis) out.push(`      - ${s}`);
        }
        if (w.fixes.length) {
            out.push(`    What to change:`);
            out.push(...fixLines(w.fixes, "      "));
        }
    }
    if (report.images.length) {
        out.push("", "Images");
        for (const i of report.images) {
            const mark = i.ok ? "✓" : i.blocking ? "✗" : "!";
            const note = !i.ok && i.pushedByStack && !i.blocking ? " (the stack pushes it: expected before the first `pulumi up`)" : "";
            out.push(`  ${mark} ${i.message}${note}  [${i.usedBy.join(", ")}]`);
        }
    }
    if (report.routingAndStorage.length) {
        out.push("", "Routing and storage");
        for (const c of report.routingAndStorage) out.push(`  ${MARKS[c.status]} ${c.message}  [${c.usedBy.join(", ")}]`);
    }
    if (report.networkAndNodes.length) {
        out.push("", "Network and nodes");
        for (const c of report.networkAndNodes) out.push(`  ${MARKS[c.status]} ${c.message}`);
    }
    if (report.skipped.length) {
        out.push("", "Not checked");
        for (const s of report.skipped) out.push(`  - ${s}`);
    }
    const failing = report.workloads.filter((w) => !w.ok).length;
    const badImages = report.images.filter((i) => i.blocking).length;
    const badClasses = report.routingAndStorage.filter((c) => !c.ok).length;
    const wrongPlatform = report.networkAndNodes.filter((c) => !c.ok && c.check === "architecture").length;
    const warnings = report.networkAndNodes.filter((c) => c.status === "warning").length;
    out.push("");
    out.push(
        report.ok
            ? "All good: every workload would schedule" + (report.images.length ? ", its images can be pulled" : "") + (report.routingAndStorage.length ? ", and its classes exist" : "") +
                  (warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"} under Network and nodes).` : ".")
            : `Would not work: ${[
                  failing ? `${failing} of ${report.workloads.length} workloads would not schedule` : "",
                  badImages ? `${badImages} image${badImages === 1 ? "" : "s"} cannot be pulled` : "",
                  badClasses ? `${badClasses} class${badClasses === 1 ? "" : "es"} missing` : "",
                  wrongPlatform ? "the images' platform does not match the nodes" : "",
              ].filter(Boolean).join(", ")}.`,
    );
    return `${out.join("\n")}\n`;
}
