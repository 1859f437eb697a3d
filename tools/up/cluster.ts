import { type ClusterRef, openCluster } from "../../lib/kubernetesClient";

/** Asks the stack's cluster whether it answers; undefined when it does, else why not (one line). */
export type CheckCluster = (where: ClusterRef) => Promise<string | undefined>;

export const checkClusterLive: CheckCluster = async (where) => {
    let timer: NodeJS.Timeout | undefined;
    try {
        const { k8s, kc } = await openCluster(where);
        const server = kc.getCurrentCluster()?.server ?? "(no server)";
        const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error("no answer within 10 s"), { cause: { code: "timeout" } })), 10_000);
        });
        try {
            await Promise.race([kc.makeApiClient(k8s.VersionApi).getCode(), timeout]);
            return undefined;
        } catch (e) {
            const err = e as { message?: string; cause?: { code?: string } };
            return `${server} ${err.cause?.code ? `(${err.cause.code})` : `(${String(err.message ?? e).split("\n")[0]})`}`;
        }
    } catch (e) {
        return `its kubeconfig cannot be used: ${String((e as Error).message ?? e).split("\n")[0]}`;
    } finally {
        clearTimeout(timer);
    }
};

/** Whether the stack's namespace is in its cluster; undefined when the cluster cannot tell (an error other than not found). */
export type NamespaceExists = (where: ClusterRef, namespace: string) => Promise<boolean | undefined>;

export const namespaceExistsLive: NamespaceExists = async (where, namespace) => {
    const { k8s, kc } = await openCluster(where);
    try {
        await kc.makeApiClient(k8s.CoreV1Api).readNamespace({ name: namespace });
        return true;
    } catch (e) {
        return (e as { code?: number }).code === 404 ? false : undefined;
    }
};
