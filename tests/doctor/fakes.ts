// Local stand-ins for a container registry and a Kubernetes API server: real HTTP on 127.0.0.1, so the
// doctor's online checks run the same code they run against the real thing.

import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Recorded { method: string; url: string; accept?: string; authorization?: string }

export interface FakeServer {
    /** host:port, e.g. 127.0.0.1:40123 */
    host: string;
    url: string;
    requests: Recorded[];
    close(): Promise<void>;
}

async function listen(handler: (req: http.IncomingMessage, res: http.ServerResponse, self: FakeServer) => void): Promise<FakeServer> {
    const requests: Recorded[] = [];
    let self!: FakeServer;
    const server = http.createServer((req, res) => {
        requests.push({ method: req.method ?? "", url: req.url ?? "", accept: req.headers.accept, authorization: req.headers.authorization });
        handler(req, res, self);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    self = {
        host: `127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
    return self;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
    res.end(text);
}

export interface FakeRegistryOptions {
    /** "none": anonymous pulls; "basic": Basic auth; "bearer": the token flow of Docker Hub, GHCR and registry:2 with token auth. */
    auth: "none" | "basic" | "bearer";
    users?: Record<string, string>;
    /** repository → tags it holds */
    repos: Record<string, string[]>;
    /** Answer HEAD on manifests with 405, as a few registries do. */
    refuseHead?: boolean;
}

const MANIFEST_TYPE = "application/vnd.oci.image.index.v1+json";

/** A registry speaking the Registry HTTP API v2 subset the doctor uses. */
export function startFakeRegistry(opts: FakeRegistryOptions): Promise<FakeServer> {
    const users = opts.users ?? {};
    const tokens = new Set<string>();
    const basicUser = (header: string | undefined): string | undefined => {
        if (!header?.startsWith("Basic ")) return undefined;
        const [user, ...rest] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
        return users[user] !== undefined && users[user] === rest.join(":") ? user : undefined;
    };
    return listen((req, res, self) => {
        const url = new URL(req.url ?? "/", self.url);
        if (url.pathname === "/token") {
            const user = basicUser(req.headers.authorization);
            if (req.headers.authorization && !user) return json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] });
            if (!user) return json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "anonymous pulls are not allowed" }] });
            const token = `token-for-${user}-${url.searchParams.get("scope")}`;
            tokens.add(token);
            return json(res, 200, { token, expires_in: 300 });
        }
        const m = /^\/v2\/(.+)\/(manifests|tags)\/(.+)$/.exec(url.pathname);
        const repo = m?.[1] ?? "";
        // `GET /v2/`: what `docker login` asks; a Bearer challenge for it names no scope.
        const root = url.pathname === "/v2/";
        if (opts.auth !== "none") {
            const auth = req.headers.authorization;
            const ok = opts.auth === "basic" ? basicUser(auth) !== undefined : auth?.startsWith("Bearer ") && tokens.has(auth.slice(7)) && (root || auth.includes(`repository:${repo}:pull`));
            if (!ok) {
                const challenge = opts.auth === "basic"
                    ? `Basic realm="fake-registry"`
                    : `Bearer realm="${self.url}/token",service="fake-registry"${root ? "" : `,scope="repository:${repo}:pull"`}`;
                return json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, { "WWW-Authenticate": challenge, "Docker-Distribution-API-Version": "registry/2.0" });
            }
        }
        if (root) return json(res, 200, {});
        if (!m) return json(res, 404, { errors: [{ code: "NOT_FOUND" }] });
        const tags = opts.repos[repo];
        if (m[2] === "tags") {
            if (!tags) return json(res, 404, { errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry" }] });
            return json(res, 200, { name: repo, tags });
        }
        if (req.method === "HEAD" && opts.refuseHead) return json(res, 405, { errors: [{ code: "UNSUPPORTED" }] });
        if (!tags?.includes(m[3])) {
            if (req.method === "HEAD") {
                res.writeHead(404, { "Content-Type": "application/json" });
                return res.end();
            }
            return json(res, 404, { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] });
        }
        const headers = { "Content-Type": MANIFEST_TYPE, "Docker-Content-Digest": `sha256:${"0".repeat(64)}` };
        if (req.method === "HEAD") {
            res.writeHead(200, { ...headers, "Content-Length": "2" });
            return res.end();
        }
        return json(res, 200, { schemaVersion: 2, mediaType: MANIFEST_TYPE, manifests: [] }, headers);
    });
}

export interface FakeApiOptions {
    nodes: unknown[];
    pods: unknown[];
    ingressClasses: { name: string; controller: string; isDefault?: boolean }[];
    storageClasses: { name: string; provisioner: string; isDefault?: boolean }[];
    token: string;
    /** What /version says. @default "v1.31.2", kind's node image of that era */
    gitVersion?: string;
}

/** A Kubernetes API server that serves the four lists the doctor reads and /version, and nothing else. */
export function startFakeApiServer(opts: FakeApiOptions): Promise<FakeServer> {
    const list = (kind: string, apiVersion: string, items: unknown[]) => ({ kind, apiVersion, metadata: { resourceVersion: "4711" }, items });
    return listen((req, res) => {
        if (req.headers.authorization !== `Bearer ${opts.token}`) {
            return json(res, 401, { kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
        }
        const url = new URL(req.url ?? "/", "http://x");
        switch (url.pathname) {
            case "/version":
                return json(res, 200, { major: "1", minor: (opts.gitVersion ?? "v1.31.2").split(".")[1], gitVersion: opts.gitVersion ?? "v1.31.2", platform: "linux/amd64" });
            case "/api/v1/nodes":
                return json(res, 200, list("NodeList", "v1", opts.nodes));
            case "/api/v1/pods": {
                // Honour the doctor's field selector the way the API server does for status.phase.
                const excluded = (url.searchParams.get("fieldSelector") ?? "").split(",").filter((s) => s.startsWith("status.phase!=")).map((s) => s.slice("status.phase!=".length));
                const pods = (opts.pods as { status?: { phase?: string } }[]).filter((p) => !excluded.includes(p.status?.phase ?? ""));
                return json(res, 200, list("PodList", "v1", pods));
            }
            case "/apis/networking.k8s.io/v1/ingressclasses":
                return json(res, 200, list("IngressClassList", "networking.k8s.io/v1", opts.ingressClasses.map((c) => ({
                    apiVersion: "networking.k8s.io/v1", kind: "IngressClass",
                    metadata: { name: c.name, ...(c.isDefault ? { annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } } : {}) },
                    spec: { controller: c.controller },
                }))));
            case "/apis/storage.k8s.io/v1/storageclasses":
                return json(res, 200, list("StorageClassList", "storage.k8s.io/v1", opts.storageClasses.map((c) => ({
                    apiVersion: "storage.k8s.io/v1", kind: "StorageClass",
                    metadata: { name: c.name, ...(c.isDefault ? { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } : {}) },
                    provisioner: c.provisioner, reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer",
                }))));
            default:
                return json(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", code: 404 });
        }
    });
}

/** Writes a kubeconfig whose context points at the fake API server; returns its path. */
export async function writeKubeconfig(server: FakeServer, context: string, token: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-kubeconfig-"));
    const file = path.join(dir, "config");
    await fs.writeFile(
        file,
        [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: fake",
            "  cluster:",
            `    server: ${server.url}`,
            // The client refuses plain HTTP unless TLS verification is off; the fake speaks HTTP on loopback.
            "    insecure-skip-tls-verify: true",
            "contexts:",
            `- name: ${context}`,
            "  context:",
            "    cluster: fake",
            "    user: doctor",
            "- name: somewhere-else",
            "  context:",
            "    cluster: fake",
            "    user: nobody",
            "current-context: somewhere-else",
            "users:",
            "- name: doctor",
            "  user:",
            `    token: ${token}`,
            "- name: nobody",
            "  user:",
            "    token: wrong",
            "",
        ].join("\n"),
    );
    return file;
}
