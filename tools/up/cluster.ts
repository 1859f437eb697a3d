import { type ClusterRef, connectionOf, getFromCluster } from "../../lib/kubernetesClient";

/** Asks the stack's cluster whether it answers; undefined when it does, else why not (one line). */
export type CheckCluster = (where: ClusterRef) => Promise<string | undefined>;

export const checkClusterLive: CheckCluster = async (where) => {
    let connection: Awaited<ReturnType<typeof connectionOf>>;
    try {
        connection = await connectionOf(where);
    } catch (e) {
        return `its kubeconfig cannot be used: ${String((e as Error).message ?? e).split("\n")[0]}`;
    }
    try {
        const answer = await getFromCluster(connection, "/version");
        return answer.status === 200 ? undefined : `${connection.server} (HTTP ${answer.status})`;
    } catch (e) {
        const err = e as { message?: string; code?: string };
        return `${connection.server} ${err.code ? `(${err.code})` : `(${String(err.message ?? e).split("\n")[0]})`}`;
    }
};

/** Whether the stack's namespace is in its cluster; undefined when the cluster cannot tell (an error other than not found). */
export type NamespaceExists = (where: ClusterRef, namespace: string) => Promise<boolean | undefined>;

export const namespaceExistsLive: NamespaceExists = async (where, namespace) => {
    const answer = await getFromCluster(await connectionOf(where), `/api/v1/namespaces/${encodeURIComponent(namespace)}`).catch(() => undefined);
    return answer?.status === 200 ? true : answer?.status === 404 ? false : undefined;
};
