import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { BASE_IMAGES } from "../../tools/testbed/build";
import { waitFor } from "../../tools/testbed/processes";
import { browserInNamespace, httpInNamespace, ingressRouterConfig, PodRunner, serviceHosts, type Workload } from "./pods";
import { deployAfresh, kube, NAMESPACE, ROOT, releaseTestbed, useTestbed } from "./support";

/** Debian's Chromium; playwright-core drives it and never downloads a browser of its own. */
const CHROMIUM = process.env.LAUNCHPAD_CHROMIUM ?? "/usr/bin/chromium";
/** The nginx the Ingress's routes run in (the testbed's stand-in for the controller's nginx), and the namespace's sleeper. */
const NGINX = BASE_IMAGES[1];
/** Where the ingress controller listens in the pods' network namespace, as it does on a node. */
const ROUTER_PORT = 80;
/** The README's picture of the running app, made by this test. */
const SCREENSHOT = path.join(ROOT, "docs", "app.png");

const NOTE = "Ship it: written in Chromium, through the Ingress, to PostgreSQL";

describe("e2e: the sample app runs from the images up pushed, in a real browser", function () {
    this.timeout(30 * 60_000);
    let env: NodeJS.ProcessEnv;
    let pods: PodRunner;
    let pid: number;
    let url: string;
    let browser: Browser;
    let page: Page;
    let scratch: string;
    const name = { db: "", backend: "", frontend: "" };

    before(async () => {
        env = await useTestbed();
        await deployAfresh(env);
        const k = await kube(env);
        const deployments = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items;
        const statefulSets = (await k.apps.listNamespacedStatefulSet({ namespace: NAMESPACE })).items;
        const services = (await k.core.listNamespacedService({ namespace: NAMESPACE })).items;
        const secrets = (await k.core.listNamespacedSecret({ namespace: NAMESPACE })).items;
        const [ingress] = (await k.networking.listNamespacedIngress({ namespace: NAMESPACE })).items;
        const workloads: Workload[] = [...deployments, ...statefulSets].map((w) => ({
            name: w.spec!.template.metadata!.labels!["app.kubernetes.io/name"],
            labels: w.spec!.template.metadata!.labels!,
            spec: w.spec!.template.spec!,
            claims: "volumeClaimTemplates" in w.spec! ? (w.spec.volumeClaimTemplates ?? []).map((c) => c.metadata!.name!) : undefined,
        }));
        const byComponent = (c: string) => workloads.find((w) => w.labels["app.kubernetes.io/component"] === c)!;

        pods = new PodRunner(env);
        pods.clean();
        pid = pods.startNetwork(serviceHosts(services, workloads), NGINX);
        // In dependency order, each ready before the next, as the rollout would settle.
        for (const [tier, w] of [["db", byComponent("database")], ["backend", byComponent("backend")], ["frontend", byComponent("frontend")]] as const) {
            for (const c of w.spec.containers) pods.start(w, c, secrets);
            name[tier] = pods.containerName(w.name, w.spec.containers[0].name);
            await pods.waitReady(name[tier], pid);
        }
        pods.startRouter(ingressRouterConfig(ingress, services, workloads, ROUTER_PORT), NGINX);
        url = `http://${ingress.spec!.rules![0].host}${ROUTER_PORT === 80 ? "" : `:${ROUTER_PORT}`}/`;
        assert.ok(await waitFor(async () => httpInNamespace(pid, `http://127.0.0.1:${ROUTER_PORT}/`).status !== 0, 30), "the router answers");

        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-e2e-browser-"));
        const { chromium } = await import("playwright-core");
        browser = await chromium.launch({
            executablePath: browserInNamespace(pid, CHROMIUM, scratch),
            args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        page = await browser.newPage({ viewport: { width: 960, height: 640 } });
    });

    after(async () => {
        await browser?.close();
        pods?.dispose();
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
        await releaseTestbed();
    });

    it("answers every probe of every container while it runs, at the paths and ports the manifests name", () => {
        for (const n of [name.db, name.backend, name.frontend]) {
            const c = pods.containerOf(n);
            for (const [kind, probe] of [["liveness", c.livenessProbe], ["readiness", c.readinessProbe], ["startup", c.startupProbe]] as const) {
                if (probe) assert.ok(pods.probe(n, probe, pid), `${n}'s ${kind} probe passes`);
            }
            assert.ok(c.readinessProbe && c.livenessProbe, `${n} has readiness and liveness probes`);
        }
    });

    it("serves the page through the Ingress's routes, and a note added in the browser is listed", async () => {
        const response = await page.goto(url);
        assert.equal(response?.status(), 200);
        assert.equal(await page.title(), "launchpad notes");
        // The page says "No notes yet." once it has loaded the (empty) list, or why it could not.
        await page.waitForFunction(`document.querySelector("#status").textContent !== ""`, undefined, { timeout: 15_000 });
        assert.equal(await page.locator("#status").textContent(), "No notes yet.");
        await page.getByLabel("New note").fill(NOTE);
        await page.getByRole("button", { name: "Add note" }).click();
        await page.locator("#notes li", { hasText: NOTE }).waitFor({ timeout: 15_000 });
        assert.equal(await page.locator("#status").textContent(), "", "no error on the page");
    });

    it("still lists the note after the backend and the database restart: the data is on the volume", async () => {
        for (const n of [name.db, name.backend]) pods.restart(n);
        for (const n of [name.db, name.backend]) await pods.waitReady(n, pid);
        await page.reload();
        await page.locator("#notes li", { hasText: NOTE }).waitFor({ timeout: 15_000 });
        assert.equal(await page.locator("#notes li").count(), 1);
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
    });

    it("takes the backend out of readiness while the database is down, keeps it live, and brings it back", async () => {
        const backend = pods.containerOf(name.backend);
        const readiness = backend.readinessProbe!;
        pods.stop(name.db);
        const within = (readiness.periodSeconds ?? 10) * (readiness.failureThreshold ?? 3);
        assert.ok(await waitFor(async () => !pods.probe(name.backend, readiness, pid), within, 500), `the backend's readiness fails within ${within} s of the database stopping`);
        assert.ok(pods.probe(name.backend, backend.livenessProbe!, pid), "its liveness still passes: a restart would not bring the database back");
        await page.reload();
        await page.getByText(/Could not load notes/).waitFor({ timeout: 15_000 });
        pods.restart(name.db);
        await pods.waitReady(name.db, pid);
        await pods.waitReady(name.backend, pid);
        await page.reload();
        await page.locator("#notes li", { hasText: NOTE }).waitFor({ timeout: 15_000 });
    });
});
