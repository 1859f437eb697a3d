import * as assert from "node:assert/strict";
import type { V1Secret } from "@kubernetes/client-node";
import { appPods } from "./inCluster";
import { kube, launchpad, NAMESPACE, ok, pulumi, type Run, STACK, useTestbed, withFileChanged } from "./support";

/** Short enough for a test, long enough for the kubelet to say why (its floor is 60). */
const TIMEOUT = 60;

/** The line launchpad prints for a tier's pods that did not start, and the lines under it. */
function stuckLine(r: Run, tier: string): string {
    const line = r.output.split("\n").find((l) => l.startsWith(`  ${tier}: `));
    assert.ok(line, `launchpad named the ${tier}'s pods that did not start:\n${r.output}`);
    return line;
}

describe("e2e: rollouts the kubelet cannot complete fail fast, with its reason and the key to change", function () {
    this.timeout(30 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Awaited<ReturnType<typeof kube>>;

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        ok(await launchpad("up", [], env), "npm run up");
    });

    /** `npm run up` with rolloutTimeoutSeconds at its floor and `change` applied, timed; the stack file is put back after. */
    async function failingUp(change: () => Promise<unknown>): Promise<{ r: Run; seconds: number }> {
        return withFileChanged(`Pulumi.${STACK}.yaml`, (text) => text, async () => {
            ok(await pulumi(["config", "set", "rolloutTimeoutSeconds", String(TIMEOUT)], env), "pulumi config set rolloutTimeoutSeconds");
            await change();
            const t0 = Date.now();
            const r = await launchpad("up", [], env);
            return { r, seconds: (Date.now() - t0) / 1000 };
        });
    }

    function assertFailedFast(r: Run, seconds: number): void {
        assert.equal(r.code, 1, r.output);
        assert.ok(seconds < TIMEOUT + 120, `failed after ${seconds.toFixed(0)} s (rolloutTimeoutSeconds ${TIMEOUT})`);
        assert.match(r.output, /launchpad: the pods that did not start, as the cluster reports them:/);
    }

    it("a backend that exits at start: CrashLoopBackOff, its exit code and last words, and the key its image comes from", async () => {
        const { r, seconds } = await withFileChanged("apps/backend/src/main.ts", (text) => `console.error("e2e: this backend gives up at start");\nprocess.exit(3);\n${text}`, () => failingUp(async () => undefined));
        assertFailedFast(r, seconds);
        const line = stuckLine(r, "backend");
        assert.match(line, /^  backend: \d+ pods? container backend: CrashLoopBackOff: .*\(exit code 3\) → the image built from launchpad:backendContext exits at start/);
        assert.match(r.output, /\n {4}\| e2e: this backend gives up at start\n/);
        const serving = (await appPods(k, NAMESPACE)).filter((p) => p.tier === "backend" && p.ready);
        assert.ok(serving.length > 0, "the old backend pod still serves: the rollout took nothing down");
        ok(await launchpad("up", [], env), "npm run up with the committed backend");
    });

    it("a readiness path the backend does not serve: the kubelet's failed probe and launchpad:backendReadinessPath", async () => {
        const { r, seconds } = await failingUp(() => pulumi(["config", "set", "backendReadinessPath", "/e2e-not-served"], env).then((x) => ok(x, "pulumi config set backendReadinessPath")));
        assertFailedFast(r, seconds);
        const line = stuckLine(r, "backend");
        assert.match(line, /^  backend: \d+ pods? not ready: Readiness probe failed: HTTP probe failed with statuscode: 404 → the kubelet asks launchpad:backendReadinessPath on launchpad:backendPort/);
        ok(await launchpad("up", [], env), "npm run up with the committed stack file");
    });

    it("a pull the registry refuses (the namespace's pull secret went wrong): 401 in the kubelet's words, and the login keys", async () => {
        const secrets = (await k.core.listNamespacedSecret({ namespace: NAMESPACE })).items.filter((s) => s.type === "kubernetes.io/dockerconfigjson");
        assert.equal(secrets.length, 1, "the app has one pull secret");
        const original = secrets[0];
        const config = JSON.parse(Buffer.from(original.data![".dockerconfigjson"], "base64").toString("utf8")) as { auths: Record<string, { auth: string }> };
        for (const host of Object.keys(config.auths)) config.auths[host] = { auth: Buffer.from("launchpad:not-the-password").toString("base64") };
        const replace = (s: V1Secret, data: Record<string, string>) => k.core.replaceNamespacedSecret({ namespace: NAMESPACE, name: s.metadata!.name!, body: { ...s, data } });
        await replace(original, { ".dockerconfigjson": Buffer.from(JSON.stringify(config)).toString("base64") });
        try {
            // A new backend image: pushed with the stack's (right) login, pulled by the node with the wrong one.
            const { r, seconds } = await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\n// e2e: an image the node has not pulled yet\n`, () => failingUp(async () => undefined));
            assertFailedFast(r, seconds);
            const line = stuckLine(r, "backend");
            assert.match(line, /^  backend: \d+ pods? container backend: (ErrImagePull|ImagePullBackOff): .*(401|[Uu]nauthorized).* → the cluster pulls with the login in launchpad:registryUsername and launchpad:registryPassword/);
        } finally {
            const now = await k.core.readNamespacedSecret({ namespace: NAMESPACE, name: original.metadata!.name! });
            await replace(now, original.data!);
        }
        ok(await launchpad("up", [], env), "npm run up with the pull secret restored");
    });
});
