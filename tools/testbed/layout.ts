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
    /** Persistent data: etcd, the registries, Docker's images. */
    readonly data: string;
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
        run: path.join(home, "run"),
        envFile: path.join(home, "env"),
    };
}

export const VERSIONS = versions;

/**
 * Every port the testbed listens on, all on 127.0.0.1. Fixed, because Pulumi.testbed.yaml names the
 * registry's address; `start` refuses when one is taken. All below Linux's ephemeral range (32768 and
 * up by default): a port in it can be taken, between `start`'s check and a server's bind, as the
 * source port of one of the testbed's own client connections (CI once lost the registry's that way).
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

/** The registry as the stack file names it. */
export const REGISTRY = `localhost:${PORTS.registry}`;

/** The simulated nodes kwok runs pods on: names and what each offers the scheduler. */
export const NODES = [
    { name: "testbed-node-1", cpu: "4", memory: "8Gi", pods: "110" },
    { name: "testbed-node-2", cpu: "4", memory: "8Gi", pods: "110" },
] as const;

/** PersistentVolumes made ready for claims (a Retain volume is used once, so keep a few). */
export const VOLUMES = { count: 6, size: "50Gi", storageClass: "standard" } as const;

/** The IngressClass the testbed stack uses (the program's default ingressClass). */
export const INGRESS_CLASS = "nginx";
