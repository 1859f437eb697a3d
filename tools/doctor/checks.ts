// Routing and storage: the IngressClass the stack's Ingress names and the StorageClass its database claims
// must exist in the cluster (or a default must, when none is named). Pure. The other checks of what the
// cluster offers (tools/doctor/network.ts, architecture.ts) report in the same shape.

import type { ClassInfo } from "./cluster";
import type { ManifestLike } from "./schedule";

export interface ClusterCheck {
    check: "ingressClass" | "storageClass" | "networkPolicy" | "ingressNamespace" | "architecture";
    /** What was looked for: the class asked for ("(default)" when the object names none), a namespace, a platform. */
    name: string;
    /** The objects that need it, as Kind/name. */
    usedBy: string[];
    /**
     * "failed": the app would not work, and the doctor exits 1. "warning": it would work, but not as
     * launchpad means it to (e.g. NetworkPolicies not enforced). "unknown": the doctor cannot tell.
     */
    status: "ok" | "warning" | "unknown" | "failed";
    /** False only when status is "failed". */
    ok: boolean;
    /** One line: what was found, why it matters, and what to do. */
    message: string;
}

/** A finding in the shape every cluster check reports. */
export function finding(check: ClusterCheck["check"], name: string, usedBy: string[], status: ClusterCheck["status"], message: string): ClusterCheck {
    return { check, name, usedBy, status, ok: status !== "failed", message };
}

interface Wanted { name: string | undefined; usedBy: string[] }

function collect(pairs: { name: string | undefined; by: string }[]): Wanted[] {
    const out = new Map<string, Wanted>();
    for (const p of pairs) {
        const key = p.name ?? "";
        const w = out.get(key) ?? { name: p.name, usedBy: [] };
        w.usedBy.push(p.by);
        out.set(key, w);
    }
    return [...out.values()];
}

function available(classes: ClassInfo[]): string {
    return classes.length ? `the cluster has ${classes.map((c) => `${c.name}${c.isDefault ? " (default)" : ""}`).join(", ")}` : "the cluster has none";
}

interface ClassRule {
    check: ClusterCheck["check"];
    kind: "IngressClass" | "StorageClass";
    /** What happens when the class is missing. */
    consequence: string;
    /** What the default class does for an object that names none. */
    role: string;
    setting: string;
}

const INGRESS: ClassRule = {
    check: "ingressClass", kind: "IngressClass", consequence: "the Ingress would never get an address",
    role: "will serve it", setting: "the stack's ingressClass",
};
const STORAGE: ClassRule = {
    check: "storageClass", kind: "StorageClass", consequence: "the database's volume claim would stay Pending and the database never start",
    role: "will provision it", setting: "the stack's dbStorageClass",
};

function verdict(rule: ClassRule, { name, usedBy }: Wanted, classes: ClassInfo[]): ClusterCheck {
    const result = (ok: boolean, shown: string, message: string): ClusterCheck => finding(rule.check, shown, usedBy, ok ? "ok" : "failed", message);
    if (name === undefined) {
        const def = classes.find((c) => c.isDefault);
        return def
            ? result(true, "(default)", `no class named; the cluster's default ${rule.kind} ${def.name} ${rule.role}`)
            : result(false, "(default)", `no ${rule.kind} named and none is the cluster's default, so ${rule.consequence} (${available(classes)}); set ${rule.setting} to one of those`);
    }
    const found = classes.find((c) => c.name === name);
    return found
        ? result(true, name, `${rule.kind} ${name} exists${found.detail ? ` (${found.detail})` : ""}`)
        : result(false, name, `${rule.kind} ${name} does not exist, so ${rule.consequence} (${available(classes)}). Set ${rule.setting} to one of those, or install what provides ${name}`);
}

/** The IngressClasses the stack's Ingresses need, checked against the cluster's. */
export function checkIngressClasses(objects: readonly ManifestLike[], classes: ClassInfo[], configured?: string): ClusterCheck[] {
    const wanted = collect(
        objects.filter((o) => o.kind === "Ingress").map((o) => ({
            name: o.spec?.ingressClassName ?? (o.metadata as { annotations?: Record<string, string> }).annotations?.["kubernetes.io/ingress.class"] ?? configured,
            by: `Ingress/${o.metadata.name}`,
        })),
    );
    return wanted.map((w) => verdict(INGRESS, w, classes));
}

/** The StorageClasses the stack's claims (StatefulSet volumeClaimTemplates, PersistentVolumeClaims) need. */
export function checkStorageClasses(objects: readonly ManifestLike[], classes: ClassInfo[], configured?: string): ClusterCheck[] {
    const claims: { name: string | undefined; by: string }[] = [];
    for (const o of objects) {
        if (o.kind === "StatefulSet") {
            for (const t of o.spec?.volumeClaimTemplates ?? []) claims.push({ name: t.spec?.storageClassName ?? configured, by: `StatefulSet/${o.metadata.name}` });
        } else if (o.kind === "PersistentVolumeClaim") {
            claims.push({ name: o.spec?.storageClassName ?? configured, by: `PersistentVolumeClaim/${o.metadata.name}` });
        }
    }
    return collect(claims).map((w) =>
        w.name === ""
            ? finding("storageClass", '""', w.usedBy, "unknown", 'storageClassName "" asks for a pre-made PersistentVolume; the doctor cannot check that one exists')
            : verdict(STORAGE, w, classes),
    );
}
