import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { CLUSTER_IPS, CONTEXT, HOST, PORTS, REAL_NODE } from "./layout";

/** The certificates and keys of the control plane, made once with openssl and kept in `dir`. */
export interface Pki {
    readonly dir: string;
    readonly ca: string;
    readonly caKey: string;
    readonly apiserver: { cert: string; key: string };
    /** The real node's kubelet serving certificate (the API server verifies it for logs and exec). */
    readonly kubelet: { cert: string; key: string };
    /** The service-account token signing key pair. */
    readonly sa: { key: string; pub: string };
    /** Client certificates by user. */
    readonly clients: Readonly<Record<ClientUser, { cert: string; key: string }>>;
}

export type ClientUser = "admin" | "controller-manager" | "scheduler" | "kwok" | "kubelet" | "kube-proxy" | "apiserver-kubelet";

/**
 * Who each client is: RBAC and the Node authorizer bind the system names to their built-in roles
 * (the kubelet's name must be its node's). The API server's client to kubelets is a cluster admin, as
 * kubeadm makes it.
 */
const SUBJECTS: Readonly<Record<ClientUser, string>> = {
    admin: "/O=system:masters/CN=launchpad-testbed-admin",
    "controller-manager": "/CN=system:kube-controller-manager",
    scheduler: "/CN=system:kube-scheduler",
    kwok: "/O=system:masters/CN=kwok",
    kubelet: `/O=system:nodes/CN=system:node:${REAL_NODE.name}`,
    "kube-proxy": "/CN=system:kube-proxy",
    "apiserver-kubelet": "/O=system:masters/CN=kube-apiserver-kubelet-client",
};

/** Every file `ensurePki` makes, by name. */
export const PKI_FILES: readonly string[] = [
    "ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "kubelet.crt", "kubelet.key", "sa.key", "sa.pub",
    ...Object.keys(SUBJECTS).flatMap((u) => [`client-${u}.crt`, `client-${u}.key`]),
];

const APISERVER_NAMES = [
    "IP:127.0.0.1",
    // What pods reach it by: the kubernetes Service.
    `IP:${CLUSTER_IPS.kubernetes}`,
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
];

function openssl(args: readonly string[], cwd: string): void {
    try {
        execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
        const err = e as { stderr?: Buffer; message: string };
        throw new Error(`openssl ${args[0]} failed: ${(err.stderr?.toString() || err.message).trim().split("\n")[0]}`);
    }
}

function issue(dir: string, name: string, subject: string, extensions: string): void {
    if (fs.existsSync(path.join(dir, `${name}.crt`))) return;
    openssl(["genrsa", "-out", `${name}.key`, "2048"], dir);
    openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
    fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.crt`], dir);
    fs.rmSync(path.join(dir, `${name}.csr`));
    fs.rmSync(path.join(dir, `${name}.ext`));
}

/** Makes whatever is missing of the PKI in `dir` (idempotent: existing files are kept). */
export function ensurePki(dir: string): Pki {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const f = (n: string) => path.join(dir, n);
    if (!fs.existsSync(f("ca.crt"))) {
        openssl(["genrsa", "-out", "ca.key", "2048"], dir);
        openssl(["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=launchpad-testbed-ca", "-days", "3650", "-sha256", "-out", "ca.crt"], dir);
    }
    issue(dir, "apiserver", "/CN=kube-apiserver", `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${APISERVER_NAMES.join(",")}\n`);
    issue(dir, "kubelet", `/CN=${REAL_NODE.name}`, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:${REAL_NODE.ip},DNS:${REAL_NODE.name}\n`);
    const clients = {} as Record<ClientUser, { cert: string; key: string }>;
    for (const [user, subject] of Object.entries(SUBJECTS) as [ClientUser, string][]) {
        issue(dir, `client-${user}`, subject, "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
        clients[user] = { cert: f(`client-${user}.crt`), key: f(`client-${user}.key`) };
    }
    if (!fs.existsSync(f("sa.key"))) {
        openssl(["genrsa", "-out", "sa.key", "2048"], dir);
        openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    }
    return {
        dir,
        ca: f("ca.crt"),
        caKey: f("ca.key"),
        apiserver: { cert: f("apiserver.crt"), key: f("apiserver.key") },
        kubelet: { cert: f("kubelet.crt"), key: f("kubelet.key") },
        sa: { key: f("sa.key"), pub: f("sa.pub") },
        clients,
    };
}

/** A kubeconfig for one client certificate, with the testbed's context as its current one. */
export function kubeconfig(pki: Pki, user: ClientUser): string {
    const server = `https://${HOST}:${PORTS.apiserver}`;
    const client = pki.clients[user];
    return toYaml({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: CONTEXT, cluster: { server, "certificate-authority": pki.ca } }],
        users: [{ name: `${CONTEXT}-${user}`, user: { "client-certificate": client.cert, "client-key": client.key } }],
        contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: `${CONTEXT}-${user}` } }],
        "current-context": CONTEXT,
    });
}
