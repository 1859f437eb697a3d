import { type ClusterRef, openCluster } from "./cluster";

/** The parts of a pod that say why it is not running and ready, as the API server holds them. */
export interface PodStatusView {
    readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
    readonly status?: {
        readonly phase?: string;
        readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
        readonly containerStatuses?: readonly {
            readonly name: string;
            readonly ready?: boolean;
            readonly state?: { readonly waiting?: { readonly reason?: string; readonly message?: string }; readonly terminated?: { readonly reason?: string; readonly exitCode?: number } };
        }[];
    };
}

/** Why one pod is not running and ready, in the API server's words; undefined when it is. */
export function podCause(pod: PodStatusView): string | undefined {
    const conditions = pod.status?.conditions ?? [];
    const scheduled = conditions.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False") return `not scheduled: ${scheduled.message ?? scheduled.reason ?? "no reason given"}`;
    for (const c of pod.status?.containerStatuses ?? []) {
        const waiting = c.state?.waiting;
        if (waiting?.reason && waiting.reason !== "ContainerCreating" && waiting.reason !== "PodInitializing") {
            return `container ${c.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
        }
        const terminated = c.state?.terminated;
        if (terminated) return `container ${c.name}: ${terminated.reason ?? "terminated"} (exit code ${terminated.exitCode ?? "?"})`;
    }
    const ready = conditions.find((c) => c.type === "Ready");
    if (ready?.status === "False" || pod.status?.phase !== "Running") {
        return `not ready${ready?.message ? `: ${ready.message}` : pod.status?.phase ? ` (${pod.status.phase})` : ""}`;
    }
    return undefined;
}

/**
 * One line per tier and cause for the pods that are not running and ready, e.g.
 * `frontend: 1 pod not scheduled: 0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. …`.
 */
export function stuckPodLines(pods: readonly PodStatusView[]): string[] {
    const counts = new Map<string, number>();
    for (const pod of pods) {
        const cause = podCause(pod);
        if (cause === undefined) continue;
        const key = `${pod.metadata.labels?.["app.kubernetes.io/component"] ?? pod.metadata.name}\u0000${cause}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, n]) => {
            const [tier, cause] = key.split("\u0000");
            return `${tier}: ${n} pod${n === 1 ? "" : "s"} ${cause}`;
        });
}

/** Where the app's pods are: the cluster and the namespace, and the instance label of this stack's objects. */
export interface AppPods extends ClusterRef {
    readonly namespace: string;
    readonly instance: string;
}

/** Reads the stack's pods from the cluster: the boundary `up` asks after a rollout failed. */
export type ReadPods = (where: AppPods) => Promise<PodStatusView[]>;

export const readPodsLive: ReadPods = async (where) => {
    const { k8s, kc } = await openCluster(where);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: where.namespace, labelSelector: `app.kubernetes.io/instance=${where.instance}` });
    return JSON.parse(JSON.stringify(pods.items)) as PodStatusView[];
};
