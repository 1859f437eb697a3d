import { podTemplateOf, WORKLOAD_KIND_NAMES } from "../../policy/podTemplates";
import type { KubeObject } from "../harness";

// The app as its users think of it — browser → Ingress (host, paths) → Services (ports) → workloads
// (replicas, image) → database (storage), inside the namespace, with the registry the images come
// from — built from the Kubernetes objects alone, so the picture cannot drift from the manifests.
// A pure function: objects in, graph out; mermaid.ts and dot.ts only draw it.

export type NodeKind = "user" | "ingress" | "service" | "workload" | "database" | "secret" | "registry" | "note";

export interface DiagramNode {
    /** Unique, `[a-z0-9_]` only: safe as a Mermaid and a DOT identifier. */
    readonly id: string;
    readonly kind: NodeKind;
    /** First line, e.g. "Deployment backend". */
    readonly title: string;
    /** Further lines, e.g. "replicas 2", "image launchpad-backend@sha256:…". */
    readonly details: readonly string[];
    /** Drawn inside the namespace box. */
    readonly inNamespace: boolean;
}

export interface DiagramEdge {
    readonly from: string;
    readonly to: string;
    readonly label?: string;
    /** A reference rather than traffic: secrets, image pulls. */
    readonly dashed: boolean;
}

export interface DiagramModel {
    readonly title: string;
    /** Label of the namespace box, e.g. "namespace launchpad-dev". */
    readonly namespace: string;
    readonly nodes: readonly DiagramNode[];
    readonly edges: readonly DiagramEdge[];
}

const NAME_LABEL = "app.kubernetes.io/name";

/** The name a user knows an object by: its `app.kubernetes.io/name` label, else its name. */
export function labelOrName(object: KubeObject): string {
    return object.metadata.labels?.[NAME_LABEL] ?? object.metadata.name;
}

function nodeId(kind: string, name: string): string {
    return `${kind}_${name}`.toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

function containersOf(workload: KubeObject): any[] {
    const pod = podTemplateOf(workload)?.spec ?? {};
    return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
    const entries = Object.entries(selector ?? {});
    return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/**
 * `ghcr.io/acme/launchpad-backend@sha256:…` → the registry it comes from (`ghcr.io/acme`), what to
 * show for it (`launchpad-backend@sha256:0123456789ab…`) and whether it is pinned by digest.
 */
export function splitImage(image: string): { registry: string; shown: string; byDigest: boolean } {
    const at = image.indexOf("@");
    const name = at >= 0 ? image.slice(0, at) : image;
    const first = name.split("/")[0];
    const hasHost = name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    const slash = name.lastIndexOf("/");
    const registry = hasHost ? name.slice(0, slash) : "docker.io";
    // A real digest is shortened; a placeholder stays whole, so it reads as one.
    const shown = (hasHost ? image.slice(slash + 1) : image).replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, "@sha256:$1…");
    return { registry, shown, byDigest: at >= 0 };
}

/** NetworkPolicy → NetworkPolicies, Service → Services. */
function plural(kind: string, count: number): string {
    if (count === 1) return kind;
    if (/[^aeiou]y$/.test(kind)) return `${kind.slice(0, -1)}ies`;
    return /(s|x|ch|sh)$/.test(kind) ? `${kind}es` : `${kind}s`;
}

function portText(port: any): string {
    const target = port.targetPort !== undefined && port.targetPort !== port.port ? ` → ${port.targetPort}` : "";
    return `:${port.port}${target}`;
}

function storageText(claim: any): string {
    const size = claim.spec?.resources?.requests?.storage ?? "?";
    const cls = ` (${claim.spec?.storageClassName ?? "default class"})`;
    return `volume ${claim.metadata?.name ?? ""} ${size}${cls}`.replace(/\s+/g, " ");
}

/** "2 replicas", or what an autoscaler does with them. */
function replicasText(workload: KubeObject, autoscalers: KubeObject[]): string | undefined {
    if (!["Deployment", "StatefulSet", "ReplicaSet"].includes(workload.kind)) return undefined;
    const hpa = autoscalers.find((h) => h.spec?.scaleTargetRef?.kind === workload.kind && h.spec?.scaleTargetRef?.name === workload.metadata.name);
    if (hpa) return `replicas ${hpa.spec.minReplicas ?? 1}–${hpa.spec.maxReplicas} (autoscaled)`;
    const replicas = workload.spec?.replicas ?? 1;
    return `replicas ${replicas}`;
}

/** Secrets a workload reads: env secretKeyRefs, envFrom, volumes and image pull secrets. */
function secretsUsed(workload: KubeObject): Map<string, Set<string>> {
    const used = new Map<string, Set<string>>();
    const note = (name: string | undefined, how: string) => {
        if (!name) return;
        used.set(name, (used.get(name) ?? new Set()).add(how));
    };
    const pod = podTemplateOf(workload)?.spec ?? {};
    for (const c of containersOf(workload)) {
        for (const e of c.env ?? []) note(e.valueFrom?.secretKeyRef?.name, e.name);
        for (const e of c.envFrom ?? []) note(e.secretRef?.name, "env");
    }
    for (const v of pod.volumes ?? []) note(v.secret?.secretName, `volume ${v.name}`);
    for (const p of pod.imagePullSecrets ?? []) note(p.name, "image pull");
    return used;
}

/** Env vars whose value names a Service (`db`, `db.ns`, `db.ns.svc.cluster.local`): how a tier finds another. */
function servicesReached(workload: KubeObject, services: KubeObject[]): { service: KubeObject; via: string }[] {
    const found: { service: KubeObject; via: string }[] = [];
    for (const c of containersOf(workload)) {
        for (const e of c.env ?? []) {
            if (typeof e.value !== "string") continue;
            const host = e.value.replace(/^[a-z]+:\/\//, "").split(/[:/]/)[0];
            const service = services.find((s) => host === s.metadata.name || host.startsWith(`${s.metadata.name}.${s.metadata.namespace}`));
            if (service) found.push({ service, via: e.name });
        }
    }
    return found;
}

/**
 * Builds the picture's graph from a stack's Kubernetes objects. `shown` gives the name an object is
 * shown by (the renderer's, which knows which names Pulumi only picks at deploy).
 */
export function buildModel(stack: string, objects: readonly KubeObject[], shown: (object: KubeObject) => string = labelOrName): DiagramModel {
    const key = (o: KubeObject) => `${o.kind}/${shown(o)}/${o.metadata.name}`;
    const all = [...objects].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const ids = new Map<KubeObject, string>();
    const taken = new Set<string>();
    for (const o of all) {
        let id = nodeId(o.kind, shown(o));
        for (let n = 2; taken.has(id); n++) id = `${nodeId(o.kind, shown(o))}_${n}`;
        ids.set(o, id);
        taken.add(id);
    }
    const idOf = (o: KubeObject) => ids.get(o)!;
    const ofKind = (...kinds: string[]) => all.filter((o) => kinds.includes(o.kind));
    const namespaceObject = ofKind("Namespace")[0];
    const namespace = namespaceObject?.metadata.name ?? all.find((o) => o.metadata.namespace)?.metadata.namespace ?? "default";

    const nodes: DiagramNode[] = [];
    const edges: DiagramEdge[] = [];
    const drawn = new Set<KubeObject>(namespaceObject ? [namespaceObject] : []);
    const services = ofKind("Service");
    const workloads = ofKind(...WORKLOAD_KIND_NAMES);
    const autoscalers = ofKind("HorizontalPodAutoscaler");
    autoscalers.forEach((h) => drawn.add(h));

    // Browser → Ingress → Services.
    const ingresses = ofKind("Ingress");
    if (ingresses.length > 0) nodes.push({ id: "user", kind: "user", title: "browser", details: [], inNamespace: false });
    for (const ingress of ingresses) {
        drawn.add(ingress);
        const tlsHosts = new Set<string>((ingress.spec?.tls ?? []).flatMap((t: any) => t.hosts ?? []));
        const rules: any[] = ingress.spec?.rules ?? [];
        const details = [
            ...(ingress.spec?.ingressClassName ? [`class ${ingress.spec.ingressClassName}`] : []),
            ...rules.map((r) => `host ${r.host ?? "*"}`),
            ...(ingress.spec?.tls ?? []).map((t: any) => `TLS from Secret ${t.secretName ?? "(default)"}`),
        ];
        nodes.push({ id: idOf(ingress), kind: "ingress", title: `Ingress ${shown(ingress)}`, details, inNamespace: true });
        const urls = rules.map((r) => `${tlsHosts.has(r.host) ? "https" : "http"}://${r.host ?? "*"}`);
        edges.push({ from: "user", to: idOf(ingress), label: urls.join(", ") || undefined, dashed: false });
        for (const rule of rules) {
            for (const p of rule.http?.paths ?? []) {
                const name = p.backend?.service?.name;
                const service = services.find((s) => s.metadata.name === name);
                const label = `${rules.length > 1 ? rule.host ?? "*" : ""}${p.path ?? "/"}`;
                if (service) edges.push({ from: idOf(ingress), to: idOf(service), label, dashed: false });
            }
        }
    }

    // Services → the workloads they select.
    for (const service of services) {
        drawn.add(service);
        const details = (service.spec?.ports ?? []).map(portText);
        if (service.spec?.clusterIP === "None") details.push("headless");
        if (service.spec?.type && service.spec.type !== "ClusterIP") details.push(service.spec.type);
        nodes.push({ id: idOf(service), kind: "service", title: `Service ${shown(service)}`, details, inNamespace: true });
        for (const workload of workloads.filter((w) => selects(service.spec?.selector, podTemplateOf(w)?.metadata?.labels))) {
            edges.push({ from: idOf(service), to: idOf(workload), dashed: false });
        }
    }

    // Workloads: replicas, images, storage; the Services they call; the registry they pull from.
    const registries = new Map<string, Map<string, boolean>>();
    for (const workload of workloads) {
        drawn.add(workload);
        const claims: any[] = workload.kind === "StatefulSet" ? workload.spec?.volumeClaimTemplates ?? [] : [];
        const images = containersOf(workload).map((c) => splitImage(String(c.image)));
        images.forEach((i) => registries.set(i.registry, (registries.get(i.registry) ?? new Map()).set(idOf(workload), i.byDigest)));
        const details = [
            ...[replicasText(workload, autoscalers)].filter((d): d is string => d !== undefined),
            // Name and digest on two lines: a digest is long, and the placeholder should read whole.
            ...images.flatMap((i) => (i.shown.includes("@") ? [`image ${i.shown.slice(0, i.shown.indexOf("@"))}`, i.shown.slice(i.shown.indexOf("@"))] : [`image ${i.shown}`])),
            ...claims.map(storageText),
        ];
        nodes.push({ id: idOf(workload), kind: claims.length > 0 ? "database" : "workload", title: `${workload.kind} ${shown(workload)}`, details, inNamespace: true });
        for (const { service, via } of servicesReached(workload, services)) {
            edges.push({ from: idOf(workload), to: idOf(service), label: via, dashed: false });
        }
    }

    // Secrets, and who reads them.
    for (const secret of ofKind("Secret")) {
        drawn.add(secret);
        const keys = Object.keys({ ...(secret.data ?? {}), ...(secret.stringData ?? {}) }).sort();
        nodes.push({ id: idOf(secret), kind: "secret", title: `Secret ${shown(secret)}`, details: keys.length ? [`keys ${keys.join(", ")}`] : [], inNamespace: true });
        for (const workload of workloads) {
            const how = secretsUsed(workload).get(secret.metadata.name);
            if (how) edges.push({ from: idOf(secret), to: idOf(workload), label: [...how].join(", "), dashed: true });
        }
    }

    // Everything else the stack creates, counted, so nothing disappears from the picture silently.
    const rest = new Map<string, number>();
    for (const o of all.filter((o) => !drawn.has(o))) rest.set(o.kind, (rest.get(o.kind) ?? 0) + 1);
    if (rest.size > 0) {
        const details = [...rest].map(([kind, n]) => `${n} ${plural(kind, n)}`);
        nodes.push({ id: "also", kind: "note", title: "also in the namespace", details, inNamespace: true });
    }

    for (const [registry, users] of [...registries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const id = nodeId("registry", registry);
        const pinned = [...users.values()].every((byDigest) => byDigest);
        nodes.push({ id, kind: "registry", title: `registry ${registry}`, details: [pinned ? "images pulled by digest" : "images pulled by tag"], inNamespace: false });
        for (const user of users.keys()) edges.push({ from: id, to: user, dashed: true });
    }

    return { title: `launchpad · stack ${stack}`, namespace: `namespace ${namespace}`, nodes, edges };
}
