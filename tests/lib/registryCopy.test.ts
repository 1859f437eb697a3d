import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyImageByDigest } from "../../lib/registry";

const digestOf = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Registries in memory behind a fetch: blobs and manifests per `host/repository`, with a journal of the writes. */
function registries(opts: { login?: { host: string; user: string; password: string } } = {}) {
    const blobs = new Map<string, Map<string, Uint8Array>>();
    const manifests = new Map<string, Map<string, { type: string; bytes: Uint8Array }>>();
    const writes: string[] = [];
    const repo = <T>(m: Map<string, Map<string, T>>, key: string) => m.get(key) ?? m.set(key, new Map()).get(key)!;
    const fetch = (async (input: string | URL, init: RequestInit = {}) => {
        const url = new URL(String(input));
        const method = init.method ?? "GET";
        const headers = (init.headers ?? {}) as Record<string, string>;
        if (opts.login?.host === url.host && headers.Authorization !== `Basic ${Buffer.from(`${opts.login.user}:${opts.login.password}`).toString("base64")}`) {
            return new Response(null, { status: 401, headers: { "www-authenticate": `Basic realm="r"` } });
        }
        const m = /^\/v2\/(.+)\/(blobs|manifests)\/(uploads\/[^/]*|[^/]+)$/.exec(url.pathname)!;
        const key = `${url.host}/${m[1]}`;
        if (m[2] === "blobs" && m[3] === "uploads/" && method === "POST") {
            const from = url.searchParams.get("from");
            const mounted = from && blobs.get(`${url.host}/${from}`)?.get(url.searchParams.get("mount")!);
            if (mounted) {
                repo(blobs, key).set(url.searchParams.get("mount")!, mounted);
                writes.push(`mount ${key} ${url.searchParams.get("mount")!.slice(7, 11)}`);
                return new Response(null, { status: 201 });
            }
            return new Response(null, { status: 202, headers: { location: `/v2/${m[1]}/blobs/uploads/u1?state=x` } });
        }
        if (m[2] === "blobs" && method === "PUT") {
            const bytes = init.body as Uint8Array;
            const digest = url.searchParams.get("digest")!;
            if (digestOf(bytes) !== digest || url.searchParams.get("state") !== "x") return new Response(null, { status: 400 });
            repo(blobs, key).set(digest, bytes);
            writes.push(`upload ${key} ${digest.slice(7, 11)}`);
            return new Response(null, { status: 201 });
        }
        if (m[2] === "blobs") {
            const blob = blobs.get(key)?.get(m[3]);
            return blob ? new Response(method === "HEAD" ? null : blob, { status: 200 }) : new Response(null, { status: 404 });
        }
        if (method === "PUT") {
            const bytes = init.body as Uint8Array;
            repo(manifests, key).set(digestOf(bytes), { type: headers["Content-Type"], bytes });
            writes.push(`manifest ${key} ${digestOf(bytes).slice(7, 11)} ${headers["Content-Type"]}`);
            return new Response(null, { status: 201, headers: { "docker-content-digest": digestOf(bytes) } });
        }
        const found = manifests.get(key)?.get(m[3]);
        return found ? new Response(method === "HEAD" ? null : found.bytes, { status: 200, headers: { "content-type": found.type } }) : new Response(null, { status: 404 });
    }) as typeof globalThis.fetch;
    /** Puts an image (a manifest, its config and one layer) into a repository; its digest. */
    const push = (key: string, layer: string, type = "application/vnd.docker.distribution.manifest.v2+json"): string => {
        const parts = [`{"config":"${layer}"}`, layer].map((s) => new TextEncoder().encode(s));
        for (const p of parts) repo(blobs, key).set(digestOf(p), p);
        const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: type, config: { digest: digestOf(parts[0]) }, layers: [{ digest: digestOf(parts[1]) }] }));
        repo(manifests, key).set(digestOf(bytes), { type, bytes });
        return digestOf(bytes);
    };
    return { fetch, push, writes, manifests };
}

describe("lib/registry: copying an image by digest", () => {
    it("uploads each blob the target lacks and puts the manifest's own bytes, so the target holds the same digest", async () => {
        const r = registries();
        const digest = r.push("a.example/launchpad-backend", "layer one");
        const copied = await copyImageByDigest(`a.example/launchpad-backend@${digest}`, "b.example/shop-backend", { fetch: r.fetch });
        assert.equal(copied, digest);
        assert.equal(r.writes.length, 3);
        assert.match(r.writes[2], new RegExp(`^manifest b.example/shop-backend ${digest.slice(7, 11)} application/vnd.docker.distribution.manifest.v2\\+json$`));
        assert.ok(r.manifests.get("b.example/shop-backend")!.has(digest));
    });

    it("mounts the blobs from the source repository when both are in one registry, and uploads nothing", async () => {
        const r = registries();
        const digest = r.push("a.example/launchpad-backend", "layer two");
        await copyImageByDigest(`a.example/launchpad-backend@${digest}`, "a.example/staging-backend", { fetch: r.fetch });
        assert.deepEqual(r.writes.map((w) => w.split(" ")[0]), ["mount", "mount", "manifest"]);
    });

    it("copies every platform of an index before the index itself", async () => {
        const r = registries();
        const amd = r.push("a.example/app", "amd64 layer");
        const arm = r.push("a.example/app", "arm64 layer");
        const type = "application/vnd.oci.image.index.v1+json";
        const index = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: type, manifests: [{ digest: amd }, { digest: arm }] }));
        r.manifests.get("a.example/app")!.set(digestOf(index), { type, bytes: index });
        assert.equal(await copyImageByDigest(`a.example/app@${digestOf(index)}`, "b.example/app", { fetch: r.fetch }), digestOf(index));
        assert.deepEqual(r.writes.filter((w) => w.startsWith("manifest")).map((w) => w.split(" ")[2]), [amd, arm, digestOf(index)].map((d) => d.slice(7, 11)));
    });

    it("logs in to each registry with its own credentials", async () => {
        const r = registries({ login: { host: "b.example", user: "ci", password: "s3cret" } });
        const digest = r.push("a.example/app", "layer three");
        await assert.rejects(copyImageByDigest(`a.example/app@${digest}`, "b.example/app", { fetch: r.fetch }), /the registry wants a login and no credentials were found/);
        await copyImageByDigest(`a.example/app@${digest}`, "b.example/app", { fetch: r.fetch, to: { credentials: { username: "ci", password: "s3cret" } } });
        assert.ok(r.manifests.get("b.example/app")!.has(digest));
    });

    it("says which step failed when the source does not have the image", async () => {
        const r = registries();
        await assert.rejects(
            copyImageByDigest(`a.example/app@sha256:${"c".repeat(64)}`, "b.example/app", { fetch: r.fetch }),
            { message: `copying a.example/app@sha256:${"c".repeat(64)} to b.example/app: the source's manifest sha256:${"c".repeat(64)} answered HTTP 404` },
        );
    });

    it("refuses a source named by tag", async () => {
        await assert.rejects(copyImageByDigest("a.example/app:v2", "b.example/app"), /names no digest: only an image by digest is copied/);
    });
});
