import * as os from "node:os";
import { loadKubernetesClient } from "../doctor/cluster";

/** The cluster a stack deploys to: a kubeconfig context, in a given kubeconfig file or the default one. */
export interface ClusterRef {
    readonly context: string;
    readonly kubeconfig?: string;
}

/** A client configuration for the stack's cluster (`~` in the kubeconfig path means the home folder, as in the stack file). */
export async function openCluster(where: ClusterRef) {
    const k8s = await loadKubernetesClient();
    const kc = new k8s.KubeConfig();
    if (where.kubeconfig) kc.loadFromFile(where.kubeconfig.replace(/^~(?=\/|$)/, os.homedir()));
    else kc.loadFromDefault();
    kc.setCurrentContext(where.context);
    return { k8s, kc };
}

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
