import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";

// The Kubernetes client (@kubernetes/client-node), loaded only by what talks to a live cluster: the
// doctor's live mode, up's cluster checks, the testbed.

export type KubernetesClient = typeof import("@kubernetes/client-node");

// @kubernetes/client-node 2.x is ESM-only. TypeScript compiling to CommonJS would turn `import()` into
// `require()`, which older Node 22 releases refuse for ESM; a real dynamic import keeps it an import.
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

/** Loads the Kubernetes client; only live mode pays for it. */
export async function loadKubernetesClient(): Promise<KubernetesClient> {
    return (await importModule("@kubernetes/client-node")) as KubernetesClient;
}

/** A cluster to talk to: a kubeconfig context, in a given kubeconfig file or the default one. */
export interface ClusterRef {
    readonly context: string;
    readonly kubeconfig?: string;
}

/** A client configuration for a cluster (`~` in the kubeconfig path means the home folder, as in the stack file). */
export async function openCluster(where: ClusterRef) {
    const k8s = await loadKubernetesClient();
    const kc = new k8s.KubeConfig();
    if (where.kubeconfig) kc.loadFromFile(where.kubeconfig.replace(/^~(?=\/|$)/, os.homedir()));
    else kc.loadFromDefault();
    kc.setCurrentContext(where.context);
    return { k8s, kc };
}

/** What a GET of the cluster's API answered: the HTTP status, and the body (parsed when it is JSON). */
export interface ApiAnswer {
    readonly status: number;
    readonly body: unknown;
}

/** How to reach a cluster's API server: its URL and what node:https needs for its TLS and login. */
export interface Connection {
    readonly server: string;
    readonly tls: Pick<https.RequestOptions, "ca" | "cert" | "key" | "rejectUnauthorized" | "servername">;
    readonly headers: Readonly<Record<string, string>>;
}

type Named<T> = { readonly name?: string } & T;
interface KubeconfigFile {
    readonly "current-context"?: string;
    readonly contexts?: Named<{ readonly context?: { readonly cluster?: string; readonly user?: string } }>[];
    readonly clusters?: Named<{ readonly cluster?: Readonly<Record<string, unknown>> }>[];
    readonly users?: Named<{ readonly user?: Readonly<Record<string, unknown>> }>[];
}

/** The cluster and user fields read here; any other one (an exec plugin, an auth provider, a proxy) is the client's to use. */
const CLUSTER_FIELDS = new Set(["server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify", "tls-server-name", "extensions"]);
const USER_FIELDS = new Set(["client-certificate", "client-certificate-data", "client-key", "client-key-data", "token", "tokenFile", "extensions"]);

/**
 * The connection of a kubeconfig context whose login is certificates or a bearer token (kind, the
 * testbed, most clusters a team runs itself), read from the file alone; undefined for anything else
 * (several files in KUBECONFIG, a context or field this does not know), which the Kubernetes client
 * handles. Paths in the file are relative to the file, as kubectl reads them.
 */
export function simpleConnection(where: ClusterRef, env: Readonly<Record<string, string | undefined>> = process.env): Connection | undefined {
    const files = where.kubeconfig ? [where.kubeconfig.replace(/^~(?=\/|$)/, os.homedir())] : (env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f !== "");
    const file = files.length === 0 ? path.join(os.homedir(), ".kube", "config") : files.length === 1 ? files[0] : undefined;
    if (file === undefined) return undefined;
    try {
        const config = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as KubeconfigFile;
        const contextName = where.context || config["current-context"];
        const context = config.contexts?.find((c) => c.name === contextName)?.context;
        const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
        const user = config.users?.find((u) => u.name === context?.user)?.user ?? {};
        if (cluster === undefined || typeof cluster.server !== "string") return undefined;
        if (Object.keys(cluster).some((k) => !CLUSTER_FIELDS.has(k)) || Object.keys(user).some((k) => !USER_FIELDS.has(k))) return undefined;
        const dir = path.dirname(file);
        const read = (data: unknown, at: unknown) =>
            typeof data === "string" ? Buffer.from(data, "base64") : typeof at === "string" ? fs.readFileSync(path.resolve(dir, at)) : undefined;
        const token = typeof user.token === "string" ? user.token : typeof user.tokenFile === "string" ? fs.readFileSync(path.resolve(dir, user.tokenFile), "utf8").trim() : undefined;
        return {
            server: cluster.server.replace(/\/+$/, ""),
            tls: {
                ca: read(cluster["certificate-authority-data"], cluster["certificate-authority"]),
                cert: read(user["client-certificate-data"], user["client-certificate"]),
                key: read(user["client-key-data"], user["client-key"]),
                rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
                servername: typeof cluster["tls-server-name"] === "string" ? cluster["tls-server-name"] : undefined,
            },
            headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
        };
    } catch {
        return undefined;
    }
}

/** The connection the Kubernetes client makes of the context: for the logins simpleConnection leaves to it. */
async function clientConnection(where: ClusterRef): Promise<Connection> {
    const { kc } = await openCluster(where);
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const server = kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error(`the kubeconfig has no cluster for context ${where.context}`);
    const { ca, cert, key, rejectUnauthorized, servername } = options;
    return { server: server.replace(/\/+$/, ""), tls: { ca, cert, key, rejectUnauthorized, servername }, headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k, String(v)])) };
}

/** The cluster's connection: read from its kubeconfig when that is enough, else from the Kubernetes client. */
export async function connectionOf(where: ClusterRef): Promise<Connection> {
    return simpleConnection(where) ?? clientConnection(where);
}

/**
 * GETs `apiPath` (with its query) of the cluster's API, within `timeoutMs`. For the few reads `npm run
 * up` makes beside the engine and after it, which with certificates or a token load no Kubernetes client
 * (its load took 0.4 s of CPU and 85 MiB of the command). A connection that fails rejects with Node's
 * error (its `code`: ECONNREFUSED, …); any HTTP status is an answer.
 */
export function getFromCluster(connection: Connection, apiPath: string, timeoutMs = 10_000): Promise<ApiAnswer> {
    return new Promise((resolve, reject) => {
        const request = https.get(`${connection.server}${apiPath}`, { ...connection.tls, headers: { Accept: "application/json", ...connection.headers }, timeout: timeoutMs }, (response) => {
            let text = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (text += chunk));
            response.on("end", () => {
                let body: unknown = text;
                try {
                    body = JSON.parse(text);
                } catch {
                    // not JSON: the text as it came
                }
                resolve({ status: response.statusCode ?? 0, body });
            });
            response.on("error", reject);
        });
        request.on("timeout", () => request.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: "timeout" })));
        request.on("error", reject);
    });
}
