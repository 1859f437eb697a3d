import * as fs from "node:fs";
import * as path from "node:path";
import { loadKubernetesClient } from "../../lib/kubernetesClient";
import { INGRESS_CLASS, layout, NODES, REAL_NODE, SIMULATED_TAINT, VOLUMES } from "./layout";
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

/**
 * A simulated node: an ordinary Node object whose status kwok keeps Ready, and on which it "runs" pods.
 * Tainted, so that only pods that choose it (the doctor's and the load run's) land there, and the app's
 * run on the real node.
 */
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
        spec: { taints: [{ ...SIMULATED_TAINT }] },
        status: { allocatable: resources, capacity: resources, nodeInfo: { architecture: "amd64", operatingSystem: "linux", kubeletVersion: "fake" } },
    };
}

/**
 * What the cluster needs before the app can deploy: simulated nodes, a default StorageClass with local
 * PersistentVolumes on the real node ready for the database's claim (folders under `volumesDir`; nothing
 * provisions volumes here), and the IngressClass the stack names (served by the real node's controller).
 */
export function bootstrapObjects(volumesDir: string): Obj[] {
    const volumes: Obj[] = Array.from({ length: VOLUMES.count }, (_, i) => volumeObject(`testbed-pv-${i + 1}`, volumesDir));
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

/** A local volume: a folder (named after it) on the real node, which the kubelet mounts and gives the pod's fsGroup. */
export function volumeObject(name: string, volumesDir: string): Obj {
    return {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name, labels: { [VOLUME_LABEL]: "true" } },
        spec: {
            capacity: { storage: VOLUMES.size },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: VOLUMES.storageClass,
            local: { path: path.join(volumesDir, name) },
            nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [REAL_NODE.name] }] }] } },
        },
    };
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
 * Makes the testbed's volumes available again, as a cluster admin recycles a Retain volume: each
 * released one (a `down --delete-data` releases one each time), and any unbound one of an older kind
 * than a local volume, has its folder emptied and is deleted and made anew. Returns their names.
 */
export async function recycleVolumes(kubeconfigFile: string, volumesDir = layout().volumes): Promise<string[]> {
    const { k8s, kc, api } = await objectApi(kubeconfigFile);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const all = (await core.listPersistentVolume({ labelSelector: `${VOLUME_LABEL}=true` })).items;
    const stale = all.filter((v) => !v.spec?.local && v.status?.phase !== "Bound").map((v) => v.metadata!.name!);
    const recycled = [...new Set([...releasedVolumes(all), ...stale])];
    for (const name of recycled) {
        await core.deletePersistentVolume({ name });
        await waitFor(() => core.readPersistentVolume({ name }).then(() => false, (e: { code?: number }) => e.code === 404), 10, 100);
        const volume = volumeObject(name, volumesDir);
        const folder = (volume.spec as { local: { path: string } }).local.path;
        fs.rmSync(folder, { recursive: true, force: true });
        fs.mkdirSync(folder, { recursive: true });
        await api.create(volume);
    }
    return recycled;
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

/**
 * Creates each object unless it exists (a restarted testbed keeps its etcd data), makes the volumes'
 * folders, keeps the simulated nodes tainted, and recycles released volumes.
 */
export async function bootstrapCluster(kubeconfigFile: string, volumesDir: string): Promise<void> {
    const objects = bootstrapObjects(volumesDir);
    const { k8s, kc, api } = await objectApi(kubeconfigFile);
    for (const obj of objects) {
        if (obj.kind === "PersistentVolume") fs.mkdirSync((obj.spec as { local: { path: string } }).local.path, { recursive: true });
        try {
            await api.create(obj);
        } catch (e) {
            if ((e as { code?: number }).code === 409) continue;
            throw new Error(`creating ${obj.kind} ${obj.metadata.name}: ${String((e as Error).message).split("\n")[0]}`);
        }
    }
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const node of NODES) {
        const taints = (await core.readNode({ name: node.name })).spec?.taints ?? [];
        if (taints.some((t) => t.key === SIMULATED_TAINT.key)) continue;
        await core.patchNode(
            { name: node.name, body: [{ op: "add", path: "/spec/taints", value: [...taints, { ...SIMULATED_TAINT }] }] },
            k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
        );
    }
    await recycleVolumes(kubeconfigFile, volumesDir);
}
