// The cluster as `npm run logs` sees it: the app's pods, their logs and their changes. The command
// takes a LogCluster; `liveLogCluster` is the one over the API server (@kubernetes/client-node), and
// tests give it one of their own.

import * as http from "node:http";
import * as https from "node:https";
import type { V1Pod } from "@kubernetes/client-node";
import { Failure, firstLine } from "../cli";
import type { AppTarget } from "../appTarget";
import { openCluster } from "../../lib/kubernetesClient";
import { LineSplitter } from "./lines";

/** One container of a pod, as far as its logs go. */
export interface ContainerState {
    readonly name: string;
    /** The runtime's id of the pod's current container of this name (a new one at each restart); none before the first start. */
    readonly id?: string;
    readonly restartCount: number;
    /** Running now: its log grows. */
    readonly running: boolean;
    /** Has run (running or ended): it has a log to read. */
    readonly started: boolean;
    /** Why it waits, when it does ("CrashLoopBackOff: back-off 10s restarting …"). */
    readonly waiting?: string;
    /** How the previous container of this name ended, once it was restarted. */
    readonly lastEnded?: { readonly reason?: string; readonly exitCode?: number; readonly finishedAt?: string };
}

/** A pod of the app, as far as its logs go. */
export interface PodState {
    readonly name: string;
    readonly uid: string;
    /** Its tier: the value of `app.kubernetes.io/name` (frontend, backend, db). */
    readonly tier: string;
    /** Being deleted (a rollout replaces it): its containers are stopping. */
    readonly deleting: boolean;
    readonly containers: readonly ContainerState[];
}

/** One log request: a container's log, or its previous container's (`previous`), from a point on. */
export interface LogRequest {
    readonly pod: string;
    readonly container: string;
    readonly previous?: boolean;
    readonly sinceSeconds?: number;
    /** RFC 3339: lines stamped at or after it (the API server keeps whole seconds). */
    readonly sinceTime?: string;
    readonly tailLines?: number;
}

/**
 * A log being followed: `ended` settles when the stream ends: "end" when the server ended it (the
 * container stopped, as a rule), "cut" when the connection broke or could not be made, or it was stopped.
 */
export interface Following {
    readonly ended: Promise<"end" | "cut">;
    stop(): void;
}

/** What a pod watch reports: a pod that appeared or changed, a pod that is gone, and trouble on the way (it keeps trying). */
export interface PodEvents {
    changed(pod: PodState): void;
    deleted(pod: PodState): void;
    trouble(why: string): void;
}

/** The boundary `npm run logs` talks to the cluster through, for one stack and one pod selector. */
export interface LogCluster {
    /** The app's pods now; throws ClusterError when the cluster cannot be asked. */
    listPods(): Promise<PodState[]>;
    /** A container's log, each line with its timestamp first ("2026-12-07T07:30:01.5Z text"). */
    readLog(request: LogRequest): Promise<string[]>;
    /** Follows a container's log, each line stamped as in readLog, until it ends or is stopped. */
    followLog(request: LogRequest, onLine: (line: string) => void): Following;
    /** Watches the app's pods (first every pod there is, as `changed`) until stopped. */
    watchPods(events: PodEvents): { stop(): void };
}

/** The cluster cannot be asked (it does not answer, or refuses): a failure, in one line that names the context. */
export class ClusterError extends Failure {
    constructor(message: string) {
        super(message);
        this.name = "ClusterError";
    }
}

/** A pod as the API server holds it, reduced to what its logs need. */
export function podState(pod: V1Pod): PodState {
    const statuses = pod.status?.containerStatuses ?? [];
    return {
        name: pod.metadata?.name ?? "",
        uid: pod.metadata?.uid ?? "",
        tier: pod.metadata?.labels?.["app.kubernetes.io/name"] ?? "",
        deleting: Boolean(pod.metadata?.deletionTimestamp),
        containers: (pod.spec?.containers ?? []).map((c) => {
            const s = statuses.find((status) => status.name === c.name);
            const waiting = s?.state?.waiting;
            const ended = s?.lastState?.terminated;
            return {
                name: c.name,
                ...(s?.containerID ? { id: s.containerID } : {}),
                restartCount: s?.restartCount ?? 0,
                running: Boolean(s?.state?.running),
                started: Boolean(s?.state?.running ?? s?.state?.terminated ?? s?.lastState?.terminated),
                ...(waiting?.reason ? { waiting: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}` } : {}),
                ...(ended
                    ? { lastEnded: { reason: ended.reason, exitCode: ended.exitCode, finishedAt: ended.finishedAt ? new Date(ended.finishedAt).toISOString() : undefined } }
                    : {}),
            };
        }),
    };
}

/** Why a request to the API server failed, in a few words: its status and message, or the connection's error code. */
function whyFailed(e: unknown): { status?: number; why: string } {
    const err = e as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string; message?: string } };
    if (typeof err.code === "number") {
        let message = "";
        try {
            message = (typeof err.body === "string" ? JSON.parse(err.body) : err.body)?.message ?? "";
        } catch {
            // a body that is not a Status: the code says enough
        }
        return { status: err.code, why: `${err.code}${message ? ` ${message}` : ""}` };
    }
    if (err.cause?.code || err.cause?.message) return { why: err.cause.code ?? String(err.cause.message) };
    if (typeof err.code === "string") return { why: err.code };
    return { why: String(err.message ?? e).split("\n")[0] };
}

/** How long the cluster has to answer the first question (the pods), as up gives it. */
const ANSWER_SECONDS = 10;

/** The live boundary: the stack's cluster through its kubeconfig context, the pods the selector picks. */
export async function liveLogCluster(target: AppTarget, selector: string): Promise<LogCluster> {
    const fix = `set launchpad:kubeContext (and launchpad:kubeconfig) in Pulumi.${target.stack}.yaml`;
    const { k8s, kc } = await openCluster(target).catch((e: unknown) => {
        throw new ClusterError(`the cluster of context ${target.context} cannot be asked: its kubeconfig cannot be used: ${firstLine(e)}; ${fix}`);
    });
    const cluster = kc.getCurrentCluster();
    if (!kc.getContextObject(target.context) || !cluster) {
        const file = target.kubeconfig ?? process.env.KUBECONFIG ?? "~/.kube/config";
        throw new ClusterError(`the cluster of context ${target.context} cannot be asked: the kubeconfig (${file}) has no such context; ${fix}`);
    }
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespace = target.namespace;
    const list = () => core.listNamespacedPod({ namespace, labelSelector: selector });
    const clusterError = (e: unknown, what: string) => {
        const { status, why } = whyFailed(e);
        return status === undefined
            ? new ClusterError(`the cluster of context ${target.context} does not answer: ${cluster.server} (${why}); start it, or ${fix}`)
            : new ClusterError(`the cluster of context ${target.context} refused to ${what}: ${why}`);
    };

    /** One GET of a pod's log, its lines given as they come; resolves when the stream ends, rejects when it cannot start. */
    const logStream = async (request: LogRequest, follow: boolean, onLine: (line: string) => void, signal?: AbortSignal): Promise<"end" | "cut"> => {
        const url = new URL(`${cluster.server.replace(/\/+$/, "")}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(request.pod)}/log`);
        const query: Record<string, string | number | boolean | undefined> = {
            container: request.container, follow, timestamps: true, previous: request.previous,
            sinceSeconds: request.sinceSeconds, sinceTime: request.sinceTime, tailLines: request.tailLines,
        };
        for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== false) url.searchParams.set(key, String(value));
        const options: https.RequestOptions = { method: "GET", headers: {} };
        await kc.applyToHTTPSOptions(options);
        return new Promise<"end" | "cut">((resolve, reject) => {
            const req = (url.protocol === "https:" ? https : http).request(url, { ...options, signal }, (res) => {
                res.setEncoding("utf8");
                if (res.statusCode !== 200) {
                    let body = "";
                    res.on("data", (d: string) => (body += d));
                    res.on("end", () => reject(Object.assign(new Error(`status ${res.statusCode}`), { code: res.statusCode, body })));
                    return;
                }
                const lines = new LineSplitter(onLine);
                res.on("data", (d: string) => lines.push(d));
                res.on("end", () => {
                    lines.end();
                    resolve(signal?.aborted ? "cut" : "end");
                });
                // A connection cut in the middle: the pod watch says whether the container still runs.
                res.on("error", () => resolve("cut"));
                res.on("aborted", () => resolve("cut"));
            });
            req.on("error", (e) => (signal?.aborted ? resolve("cut") : reject(Object.assign(e, { cause: e }))));
            req.end();
        });
    };

    return {
        async listPods() {
            let timer: NodeJS.Timeout | undefined;
            const silence = new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(Object.assign(new Error("no answer"), { cause: { code: `no answer within ${ANSWER_SECONDS} s` } })), ANSWER_SECONDS * 1000);
            });
            try {
                return (await Promise.race([list(), silence])).items.map(podState);
            } catch (e) {
                throw clusterError(e, `list the pods of namespace ${namespace}`);
            } finally {
                clearTimeout(timer);
            }
        },
        async readLog(request) {
            const lines: string[] = [];
            try {
                await logStream(request, false, (line) => lines.push(line));
            } catch (e) {
                // A refusal of one log (a container that never ran) is that log's; only a silent cluster fails the command.
                const { status, why } = whyFailed(e);
                throw status === undefined ? clusterError(e, "") : new Error(why);
            }
            return lines;
        },
        followLog(request, onLine) {
            const controller = new AbortController();
            // A stream that cannot start (the container is gone, a hiccup) ends at once; the pod watch decides what comes next.
            const ended = logStream(request, true, onLine, controller.signal).catch(() => "cut" as const);
            return { ended, stop: () => controller.abort() };
        },
        watchPods(events) {
            const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/pods`, list, selector);
            let stopped = false;
            informer.on("add", (pod) => events.changed(podState(pod)));
            informer.on("update", (pod) => events.changed(podState(pod)));
            informer.on("delete", (pod) => events.deleted(podState(pod)));
            // The informer stops at an error it cannot handle itself (the cluster is gone): say so, and start it again.
            informer.on("error", (e) => {
                if (stopped) return;
                events.trouble(`${clusterError(e, "watch the pods").message}; trying again in 5 s`);
                setTimeout(() => {
                    if (!stopped) void informer.start().catch(() => undefined);
                }, 5000).unref();
            });
            void informer.start().catch((e) => events.trouble(firstLine(e)));
            return {
                stop: () => {
                    stopped = true;
                    void informer.stop();
                },
            };
        },
    };
}
