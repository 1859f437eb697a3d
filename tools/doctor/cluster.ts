// The boundary to the cluster: what the doctor reads, either from `kubectl ... -o json` files or live
// through the stack's kubeconfig context. Tests replace it; nothing else here talks to Kubernetes.

import { promises as fs } from "node:fs";
import { UsageError } from "../cli";
import type { KubeNode, KubePod } from "./schedule";

/** A class the cluster offers (IngressClass or StorageClass), and whether it is the cluster's default. */
export interface ClassInfo { name: string; isDefault: boolean; detail?: string }

/** What the doctor knows of the cluster. Classes are undefined when they were not read (offline files). */
export interface ClusterSnapshot {
    nodes: KubeNode[];
    pods: KubePod[];
    ingressClasses?: ClassInfo[];
    storageClasses?: ClassInfo[];
    /** The API server's gitVersion ("v1.37.2"), when read live: the scheduler's wording follows it. */
    serverVersion?: string;
}

export interface ClusterSource {
    /** Where the data comes from, for the report ("nodes.json", "context kind-launchpad"). */
    readonly description: string;
    /** True when reading the live cluster, so online checks (registry, classes) make sense. */
    readonly live: boolean;
    read(): Promise<ClusterSnapshot>;
}

// ---------------------------------------------------------------------------------------------------
// Files: `kubectl get nodes -o json` and `kubectl get pods -A -o json`

/**
 * The items of a `kubectl get <kind> -o json` document (a List, a NodeList/PodList, or one object),
 * checked enough that a wrong file says so in one line instead of failing somewhere deep.
 */
export function parseKubectlList<T>(text: string, file: string, kind: "Node" | "Pod", flag: string): T[] {
    const hint = `expected the output of \`kubectl get ${kind === "Node" ? "nodes" : "pods -A"} -o json\``;
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new UsageError(`${flag} ${file}: not valid JSON (${(e as Error).message}); ${hint}`);
    }
    if (!doc || typeof doc !== "object") throw new UsageError(`${flag} ${file}: ${hint}`);
    const d = doc as { kind?: string; items?: unknown };
    const items = Array.isArray(d.items) ? d.items : d.kind === kind ? [doc] : undefined;
    if (!items) throw new UsageError(`${flag} ${file}: no "items" list; ${hint}`);
    items.forEach((item, i) => {
        const it = item as { kind?: string; metadata?: { name?: unknown }; spec?: unknown };
        if (!it || typeof it !== "object" || typeof it.metadata?.name !== "string") {
            throw new UsageError(`${flag} ${file}: item ${i} has no metadata.name; ${hint}`);
        }
        if (it.kind !== undefined && it.kind !== kind) {
            throw new UsageError(`${flag} ${file}: item ${i} (${it.metadata.name}) is a ${it.kind}, not a ${kind}; ${hint}`);
        }
        if (kind === "Pod" && (!it.spec || typeof it.spec !== "object")) {
            throw new UsageError(`${flag} ${file}: pod ${it.metadata.name} has no spec; ${hint}`);
        }
    });
    return items as T[];
}

async function readText(file: string, flag: string): Promise<string> {
    try {
        return await fs.readFile(file, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
        throw new UsageError(`${flag} ${file}: cannot read it (${why})`);
    }
}

/** The cluster as two kubectl dumps: offline, so IngressClasses and StorageClasses are not known. */
export class FileClusterSource implements ClusterSource {
    readonly live = false;
    constructor(readonly nodesFile: string, readonly podsFile?: string) {}

    get description(): string {
        return this.podsFile ? `${this.nodesFile} and ${this.podsFile}` : this.nodesFile;
    }

    async read(): Promise<ClusterSnapshot> {
        const nodes = parseKubectlList<KubeNode>(await readText(this.nodesFile, "--nodes"), this.nodesFile, "Node", "--nodes");
        const pods = this.podsFile ? parseKubectlList<KubePod>(await readText(this.podsFile, "--pods"), this.podsFile, "Pod", "--pods") : [];
        return { nodes, pods };
    }
}

// ---------------------------------------------------------------------------------------------------
// Live: @kubernetes/client-node, loaded only when needed

type KubernetesClient = typeof import("@kubernetes/client-node");

// @kubernetes/client-node 2.x is ESM-only. TypeScript compiling to CommonJS would turn `import()` into
// `require()`, which older Node 22 releases refuse for ESM; a real dynamic import keeps it an import.
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

/** Loads the Kubernetes client; only live mode pays for it. */
export async function loadKubernetesClient(): Promise<KubernetesClient> {
    return (await importModule("@kubernetes/client-node")) as KubernetesClient;
}

function isDefault(annotations: Record<string, string> | undefined, keys: string[]): boolean {
    return keys.some((k) => annotations?.[k] === "true");
}

/** Plain JSON, as kubectl prints it: the client's model objects carry Dates and class instances. */
function plain<T>(value: unknown): T {
    return JSON.parse(JSON.stringify(value)) as T;
}

function oneLine(e: unknown): string {
    const err = e as { message?: string; code?: number | string; cause?: { code?: string; message?: string } };
    const cause = err.cause?.code ?? err.cause?.message;
    return `${String(err.message ?? e).split("\n")[0]}${cause ? ` (${cause})` : ""}`;
}

/** Which cluster to read: a kubeconfig context (in a file, or the default kubeconfig). */
export interface LiveCluster {
    readonly context: string;
    readonly kubeconfig?: string;
    /** The kind cluster behind the context, when `npm run up` creates it (a kind stack): a missing context then means it does not exist yet. */
    readonly kindCluster?: string;
}

/** The live cluster behind a kubeconfig context: nodes, running pods, IngressClasses and StorageClasses. */
export class LiveClusterSource implements ClusterSource {
    readonly live = true;
    constructor(readonly cluster: LiveCluster, private readonly load = loadKubernetesClient) {}

    get description(): string {
        return `context ${this.cluster.context}${this.cluster.kubeconfig ? ` in ${this.cluster.kubeconfig}` : ""}`;
    }

    async read(): Promise<ClusterSnapshot> {
        const k8s = await this.load();
        const kc = new k8s.KubeConfig();
        try {
            if (this.cluster.kubeconfig) kc.loadFromFile(this.cluster.kubeconfig);
            else kc.loadFromDefault();
        } catch (e) {
            throw new UsageError(`cannot load kubeconfig ${this.cluster.kubeconfig ?? "(default)"}: ${oneLine(e)}`);
        }
        if (!kc.getContextObject(this.cluster.context) && this.cluster.kindCluster !== undefined) {
            throw new UsageError(
                `the kind cluster "${this.cluster.kindCluster}" does not exist yet (the kubeconfig has no context ${this.cluster.context}); \`npm run up\` creates it, or pass --nodes to check against kubectl's dumps of another cluster`,
            );
        }
        if (!kc.getContextObject(this.cluster.context)) {
            const known = kc.getContexts().map((c) => c.name);
            throw new UsageError(
                `kubeconfig has no context "${this.cluster.context}"${known.length ? ` (it has: ${known.join(", ")})` : ""}; set the stack's cluster context or pass --nodes`,
            );
        }
        kc.setCurrentContext(this.cluster.context);
        const core = kc.makeApiClient(k8s.CoreV1Api);
        const networking = kc.makeApiClient(k8s.NetworkingV1Api);
        const storage = kc.makeApiClient(k8s.StorageV1Api);
        try {
            const [nodes, pods, ingressClasses, storageClasses, version] = await Promise.all([
                core.listNode(),
                core.listPodForAllNamespaces({ fieldSelector: "status.phase!=Succeeded,status.phase!=Failed" }),
                networking.listIngressClass(),
                storage.listStorageClass(),
                kc.makeApiClient(k8s.VersionApi).getCode(),
            ]);
            return {
                serverVersion: version.gitVersion,
                nodes: plain<KubeNode[]>(nodes.items),
                pods: plain<KubePod[]>(pods.items),
                ingressClasses: ingressClasses.items.map((c) => ({
                    name: c.metadata?.name ?? "",
                    isDefault: isDefault(c.metadata?.annotations, ["ingressclass.kubernetes.io/is-default-class"]),
                    detail: c.spec?.controller,
                })),
                storageClasses: storageClasses.items.map((c) => ({
                    name: c.metadata?.name ?? "",
                    isDefault: isDefault(c.metadata?.annotations, [
                        "storageclass.kubernetes.io/is-default-class",
                        "storageclass.beta.kubernetes.io/is-default-class",
                    ]),
                    detail: c.provisioner,
                })),
            };
        } catch (e) {
            const kind = this.cluster.kindCluster === undefined ? "" : `; if the kind cluster "${this.cluster.kindCluster}" is stopped, \`npm run up\` starts it`;
            throw new UsageError(`cannot read the cluster through ${this.description}: ${oneLine(e)}${kind}`);
        }
    }
}
