// The boundary to the cluster: what the doctor reads, either from `kubectl ... -o json` files or live
// through the stack's kubeconfig context. Tests replace it; nothing else here talks to Kubernetes.

import { existsSync, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadKubernetesClient } from "../../lib/kubernetesClient";
import { Failure, UsageError } from "../cli";
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
    /** The stack whose cluster this is, to name its file in what to change. */
    readonly stack?: string;
}

/** The kubeconfig files the client reads: the stack's, else $KUBECONFIG's list, else ~/.kube/config. */
export function kubeconfigFiles(kubeconfig: string | undefined, env: NodeJS.ProcessEnv): string[] {
    if (kubeconfig) return [kubeconfig];
    const listed = (env.KUBECONFIG ?? "").split(path.delimiter).filter(Boolean);
    return listed.length > 0 ? listed : [path.join(env.HOME || os.homedir(), ".kube", "config")];
}

/** How to check a cluster the doctor cannot reach: kubectl's dumps, taken where it is reachable. */
const OFFLINE = "or check it offline with --nodes <file> from `kubectl get nodes -o json` (and --pods <file> from `kubectl get pods -A -o json`), taken where the cluster is reachable";

/** The live cluster behind a kubeconfig context: nodes, running pods, IngressClasses and StorageClasses. */
export class LiveClusterSource implements ClusterSource {
    readonly live = true;
    constructor(
        readonly cluster: LiveCluster,
        private readonly load = loadKubernetesClient,
        private readonly env: NodeJS.ProcessEnv = process.env,
    ) {}

    get description(): string {
        return `context ${this.cluster.context}${this.cluster.kubeconfig ? ` in ${this.cluster.kubeconfig}` : ""}`;
    }

    async read(): Promise<ClusterSnapshot> {
        const { context, kubeconfig, kindCluster, stack } = this.cluster;
        const files = kubeconfigFiles(kubeconfig, this.env);
        const stackFile = stack ? `Pulumi.${stack}.yaml` : "the stack file";
        // Without any kubeconfig the client makes one up (a "loaded-context" on localhost): say what is missing instead.
        const present = files.filter((f) => existsSync(f));
        const where = files.join(path.delimiter);
        if (kindCluster !== undefined && present.length === 0) {
            throw new Failure(`the kind cluster "${kindCluster}" does not exist yet (there is no kubeconfig: ${where} does not exist); \`npm run up\` creates it, ${OFFLINE.replace(/^or /, "or, for another cluster, ")}`);
        }
        if (present.length === 0) {
            throw new Failure(
                `there is no kubeconfig (${where} does not exist), so the doctor cannot reach the cluster of context "${context}" (launchpad:kubeContext in ${stackFile}). ` +
                    `Get the cluster's kubeconfig (gcloud container clusters get-credentials, aws eks update-kubeconfig, az aks get-credentials, or from its admins), ` +
                    `or set launchpad:kubeconfig in ${stackFile} to the file that has it; ${OFFLINE}`,
            );
        }
        const k8s = await this.load();
        const kc = new k8s.KubeConfig();
        try {
            if (kubeconfig) kc.loadFromFile(kubeconfig);
            else kc.loadFromDefault();
        } catch (e) {
            throw new Failure(`cannot load the kubeconfig ${where}: ${oneLine(e)}`);
        }
        if (!kc.getContextObject(context) && kindCluster !== undefined) {
            throw new Failure(
                `the kind cluster "${kindCluster}" does not exist yet (the kubeconfig has no context ${context}); \`npm run up\` creates it, or pass --nodes to check against kubectl's dumps of another cluster`,
            );
        }
        if (!kc.getContextObject(context)) {
            const known = kc.getContexts().map((c) => c.name);
            throw new Failure(
                `the kubeconfig ${where} has no context "${context}"${known.length ? ` (it has: ${known.join(", ")})` : ""}: set launchpad:kubeContext in ${stackFile} ` +
                    `to the cluster's context (\`kubectl config get-contexts\` lists them), or launchpad:kubeconfig to the file that has it; ${OFFLINE}`,
            );
        }
        kc.setCurrentContext(context);
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
            throw new Failure(`cannot read the cluster through ${this.description}: ${oneLine(e)}${kind}`);
        }
    }
}
