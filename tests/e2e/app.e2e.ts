import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { REAL_NODE } from "../../dev/testbed/layout";
import { waitFor } from "../../dev/testbed/processes";
import { APP_URL, appPods, execIn, processFacts, throughIngress } from "./inCluster";
import { deployAfresh, kube, launchpad, NAMESPACE, ok, ROOT, useTestbed, withFileChanged } from "./support";
import { addNote, launchChromium } from "./browser";
import { writeRealNodeFigures } from "./figures";

/** The README's picture of the running app, made by this test. */
const SCREENSHOT = path.join(ROOT, "docs", "app.png");

const NOTE = "Ship it: written in Chromium, through the Ingress, to PostgreSQL";
const TIERS = ["frontend", "backend", "database"] as const;

/** Reloads the page every few seconds, as a user would, until it lists the note; false when `seconds` pass first. */
async function reloadUntilListed(page: Page, seconds: number): Promise<boolean> {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
        await page.reload();
        const listed = await page.locator("#notes li", { hasText: NOTE }).waitFor({ timeout: 3000 }).then(() => true, () => false);
        if (listed) return true;
    }
    return false;
}

describe("e2e: the app runs in the cluster, on the real node", function () {
    this.timeout(30 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Awaited<ReturnType<typeof kube>>;
    let browser: Browser;
    let page: Page;
    const figures: Record<string, string> = {};

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        const t0 = Date.now();
        await deployAfresh(env);
        figures["`npm run up` from an empty namespace until every pod is Ready (build cached)"] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
        browser = await launchChromium();
        page = await browser.newPage({ viewport: { width: 960, height: 640 } });
    });

    after(async () => {
        await browser?.close();
        if (Object.keys(figures).length > 0) writeRealNodeFigures(figures);
    });

    it("runs every pod of the app on the real node, on containerd, each Ready through its probes", async () => {
        const node = await k.core.readNode({ name: REAL_NODE.name });
        assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? "", /^containerd:\/\//, "the node's runtime is containerd");
        const pods = await appPods(k, NAMESPACE);
        assert.deepEqual([...new Set(pods.map((p) => p.tier))].sort(), [...TIERS].sort());
        for (const p of pods) {
            assert.equal(p.node, REAL_NODE.name, `${p.name} runs on the real node`);
            assert.ok(p.ready, `${p.name} is Ready: the kubelet ran its readiness probe and it passed`);
            assert.equal(p.restarts, 0, `${p.name} never restarted: its liveness probe never failed`);
        }
        for (const w of [...(await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items, ...(await k.apps.listNamespacedStatefulSet({ namespace: NAMESPACE })).items]) {
            for (const c of w.spec!.template.spec!.containers) assert.ok(c.readinessProbe && c.livenessProbe, `${w.metadata!.name}/${c.name} has readiness and liveness probes`);
        }
    });

    it("serves the page through the Ingress controller, and a note added in Chromium is stored in PostgreSQL", async () => {
        const [ingress] = (await k.networking.listNamespacedIngress({ namespace: NAMESPACE })).items;
        assert.deepEqual(ingress.status?.loadBalancer?.ingress?.map((i) => i.ip), ["127.0.0.1"], "the controller published the Ingress's address");
        await addNote(page, APP_URL, NOTE);
        // In the database itself, as psql in its pod reads it (the backend found it by its Service's name).
        const db = (await appPods(k, NAMESPACE)).find((p) => p.tier === "database")!;
        const rows = ok(await execIn(env, NAMESPACE, db.name, db.containers[0], ["sh", "-c", 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "SELECT text FROM notes"']), "psql in the database pod");
        assert.equal(rows.stdout.trim(), NOTE);
    });

    it("keeps the note when the database pod is deleted: a new pod starts on the same volume", async () => {
        const before = (await appPods(k, NAMESPACE)).find((p) => p.tier === "database")!;
        const t0 = Date.now();
        await k.core.deleteNamespacedPod({ namespace: NAMESPACE, name: before.name });
        const back = await waitFor(async () => {
            const db = (await k.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "app.kubernetes.io/component=database" })).items;
            return db.some((p) => p.metadata!.uid !== before.uid && !p.metadata!.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
        }, 180, 1000);
        assert.ok(back, "the StatefulSet's new database pod is Ready within 180 s");
        figures["database pod deleted until its successor is Ready on the same volume"] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
        // The backend's pooled connections went with the old pod: it answers 500 until its queries reach the new one.
        assert.ok(await reloadUntilListed(page, 60), "the page lists the note again within 60 s, reloaded as a user would");
        figures["database pod deleted until the page lists the note again"] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
        assert.equal(await page.locator("#notes li").count(), 1);
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
    });

    it("keeps the note across npm run down and npm run up", async () => {
        ok(await launchpad("down", [], env), "npm run down");
        const left = await appPods(k, NAMESPACE);
        assert.deepEqual(left.filter((p) => p.tier !== "database").map((p) => p.name), [], "down took the web tiers' pods away");
        assert.equal((await k.apps.listNamespacedStatefulSet({ namespace: NAMESPACE })).items.length, 1, "and kept the database (retainData)");
        const t0 = Date.now();
        ok(await launchpad("up", [], env), "npm run up after down");
        figures["`npm run up` after `npm run down` (data kept) until every pod is Ready"] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
        assert.ok(await reloadUntilListed(page, 60), "the page lists the note again within 60 s");
        assert.equal(await page.locator("#notes li").count(), 1);
    });

    it("rolls out a new backend while requests go through the Ingress, none of them failing: readiness gates the traffic", async () => {
        let sent = 0;
        const failed: string[] = [];
        let rolling = true;
        const client = (async () => {
            while (rolling) {
                const r = await throughIngress("/api/notes");
                sent++;
                if (r.status !== 200) failed.push(`${new Date().toISOString()} ${r.status || "no answer"} ${r.body.slice(0, 80)}`);
            }
        })();
        const before = (await appPods(k, NAMESPACE)).filter((p) => p.tier === "backend").map((p) => p.name);
        const t0 = Date.now();
        const update = await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\n// e2e: a new backend, rolled out under traffic\n`, () => launchpad("up", [], env));
        const seconds = (Date.now() - t0) / 1000;
        // Requests go on while the old pod drains, until the rollout is surely over.
        await new Promise((resolve) => setTimeout(resolve, 5000));
        rolling = false;
        await client;
        ok(update, "npm run up with a new backend");
        const after = (await appPods(k, NAMESPACE)).filter((p) => p.tier === "backend").map((p) => p.name);
        assert.ok(after.every((name) => !before.includes(name)), "new backend pods replaced the old ones");
        figures["backend rollout (`npm run up` with a changed source): requests through the Ingress, sent / failed"] = `${sent} / ${failed.length} in ${seconds.toFixed(1)} s`;
        assert.ok(sent > 50, `the client kept sending (${sent} requests)`);
        assert.equal(failed.length, 0, `${failed.length} of ${sent} requests failed during the rollout, the first: ${failed.slice(0, 5).join("; ")}; the last: ${failed.slice(-3).join("; ")}`);
        ok(await launchpad("up", [], env), "npm run up with the committed backend again");
    });

    it("has the runtime enforce the pod templates: non-root, read-only root filesystem, no capabilities, no privilege escalation, seccomp", async () => {
        for (const p of await appPods(k, NAMESPACE)) {
            for (const container of p.containers) {
                const facts = await processFacts(env, NAMESPACE, p.name, container);
                const who = `${p.name}/${container}`;
                assert.ok(facts.uids.length === 4 && facts.uids.every((u) => u !== 0), `${who} runs as a non-root user (Uid: ${facts.uids.join(" ")})`);
                assert.equal(facts.capEff, "0000000000000000", `${who} has no effective capabilities`);
                assert.equal(facts.noNewPrivs, "1", `${who} cannot gain privileges (no_new_privs)`);
                assert.equal(facts.seccomp, "2", `${who} runs under a seccomp filter (RuntimeDefault)`);
                assert.ok(!facts.rootWritable, `${who} cannot write its root filesystem`);
                assert.match(facts.writeError, /Read-only file system/, `${who}: the kernel refused the write as read-only`);
            }
        }
    });
});
