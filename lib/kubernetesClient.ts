import * as os from "node:os";

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
