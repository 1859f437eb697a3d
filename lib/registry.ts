// The boundary to image registries: does an image exist, and can these credentials read it? Speaks the
// Registry HTTP API v2 (the OCI distribution spec) with global fetch: a manifest HEAD (GET if HEAD is
// refused) with the Accept headers for OCI indexes, Docker manifest lists and single-platform manifests,
// anonymous first, then Basic or the Bearer token flow the registry's WWW-Authenticate challenge asks for.

import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parseImageReference } from "./imageRef";
import type { Runner } from "./runner";

export const MANIFEST_ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
].join(", ");

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";
const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

export interface ImageRef {
    /** The reference as written. */
    image: string;
    /** Registry host[:port], "docker.io" for Docker Hub. */
    registry: string;
    repository: string;
    tag?: string;
    digest?: string;
}

/** Splits an image reference and names its registry as the Registry API needs: "docker.io/library/x" for "x". */
export function parseImageRef(image: string): ImageRef {
    const parsed = parseImageReference(image);
    if (!parsed.ok) throw new Error(`"${image}" is not an image reference: ${parsed.reason}`);
    const { domain, path: repositoryPath, digest } = parsed.reference;
    let registry = domain ?? DOCKER_HUB;
    if (registry === "index.docker.io" || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
    const repository = registry === DOCKER_HUB && !repositoryPath.includes("/") ? `library/${repositoryPath}` : repositoryPath;
    const tag = parsed.reference.tag ?? (digest === undefined ? "latest" : undefined);
    return { image, registry, repository, tag, digest };
}

export interface Credentials { username: string; password: string }

interface DockerConfig {
    auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
    /** Registry host → credential helper (`docker-credential-<helper>`), e.g. what `gcloud auth configure-docker` writes. */
    credHelpers?: Record<string, string>;
    /** The helper that keeps every other login (Docker Desktop's "desktop", "osxkeychain", "pass"…). */
    credsStore?: string;
}

/** The user's ~/.docker/config.json (or $DOCKER_CONFIG/config.json), if there is one. */
export async function readDockerConfig(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): Promise<DockerConfig | undefined> {
    const file = path.join(env.DOCKER_CONFIG ?? path.join(home, ".docker"), "config.json");
    try {
        return JSON.parse(await fs.readFile(file, "utf8")) as DockerConfig;
    } catch {
        return undefined;
    }
}

function hostOf(key: string): string {
    return key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

/**
 * Credentials for one registry. For the stack's own registry, LAUNCHPAD_REGISTRY_PASSWORD with
 * LAUNCHPAD_REGISTRY_USERNAME (or the stack's registryUsername) when set: the stack's password is a
 * Pulumi secret only `pulumi` can decrypt. Otherwise the registry's entry in the Docker config's `auths`
 * (what `docker login` writes); a credential helper's login comes from helperCredentials.
 */
export function credentialsFor(
    registry: string,
    opts: { env?: NodeJS.ProcessEnv; dockerConfig?: DockerConfig; stackRegistry?: string; stackUsername?: string } = {},
): Credentials | undefined {
    const env = opts.env ?? process.env;
    const forStack = opts.stackRegistry === undefined || hostOf(opts.stackRegistry) === registry;
    const username = env.LAUNCHPAD_REGISTRY_USERNAME || opts.stackUsername;
    if (forStack && username && env.LAUNCHPAD_REGISTRY_PASSWORD !== undefined) {
        return { username, password: env.LAUNCHPAD_REGISTRY_PASSWORD };
    }
    const auths = opts.dockerConfig?.auths ?? {};
    const wanted = registry === DOCKER_HUB ? [DOCKER_HUB_AUTH_KEY, DOCKER_HUB, "index.docker.io", DOCKER_HUB_API] : [registry];
    for (const [key, entry] of Object.entries(auths)) {
        if (!wanted.includes(key) && !wanted.includes(hostOf(key))) continue;
        if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password };
        if (entry.auth) {
            const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
            const i = decoded.indexOf(":");
            if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
        }
    }
    return undefined;
}

/**
 * The login a Docker credential helper keeps for a registry, asked for as Docker asks: `docker-credential-<helper>
 * get` with the server on standard input, JSON `{ "Username", "Secret" }` back. The registry's own entry in
 * `credHelpers` first, then `credsStore`. Undefined when there is no helper, it fails, it knows no login, or it
 * holds an identity token (Username "<token>"), which takes an OAuth exchange the doctor does not make.
 */
export async function helperCredentials(registry: string, dockerConfig: DockerConfig | undefined, runner: Runner): Promise<Credentials | undefined> {
    const helper = dockerConfig?.credHelpers?.[registry] ?? dockerConfig?.credsStore;
    if (!helper) return undefined;
    const result = await runner.run(`docker-credential-${helper}`, ["get"], { input: registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry });
    if (result.code !== 0) return undefined;
    try {
        const answer = JSON.parse(result.stdout) as { Username?: unknown; Secret?: unknown };
        if (typeof answer.Username !== "string" || typeof answer.Secret !== "string" || answer.Username === "<token>") return undefined;
        return { username: answer.Username, password: answer.Secret };
    } catch {
        return undefined;
    }
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas). */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
    if (!header) return undefined;
    const m = /^\s*(\S+)\s*(.*)$/.exec(header);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    for (const p of m[2].matchAll(/([A-Za-z_][\w-]*)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)/g)) {
        params[p[1].toLowerCase()] = p[3] !== undefined ? p[3].replace(/\\(.)/g, "$1") : p[2];
    }
    return { scheme: m[1].toLowerCase(), params };
}

export type ImageStatus = "found" | "missing" | "unauthorized" | "unreachable" | "error";

export interface ImageCheck {
    image: string;
    registry: string;
    repository: string;
    /** What was asked for: a tag's manifest, or the repository's tag list when the reference is a digest. */
    checked: string;
    status: ImageStatus;
    ok: boolean;
    message: string;
}

export interface CheckImageOptions {
    credentials?: Credentials;
    fetch?: typeof fetch;
    /** "http" for registries on this machine (localhost, 127.0.0.0/8, ::1), as Docker treats them; "https" otherwise. */
    scheme?: "http" | "https";
    timeoutMs?: number;
    /** Look a digest reference up by its manifest (the image itself), not by the repository's tag list. */
    exactDigest?: boolean;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** "http" for a registry on this machine (localhost, 127.0.0.0/8, ::1), as Docker treats it; "https" otherwise. */
export function defaultScheme(registry: string): "http" | "https" {
    const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    const family = net.isIP(host);
    const loopback = family !== 0 && LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
    return host === "localhost" || loopback ? "http" : "https";
}

class AuthRefused extends Error {}

/** One request with the registry's auth dance: anonymous, then Basic or Bearer as its challenge says. */
async function authorizedRequest(url: string, init: RequestInit, repository: string | undefined, opts: CheckImageOptions, actions = "pull"): Promise<Response> {
    const doFetch = opts.fetch ?? fetch;
    const timeout = () => AbortSignal.timeout(opts.timeoutMs ?? 15000);
    const first = await doFetch(url, { ...init, signal: timeout() });
    if (first.status !== 401) return first;
    const challenge = parseChallenge(first.headers.get("www-authenticate"));
    const creds = opts.credentials;
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` : undefined;
    let authorization: string;
    if (challenge?.scheme === "bearer" && challenge.params.realm) {
        const tokenUrl = new URL(challenge.params.realm);
        if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
        const scope = challenge.params.scope ?? (repository === undefined ? undefined : `repository:${repository}:${actions}`);
        if (scope !== undefined) tokenUrl.searchParams.set("scope", scope);
        const res = await doFetch(tokenUrl, { headers: basic ? { Authorization: basic } : {}, signal: timeout() });
        if (res.status === 401 || res.status === 403) {
            throw new AuthRefused(creds ? `the token service refused the credentials for ${creds.username}` : "the registry wants a login and no credentials were found");
        }
        if (!res.ok) throw new Error(`the token service at ${tokenUrl.origin} answered ${res.status}`);
        const body = (await res.json()) as { token?: string; access_token?: string };
        const token = body.token ?? body.access_token;
        if (!token) throw new Error(`the token service at ${tokenUrl.origin} returned no token`);
        authorization = `Bearer ${token}`;
    } else if (basic) {
        authorization = basic;
    } else {
        throw new AuthRefused("the registry wants a login and no credentials were found");
    }
    const headers = { ...(init.headers as Record<string, string>), Authorization: authorization };
    return doFetch(url, { ...init, headers, signal: timeout() });
}

function describeFailure(e: unknown): string {
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError") return "timed out";
    return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

/**
 * Asks the registry whether the image exists and is readable. A tag is checked by its manifest; a
 * digest-only reference by the repository's tag list, because the doctor's workloads come from a run
 * under mocks whose digests are placeholders: what must exist is the repository (and the tag, if any).
 * With `exactDigest`, a digest is checked by its own manifest: whether that very image is there.
 */
export async function checkImage(image: string, opts: CheckImageOptions = {}): Promise<ImageCheck> {
    let ref: ImageRef;
    try {
        ref = parseImageRef(image);
    } catch (e) {
        return { image, registry: "", repository: "", checked: "", status: "error", ok: false, message: (e as Error).message };
    }
    const host = ref.registry === DOCKER_HUB ? DOCKER_HUB_API : ref.registry;
    const base = `${opts.scheme ?? defaultScheme(ref.registry)}://${host}/v2/${ref.repository}`;
    const manifest = opts.exactDigest && ref.digest !== undefined ? ref.digest : ref.tag;
    const byTag = manifest !== undefined;
    const checked = byTag ? `manifest ${manifest}` : "tag list";
    const result = (status: ImageStatus, message: string): ImageCheck => ({
        image, registry: ref.registry, repository: ref.repository, checked, status, ok: status === "found", message,
    });
    const where = `${ref.registry}/${ref.repository}${byTag ? `${manifest === ref.digest ? "@" : ":"}${manifest}` : ""}`;
    try {
        let res: Response;
        if (byTag) {
            const url = `${base}/manifests/${manifest}`;
            const headers = { Accept: MANIFEST_ACCEPT };
            res = await authorizedRequest(url, { method: "HEAD", headers }, ref.repository, opts);
            if (res.status === 405 || res.status === 501) res = await authorizedRequest(url, { method: "GET", headers }, ref.repository, opts);
        } else {
            res = await authorizedRequest(`${base}/tags/list`, { method: "GET", headers: { Accept: "application/json" } }, ref.repository, opts);
        }
        if (res.status === 401 || res.status === 403) {
            return result("unauthorized", `${where}: the registry refused ${opts.credentials ? `the credentials for ${opts.credentials.username}` : "anonymous access"} (${res.status})`);
        }
        if (res.status === 404) return result("missing", `${where}: not in the registry (404)`);
        if (!res.ok) return result("error", `${where}: the registry answered ${res.status}`);
        if (!byTag) {
            const body = (await res.json().catch(() => ({}))) as { tags?: string[] | null };
            if (!body.tags || body.tags.length === 0) return result("missing", `${where}: the repository has no tags`);
            return result("found", `${where}: repository exists (${body.tags.length} tag${body.tags.length === 1 ? "" : "s"})`);
        }
        return result("found", `${where}: found`);
    } catch (e) {
        if (e instanceof AuthRefused) return result("unauthorized", `${where}: ${e.message}`);
        return result("unreachable", `${where}: cannot reach ${host} (${describeFailure(e)})`);
    }
}

export type LoginStatus = "accepted" | "refused" | "unreachable" | "error";

/**
 * What `docker login` asks of a registry before a push: `GET /v2/` with the credentials (Basic, or a
 * Bearer token without a scope, as the registry's challenge says). Without credentials it only learns
 * whether the registry answers.
 */
export async function checkRegistryLogin(registry: string, opts: CheckImageOptions = {}): Promise<{ status: LoginStatus; message: string }> {
    const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
    const who = opts.credentials ? `the login of ${opts.credentials.username}` : "anonymous access";
    try {
        const res = await authorizedRequest(`${opts.scheme ?? defaultScheme(registry)}://${host}/v2/`, { method: "GET" }, undefined, opts);
        if (res.status === 401 || res.status === 403) return { status: "refused", message: `${registry} refused ${who} (HTTP ${res.status})` };
        if (!res.ok) return { status: "error", message: `${registry} answered HTTP ${res.status} to /v2/` };
        return { status: "accepted", message: `${registry} accepted ${who}` };
    } catch (e) {
        if (e instanceof AuthRefused) return { status: "refused", message: `${registry}: ${e.message}` };
        return { status: "unreachable", message: `cannot reach ${registry} (${describeFailure(e)})` };
    }
}

/** Where one side of a copy is: its repository, and how to reach and log in to its registry. */
export interface CopyEnd {
    readonly credentials?: Credentials;
    readonly scheme?: "http" | "https";
}

export interface CopyImageOptions {
    readonly from?: CopyEnd;
    readonly to?: CopyEnd;
    readonly fetch?: typeof fetch;
    readonly timeoutMs?: number;
}

function sha256(bytes: Uint8Array): string {
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * Copies an image by digest from one registry repository into another, byte for byte, as `crane copy`
 * and `skopeo copy` do through the Registry HTTP API: each blob (config and layers, of every platform of
 * an index) the target lacks is mounted from the source repository (same registry) or uploaded, then the
 * manifest is put by its digest with its own bytes and media type, so the target holds the very same
 * digest. `source` is `registry/repository@sha256:…`, `target` `registry/repository` (no tag or digest).
 * Resolves to the digest the target registry answers with; throws an Error saying which step failed.
 */
export async function copyImageByDigest(source: string, target: string, opts: CopyImageOptions = {}): Promise<string> {
    const from = parseImageRef(source);
    if (from.digest === undefined) throw new Error(`${source} names no digest: only an image by digest is copied`);
    const to = parseImageRef(target);
    const base = (ref: ImageRef, end: CopyEnd | undefined) =>
        `${end?.scheme ?? defaultScheme(ref.registry)}://${ref.registry === DOCKER_HUB ? DOCKER_HUB_API : ref.registry}/v2/${ref.repository}`;
    const src = { base: base(from, opts.from), opts: { credentials: opts.from?.credentials, fetch: opts.fetch, timeoutMs: opts.timeoutMs ?? 120_000 } };
    const dst = { base: base(to, opts.to), opts: { credentials: opts.to?.credentials, fetch: opts.fetch, timeoutMs: opts.timeoutMs ?? 120_000 } };
    const sameRegistry = from.registry === to.registry;
    const fail = (step: string, res: Response) => new Error(`copying ${source} to ${target}: ${step} answered HTTP ${res.status}`);

    const copyBlob = async (digest: string): Promise<void> => {
        const head = await authorizedRequest(`${dst.base}/blobs/${digest}`, { method: "HEAD" }, to.repository, dst.opts, "pull,push");
        if (head.ok) return;
        if (sameRegistry) {
            const mount = await authorizedRequest(`${dst.base}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from.repository)}`, { method: "POST" }, to.repository, dst.opts, "pull,push");
            if (mount.status === 201) return;
        }
        const got = await authorizedRequest(`${src.base}/blobs/${digest}`, { method: "GET" }, from.repository, src.opts);
        if (!got.ok) throw fail(`the source's blob ${digest}`, got);
        const bytes = new Uint8Array(await got.arrayBuffer());
        if (sha256(bytes) !== digest) throw new Error(`copying ${source} to ${target}: the source's blob ${digest} does not match its digest`);
        const start = await authorizedRequest(`${dst.base}/blobs/uploads/`, { method: "POST" }, to.repository, dst.opts, "pull,push");
        if (start.status !== 202) throw fail("starting an upload", start);
        const location = new URL(start.headers.get("location") ?? "", dst.base);
        location.searchParams.set("digest", digest);
        const put = await authorizedRequest(location.toString(), { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: bytes }, to.repository, dst.opts, "pull,push");
        if (put.status !== 201) throw fail(`uploading blob ${digest}`, put);
    };

    const copyManifest = async (digest: string): Promise<string> => {
        const got = await authorizedRequest(`${src.base}/manifests/${digest}`, { method: "GET", headers: { Accept: MANIFEST_ACCEPT } }, from.repository, src.opts);
        if (!got.ok) throw fail(`the source's manifest ${digest}`, got);
        const bytes = new Uint8Array(await got.arrayBuffer());
        if (sha256(bytes) !== digest) throw new Error(`copying ${source} to ${target}: the source's manifest does not match its digest ${digest}`);
        const manifest = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
            mediaType?: string; config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[];
        };
        for (const child of manifest.manifests ?? []) await copyManifest(child.digest);
        for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])]) await copyBlob(blob.digest);
        const mediaType = got.headers.get("content-type") ?? manifest.mediaType ?? "application/vnd.docker.distribution.manifest.v2+json";
        const put = await authorizedRequest(`${dst.base}/manifests/${digest}`, { method: "PUT", headers: { "Content-Type": mediaType }, body: bytes }, to.repository, dst.opts, "pull,push");
        if (put.status !== 201) throw fail(`putting manifest ${digest}`, put);
        return put.headers.get("docker-content-digest") ?? digest;
    };

    return copyManifest(from.digest);
}
