import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { CREDENTIALS_ANNOTATION, credentialsFingerprint } from "../../components/database";
import { engineEnv } from "../../tools/launch/program";
import { stackConfigFromFile } from "../../tools/engine/stackConfig";
import { HOST, layout, PORTS, REGISTRY, REGISTRY_PASSWORD } from "../../dev/testbed/layout";
import { deployAfresh, kube, launchpad, NAMESPACE, ok, pulumi, registryDigest, ROOT, run, STACK, useTestbed } from "./support";

type Kube = Awaited<ReturnType<typeof kube>>;

/** "localhost:26500/launchpad-backend@sha256:…" → its repository in the registry and its digest. */
function splitRef(ref: string): { repository: string; digest: string } {
    const m = /^localhost:\d+\/([^@]+)@(sha256:[0-9a-f]{64})$/.exec(ref);
    assert.ok(m, `${ref} is an image of the team registry pinned by digest`);
    return { repository: m[1], digest: m[2] };
}

describe("e2e: npm run up -- --stack testbed, with the real engine, API server, Docker Engine and registry", function () {
    this.timeout(30 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Kube;
    let upOutput: string;

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        upOutput = (await deployAfresh(env)).output;
    });

    it("prints the stack's URL when the update is done", () => {
        assert.match(upOutput, /launchpad: testbed is up: http:\/\/launchpad\.testbed\.localhost\/?\n/);
    });

    it("runs every workload by the digest the registry serves for the pushed tag; the database from the team registry's copy", async () => {
        const deployments = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items;
        const statefulSets = (await k.apps.listNamespacedStatefulSet({ namespace: NAMESPACE })).items;
        assert.deepEqual(deployments.map(component).sort(), ["backend", "frontend"]);
        assert.deepEqual(statefulSets.map(component), ["database"]);
        const expectedTag: Record<string, string> = { backend: STACK, frontend: STACK, database: "15" };
        for (const w of [...deployments, ...statefulSets]) {
            const name = component(w);
            const images = w.spec!.template.spec!.containers.map((c) => c.image!);
            for (const image of images) {
                const { repository, digest } = splitRef(image);
                const served = await registryDigest(repository, expectedTag[name]);
                assert.equal(served.status, 200, `${repository}:${expectedTag[name]} is in the registry`);
                assert.equal(served.digest, digest, `${name} runs the digest the registry serves for ${repository}:${expectedTag[name]}`);
            }
        }
        const db = statefulSets[0].spec!.template.spec!.containers[0].image!;
        assert.ok(db.startsWith(`${REGISTRY}/launchpad-postgres@`), "the database image is the mirrored copy, not docker.io's name");
    });

    it("enforces restricted Pod Security on the namespace, and every pod was admitted under it", async () => {
        const ns = await k.core.readNamespace({ name: NAMESPACE });
        assert.equal(ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
        // The API server admits nothing less: a root container is refused (a server-side dry run).
        await assert.rejects(
            k.core.createNamespacedPod({
                namespace: NAMESPACE,
                dryRun: "All",
                body: { metadata: { name: "e2e-root" }, spec: { containers: [{ name: "c", image: "busybox", securityContext: { runAsUser: 0 } }] } },
            }),
            (e: Error) => /forbidden: violates PodSecurity \W*restricted:latest\W*: .*runAsUser=0/.test(e.message),
        );
        // So every pod that exists was admitted under it: one per replica of each tier.
        const pods = (await k.core.listNamespacedPod({ namespace: NAMESPACE })).items;
        assert.deepEqual(pods.map(component).sort(), ["backend", "database", "frontend"]);
    });

    it("had no object warned about by the API server", () => {
        // The provider's rollout progress while a Deployment has no ready pod yet is its own, not the API server's:
        // the Deployment's condition, and (on a real node, while a container starts) its pods' readiness.
        const progress = /warning: (\[MinimumReplicasUnavailable\] Deployment does not have minimum availability\.|\[Pod [^\]]+\]: containers with unready status: \[[^\]]+\])$/;
        const warnings = upOutput.split("\n").filter((line) => /warning/i.test(line) && !/^launchpad: /.test(line) && !progress.test(line));
        assert.deepEqual(warnings, []);
    });

    it("rolls out every Deployment and the StatefulSet, all replicas available", async () => {
        for (const d of (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items) {
            assert.ok((d.spec?.replicas ?? 0) > 0);
            assert.equal(d.status?.availableReplicas, d.spec?.replicas, `${d.metadata?.name} available`);
            assert.equal(d.status?.updatedReplicas, d.spec?.replicas, `${d.metadata?.name} updated`);
        }
        for (const s of (await k.apps.listNamespacedStatefulSet({ namespace: NAMESPACE })).items) {
            assert.equal(s.status?.readyReplicas, s.spec?.replicas, `${s.metadata?.name} ready`);
            assert.equal(s.status?.currentRevision, s.status?.updateRevision);
        }
        const claims = (await k.core.listNamespacedPersistentVolumeClaim({ namespace: NAMESPACE })).items;
        assert.ok(claims.length > 0 && claims.every((c) => c.status?.phase === "Bound"), "the database's claim is bound to a volume");
    });

    it("routes the stack's paths to the right Services, and the Ingress has an address", async () => {
        const ingresses = (await k.networking.listNamespacedIngress({ namespace: NAMESPACE })).items;
        assert.equal(ingresses.length, 1);
        const ing = ingresses[0];
        assert.equal(ing.spec?.ingressClassName, "nginx");
        const routes: Record<string, string> = Object.fromEntries(ing.spec!.rules![0].http!.paths.map((p) => [p.path, `${p.backend.service!.name}:${p.backend.service!.port!.number}`]));
        const services = Object.fromEntries((await k.core.listNamespacedService({ namespace: NAMESPACE })).items.map((s) => [s.metadata!.name!, s.spec!.ports!.map((p) => p.port)]));
        assert.deepEqual(Object.keys(routes).sort(), ["/", "/api"]);
        for (const [route, target] of Object.entries(routes)) {
            const [service, port] = target.split(":");
            assert.ok(services[service]?.includes(Number(port)), `${route} → ${target} is a port of a Service that exists`);
        }
        assert.equal(routes["/"].split(":")[0], "frontend");
        assert.equal(routes["/api"].split(":")[0], "backend");
        assert.equal(ing.status?.loadBalancer?.ingress?.[0]?.ip, "127.0.0.1");
    });

    it("gives the workloads a pull secret that the authenticated registry accepts", async () => {
        const deployments = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items;
        const secretName = deployments[0].spec!.template.spec!.imagePullSecrets![0].name!;
        const secret = await k.core.readNamespacedSecret({ namespace: NAMESPACE, name: secretName });
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        const config = JSON.parse(Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8"));
        const auth = config.auths[REGISTRY];
        assert.ok(auth, "an entry for the team registry");
        const [user, password] = auth.auth ? Buffer.from(auth.auth, "base64").toString("utf8").split(":") : [auth.username, auth.password];
        assert.equal(password, REGISTRY_PASSWORD);
        const res = await fetch(`http://${HOST}:${PORTS.registry}/v2/`, { headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` } });
        assert.equal(res.status, 200);
        assert.equal((await fetch(`http://${HOST}:${PORTS.registry}/v2/`)).status, 401, "and the registry refuses without it");
    });

    it("changes nothing on a second update: preview --expect-no-changes passes", async () => {
        ok(await pulumi(["preview", "--expect-no-changes", "--diff"], env), "pulumi preview --expect-no-changes");
    });

    it("reads the stack's config from its file, secrets opened with the passphrase, exactly as `pulumi config --show-secrets --json` gives it", async () => {
        const cli = JSON.parse(ok(await pulumi(["config", "--show-secrets", "--json"], env), "pulumi config").stdout) as Record<string, { value: string; secret: boolean }>;
        const fromFile = await stackConfigFromFile(ROOT, STACK, env.PULUMI_CONFIG_PASSPHRASE ?? "");
        const shape = (c: Record<string, { value: string; secret: boolean }>) => Object.fromEntries(Object.entries(c).map(([key, e]) => [key, { value: e.value, secret: e.secret }]));
        assert.ok(fromFile, "the stack file was read without the CLI");
        assert.deepEqual(shape(fromFile), shape(cli));
        assert.equal(fromFile["launchpad:registryPassword"]?.secret, true);
    });

    it("shows the SDK's debug messages under pulumi preview --debug, and sends none of them where launchpad's commands start the engine", async () => {
        const registering = /Registering resource: t=kubernetes:apps\/v1:Deployment, name=\S+/;
        const typed = ok(await pulumi(["preview", "--debug", "--expect-no-changes"], env), "pulumi preview --debug");
        assert.match(typed.output, registering);
        // The environment npm run up / preview / down give the engine: the program is told nobody reads them.
        const started = ok(await pulumi(["preview", "--debug", "--expect-no-changes"], { ...env, ...engineEnv(ROOT) }), "pulumi preview --debug, started as launchpad starts it");
        assert.doesNotMatch(started.output, registering);
    });

    it("holds, field for field, what npm run render says it sets", async () => {
        const out = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "launchpad-e2e-render-"));
        ok(await launchpad("render", ["--out", out], env), "npm run render");
        const dir = path.join(out, STACK);
        const files = fs.readdirSync(dir);
        // Learnt at deploy, so stand-ins in a render: the digests, and the generated password's fingerprint.
        const secret = await k.core.readNamespacedSecret({ namespace: NAMESPACE, name: "db-credentials" });
        const fingerprint = credentialsFingerprint(Buffer.from(secret.data!.password, "base64").toString("utf8"));
        for (const file of files) {
            const text = fs.readFileSync(path.join(dir, file), "utf8");
            const rendered = parseAllDocuments(text)[0].toJS();
            // An auto-named object's suffix is a stand-in in the render: find the live one by its prefix.
            const autoNamed = /^# Pulumi names this object at deploy: (\S+)-<random suffix>/m.exec(text)?.[1];
            const namespace = rendered.metadata.namespace;
            // The API server's own JSON (the client's typed models rename fields such as `from`).
            const group = rendered.apiVersion.includes("/") ? `.${rendered.apiVersion.split("/")[0]}` : "";
            const listed = ok(await run("kubectl", ["get", `${rendered.kind}${group}`, "-o", "json", ...(namespace ? ["-n", namespace] : [])], env), "kubectl get").stdout;
            const list = (JSON.parse(listed) as { items: { metadata: { name: string } }[] }).items;
            const matches = list.filter((o) => (autoNamed ? o.metadata.name.startsWith(`${autoNamed}-`) : o.metadata.name === rendered.metadata.name));
            assert.equal(matches.length, 1, `${file}: one live ${rendered.kind} ${autoNamed ? `named ${autoNamed}-…` : rendered.metadata.name}`);
            const live = matches[0] as Record<string, any>;
            const { name: _standIn, ...metadata } = rendered.metadata;
            const { stringData, ...expected } = { ...rendered, metadata: autoNamed ? metadata : rendered.metadata };
            // A Secret's values are "[secret]" in a render; the API server holds each key, base64-encoded.
            if (stringData) assert.deepEqual(Object.keys(live.data ?? {}).sort(), Object.keys(stringData).sort(), `${file}: the Secret's keys`);
            const annotations = expected.spec?.template?.metadata?.annotations;
            if (annotations?.[CREDENTIALS_ANNOTATION]) annotations[CREDENTIALS_ANNOTATION] = fingerprint;
            assertSubset(expected, live, file);
        }
        assert.ok(files.length >= 10, `compared ${files.length} objects`);
    });

    it("keeps the database password out of the state file, and shows it as a secret output", async () => {
        const stateFile = path.join(layout().state, ".pulumi", "stacks", "launchpad", `${STACK}.json`);
        const state = fs.readFileSync(stateFile, "utf8");
        assert.ok(!state.includes(REGISTRY_PASSWORD), "no registry password in plaintext");
        const secret = await k.core.readNamespacedSecret({ namespace: NAMESPACE, name: "db-credentials" });
        const dbPassword = Buffer.from(secret.data!.password ?? secret.data![Object.keys(secret.data!).find((key) => /password/i.test(key))!], "base64").toString("utf8");
        assert.ok(dbPassword.length >= 16);
        assert.ok(!state.includes(dbPassword), "no database password in plaintext");
        const outputs = ok(await pulumi(["stack", "output", "--json"], env), "pulumi stack output").stdout;
        assert.ok(!outputs.includes(dbPassword));
    });
});

/** The tier a workload runs: its `app.kubernetes.io/component` label. */
function component(o: { metadata?: { labels?: Record<string, string> } }): string {
    return o.metadata?.labels?.["app.kubernetes.io/component"] ?? "(none)";
}

/**
 * Every field the render sets is in the live object with the same value (the API server adds
 * defaults and status; it must not drop or change what we set). Digests are placeholders in a render.
 */
function assertSubset(expected: unknown, actual: unknown, at: string): void {
    if (typeof expected === "string" && expected.includes("PLACEHOLDER-set-by-pulumi-up")) {
        assert.match(String(actual), /@sha256:[0-9a-f]{64}$/, at);
        return;
    }
    if (Array.isArray(expected)) {
        assert.ok(Array.isArray(actual), `${at} is a list`);
        assert.equal(actual.length, expected.length, `${at} has ${expected.length} items`);
        expected.forEach((e, i) => assertSubset(e, actual[i], `${at}[${i}]`));
        return;
    }
    if (expected !== null && typeof expected === "object") {
        assert.ok(actual !== null && typeof actual === "object", `${at} is an object`);
        for (const [key, value] of Object.entries(expected)) assertSubset(value, (actual as Record<string, unknown>)[key], `${at}.${key}`);
        return;
    }
    assert.equal(actual, expected, at);
}
