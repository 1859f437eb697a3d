import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import versions from "./versions.json";

/**
 * Where the testbed keeps everything, outside the repository: built parts keyed by version, the data
 * of the cluster, registry and Docker Engine (kept across stop and start), and what a running testbed
 * needs (pids, logs, certificates, the env file). `LAUNCHPAD_TESTBED_HOME` moves all of it.
 */
export interface Layout {
    readonly home: string;
    /** Built binaries: parts/<part>-<version>/. */
    readonly parts: string;
    /** The Pulumi CLI's home: installed plugins, no downloads. */
    readonly pulumiHome: string;
    /** The `file://` backend of the testbed's stacks. */
    readonly state: string;
    /** Persistent data: etcd, the registries, Docker's images, the real node's images and volumes. */
    readonly data: string;
    /** The folders of the PersistentVolumes on the real node. */
    readonly volumes: string;
    /** A running testbed: pid files, logs, sockets, certificates, kubeconfigs. */
    readonly run: string;
    /** The shell-sourceable environment `start` writes. */
    readonly envFile: string;
}

export function layout(env: Readonly<Record<string, string | undefined>> = process.env): Layout {
    const home = env.LAUNCHPAD_TESTBED_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "launchpad", "testbed");
    return {
        home,
        parts: path.join(home, "parts"),
        pulumiHome: path.join(home, "pulumi-home"),
        state: path.join(home, "state"),
        data: path.join(home, "data"),
        volumes: path.join(home, "data", "volumes"),
        run: path.join(home, "run"),
        envFile: path.join(home, "env"),
    };
}

export const VERSIONS = versions;

/**
 * The root under which a cache key names the testbed's own files: each file's path inside the testbed's
 * folder, under this fixed name, the one every part already built is keyed with. A key follows what
 * the files are called and say inside the folder, not where the repository keeps the folder.
 */
const KEY_ROOT = path.join("tools", "testbed");

/** A hash of files' names and contents, so a part built from our own sources is rebuilt when they change. */
export function hashFiles(files: readonly string[]): string {
    const h = createHash("sha256");
    for (const f of [...files].sort()) h.update(path.join(KEY_ROOT, path.relative(__dirname, f))).update("\0").update(fs.readFileSync(f)).update("\0");
    return h.digest("hex").slice(0, 12);
}


/** Our patches to what the testbed builds (dev/testbed/patches/<part>-*.patch), applied by build.sh. */
export const PATCHES = path.join(__dirname, "patches");

/** A patched part's cache key: its version and a hash of our patches to it (patches/<part>-*.patch). */
export function patchedBuild(part: string, version: string): string {
    const patches = fs.readdirSync(PATCHES).filter((f) => f.startsWith(`${part}-`)).map((f) => path.join(PATCHES, f));
    return `${version}-${hashFiles(patches)}`;
}

/** Traefik's cache key: its version and a hash of our patches to it. */
export function traefikBuild(): string {
    return patchedBuild("traefik", VERSIONS.traefik);
}

/** gofakes3's cache key: its version and a hash of our patch to its bolt backend. */
export function gofakes3Build(): string {
    return patchedBuild("gofakes3", VERSIONS.gofakes3);
}

/** Where each built part's binaries are. */
export function partDir(l: Layout, part: string, version: string): string {
    return path.join(l.parts, `${part}-${version}`);
}

export function bins(l: Layout) {
    const k8s = partDir(l, "kubernetes", VERSIONS.kubernetes);
    return {
        etcd: path.join(partDir(l, "etcd", VERSIONS.etcd), "etcd"),
        apiserver: path.join(k8s, "kube-apiserver"),
        controllerManager: path.join(k8s, "kube-controller-manager"),
        scheduler: path.join(k8s, "kube-scheduler"),
        kubelet: path.join(k8s, "kubelet"),
        kubeProxy: path.join(k8s, "kube-proxy"),
        coredns: path.join(partDir(l, "coredns", VERSIONS.coredns), "coredns"),
        kubeRouter: path.join(partDir(l, "kube-router", VERSIONS.kubeRouter), "kube-router"),
        traefik: path.join(partDir(l, "traefik", traefikBuild()), "traefik"),
        kwok: path.join(partDir(l, "kwok", VERSIONS.kwok), "kwok"),
        kwokStages: path.join(partDir(l, "kwok", VERSIONS.kwok), "stages"),
        gofakes3: path.join(partDir(l, "gofakes3", gofakes3Build()), "gofakes3"),
        kind: path.join(partDir(l, "kind", VERSIONS.kind), "kind"),
        kubeadm: path.join(partDir(l, "kubeadm", VERSIONS.kubernetes), "kubeadm"),
        localPathProvisioner: path.join(partDir(l, "local-path-provisioner", VERSIONS.localPathProvisioner), "local-path-provisioner"),
        /** The Pulumi CLI with the language host and dynamic-provider shim beside it, kubectl and kind (assembled by build). */
        pulumiDir: path.join(l.home, "bin"),
    };
}

/**
 * Every port the testbed listens on, all on 127.0.0.1. Fixed, because Pulumi.testbed.yaml names the
 * registry's address; `start` refuses when one is taken. All below Linux's ephemeral range (32768 and
 * up by default): a port in it can be taken, between `start`'s check and a server's bind, as the
 * source port of one of the testbed's own client connections.
 */
export const PORTS = {
    etcd: 26379,
    etcdPeer: 26380,
    apiserver: 26443,
    controllerManager: 26457,
    scheduler: 26459,
    kwok: 26447,
    registry: 26500,
    /** Docker Hub's stand-in: dockerd's --registry-mirror, serving the base images by their Hub names. */
    hubMirror: 26501,
    /** The ingress controller on the real node, as the host reaches it (the node's network is its own). */
    ingress: 26080,
    /** The S3-compatible server (gofakes3) that holds a team's shared state in a bucket. */
    s3: 26502,
} as const;

export const HOST = "127.0.0.1";

/** The kubeconfig context the testbed stack deploys to. */
export const CONTEXT = "launchpad-testbed";

/**
 * The team registry's login. Fixed on purpose: Pulumi.testbed.yaml carries the password as a secret
 * encrypted with PASSPHRASE, and the registry only listens on loopback.
 */
export const REGISTRY_USER = "launchpad";
export const REGISTRY_PASSWORD = "testbed-registry-password";
/** Encrypts the testbed stack's secrets (state and Pulumi.testbed.yaml); not a secret of anyone's. */
export const PASSPHRASE = "launchpad-testbed";

/** The bucket the S3-compatible server makes at start, for stacks whose state a team shares. */
export const S3_BUCKET = "launchpad-state";
/** The region the bucket's URL names (the AWS SDK wants one; the server ignores it). */
export const S3_REGION = "us-east-1";

/**
 * The `PULUMI_BACKEND_URL` of the testbed's bucket, as Pulumi's gocloud.dev s3 driver reads it: the
 * server's endpoint (plain HTTP on loopback), path-style addressing (the bucket in the path, not in
 * the host name) and a region.
 */
export function s3BackendUrl(port: number = PORTS.s3): string {
    return `s3://${S3_BUCKET}?endpoint=http://${HOST}:${port}&use_path_style=true&region=${S3_REGION}`;
}

/** The registry as the stack file names it. */
export const REGISTRY = `localhost:${PORTS.registry}`;

/** The simulated nodes kwok runs pods on: names and what each offers the scheduler. */
export const NODES = [
    { name: "testbed-node-1", cpu: "4", memory: "8Gi", pods: "110" },
    { name: "testbed-node-2", cpu: "4", memory: "8Gi", pods: "110" },
] as const;

/**
 * The real node: a kubelet with containerd, kube-proxy and the bridge CNI, in a network namespace of its
 * own so that its bridge, veths, iptables rules and ipsets never touch the host's network
 * (dev/testbed/node.ts). Pods get addresses from `podCidr`; the node's own address is the bridge's.
 */
export const REAL_NODE = {
    name: "testbed-real-node",
    /** Its network namespace's and cgroup's name, followed by a hash of the testbed's folder (nodeFiles). */
    namePrefix: "launchpad-testbed",
    bridge: "lptestbed0",
    podCidr: "10.246.0.0/24",
    ip: "10.246.0.1",
    /** A label only the real node carries, for what must run there (the testbed's own add-ons). */
    label: { key: "launchpad.testbed/node", value: "real" },
} as const;

/** The taint that keeps pods off the simulated nodes unless they tolerate it (the doctor and load tests do). */
export const SIMULATED_TAINT = { key: "launchpad.testbed/simulated", value: "true", effect: "NoSchedule" } as const;

/** The cluster's Service range, and the fixed addresses in it of the API server, DNS and the ingress controller. */
export const SERVICE_CIDR = "10.96.0.0/16";
export const CLUSTER_IPS = { kubernetes: "10.96.0.1", dns: "10.96.0.10", ingress: "10.96.0.20" } as const;

/** PersistentVolumes made ready for claims (a Retain volume is used once, so keep a few). */
export const VOLUMES = { count: 6, size: "50Gi", storageClass: "standard" } as const;

/** The IngressClass the testbed stack uses (the program's default ingressClass). */
export const INGRESS_CLASS = "nginx";
