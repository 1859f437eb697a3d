// The one boundary between backup/restore and the cluster: list the database's pods, run a command in
// its container. The live implementation goes through the API server (client-node's Exec, a WebSocket);
// tests put a fake in its place and keep every decision of backup.ts and restore.ts.

import type { V1Pod, V1Status } from "@kubernetes/client-node";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { type ClusterRef, openCluster } from "../../lib/kubernetesClient";

/** A pod as backup and restore judge it. */
export interface PodState {
    readonly name: string;
    readonly ready: boolean;
    /** Being deleted (a rollout or a `down` in progress). */
    readonly deleting: boolean;
    /** Why it is not Ready, in the cluster's words: its phase and its containers' waiting reasons. */
    readonly why: string;
}

/** A container to run a command in. */
export interface ContainerRef {
    readonly namespace: string;
    readonly pod: string;
    readonly container: string;
}

export interface ExecIo {
    /** Sent to the command's stdin, then stdin is closed; without it the command has no stdin. */
    readonly stdin?: Readable;
    /** Receives the command's stdout, and is ended when the command ends. */
    readonly stdout?: Writable;
    /** Aborting ends the session (the command may still finish in the container). */
    readonly signal?: AbortSignal;
}

/** How a command ended: its exit code (-1 when the cluster did not say one) and the end of its stderr. */
export interface ExecResult {
    readonly exitCode: number;
    readonly stderr: string;
}

/** What backup and restore need of the cluster. Throws ClusterError, whose message is one line naming the cause. */
export interface DatabaseCluster {
    /** The pods of a namespace that match a label selector. */
    listPods(namespace: string, selector: string): Promise<PodState[]>;
    /** Runs a command (no shell unless it is one) in a container; resolves once it ended and its stdout was written. */
    exec(where: ContainerRef, command: readonly string[], io: ExecIo): Promise<ExecResult>;
}

/** The cluster could not be asked, or the session broke: the message says which, in one line. */
export class ClusterError extends Error {
    /** `message` is the cause; `todo`, when known, what the user can do about it (a sentence). */
    constructor(message: string, readonly todo?: string) {
        super(message);
        this.name = "ClusterError";
    }
}

/** The exec protocol that can close stdin alone (Kubernetes 1.30+); the older ones close the whole session. */
const CLOSABLE_STDIN_PROTOCOL = "v5.channel.k8s.io";
/** How much of the input may wait in the WebSocket's buffer before reading the file pauses. */
const STDIN_HIGH_WATER = 4 * 1024 * 1024;
/** How much of a command's stderr is kept (its last bytes). */
const STDERR_KEPT = 8192;
const WS_OPEN = 1;
const FIX_CONTEXT = "Check launchpad:kubeContext (and launchpad:kubeconfig) in the stack file.";
const RIGHTS = "The kubeconfig's user needs get and list on pods and create on pods/exec in the app's namespace.";

/** One line for an error from client-node or its WebSocket (an ErrorEvent carries its error inside). */
function errorText(e: unknown): string {
    const err = e as { message?: string; error?: { message?: string; code?: string }; cause?: { code?: string }; code?: number | string; body?: unknown };
    const message = err?.error?.message ?? err?.message ?? String(e);
    return message.split("\n")[0];
}

/** Why a pod is not Ready, from its status. */
function whyNotReady(pod: V1Pod): string {
    const phase = pod.status?.phase ?? "Unknown";
    const waiting = (pod.status?.containerStatuses ?? [])
        .map((c) => c.state?.waiting?.reason ?? (c.state?.terminated ? `terminated: ${c.state.terminated.reason ?? `exit code ${c.state.terminated.exitCode}`}` : undefined))
        .filter((r): r is string => Boolean(r));
    const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
    const said = waiting.length ? waiting.join(", ") : (ready?.message ?? ready?.reason);
    return said ? `${phase}: ${said}` : phase;
}

export function podState(pod: V1Pod): PodState {
    return {
        name: pod.metadata?.name ?? "",
        ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
        deleting: Boolean(pod.metadata?.deletionTimestamp),
        why: whyNotReady(pod),
    };
}

/** The exit code a finished exec's status says: 0 on success, the code of NonZeroExitCode, -1 otherwise. */
export function exitCodeOf(status: V1Status): number {
    if (status.status === "Success") return 0;
    const code = status.details?.causes?.find((c) => c.reason === "ExitCode")?.message;
    return code !== undefined && /^\d+$/.test(code) ? Number(code) : -1;
}

/** Opens the kubeconfig for a context: the client, its API and exec clients. */
async function connect(where: ClusterRef) {
    let opened: Awaited<ReturnType<typeof openCluster>>;
    try {
        opened = await openCluster(where);
    } catch (e) {
        throw new ClusterError(`the kubeconfig of context ${where.context} cannot be used: ${errorText(e)}`, FIX_CONTEXT);
    }
    const { k8s, kc } = opened;
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new ClusterError(`the kubeconfig has no context ${where.context}`, FIX_CONTEXT);
    return { server, core: kc.makeApiClient(k8s.CoreV1Api), execApi: new k8s.Exec(kc) };
}

/**
 * The stack's cluster through its kubeconfig context: pods through the API, commands through its exec
 * WebSocket. The kubeconfig is read on the first call, so its problems are reported like the cluster's.
 */
export function liveCluster(where: ClusterRef): DatabaseCluster {
    let connection: ReturnType<typeof connect> | undefined;
    const open = () => (connection ??= connect(where));
    return {
        async listPods(namespace, selector) {
            const { core, server } = await open();
            try {
                const list = await core.listNamespacedPod({ namespace, labelSelector: selector });
                return list.items.map(podState);
            } catch (e) {
                const code = (e as { code?: number }).code;
                if (typeof code === "number") throw new ClusterError(`the cluster of context ${where.context} refused to list the pods of namespace ${namespace} (HTTP ${code})`, code === 401 || code === 403 ? RIGHTS : undefined);
                const cause = (e as { cause?: { code?: string } }).cause?.code;
                throw new ClusterError(`the cluster of context ${where.context} does not answer: ${server} (${cause ?? errorText(e)})`, `Start it, or check launchpad:kubeContext (and launchpad:kubeconfig) in the stack file.`);
            }
        },

        async exec({ namespace, pod, container }, command, io) {
            const { execApi } = await open();
            const stdout = new PassThrough();
            const stderr = new PassThrough();
            const stdin = io.stdin ? new PassThrough() : null;
            let errorTail = "";
            stderr.on("data", (d: Buffer) => (errorTail = (errorTail + d.toString("utf8")).slice(-STDERR_KEPT)));
            const written = io.stdout ? pipeline(stdout, io.stdout) : (stdout.resume(), finished(stdout));
            written.catch(() => undefined);
            let status: V1Status | undefined;
            let conn: Awaited<ReturnType<typeof execApi.exec>>;
            try {
                conn = await execApi.exec(namespace, pod, container, [...command], stdout, stderr, stdin, false, (s) => (status = s));
            } catch (e) {
                stdout.destroy();
                throw new ClusterError(`the API server refused to exec into pod ${namespace}/${pod}: ${errorText(e)}`, /\b40[13]\b/.test(errorText(e)) ? RIGHTS : undefined);
            }
            conn.on("error", () => undefined);
            const closed = new Promise<void>((resolve) => (conn.readyState > WS_OPEN ? resolve() : conn.once("close", () => resolve())));
            const abort = () => conn.close();
            io.signal?.addEventListener("abort", abort, { once: true });
            try {
                if (io.stdin && stdin) {
                    if (conn.protocol !== CLOSABLE_STDIN_PROTOCOL) {
                        conn.close();
                        throw new ClusterError(`the API server speaks ${conn.protocol || "an old exec protocol"}, which cannot close a command's input: restore needs ${CLOSABLE_STDIN_PROTOCOL} (Kubernetes 1.30 or newer)`);
                    }
                    for await (const chunk of io.stdin) {
                        if (conn.readyState !== WS_OPEN) break;
                        stdin.write(chunk);
                        while (conn.bufferedAmount > STDIN_HIGH_WATER && conn.readyState === WS_OPEN) await new Promise((r) => setTimeout(r, 5));
                    }
                    stdin.end();
                }
                await closed;
            } finally {
                io.signal?.removeEventListener("abort", abort);
            }
            if (!stdout.writableEnded) stdout.end();
            // A failure to write the output (a full disk) is the caller's to report, not the cluster's.
            const writeError = await written.then(() => undefined, (e: unknown) => e);
            const ended = status as V1Status | undefined;
            if (!ended) throw new ClusterError(`the session with pod ${namespace}/${pod} closed before the command ended`);
            if (writeError) throw writeError;
            const exitCode = exitCodeOf(ended);
            return { exitCode, stderr: exitCode === -1 && ended.message ? `${errorTail}${ended.message}\n` : errorTail };
        },
    };
}
