import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { CONTEXT, HOST, PORTS } from "./layout";

/** The certificates and keys of the control plane, made once with openssl and kept in `dir`. */
export interface Pki {
    readonly dir: string;
    readonly ca: string;
    readonly caKey: string;
    readonly apiserver: { cert: string; key: string };
    /** The service-account token signing key pair. */
    readonly sa: { key: string; pub: string };
    /** Client certificates by user. */
    readonly clients: Readonly<Record<ClientUser, { cert: string; key: string }>>;
}

export type ClientUser = "admin" | "controller-manager" | "scheduler" | "kwok";

/** Who each client is to the API server: RBAC binds the system names to their built-in roles. */
const SUBJECTS: Readonly<Record<ClientUser, string>> = {
    admin: "/O=system:masters/CN=launchpad-testbed-admin",
    "controller-manager": "/CN=system:kube-controller-manager",
    scheduler: "/CN=system:kube-scheduler",
    kwok: "/O=system:masters/CN=kwok",
};

const APISERVER_NAMES = [
    "IP:127.0.0.1",
    "IP:10.96.0.1",
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
