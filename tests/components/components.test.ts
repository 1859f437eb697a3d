import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { App } from "../../components/app";
import { loadConfig } from "../../components/config";
import { ContainerImage } from "../../components/containerImage";
import { Database } from "../../components/database";
import { IMAGE_TYPE } from "../../components/image";
import { PASSWORD_TYPE } from "../../components/password";
import { Ingress } from "../../components/ingress";
import { WebService } from "../../components/webService";
import { ROOT } from "../../tools/harness";
import { RecordingMocks, containsSecret, installMocks, promiseOf, resolveSecrets, settled } from "../mocks";

// Each component on its own, under the shared recording mocks.

describe("components under mocks", () => {
    let mocks: RecordingMocks;
    beforeEach(async () => {
        mocks = await installMocks("launchpad", "test");
    });

    const byType = (type: string) => mocks.resources.filter((r) => r.type === type);

    describe("WebService", () => {
        const args = {
            namespace: "shop-test",
            identity: { partOf: "shop", instance: "shop-test", name: "api", component: "backend" as const },
            image: "localhost:5001/api@sha256:abc",
            port: 3000,
            probes: { liveness: "/healthz", readiness: "/readyz" },
        };

        it("creates a Deployment and a Service whose stable name is the tier's", async () => {
            const service = new WebService("api", args);
            assert.equal(await promiseOf(service.serviceName), "api");
            await settled();
            assert.deepEqual(mocks.resources.map((r) => r.type).sort(), [
                "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "launchpad:index:WebService",
            ]);
            const [deployment] = byType("kubernetes:apps/v1:Deployment");
            assert.equal(deployment.name, "api-deployment");
            assert.match(deployment.options.parent, /WebService::api$/);
        });

        it("defaults to one replica, modest resources and a 300 s rollout timeout", async () => {
            new WebService("api", args);
            await settled();
            const [deployment] = byType("kubernetes:apps/v1:Deployment");
            assert.equal(deployment.inputs.spec.replicas, 1);
            assert.deepEqual(deployment.inputs.spec.template.spec.containers[0].resources, { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } });
            assert.equal(deployment.inputs.metadata.annotations["pulumi.com/timeoutSeconds"], "300");
        });

        it("rejects a port outside 1-65535 before creating anything", () => {
            assert.throws(() => new WebService("api", { ...args, port: 0 }), /port 0 is not a TCP port; use 1-65535/);
            assert.throws(() => new WebService("api2", { ...args, replicas: -1 }), /replicas -1 must be a whole number of 0 or more/);
        });
    });

    describe("Database", () => {
        const args = {
            namespace: "shop-test",
            identity: { partOf: "shop", instance: "shop-test", name: "db", component: "database" as const },
            image: "localhost:5001/postgres@sha256:abc",
            storage: { size: "5Gi" },
        };

        it("generates a 32-character secret password into a Secret and hands out its reference, not its value", async () => {
            const database = new Database("db", args);
            await settled();
            const [password] = byType(PASSWORD_TYPE);
            assert.equal(password.inputs.length, 32);
            assert.ok(containsSecret(password.state.result), "the password is not marked secret (additionalSecretOutputs)");
            const env = database.connectionEnv();
            assert.equal(await promiseOf(pulumi.output(env.DB_HOST as pulumi.Input<string>)), "db");
            assert.equal(env.DB_PORT, "5432");
            assert.deepEqual(Object.keys((env.DB_PASSWORD as any).secretKeyRef), ["name", "key"]);
            assert.equal(await promiseOf((env.DB_PASSWORD as any).secretKeyRef.name), "db-credentials");
        });

        it("keeps its data by default and lets it go when retainData is false", async () => {
            new Database("kept", args);
            new Database("dropped", { ...args, identity: { ...args.identity, name: "db2" }, retainData: false });
            await settled();
            const sets = byType("kubernetes:apps/v1:StatefulSet");
            const kept = sets.find((s) => s.name === "kept-statefulset")!;
            const dropped = sets.find((s) => s.name === "dropped-statefulset")!;
            assert.equal(kept.options.retainOnDelete, true);
            assert.equal(kept.inputs.spec.persistentVolumeClaimRetentionPolicy.whenDeleted, "Retain");
            assert.equal(dropped.options.retainOnDelete, false);
            assert.equal(dropped.inputs.spec.persistentVolumeClaimRetentionPolicy.whenDeleted, "Delete");
        });

        it("keeps its generated password through a destroy that leaves protected resources, as long as it keeps the data", async () => {
            new Database("kept", args);
            new Database("dropped", { ...args, identity: { ...args.identity, name: "db2" }, retainData: false });
            await settled();
            const passwords = byType(PASSWORD_TYPE);
            assert.equal(passwords.find((p) => p.name === "kept-password")!.options.protect, true, "npm run down keeps it, so the next up reuses it");
            assert.equal(passwords.find((p) => p.name === "dropped-password")!.options.protect, false);
        });

        it("Pulumi-protects the StatefulSet and its Secret when asked", async () => {
            new Database("db", { ...args, protect: true });
            await settled();
            for (const type of ["kubernetes:apps/v1:StatefulSet", "kubernetes:core/v1:Secret"]) assert.equal(byType(type)[0].options.protect, true, type);
        });
    });

    describe("ContainerImage", () => {
        const registry = { server: "localhost:5001" };

        it("builds from a Dockerfile and exposes the digest the push produced", async () => {
            const image = new ContainerImage("api", { registry, repository: "shop-api", tag: "dev", build: { context: "apps/backend", target: "runtime", args: { VERSION: "1" }, network: "host" } });
            const ref = await promiseOf(image.ref);
            assert.match(ref, /^localhost:5001\/shop-api@sha256:[0-9a-f]{64}$/);
            await settled();
            const [build] = byType(IMAGE_TYPE);
            assert.equal(build.name, "api-build");
            assert.equal(build.inputs.repository, "localhost:5001/shop-api");
            assert.equal(build.inputs.tag, "dev");
            assert.equal(build.inputs.platform, "linux/amd64");
            const { contextDigest, ...rest } = build.inputs.build;
            assert.deepEqual(rest, { context: "apps/backend", dockerfile: "apps/backend/Dockerfile", target: "runtime", args: { VERSION: "1" }, network: "host" });
            assert.match(contextDigest, /^sha256:[0-9a-f]{64}$/);
            assert.equal(build.inputs.login, undefined, "no login without credentials");
            assert.equal(ref, build.state.ref);
        });

        it("mirrors an upstream image into the registry under its own tag and refers to the pushed digest", async () => {
            const image = new ContainerImage("db", { registry, repository: "shop-postgres", mirror: { source: "postgres:17" } });
            const ref = await promiseOf(image.ref);
            await settled();
            const [mirror] = byType(IMAGE_TYPE);
            assert.equal(mirror.name, "db-mirror");
            assert.deepEqual(mirror.inputs.mirror, { source: "postgres:17" });
            assert.equal(mirror.inputs.repository, "localhost:5001/shop-postgres");
            assert.equal(mirror.inputs.tag, "17");
            assert.equal(ref, `localhost:5001/shop-postgres@${mirror.state.digest}`);
        });

        it("pushes with the registry login, a plain password made a secret", async () => {
            const login = { server: "ghcr.io/acme", username: "ci-bot", password: "s3cret-token" };
            const image = new ContainerImage("db", { registry: login, repository: "shop-postgres", mirror: { source: "postgres:17" } });
            await promiseOf(image.ref);
            await settled();
            const [mirror] = byType(IMAGE_TYPE);
            assert.ok(containsSecret(mirror.inputs.login), "the login is not a secret");
            assert.deepEqual(resolveSecrets(mirror.inputs.login, true), { host: "ghcr.io", username: "ci-bot", password: "s3cret-token" });
        });

        it("refuses a build context it cannot read, naming it", () => {
            assert.throws(() => new ContainerImage("web", { registry, repository: "web", build: { context: "apps/nowhere" } }), /ContainerImage web: cannot read the build context apps\/nowhere/);
        });

        it("runs a pinned image by the digest given and builds, pulls or pushes nothing", async () => {
            const pinned = `localhost:5001/web@sha256:${"b".repeat(64)}`;
            const image = new ContainerImage("web", { registry, repository: "web", pinned });
            assert.equal(await promiseOf(image.ref), pinned);
            assert.equal(image.repository, "localhost:5001/web");
            await settled();
            assert.deepEqual(byType(IMAGE_TYPE), []);
        });

        it("refuses a pinned image that is not pinned by digest, naming it", () => {
            assert.throws(() => new ContainerImage("web", { registry, repository: "web", pinned: "localhost:5001/web:v1" }), /ContainerImage web: pinned is not pinned by digest/);
        });

        it("asks for exactly one of build, mirror and pinned", () => {
            assert.throws(() => new ContainerImage("y", { registry, repository: "y", mirror: { source: "postgres:17" }, pinned: `localhost:5001/y@sha256:${"c".repeat(64)}` }), /exactly one of/);
            assert.throws(() => new ContainerImage("x", { registry, repository: "x" }), /exactly one of build .*, mirror .* or pinned/);
        });
    });

    describe("App", () => {
        it("deploys a tier's pinned digest and builds only the other tier", async () => {
            const pinned = `localhost:5001/launchpad-backend@sha256:${"d".repeat(64)}`;
            const config = loadConfig({ "launchpad:backendImage": pinned }, { stack: "test" });
            const app = new App("launchpad", { ...config, projectRoot: ROOT });
            assert.equal(await promiseOf(app.images.backend), pinned);
            await settled();
            const builds = byType(IMAGE_TYPE).filter((r) => r.inputs.build !== undefined).map((r) => r.name);
            assert.deepEqual(builds, ["launchpad-frontend-image-build"]);
            const backend = byType("kubernetes:apps/v1:Deployment").find((d) => d.name === "launchpad-backend-deployment")!;
            assert.equal(backend.inputs.spec.template.spec.containers[0].image, pinned);
        });
    });

    describe("Ingress", () => {
        const route = (path: string, name: string) => ({ path, backend: { serviceName: pulumi.output(name), servicePort: 80 } });

        it("refuses to route one path to two Services", () => {
            assert.throws(() => new Ingress("web", {
                namespace: "ns", labels: {}, className: "nginx", host: "a.example.com", routes: [route("/", "a"), route("/", "b")],
            }), /path \/ is routed twice/);
        });

        it("reports an https URL when TLS is on", () => {
            const ingress = new Ingress("web", { namespace: "ns", labels: {}, className: "nginx", host: "a.example.com", routes: [route("/", "a")], tls: { secretName: "t" } });
            assert.equal(ingress.url, "https://a.example.com");
        });
    });
});
