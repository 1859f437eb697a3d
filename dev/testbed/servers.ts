import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { KWOK_NODE_ANNOTATION } from "./cluster";
import { randomBytes } from "node:crypto";
import { bins, HOST, type Layout, PORTS, S3_BUCKET } from "./layout";
import { egressSelectorConfig, nodeFiles } from "./node";
import type { Pki } from "./pki";
import { type Daemon, portOpen } from "./processes";

/** The files of a running testbed. */
export function runFiles(l: Layout) {
    return {
        pki: path.join(l.home, "pki"),
        kubeconfig: path.join(l.run, "kubeconfig"),
        clientKubeconfig: (user: string) => path.join(l.run, `${user}.kubeconfig`),
        kwokConfig: path.join(l.run, "kwok.yaml"),
        registryConfig: path.join(l.run, "registry.yml"),
        hubMirrorConfig: path.join(l.run, "hub-mirror.yml"),
        htpasswd: path.join(l.run, "htpasswd"),
        dockerSocket: path.join(l.run, "docker.sock"),
        dockerPid: path.join(l.run, "dockerd.pid"),
        /** The S3-compatible server's objects (one bolt file) and the access key the testbed made for it. */
        s3Data: path.join(l.data, "s3"),
        s3Credentials: path.join(l.data, "s3", "credentials.json"),
    };
}

/**
 * GET a URL and resolve its status code: https verified against the testbed's CA (with a client
 * certificate when given), or with `ca: "self-signed"` for the health ports of the controller manager
 * and scheduler, which serve a certificate of their own making.
 */
export function httpStatus(url: string, tls?: { ca: string; cert?: string; key?: string }, socketPath?: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const opts: https.RequestOptions = { timeout: 2000, socketPath };
        if (tls?.ca === "self-signed") opts.rejectUnauthorized = false;
        else if (tls) {
            opts.ca = fs.readFileSync(tls.ca);
            if (tls.cert) opts.cert = fs.readFileSync(tls.cert);
            if (tls.key) opts.key = fs.readFileSync(tls.key);
        }
        const get = url.startsWith("https:") ? https.get : http.get;
        const req = get(url, opts, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

/** kwok's stages: its stock node and pod lifecycles (the real node's ingress controller publishes Ingress addresses). */
export function kwokConfig(stagesDir: string): string {
    const stock = fs
        .readdirSync(stagesDir)
        .filter((f) => f.endsWith(".yaml"))
        .sort()
        .map((f) => fs.readFileSync(path.join(stagesDir, f), "utf8").trim());
    return stock.join("\n---\n") + "\n";
}

function registryConfig(storage: string, port: number, htpasswd?: string): string {
    return toYaml({
        version: 0.1,
        log: { level: "info", accesslog: { disabled: true } },
        storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
        http: { addr: `${HOST}:${port}` },
        ...(htpasswd ? { auth: { htpasswd: { realm: "launchpad-testbed", path: htpasswd } } } : {}),
    });
}

/** The servers of the testbed, in the order they start (and stop in reverse). */
export function daemons(l: Layout, pki: Pki): Daemon[] {
    writeServerConfigs(l);
    return [
        etcdDaemon(l),
        apiserverDaemon(l, pki),
        controllerManagerDaemon(l, pki),
        schedulerDaemon(l),
        kwokDaemon(l),
        hubMirrorDaemon(l),
        registryDaemon(l),
        dockerDaemon(l),
        s3Daemon(l),
    ];
}

/** The files the servers read at start: kwok's stages, the team registry's config, the API server's egress selector. */
function writeServerConfigs(l: Layout): void {
    const f = runFiles(l);
    fs.writeFileSync(f.kwokConfig, kwokConfig(bins(l).kwokStages));
    fs.writeFileSync(f.registryConfig, registryConfig(path.join(l.data, "registry"), PORTS.registry, f.htpasswd));
    const node = nodeFiles(l);
    fs.mkdirSync(path.dirname(node.egressSelector), { recursive: true });
    fs.writeFileSync(node.egressSelector, egressSelectorConfig(node));
}

/** The kubeconfig flags of a control-plane component that signs in as `user`. */
function kubeconfigFlags(l: Layout, user: string): string[] {
    const kubeconfig = runFiles(l).clientKubeconfig(user);
    return [`--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`];
}

/** Ready when its health port, which serves a certificate of its own making, answers /healthz with 200. */
function healthz(port: number): () => Promise<boolean> {
    return async () => (await httpStatus(`https://${HOST}:${port}/healthz`, { ca: "self-signed" }).catch(() => 0)) === 200;
}

function etcdDaemon(l: Layout): Daemon {
    return {
        name: "etcd",
        command: bins(l).etcd,
        args: [
            "--name=testbed",
            `--data-dir=${path.join(l.data, "etcd")}`,
            `--listen-client-urls=http://${HOST}:${PORTS.etcd}`,
            `--advertise-client-urls=http://${HOST}:${PORTS.etcd}`,
            `--listen-peer-urls=http://${HOST}:${PORTS.etcdPeer}`,
            `--initial-advertise-peer-urls=http://${HOST}:${PORTS.etcdPeer}`,
            `--initial-cluster=testbed=http://${HOST}:${PORTS.etcdPeer}`,
            "--listen-metrics-urls=",
            "--quota-backend-bytes=2147483648",
        ],
        ports: [PORTS.etcd, PORTS.etcdPeer],
        ready: async () => (await httpStatus(`http://${HOST}:${PORTS.etcd}/health`).catch(() => 0)) === 200,
    };
}

function apiserverDaemon(l: Layout, pki: Pki): Daemon {
    const tls = { ca: pki.ca, cert: pki.clients.admin.cert, key: pki.clients.admin.key };
    return {
        name: "kube-apiserver",
        command: bins(l).apiserver,
        args: [
            `--etcd-servers=http://${HOST}:${PORTS.etcd}`,
            `--bind-address=${HOST}`,
            `--advertise-address=${HOST}`,
            `--secure-port=${PORTS.apiserver}`,
            `--tls-cert-file=${pki.apiserver.cert}`,
            `--tls-private-key-file=${pki.apiserver.key}`,
            `--client-ca-file=${pki.ca}`,
            `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
            `--service-account-key-file=${pki.sa.pub}`,
            `--service-account-signing-key-file=${pki.sa.key}`,
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=Node,RBAC",
            // The API server listens on the host's loopback, which pods cannot reach: the kubernetes
            // Service's endpoint is the real node's address instead, kept by the testbed (addons.ts).
            "--endpoint-reconciler-type=none",
            // Logs and exec: to the real node's kubelet through the CONNECT proxy in its namespace,
            // as an admin, verifying the kubelet's serving certificate.
            `--egress-selector-config-file=${nodeFiles(l).egressSelector}`,
            `--kubelet-client-certificate=${pki.clients["apiserver-kubelet"].cert}`,
            `--kubelet-client-key=${pki.clients["apiserver-kubelet"].key}`,
            `--kubelet-certificate-authority=${pki.ca}`,
            "--kubelet-preferred-address-types=InternalIP",
        ],
        ports: [PORTS.apiserver],
        ready: async () => (await httpStatus(`https://${HOST}:${PORTS.apiserver}/readyz`, tls).catch(() => 0)) === 200,
    };
}

function controllerManagerDaemon(l: Layout, pki: Pki): Daemon {
    return {
        name: "kube-controller-manager",
        command: bins(l).controllerManager,
        restart: true,
        args: [
            ...kubeconfigFlags(l, "controller-manager"),
            `--bind-address=${HOST}`,
            `--secure-port=${PORTS.controllerManager}`,
            `--service-account-private-key-file=${pki.sa.key}`,
            `--root-ca-file=${pki.ca}`,
            `--cluster-signing-cert-file=${pki.ca}`,
            `--cluster-signing-key-file=${pki.caKey}`,
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            // kwok does not set a pod Ready again once the node lifecycle controller has marked it
            // NotReady; a grace period over the fault tests' API server outages (default 40 s) keeps
            // them from leaving pods unready, and under the doctor test's 180 s wait for unreachable nodes.
            "--node-monitor-grace-period=100s",
        ],
        ports: [PORTS.controllerManager],
        ready: healthz(PORTS.controllerManager),
    };
}

function schedulerDaemon(l: Layout): Daemon {
    return {
        name: "kube-scheduler",
        command: bins(l).scheduler,
        restart: true,
        args: [...kubeconfigFlags(l, "scheduler"), `--bind-address=${HOST}`, `--secure-port=${PORTS.scheduler}`, "--leader-elect=false"],
        ports: [PORTS.scheduler],
        ready: healthz(PORTS.scheduler),
    };
}

/** kwok: the simulated nodes and their pods. */
function kwokDaemon(l: Layout): Daemon {
    return {
        name: "kwok",
        command: bins(l).kwok,
        args: [
            `--kubeconfig=${runFiles(l).clientKubeconfig("kwok")}`,
            `--config=${runFiles(l).kwokConfig}`,
            "--manage-all-nodes=false",
            `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
            `--server-address=${HOST}:${PORTS.kwok}`,
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.0/16",
        ],
        ports: [PORTS.kwok],
        ready: () => portOpen(PORTS.kwok),
    };
}

/** The team registry, behind a login (the stack's registry). */
function registryDaemon(l: Layout): Daemon {
    return {
        name: "registry",
        command: "docker-registry",
        args: ["serve", runFiles(l).registryConfig],
        ports: [PORTS.registry],
        ready: async () => (await httpStatus(`http://${HOST}:${PORTS.registry}/v2/`).catch(() => 0)) === 401,
    };
}

/** Docker Hub's stand-in: a plain registry on loopback holding the base images under their Hub names. */
export function hubMirrorDaemon(l: Layout): Daemon {
    const f = runFiles(l);
    fs.mkdirSync(l.run, { recursive: true });
    fs.writeFileSync(f.hubMirrorConfig, registryConfig(path.join(l.data, "hub-mirror"), PORTS.hubMirror));
    return {
        name: "hub-mirror",
        command: "docker-registry",
        args: ["serve", f.hubMirrorConfig],
        ports: [PORTS.hubMirror],
        ready: async () => (await httpStatus(`http://${HOST}:${PORTS.hubMirror}/v2/`).catch(() => 0)) === 200,
    };
}

/**
 * Debian's Docker Engine for the testbed only: its own socket, data, exec root and pid file, and out of
 * the host's network (no iptables, no bridge: containers and builds use the host's network). Docker
 * Hub is the hub-mirror registry on loopback.
 */
export function dockerDaemon(l: Layout): Daemon {
    const f = runFiles(l);
    return {
        name: "dockerd",
        command: "dockerd",
        args: [
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            `--data-root=${path.join(l.data, "docker")}`,
            `--exec-root=${path.join(l.run, "docker-exec")}`,
            `--pidfile=${f.dockerPid}`,
            `--host=unix://${f.dockerSocket}`,
            `--registry-mirror=http://${HOST}:${PORTS.hubMirror}`,
        ],
        ports: [],
        pidFile: f.dockerPid,
        ready: async () => fs.existsSync(f.dockerSocket) && (await httpStatus("http://docker/_ping", undefined, f.dockerSocket).catch(() => 0)) === 200,
    };
}

/** An access key pair for the testbed's bucket, as a team's member gets one from its cloud. */
export interface S3Credentials {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
}

/**
 * The bucket's access key, generated once into the S3 server's data folder (mode 0600) and kept with
 * the bucket; undefined before the first start. gofakes3 does not check signatures, so the key only
 * proves that launchpad and the Pulumi CLI pass one the way they would to a real bucket.
 */
export function s3Credentials(l: Layout, create = false): S3Credentials | undefined {
    const file = runFiles(l).s3Credentials;
    if (!fs.existsSync(file)) {
        if (!create) return undefined;
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        const made: S3Credentials = { accessKeyId: `LPTB${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(30).toString("base64url") };
        fs.writeFileSync(file, JSON.stringify(made) + "\n", { mode: 0o600 });
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as S3Credentials;
}

/**
 * The S3-compatible server (gofakes3) holding a team's shared state: its bolt backend keeps every
 * object in one file under the data folder, so a bucket's stacks survive a stop; the bucket is made
 * at start when missing. Path-style addressing only (the bucket is the URL's first path segment).
 */
export function s3Daemon(l: Layout): Daemon {
    const f = runFiles(l);
    return {
        name: "s3",
        command: bins(l).gofakes3,
        args: ["-backend", "bolt", "-bolt.db", path.join(f.s3Data, "buckets.bolt"), "-initialbucket", S3_BUCKET, "-host", `${HOST}:${PORTS.s3}`],
        ports: [PORTS.s3],
        ready: async () => (await httpStatus(`http://${HOST}:${PORTS.s3}/${S3_BUCKET}?list-type=2&max-keys=1`).catch(() => 0)) === 200,
    };
}
