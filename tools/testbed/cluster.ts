import { loadKubernetesClient } from "../doctor/cluster";
import { INGRESS_CLASS, NODES, VOLUMES } from "./layout";
import { waitFor } from "./processes";

/** The annotation kwok manages nodes by (`--manage-nodes-with-annotation-selector`). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";

interface Obj {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [key: string]: unknown;
}

/** Marks the PersistentVolumes the testbed made (and may recycle). */
export const VOLUME_LABEL = "launchpad.testbed/volume";

/** A simulated node: an ordinary Node object whose status kwok keeps Ready, and on which it "runs" pods. */
export function nodeObject(node: { name: string; cpu: string; memory: string; pods: string }): Obj {
    const resources = { cpu: node.cpu, memory: node.memory, pods: node.pods, "ephemeral-storage": "100Gi" };
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
            name: node.name,
            annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
            labels: {
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "kwok",
                type: "kwok",
            },
        },
        spec: {},
        status: { allocatable: resources, capacity: resources, nodeInfo: { architecture: "amd64", operatingSystem: "linux", kubeletVersion: "fake" } },
    };
}

/**
 * What the cluster needs before the app can deploy: simulated nodes, a default StorageClass with
 * PersistentVolumes ready for the database's claim (nothing provisions volumes here), and the
 * IngressClass the stack names (kwok plays its controller and publishes an address).
 */
export function bootstrapObjects(): Obj[] {
    const volumes: Obj[] = Array.from({ length: VOLUMES.count }, (_, i) => ({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: `testbed-pv-${i + 1}`, labels: { [VOLUME_LABEL]: "true" } },
        spec: {
            capacity: { storage: VOLUMES.size },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: VOLUMES.storageClass,
            // Never mounted: no kubelet runs here. The path only makes the object valid.
            hostPath: { path: `/var/lib/launchpad-testbed/pv-${i + 1}`, type: "DirectoryOrCreate" },
        },
    }));
    return [
        ...NODES.map(nodeObject),
        {
            apiVersion: "storage.k8s.io/v1",
            kind: "StorageClass",
            metadata: { name: VOLUMES.storageClass, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
            provisioner: "kubernetes.io/no-provisioner",
            volumeBindingMode: "WaitForFirstConsumer",
            reclaimPolicy: "Retain",
        },
        ...volumes,
        {
            apiVersion: "networking.k8s.io/v1",
            kind: "IngressClass",
            metadata: { name: INGRESS_CLASS },
            spec: { controller: "k8s.io/ingress-nginx" },
        },
    ];
}

/** The volumes whose claim is gone (`Released`): a Retain volume is never bound again by itself. */
export function releasedVolumes(volumes: readonly { metadata?: { name?: string; labels?: Record<string, string> }; status?: { phase?: string } }[]): string[] {
    return volumes
        .filter((v) => v.metadata?.labels?.[VOLUME_LABEL] === "true" && v.status?.phase === "Released")
        .map((v) => v.metadata!.name!);
}

/** Clients for the testbed's API server, as its admin kubeconfig (the testbed's context) reaches it. */
export async function objectApi(kubeconfigFile: string) {
    const k8s = await loadKubernetesClient();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigFile);
    return { k8s, kc, api: k8s.KubernetesObjectApi.makeApiClient(kc) };
}

/**
 * Makes the testbed's released volumes available again, as a cluster admin recycles a Retain volume:
 * deleted and made anew (nothing is stored in them; no kubelet mounts them). A `down --delete-data`
 * releases one each time. Returns their names.
 */
export async function recycleVolumes(kubeconfigFile: string): Promise<string[]> {
    const { k8s, kc, api } = await objectApi(kubeconfigFile);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const released = releasedVolumes((await core.listPersistentVolume({ labelSelector: `${VOLUME_LABEL}=true` })).items);
    const fresh = new Map(bootstrapObjects().filter((o) => o.kind === "PersistentVolume").map((o) => [o.metadata.name, o]));
    for (const name of released) {
        await core.deletePersistentVolume({ name });
        await waitFor(() => core.readPersistentVolume({ name }).then(() => false, (e: { code?: number }) => e.code === 404), 10, 100);
        const volume = fresh.get(name);
        if (volume) await api.create(volume);
    }
    return released;
}

/**
 * Deletes the node leases a kwok of an earlier start held, before a new kwok starts. kwok names itself
 * anew on every start, so it cannot renew them: it waits for them to expire (40 s), and the pods
 * scheduled on its nodes in the meantime were never made Running (seen in CI: a rollout right after a
 * restart timed out with its pods Pending). Without the old leases it takes its nodes at once.
 */
export async function releaseNodeLeases(kubeconfigFile: string): Promise<string[]> {
    const { k8s, kc } = await objectApi(kubeconfigFile);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const nodes = (await core.listNode()).items.filter((n) => n.metadata?.annotations?.[KWOK_NODE_ANNOTATION] === "fake").map((n) => n.metadata!.name!);
    const released: string[] = [];
    for (const name of nodes) {
        try {
            await coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name });
            released.push(name);
        } catch (e) {
            if ((e as { code?: number }).code !== 404) throw e;
        }
    }
    return released;
}

/** Waits until kwok holds a lease for each of its nodes, so that it manages their pods. */
export async function nodeLeasesHeld(kubeconfigFile: string, nodes: readonly string[], seconds: number): Promise<boolean> {
    const { k8s, kc } = await objectApi(kubeconfigFile);
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    return waitFor(async () => {
        const leases = (await coordination.listNamespacedLease({ namespace: "kube-node-lease" })).items;
        return nodes.every((name) => leases.some((l) => l.metadata?.name === name && l.spec?.holderIdentity));
    }, seconds, 200);
}

/** Creates each object unless it exists (a restarted testbed keeps its etcd data), and recycles released volumes. */
export async function bootstrapCluster(kubeconfigFile: string, objects: readonly Obj[] = bootstrapObjects()): Promise<void> {
    const { api } = await objectApi(kubeconfigFile);
    for (const obj of objects) {
        try {
            await api.create(obj);
        } catch (e) {
            if ((e as { code?: number }).code === 409) continue;
            throw new Error(`creating ${obj.kind} ${obj.metadata.name}: ${String((e as Error).message).split("\n")[0]}`);
        }
    }
    await recycleVolumes(kubeconfigFile);
}
