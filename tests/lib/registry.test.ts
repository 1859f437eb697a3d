import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MANIFEST_ACCEPT, checkImage, checkRegistryLogin, credentialsFor, defaultScheme, helperCredentials, parseChallenge, parseImageRef } from "../../lib/registry";
import { ProcessRunner, type Runner } from "../../lib/runner";
import { FakeServer, startFakeRegistry } from "../doctor/fakes";

const DIGEST = `sha256:${"b".repeat(64)}`;

describe("doctor: image references", () => {
    const cases: [string, string, string, string | undefined, string | undefined][] = [
        ["postgres:17", "docker.io", "library/postgres", "17", undefined],
        ["postgres", "docker.io", "library/postgres", "latest", undefined],
        ["bitnami/postgresql:16", "docker.io", "bitnami/postgresql", "16", undefined],
        [`localhost:5001/launchpad-backend@${DIGEST}`, "localhost:5001", "launchpad-backend", undefined, DIGEST],
        [`ghcr.io/acme/launchpad-frontend:prod@${DIGEST}`, "ghcr.io", "acme/launchpad-frontend", "prod", DIGEST],
        ["127.0.0.1:5000/team/app:1.2.3", "127.0.0.1:5000", "team/app", "1.2.3", undefined],
        ["index.docker.io/library/nginx:1.27", "docker.io", "library/nginx", "1.27", undefined],
    ];
    for (const [image, registry, repository, tag, digest] of cases) {
        it(`splits ${image} into ${registry}, ${repository}, ${tag ?? "no tag"} and ${digest ? "a digest" : "no digest"}`, () => {
            assert.deepEqual(parseImageRef(image), { image, registry, repository, tag, digest });
        });
    }
    it("rejects a reference with upper-case letters in the repository", () => {
        assert.throws(() => parseImageRef("localhost:5001/Launchpad"), /is not an image reference/);
    });
});

describe("doctor: registry scheme", () => {
    it("speaks http only to registries on a loopback address or localhost", () => {
        for (const local of ["localhost:5001", "127.0.0.1:5000", "127.8.9.10", "[::1]:5000"]) assert.equal(defaultScheme(local), "http", local);
        for (const remote of ["ghcr.io", "127.example.com:5000", "10.0.0.1:5000", "[::2]:5000"]) assert.equal(defaultScheme(remote), "https", remote);
    });
});

describe("doctor: registry credentials", () => {
    const dockerConfig = {
        auths: {
            "https://index.docker.io/v1/": { auth: Buffer.from("hubuser:hubpass").toString("base64") },
            "ghcr.io": { username: "octo", password: "ghp_x" },
        },
    };
    it("uses LAUNCHPAD_REGISTRY_USERNAME and LAUNCHPAD_REGISTRY_PASSWORD for the stack's registry", () => {
        const env = { LAUNCHPAD_REGISTRY_USERNAME: "ci", LAUNCHPAD_REGISTRY_PASSWORD: "s3cret" };
        assert.deepEqual(credentialsFor("ghcr.io", { env, dockerConfig, stackRegistry: "ghcr.io/acme" }), { username: "ci", password: "s3cret" });
    });
    it("takes the user from the stack's registryUsername when only the password is in the environment", () => {
        const env = { LAUNCHPAD_REGISTRY_PASSWORD: "s3cret" };
        assert.deepEqual(credentialsFor("ghcr.io", { env, stackRegistry: "ghcr.io/acme", stackUsername: "bot" }), { username: "bot", password: "s3cret" });
    });
    it("does not send the stack's password to another registry", () => {
        const env = { LAUNCHPAD_REGISTRY_USERNAME: "ci", LAUNCHPAD_REGISTRY_PASSWORD: "s3cret" };
        assert.equal(credentialsFor("quay.io", { env, dockerConfig, stackRegistry: "ghcr.io/acme" }), undefined);
    });
    it("falls back to the Docker config's auths, decoding the base64 auth field", () => {
        assert.deepEqual(credentialsFor("docker.io", { env: {}, dockerConfig }), { username: "hubuser", password: "hubpass" });
        assert.deepEqual(credentialsFor("ghcr.io", { env: {}, dockerConfig }), { username: "octo", password: "ghp_x" });
    });
});

describe("doctor: a credential helper's login (gcloud, ecr-login, Docker Desktop)", () => {
    /** A stand-in for the process boundary: answers `docker-credential-<helper> get` from a table. */
    function helpers(answers: Record<string, { code?: number; stdout: string }>) {
        const calls: { cmd: string; input?: string }[] = [];
        const runner: Runner = {
            run: async (cmd, _args, opts) => {
                calls.push({ cmd, input: opts?.input });
                const a = answers[cmd];
                return a ? { code: a.code ?? 0, stdout: a.stdout, stderr: "" } : { code: 127, stdout: "", stderr: `${cmd}: not found` };
            },
            which: async () => undefined,
        };
        return { runner, calls };
    }
    const ar = "europe-docker.pkg.dev";

    it("asks the registry's own helper from credHelpers, with the server on standard input", async () => {
        const { runner, calls } = helpers({ "docker-credential-gcloud": { stdout: '{"ServerURL":"europe-docker.pkg.dev","Username":"oauth2accesstoken","Secret":"ya29.token"}' } });
        const found = await helperCredentials(ar, { credHelpers: { [ar]: "gcloud" }, credsStore: "desktop" }, runner);
        assert.deepEqual(found, { username: "oauth2accesstoken", password: "ya29.token" });
        assert.deepEqual(calls, [{ cmd: "docker-credential-gcloud", input: ar }]);
    });

    it("falls back to credsStore, and asks for Docker Hub by its old index URL", async () => {
        const { runner, calls } = helpers({ "docker-credential-desktop": { stdout: '{"Username":"hubuser","Secret":"hubpass"}' } });
        assert.deepEqual(await helperCredentials("docker.io", { credsStore: "desktop" }, runner), { username: "hubuser", password: "hubpass" });
        assert.equal(calls[0].input, "https://index.docker.io/v1/");
    });

    it("gives nothing without a helper, when the helper fails or is missing, or when it holds an identity token", async () => {
        const { runner } = helpers({
            "docker-credential-pass": { code: 1, stdout: "credentials not found in native keychain" },
            "docker-credential-acr": { stdout: '{"Username":"<token>","Secret":"refresh-token"}' },
        });
        assert.equal(await helperCredentials(ar, { auths: {} }, runner), undefined);
        assert.equal(await helperCredentials(ar, { credsStore: "pass" }, runner), undefined);
        assert.equal(await helperCredentials(ar, { credsStore: "ecr-login" }, runner), undefined, "not installed: exit 127");
        assert.equal(await helperCredentials(ar, { credsStore: "acr" }, runner), undefined);
    });

    it("runs a real helper program found on PATH", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-helper-"));
        const helper = path.join(dir, "docker-credential-fake");
        await fs.writeFile(helper, '#!/bin/sh\nread server\n[ "$1" = get ] && printf \'{"ServerURL":"%s","Username":"AWS","Secret":"ecr-token"}\' "$server"\n', { mode: 0o755 });
        const found = await helperCredentials("123456789012.dkr.ecr.eu-west-1.amazonaws.com", { credsStore: "fake" }, new ProcessRunner({ PATH: dir }));
        assert.deepEqual(found, { username: "AWS", password: "ecr-token" });
    });
});

describe("doctor: WWW-Authenticate challenges", () => {
    it("reads realm, service and a scope with commas inside quotes", () => {
        assert.deepEqual(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'), {
            scheme: "bearer",
            params: { realm: "https://auth.example.com/token", service: "registry.example.com", scope: "repository:a/b:pull,push" },
        });
    });
    it("reads a Basic challenge", () => {
        assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: "basic", params: { realm: "Registry Realm" } });
    });
});

describe("doctor: asking a registry about an image (fake registry over HTTP)", () => {
    let servers: FakeServer[] = [];
    afterEach(async () => {
        await Promise.all(servers.map((s) => s.close()));
        servers = [];
    });
    async function registry(opts: Parameters<typeof startFakeRegistry>[0]): Promise<FakeServer> {
        const s = await startFakeRegistry(opts);
        servers.push(s);
        return s;
    }

    it("finds a tag through the Bearer token flow, logging in to the token service with the credentials", async () => {
        const r = await registry({ auth: "bearer", users: { ci: "pw" }, repos: { "launchpad-postgres": ["17", "dev"] } });
        const result = await checkImage(`${r.host}/launchpad-postgres:dev@${DIGEST}`, { credentials: { username: "ci", password: "pw" } });
        assert.equal(result.status, "found", result.message);
        assert.equal(result.ok, true);
        const token = r.requests.find((q) => q.url.startsWith("/token"));
        assert.ok(token, "asked the token service");
        assert.match(token.url, /service=fake-registry/);
        assert.match(token.url, /scope=repository%3Alaunchpad-postgres%3Apull/);
        assert.equal(token.authorization, `Basic ${Buffer.from("ci:pw").toString("base64")}`);
        const manifest = r.requests.filter((q) => q.url === "/v2/launchpad-postgres/manifests/dev");
        assert.equal(manifest.length, 2, "anonymous first, then with the token");
        assert.equal(manifest[1].method, "HEAD");
        assert.match(manifest[1].authorization ?? "", /^Bearer token-for-ci-/);
        assert.equal(manifest[1].accept, MANIFEST_ACCEPT);
    });

    it("asks for the OCI index, the Docker manifest list and both single-platform manifest types", () => {
        for (const type of [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
        ]) assert.ok(MANIFEST_ACCEPT.includes(type), type);
    });

    it("reports a missing tag as missing (404)", async () => {
        const r = await registry({ auth: "bearer", users: { ci: "pw" }, repos: { "launchpad-backend": ["dev"] } });
        const result = await checkImage(`${r.host}/launchpad-backend:prod`, { credentials: { username: "ci", password: "pw" } });
        assert.equal(result.status, "missing");
        assert.equal(result.ok, false);
        assert.match(result.message, /not in the registry \(404\)/);
    });

    it("checks a digest-only reference by the repository's tag list, since mocked digests are placeholders", async () => {
        const r = await registry({ auth: "none", repos: { "launchpad-frontend": ["dev"] } });
        const found = await checkImage(`${r.host}/launchpad-frontend@${DIGEST}`);
        assert.equal(found.status, "found", found.message);
        assert.equal(found.checked, "tag list");
        assert.ok(r.requests.some((q) => q.url === "/v2/launchpad-frontend/tags/list"));
        assert.ok(!r.requests.some((q) => q.url.includes(DIGEST)), "never asks for the placeholder digest");
        const missing = await checkImage(`${r.host}/launchpad-postgres@${DIGEST}`);
        assert.equal(missing.status, "missing");
    });

    it("checks a digest by its own manifest when asked for that very image (exactDigest)", async () => {
        const r = await registry({ auth: "none", repos: { "launchpad-frontend": ["dev", DIGEST] } });
        const found = await checkImage(`${r.host}/launchpad-frontend@${DIGEST}`, { exactDigest: true });
        assert.equal(found.status, "found", found.message);
        assert.equal(found.checked, `manifest ${DIGEST}`);
        assert.ok(r.requests.some((q) => q.url === `/v2/launchpad-frontend/manifests/${DIGEST}`));
        const other = `sha256:${"c".repeat(64)}`;
        const missing = await checkImage(`${r.host}/launchpad-frontend@${other}`, { exactDigest: true });
        assert.equal(missing.status, "missing");
        assert.match(missing.message, new RegExp(`launchpad-frontend@${other}: not in the registry \\(404\\)`));
    });

    it("logs in with Basic auth when the registry's challenge asks for it", async () => {
        const r = await registry({ auth: "basic", users: { ci: "pw" }, repos: { app: ["1"] } });
        const result = await checkImage(`${r.host}/app:1`, { credentials: { username: "ci", password: "pw" } });
        assert.equal(result.status, "found", result.message);
        assert.equal(r.requests.at(-1)?.authorization, `Basic ${Buffer.from("ci:pw").toString("base64")}`);
    });

    it("says the credentials were refused when the token service rejects them", async () => {
        const r = await registry({ auth: "bearer", users: { ci: "pw" }, repos: { app: ["1"] } });
        const result = await checkImage(`${r.host}/app:1`, { credentials: { username: "ci", password: "wrong" } });
        assert.equal(result.status, "unauthorized");
        assert.match(result.message, /refused the credentials for ci/);
    });

    it("says a login is needed when the registry wants one and none is known", async () => {
        const r = await registry({ auth: "basic", users: { ci: "pw" }, repos: { app: ["1"] } });
        const result = await checkImage(`${r.host}/app:1`);
        assert.equal(result.status, "unauthorized");
        assert.match(result.message, /no credentials were found/);
    });

    it("falls back to GET when the registry refuses HEAD", async () => {
        const r = await registry({ auth: "none", repos: { app: ["1"] }, refuseHead: true });
        const result = await checkImage(`${r.host}/app:1`);
        assert.equal(result.status, "found", result.message);
        assert.deepEqual(r.requests.map((q) => q.method), ["HEAD", "GET"]);
    });

    it("reports a registry nobody answers at as unreachable", async () => {
        const r = await registry({ auth: "none", repos: {} });
        const host = r.host;
        await r.close();
        servers = [];
        const result = await checkImage(`${host}/app:1`);
        assert.equal(result.status, "unreachable");
        assert.match(result.message, /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    });
});

describe("up: asking a registry whether it takes a login, as docker login does (fake registry over HTTP)", () => {
    const servers: FakeServer[] = [];
    afterEach(async () => {
        await Promise.all(servers.splice(0).map((s) => s.close()));
    });
    async function registry(opts: Parameters<typeof startFakeRegistry>[0]): Promise<FakeServer> {
        const s = await startFakeRegistry(opts);
        servers.push(s);
        return s;
    }

    for (const auth of ["basic", "bearer"] as const) {
        it(`accepts the right login and refuses a wrong one (${auth})`, async () => {
            const r = await registry({ auth, users: { ci: "pw" }, repos: {} });
            const good = await checkRegistryLogin(r.host, { credentials: { username: "ci", password: "pw" } });
            assert.deepEqual(good, { status: "accepted", message: `${r.host} accepted the login of ci` });
            const bad = await checkRegistryLogin(r.host, { credentials: { username: "ci", password: "wrong" } });
            assert.equal(bad.status, "refused", bad.message);
            assert.match(bad.message, /ci/);
            if (auth === "bearer") assert.ok(r.requests.some((q) => q.url === "/token?service=fake-registry"), "asks the token service without a scope");
        });
    }

    it("says a registry nobody answers at is unreachable, and one without auth accepts anyone", async () => {
        const open = await registry({ auth: "none", repos: {} });
        assert.equal((await checkRegistryLogin(open.host)).status, "accepted");
        const gone = await registry({ auth: "none", repos: {} });
        await servers.pop()!.close();
        const result = await checkRegistryLogin(gone.host);
        assert.equal(result.status, "unreachable");
        assert.match(result.message, /^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
    });
});
