import { IMAGE_TYPE } from "../../components/image";
import { parseImageReference } from "../../lib/imageRef";
import { podTemplateOf, WORKLOAD_KIND_NAMES } from "../../lib/podTemplates";
import type { KubeObject, RecordedResource } from "../harness";
import { PLACEHOLDER_DIGEST } from "../harness/manifests";
import { NetworkView, readNetworkPolicies } from "./network";

// The app as its users think of it — browser → ingress controller (host, paths) → Services (ports) →
// workloads (replicas, image) → database (storage), inside the namespace, with the registry the images
// come from — built from the Kubernetes objects alone, so the picture cannot drift from the manifests.
// The traffic arrows are the routes (Ingress paths, Service selectors, the Service a tier's environment
// names) as the NetworkPolicies judge them: allowed, or blocked.
// A pure function: objects in, graph out; mermaid.ts and dot.ts only draw it.

export type NodeKind = "user" | "ingress" | "service" | "workload" | "database" | "secret" | "registry" | "note";

export interface DiagramNode {
    /** Unique, `[a-z0-9_]` only: safe as a Mermaid and a DOT identifier. */
    readonly id: string;
    readonly kind: NodeKind;
    /** First line, e.g. "Deployment backend". */
    readonly title: string;
    /** Further lines, e.g. "replicas 2", "built from apps/backend". */
    readonly details: readonly string[];
    /** Drawn inside the namespace box. */
    readonly inNamespace: boolean;
}

export interface DiagramEdge {
    readonly from: string;
    readonly to: string;
    readonly label?: string;
    /**
     * traffic: a connection the NetworkPolicies allow (or that none restricts); blocked: a route they
     * refuse; reference: not a connection of the app (a workload reading a Secret).
     */
    readonly kind: EdgeKind;
}

export type EdgeKind = "traffic" | "blocked" | "reference";

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
 * `ghcr.io/acme/launchpad-backend@sha256:…` → the registry it comes from (`ghcr.io/acme`), its name
 * (`ghcr.io/acme/launchpad-backend`, the key of `imageOrigins`), what to show for it
 * (`launchpad-backend@sha256:0123456789ab…`) and whether it is pinned by digest. A digest that only
 * `pulumi up` will know (the renderer's placeholder) is not shown: it says nothing about the image.
 * Split by the one image reference parser (lib/imageRef.ts); a reference it refuses is shown as written.
 */
export function splitImage(image: string): { registry: string; name: string; shown: string; byDigest: boolean } {
    const placeholder = image.endsWith(`@${PLACEHOLDER_DIGEST}`);
    const parsed = parseImageReference(placeholder ? image.slice(0, -(PLACEHOLDER_DIGEST.length + 1)) : image);
    if (!parsed.ok) return { registry: "unknown", name: image, shown: image, byDigest: false };
    const { domain, path, tag, digest } = parsed.reference;
    const components = path.split("/");
    const repository = domain === undefined ? path : components[components.length - 1];
    const tagged = `${repository}${tag === undefined ? "" : `:${tag}`}`;
    return {
        registry: domain === undefined ? "docker.io" : [domain, ...components.slice(0, -1)].join("/"),
        name: `${domain === undefined ? "" : `${domain}/`}${path}${tag === undefined ? "" : `:${tag}`}`,
        shown: digest === undefined ? tagged : `${tagged}@${digest.slice(0, "sha256:".length + 12)}…`,
        byDigest: placeholder || digest !== undefined,
    };
}

/**
 * Where each image the program pushes comes from, by image name (registry and repository, no digest):
 * "built from apps/backend" for a build, "mirrored from postgres:17" for a mirrored upstream image.
 */
export function imageOrigins(resources: readonly RecordedResource[]): Map<string, string> {
    const origins = new Map<string, string>();
    for (const r of resources.filter((r) => r.type === IMAGE_TYPE)) {
        const { repository, build, mirror } = r.state as { repository?: string; build?: { context?: string }; mirror?: { source?: string } };
        if (!repository) continue;
        if (build?.context) origins.set(repository, `built from ${build.context}`);
        else if (mirror?.source) origins.set(repository, `mirrored from ${mirror.source}`);
    }
    return origins;
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

export interface ModelOptions {
    /** The name an object is shown by (the renderer's, which knows which names Pulumi only picks at deploy). @default labelOrName */
    readonly shown?: (object: KubeObject) => string;
    /** Where images come from, by image name (see `imageOrigins`). @default none */
    readonly origins?: ReadonlyMap<string, string>;
}

/** The note that says what the NetworkPolicies allow beyond the arrows, and what they deny. */
function networkNote(view: NetworkView, workloads: readonly KubeObject[], shown: (o: KubeObject) => string, blocks: boolean): DiagramNode {
    if (view.policies === 0) {
        return { id: "network", kind: "note", title: "no NetworkPolicy", details: ["every pod may connect", "to every other"], inNamespace: true };
    }
    const details = ["allow the solid arrows"];
    // Connections out of the namespace, grouped by destination: "and frontend, backend → kube-system :53 (DNS)".
    const out = new Map<string, string[]>();
    for (const w of workloads) {
        for (const peer of view.outsideEgress(w)) {
            const to = `${peer.where.replace(/^namespace /, "")}${peer.ports ? ` ${peer.ports}` : ""}${peer.ports === ":53" ? " (DNS)" : ""}`;
            out.set(to, [...(out.get(to) ?? []), shown(w)]);
        }
    }
    for (const [to, from] of out) details.push(`and ${from.join(", ")} → ${to}`);
    const open = (direction: "Ingress" | "Egress") => workloads.filter((w) => !view.isolated(w, direction)).map(shown);
    if (open("Ingress").length === 0 && open("Egress").length === 0) details.push("and deny all other traffic");
    if (open("Ingress").length > 0) details.push(`but leave open to all: ${open("Ingress").join(", ")}`);
    if (open("Egress").length > 0) details.push(`and let call anything: ${open("Egress").join(", ")}`);
    if (blocks) details.push("and block the red dashed arrows");
    return { id: "network", kind: "note", title: `${view.policies} ${plural("NetworkPolicy", view.policies)}`, details, inNamespace: true };
}

/** A stack's objects as the picture reads them: sorted, each with its node id, grouped by what they are. */
interface Scene {
    readonly all: readonly KubeObject[];
    readonly shown: (object: KubeObject) => string;
    readonly idOf: (object: KubeObject) => string;
    readonly namespaceObject?: KubeObject;
    readonly namespace: string;
    readonly ingresses: readonly KubeObject[];
    readonly services: readonly KubeObject[];
    readonly workloads: readonly KubeObject[];
    readonly autoscalers: readonly KubeObject[];
    readonly policies: readonly KubeObject[];
    readonly secrets: readonly KubeObject[];
    readonly network: NetworkView;
    /** The workloads a Service selects. */
    readonly selected: (service: KubeObject) => KubeObject[];
    /** Traffic when the policies let a caller reach every workload behind the Service, else blocked. */
    readonly judged: (service: KubeObject, reaches: (workload: KubeObject) => boolean) => EdgeKind;
}

/** A part of the picture: its nodes and edges, in drawing order. */
interface Part {
    readonly nodes: DiagramNode[];
    readonly edges: DiagramEdge[];
}

/** Builds the picture's graph from a stack's Kubernetes objects. */
export function buildModel(stack: string, objects: readonly KubeObject[], options: ModelOptions = {}): DiagramModel {
    const scene = sceneOf(objects, options.shown ?? labelOrName);
    const ingress = ingressPart(scene);
    const parts = [ingress, servicePart(scene), workloadPart(scene, ingress.controllerNamespaces, options.origins ?? new Map<string, string>()), secretPart(scene)];
    const edges = parts.flatMap((p) => p.edges);
    const notes = [
        ...(scene.workloads.length > 0 ? [networkNote(scene.network, scene.workloads, scene.shown, edges.some((e) => e.kind === "blocked"))] : []),
        ...restNote(scene),
    ];
    const nodes = [...parts.flatMap((p) => p.nodes), ...notes, ...registryNodes(scene)];
    return { title: `launchpad · stack ${stack}`, namespace: `namespace ${scene.namespace}`, nodes, edges };
}

/** Sorts the objects, gives each a node id unique in the picture, and reads the NetworkPolicies. */
function sceneOf(objects: readonly KubeObject[], shown: (object: KubeObject) => string): Scene {
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
    const ofKind = (...kinds: string[]) => all.filter((o) => kinds.includes(o.kind));
    const namespaceObject = ofKind("Namespace")[0];
    const namespace = namespaceObject?.metadata.name ?? all.find((o) => o.metadata.namespace)?.metadata.namespace ?? "default";
    const workloads = ofKind(...WORKLOAD_KIND_NAMES);
    const policies = ofKind("NetworkPolicy");
    const selected = (service: KubeObject) => workloads.filter((w) => selects(service.spec?.selector, podTemplateOf(w)?.metadata?.labels));
    return {
        all,
        shown,
        idOf: (o) => ids.get(o)!,
        namespaceObject,
        namespace,
        ingresses: ofKind("Ingress"),
        services: ofKind("Service"),
        workloads,
        autoscalers: ofKind("HorizontalPodAutoscaler"),
        policies,
        secrets: ofKind("Secret"),
        network: readNetworkPolicies(policies, namespace),
        selected,
        judged: (service, reaches) => (selected(service).every(reaches) ? "traffic" : "blocked"),
    };
}

/**
 * Browser → ingress controller (configured by an Ingress) → Services. Its traffic comes from outside the
 * namespace: a web tier's policies name where the controller runs, returned as `controllerNamespaces`.
 */
function ingressPart(scene: Scene): Part & { controllerNamespaces: Set<string> } {
    const { idOf, network, services, shown, selected, judged } = scene;
    const nodes: DiagramNode[] = [];
    const edges: DiagramEdge[] = [];
    const fromController = (w: KubeObject) => !network.isolated(w, "Ingress") || network.outsideIngress(w).length > 0;
    const controllerNamespaces = new Set<string>();
    if (scene.ingresses.length > 0) nodes.push({ id: "user", kind: "user", title: "browser", details: [], inNamespace: false });
    for (const ingress of scene.ingresses) {
        const tlsHosts = new Set<string>((ingress.spec?.tls ?? []).flatMap((t: any) => t.hosts ?? []));
        const rules: any[] = ingress.spec?.rules ?? [];
        const routed = rules.flatMap((r) => r.http?.paths ?? []).map((p: any) => services.find((s) => s.metadata.name === p.backend?.service?.name));
        const admitted = [...new Set(routed.flatMap((s) => (s ? selected(s) : [])).flatMap((w) => network.outsideIngress(w).map((p) => p.where)))]
            .filter((where) => where.startsWith("namespace ")).sort();
        admitted.forEach((where) => controllerNamespaces.add(where));
        const details = [
            ...(ingress.spec?.ingressClassName ? [`class ${ingress.spec.ingressClassName}`] : []),
            ...(admitted.length > 0 ? [`in ${admitted.join(" or ")}`] : []),
            `Ingress ${shown(ingress)}`,
            ...rules.map((r) => `host ${r.host ?? "*"}`),
            ...(ingress.spec?.tls ?? []).map((t: any) => `TLS from Secret ${t.secretName ?? "(default)"}`),
        ];
        nodes.push({ id: idOf(ingress), kind: "ingress", title: "ingress controller", details, inNamespace: false });
        const urls = rules.map((r) => `${tlsHosts.has(r.host) ? "https" : "http"}://${r.host ?? "*"}`);
        edges.push({ from: "user", to: idOf(ingress), label: urls.join(", ") || undefined, kind: "traffic" });
        for (const rule of rules) {
            for (const p of rule.http?.paths ?? []) {
                const service = services.find((s) => s.metadata.name === p.backend?.service?.name);
                const label = `${rules.length > 1 ? rule.host ?? "*" : ""}${p.path ?? "/"}`;
                if (service) edges.push({ from: idOf(ingress), to: idOf(service), label, kind: judged(service, fromController) });
            }
        }
    }
    return { nodes, edges, controllerNamespaces };
}

/** Services → the workloads they select. */
function servicePart(scene: Scene): Part {
    const { idOf, shown } = scene;
    const nodes: DiagramNode[] = [];
    const edges: DiagramEdge[] = [];
    for (const service of scene.services) {
        const details = (service.spec?.ports ?? []).map(portText);
        if (service.spec?.clusterIP === "None") details.push("headless");
        if (service.spec?.type && service.spec.type !== "ClusterIP") details.push(service.spec.type);
        nodes.push({ id: idOf(service), kind: "service", title: `Service ${shown(service)}`, details, inNamespace: true });
        for (const workload of scene.selected(service)) edges.push({ from: idOf(service), to: idOf(workload), kind: "traffic" });
    }
    return { nodes, edges };
}

/** Workloads: replicas, images, storage, who may connect; the Services they call. */
function workloadPart(scene: Scene, controllerNamespaces: ReadonlySet<string>, origins: ReadonlyMap<string, string>): Part {
    const { idOf, network, shown, workloads } = scene;
    const nodes: DiagramNode[] = [];
    const edges: DiagramEdge[] = [];
    /** Who the policies let connect to an isolated workload: "backend", "ingress controller", "namespace x". */
    const sources = (workload: KubeObject) => [
        ...workloads.filter((w) => network.allows({ workload: w }, workload)).map(shown),
        ...network.outsideIngress(workload).map((p) => (controllerNamespaces.has(p.where) ? "ingress controller" : p.where)),
    ].filter((s, i, list) => list.indexOf(s) === i);
    for (const workload of workloads) {
        const claims: any[] = workload.kind === "StatefulSet" ? workload.spec?.volumeClaimTemplates ?? [] : [];
        const images = containersOf(workload).map((c) => splitImage(String(c.image)));
        const from = sources(workload);
        const details = [
            ...[replicasText(workload, [...scene.autoscalers])].filter((d): d is string => d !== undefined),
            ...images.flatMap((i) => [`image ${i.shown}`, ...(origins.has(i.name) ? [origins.get(i.name)!] : [])]),
            ...claims.map(storageText),
            ...(network.isolated(workload, "Ingress") ? [from.length > 0 ? `only from ${from.join(", ")}` : "no one may connect"] : []),
        ];
        nodes.push({ id: idOf(workload), kind: claims.length > 0 ? "database" : "workload", title: `${workload.kind} ${shown(workload)}`, details, inNamespace: true });
        for (const { service, via } of servicesReached(workload, [...scene.services])) {
            const kind = scene.judged(service, (target) => network.allows({ workload }, target));
            edges.push({ from: idOf(workload), to: idOf(service), label: kind === "blocked" ? `${via} (blocked)` : via, kind });
        }
    }
    return { nodes, edges };
}

/** Secrets, and who reads them. */
function secretPart(scene: Scene): Part {
    const { idOf, shown } = scene;
    const nodes: DiagramNode[] = [];
    const edges: DiagramEdge[] = [];
    for (const secret of scene.secrets) {
        const keys = Object.keys({ ...(secret.data ?? {}), ...(secret.stringData ?? {}) }).sort();
        nodes.push({ id: idOf(secret), kind: "secret", title: `Secret ${shown(secret)}`, details: keys.length ? [`keys ${keys.join(", ")}`] : [], inNamespace: true });
        for (const workload of scene.workloads) {
            const how = secretsUsed(workload).get(secret.metadata.name);
            if (how) edges.push({ from: idOf(secret), to: idOf(workload), label: [...how].join(", "), kind: "reference" });
        }
    }
    return { nodes, edges };
}

/** Everything else the stack creates, counted, so nothing disappears from the picture silently. */
function restNote(scene: Scene): DiagramNode[] {
    const drawn = new Set<KubeObject>([
        ...(scene.namespaceObject ? [scene.namespaceObject] : []),
        ...scene.autoscalers, ...scene.policies, ...scene.ingresses, ...scene.services, ...scene.workloads, ...scene.secrets,
    ]);
    const rest = new Map<string, number>();
    for (const o of scene.all.filter((o) => !drawn.has(o))) rest.set(o.kind, (rest.get(o.kind) ?? 0) + 1);
    if (rest.size === 0) return [];
    const details = [...rest].map(([kind, n]) => `${n} ${plural(kind, n)}`);
    return [{ id: "also", kind: "note", title: "also in the namespace", details, inNamespace: true }];
}

/** The registries the workloads pull from, below the namespace, each saying whose images and how they are pinned. */
function registryNodes(scene: Scene): DiagramNode[] {
    const registries = new Map<string, Map<KubeObject, boolean>>();
    for (const workload of scene.workloads) {
        for (const i of containersOf(workload).map((c) => splitImage(String(c.image)))) {
            registries.set(i.registry, (registries.get(i.registry) ?? new Map()).set(workload, i.byDigest));
        }
    }
    return [...registries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([registry, users]) => {
        // Who pulls from it is said in words: arrows from below to every workload would cross the picture.
        const pinned = [...users.values()].every((byDigest) => byDigest);
        const details = [`images of ${[...users.keys()].map(scene.shown).join(", ")}`, pinned ? "pulled by digest" : "pulled by tag"];
        return { id: nodeId("registry", registry), kind: "registry" as const, title: `registry ${registry}`, details, inNamespace: false };
    });
}

/**
 * Pairs of nodes to draw one above the other where no edge says so: the notes below the workloads and
 * Secrets, one under another, and the registries below the notes (the bottom of the picture).
 */
export function layering(model: DiagramModel): { above: DiagramNode; below: DiagramNode }[] {
    const notes = model.nodes.filter((n) => n.inNamespace && n.kind === "note");
    const pairs = (above: readonly DiagramNode[], below: readonly DiagramNode[]) => above.flatMap((a) => below.map((b) => ({ above: a, below: b })));
    return [
        ...pairs(model.nodes.filter((n) => n.kind === "workload" || n.kind === "database" || n.kind === "secret"), notes.slice(0, 1)),
        ...notes.slice(1).flatMap((n, i) => pairs([notes[i]], [n])),
        ...pairs(notes.slice(-1), model.nodes.filter((n) => n.kind === "registry")),
    ];
}
