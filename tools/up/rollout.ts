import { type ClusterRef, connectionOf, getFromCluster, openCluster } from "../../lib/kubernetesClient";

type Terminated = { readonly reason?: string; readonly exitCode?: number };

/** The parts of a pod that say why it is not running and ready, as the API server holds them. */
export interface PodStatusView {
    readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
    readonly status?: {
        readonly phase?: string;
        readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
        readonly containerStatuses?: readonly {
            readonly name: string;
            readonly ready?: boolean;
            readonly restartCount?: number;
            readonly state?: { readonly waiting?: { readonly reason?: string; readonly message?: string }; readonly terminated?: Terminated };
            readonly lastState?: { readonly terminated?: Terminated };
        }[];
    };
    /** The kubelet's warnings about the pod (a failed probe, a failed pull), oldest first. */
    readonly warnings?: readonly string[];
    /** The last lines a container that exited wrote, by container: what it said before it stopped. */
    readonly lastLogLines?: Readonly<Record<string, readonly string[]>>;
}

/** " (exit code 1)", " (OOMKilled, exit code 137)": how a container last ended. */
function howItEnded(t: Terminated | undefined): string {
    if (!t) return "";
    const reason = t.reason && t.reason !== "Error" ? `${t.reason}, ` : "";
    return ` (${reason}exit code ${t.exitCode ?? "?"})`;
}

/** Why one pod is not running and ready, in the cluster's words (the scheduler's, the kubelet's); undefined when it is. */
export function podCause(pod: PodStatusView): string | undefined {
    const conditions = pod.status?.conditions ?? [];
    const scheduled = conditions.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False") return `not scheduled: ${scheduled.message ?? scheduled.reason ?? "no reason given"}`;
    for (const c of pod.status?.containerStatuses ?? []) {
        const waiting = c.state?.waiting;
        if (waiting?.reason && waiting.reason !== "ContainerCreating" && waiting.reason !== "PodInitializing") {
            const ended = waiting.reason === "CrashLoopBackOff" ? howItEnded(c.lastState?.terminated) : "";
            return `container ${c.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}${ended}`;
        }
        const terminated = c.state?.terminated;
        if (terminated) return `container ${c.name}: ${terminated.reason ?? "terminated"} (exit code ${terminated.exitCode ?? "?"})`;
    }
    const ready = conditions.find((c) => c.type === "Ready");
    if (ready?.status === "False" || pod.status?.phase !== "Running") {
        // The kubelet's own words for a probe that fails, when it said any.
        const probe = [...(pod.warnings ?? [])].reverse().find((w) => /probe failed/i.test(w));
        if (probe) return `not ready: ${probe}`;
        return `not ready${ready?.message ? `: ${ready.message}` : pod.status?.phase ? ` (${pod.status.phase})` : ""}`;
    }
    return undefined;
}

/** The stack config's prefix of a tier's keys, by the pods' app.kubernetes.io/component label. */
const KEY_PREFIX: Readonly<Record<string, string>> = { frontend: "frontend", backend: "backend", database: "db" };

/**
 * Which config key a cause points at, and why, in a few words; undefined when none does (a pod no node
 * fits: the doctor says which key then).
 */
export function causeFix(tier: string, cause: string): string | undefined {
    const prefix = KEY_PREFIX[tier];
    if (/ImagePullBackOff|ErrImagePull/.test(cause)) {
        if (/401|403|unauthorized|authoriz|denied|forbidden/i.test(cause)) {
            return "the cluster pulls with the login in launchpad:registryUsername and launchpad:registryPassword (its pull secret): set the right one";
        }
        if (/not found|manifest unknown|no such host|connection refused/i.test(cause)) return "the cluster cannot find the image where launchpad:registry says it is: check that key and that the cluster reaches it";
        return "check launchpad:registry and its login (launchpad:registryUsername, launchpad:registryPassword)";
    }
    if (prefix === undefined) return undefined;
    if (/OOMKilled/.test(cause)) return `the container ran out of memory: raise launchpad:${prefix}MemoryLimit`;
    if (/CrashLoopBackOff|exit code/.test(cause)) {
        return prefix === "db" ? "the database exits at start: check launchpad:dbImage and the lines below" : `the image built from launchpad:${prefix}Context exits at start: the lines below are its last words`;
    }
    if (/Readiness probe failed/i.test(cause) && prefix !== "db") return `the kubelet asks launchpad:${prefix}ReadinessPath on launchpad:${prefix}Port and is not answered with success: set the path the app serves`;
    if (/Liveness probe failed/i.test(cause) && prefix !== "db") return `the kubelet asks launchpad:${prefix}LivenessPath on launchpad:${prefix}Port and restarts the container when it fails: set the path the app serves`;
    return undefined;
}

/**
 * One line per tier and cause for the pods that are not running and ready, with the config key the
 * cause points at, e.g.
 * `frontend: 1 pod not scheduled: 0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. …`
 * or `backend: 1 pod not ready: Readiness probe failed: … → the kubelet asks launchpad:backendReadinessPath …`;
 * a container that exited adds its last log lines, indented below.
 */
export function stuckPodLines(pods: readonly PodStatusView[]): string[] {
    const groups = new Map<string, { n: number; logs: string[] }>();
    for (const pod of pods) {
        const cause = podCause(pod);
        if (cause === undefined) continue;
        const key = `${pod.metadata.labels?.["app.kubernetes.io/component"] ?? pod.metadata.name}\u0000${cause}`;
        const group = groups.get(key) ?? { n: 0, logs: [] };
        group.n++;
        if (group.logs.length === 0) group.logs = Object.values(pod.lastLogLines ?? {}).flat();
        groups.set(key, group);
    }
    return [...groups]
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([key, { n, logs }]) => {
            const [tier, cause] = key.split("\u0000");
            const fix = causeFix(tier, cause);
            return [`${tier}: ${n} pod${n === 1 ? "" : "s"} ${cause}${fix ? ` → ${fix}` : ""}`, ...logs.map((l) => `  | ${l}`)];
        });
}

/** Where the app's pods are: the cluster and the namespace, and the instance label of this stack's objects. */
export interface AppPods extends ClusterRef {
    readonly namespace: string;
    readonly instance: string;
}

/** Reads the stack's pods from the cluster: the boundary `up` asks after a rollout failed. */
export type ReadPods = (where: AppPods) => Promise<PodStatusView[]>;

/** How many of a stopped container's last log lines `up` shows. */
const LOG_LINES = 5;

export const readPodsLive: ReadPods = async (where) => {
    const { k8s, kc } = await openCluster(where);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: where.namespace, labelSelector: `app.kubernetes.io/instance=${where.instance}` });
    const events = (await core.listNamespacedEvent({ namespace: where.namespace, fieldSelector: "involvedObject.kind=Pod,type=Warning" })).items;
    return Promise.all(pods.items.map(async (p) => {
        const name = p.metadata!.name!;
        const warnings = events
            .filter((e) => e.involvedObject.name === name)
            .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? "").localeCompare(String(b.lastTimestamp ?? b.eventTime ?? "")))
            .map((e) => e.message ?? e.reason ?? "");
        const lastLogLines: Record<string, string[]> = {};
        for (const c of p.status?.containerStatuses ?? []) {
            const ended = c.state?.terminated ?? c.lastState?.terminated;
            if (!ended) continue;
            // What it wrote before it stopped: the previous run's log when it is being restarted.
            const log = await core.readNamespacedPodLog({ namespace: where.namespace, name, container: c.name, previous: !c.state?.terminated, tailLines: LOG_LINES }).catch(() => "");
            const lines = String(log).trimEnd().split("\n").filter((l) => l.trim() !== "");
            if (lines.length > 0) lastLogLines[c.name] = lines.slice(-LOG_LINES);
        }
        return { ...(JSON.parse(JSON.stringify(p)) as PodStatusView), warnings, lastLogLines };
    }));
};

/** The parts of a Deployment or StatefulSet that say whether its rollout is complete. */
export interface WorkloadStatusView {
    readonly kind: "Deployment" | "StatefulSet";
    readonly metadata: { readonly name: string; readonly generation?: number; readonly labels?: Readonly<Record<string, string>> };
    readonly spec?: { readonly replicas?: number };
    readonly status?: {
        readonly observedGeneration?: number;
        readonly replicas?: number;
        readonly updatedReplicas?: number;
        readonly availableReplicas?: number;
        readonly readyReplicas?: number;
        readonly currentRevision?: string;
        readonly updateRevision?: string;
    };
}

/**
 * What is still rolling out, one phrase per workload: the controller has not seen the latest spec, or
 * fewer pods of the latest template are available (ready, for a StatefulSet) than wanted, or old pods
 * remain. Empty when every rollout is complete.
 */
export function unfinishedRollouts(workloads: readonly WorkloadStatusView[]): string[] {
    return workloads.flatMap((w) => {
        const tier = w.metadata.labels?.["app.kubernetes.io/component"] ?? w.metadata.name;
        const wanted = w.spec?.replicas ?? 1;
        const s = w.status ?? {};
        if ((s.observedGeneration ?? 0) < (w.metadata.generation ?? 0)) return [`${tier}: the ${w.kind} controller has not yet seen its latest spec`];
        if (w.kind === "Deployment") {
            const updated = s.updatedReplicas ?? 0;
            const available = s.availableReplicas ?? 0;
            if (updated < wanted || available < wanted) return [`${tier}: ${Math.min(updated, available)} of ${wanted} pods of the new version available`];
            if ((s.replicas ?? 0) > wanted) return [`${tier}: ${(s.replicas ?? 0) - wanted} old pods still running`];
            return [];
        }
        const ready = s.readyReplicas ?? 0;
        if (s.currentRevision !== s.updateRevision || ready < wanted) return [`${tier}: ${ready} of ${wanted} pods ready${s.currentRevision !== s.updateRevision ? ", not all of the new version" : ""}`];
        return [];
    });
}

/** Reads the stack's Deployments and StatefulSets: the boundary `up` asks after the engine is done. */
export type ReadWorkloads = (where: AppPods) => Promise<WorkloadStatusView[]>;

export const readWorkloadsLive: ReadWorkloads = async (where) => {
    const connection = await connectionOf(where);
    const list = async (kind: WorkloadStatusView["kind"], resource: string) => {
        const query = `labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${where.instance}`)}`;
        const answer = await getFromCluster(connection, `/apis/apps/v1/namespaces/${encodeURIComponent(where.namespace)}/${resource}?${query}`);
        if (answer.status !== 200) throw new Error(`listing the ${resource} of namespace ${where.namespace}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
        return ((answer.body as { items?: object[] }).items ?? []).map((o) => ({ kind, ...(o as Omit<WorkloadStatusView, "kind">) }));
    };
    const [deployments, statefulSets] = await Promise.all([list("Deployment", "deployments"), list("StatefulSet", "statefulsets")]);
    return [...deployments, ...statefulSets];
};

