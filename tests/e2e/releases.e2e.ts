import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { listedNotes, throughIngress } from "./inCluster";
import { kube, launchpad, NAMESPACE, ok, registryDigest, ROOT, run, type Run, STACK, useTestbed, withFileChanged } from "./support";

// Releases on the real node: one deployment, reused. A release with a changed backend, then a rollback
// to the one before, which must run the earlier digest again without building (the registry's tag still
// names the newer build), keep the database's data, and show in `npm run history` like any release.

/** `npm run history|rollback -- --stack testbed …`, as a user runs them; what the user saw goes to the log. */
async function command(name: "history" | "rollback", args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
    const r = await run("npm", ["run", "--silent", name, "--", "--stack", STACK, ...args], env, ROOT);
    for (const line of r.output.trimEnd().split("\n").slice(-30)) console.log(`      | ${line}`);
    return r;
}

/** The rows of `npm run history --full`: release number, by, commit, result, the three images and the marks. */
function historyRows(stdout: string): { version: number; by: string; commit: string; result: string; frontend: string; backend: string; database: string; marks: string }[] {
    return stdout.split("\n").filter((l) => /^ {2}\d+ /.test(l)).map((l) => {
        const [version, , , by, commit, result, frontend, backend, database, ...marks] = l.trim().split(/\s+/);
        return { version: Number(version), by, commit, result, frontend, backend, database, marks: marks.join(" ") };
    });
}

/** The image the backend's Deployment runs. */
async function backendImage(env: NodeJS.ProcessEnv): Promise<string> {
    const k = await kube(env);
    const { items } = await k.apps.listNamespacedDeployment({ namespace: NAMESPACE, labelSelector: "app.kubernetes.io/name=backend" });
    assert.equal(items.length, 1, "one backend Deployment");
    return items[0].spec!.template.spec!.containers[0].image!;
}

describe("e2e: releases — history and rollback, on the real node", function () {
    this.timeout(30 * 60_000);
    const stackFile = path.join(ROOT, `Pulumi.${STACK}.yaml`);
    let stackFileText: string;
    let env: NodeJS.ProcessEnv;
    let first: string;
    let second: string;
    const note = `written before the rollback ${Date.now()}`;

    before(async () => {
        env = await useTestbed();
        stackFileText = fs.readFileSync(stackFile, "utf8");
    });

    // The rollback pins both tiers in the stack file; the other suites build from source.
    after(() => fs.writeFileSync(stackFile, stackFileText));

    it("records each release in Pulumi's history: who, the commit Pulumi saw, and the digest each tier ran", async () => {
        ok(await launchpad("up", [], env), "npm run up");
        first = await backendImage(env);
        const r = await throughIngress("/api/notes", { method: "POST", body: JSON.stringify({ text: note }) });
        assert.equal(r.status, 201, `POST /api/notes: ${r.body}`);
        await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\n// e2e: a release to roll back\n`, async () => {
            ok(await launchpad("up", [], env), "npm run up with a changed backend");
            second = await backendImage(env);
            assert.notEqual(second, first, "the changed backend is a new digest");

            const history = ok(await command("history", ["--full"], env), "npm run history");
            const [newest, before] = historyRows(history.stdout);
            assert.equal(newest.backend, second);
            assert.equal(newest.marks, "← live");
            assert.equal(before.backend, first, "the release before runs the first digest");
            assert.equal(newest.result, "succeeded");
            const head = (await run("git", ["rev-parse", "--short=7", "HEAD"], env)).stdout.trim();
            assert.match(newest.commit, new RegExp(`^${head}(\\+dirty)?$`), "the commit Pulumi recorded (git.head) is the checkout's");
            assert.match(newest.by, /^[^@\s]+@[^@\s]+$|^CI$|^GitHub Actions$/);

            // The rollback, with the newer source still in place: a build would bring `second` back.
            const tagBefore = await registryDigest("launchpad-backend", STACK);
            const t0 = Date.now();
            const rollback = ok(await command("rollback", [], env), "npm run rollback");
            console.log(`      rollback took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
            assert.match(rollback.output, /launchpad: the database is not rolled back: it keeps its data/);
            assert.match(rollback.output, /launchpad: the backend runs .*, pinned by launchpad:backendImage; it is not built/);
            assert.equal(await backendImage(env), first, "the backend runs the earlier digest again");
            assert.deepEqual(await registryDigest("launchpad-backend", STACK), tagBefore, "nothing was pushed: no build happened");
        });
    });

    it("keeps the database's data through the rollback, and shows the rollback in the history as the live release", async () => {
        assert.ok((await listedNotes()).map((n) => n.text).includes(note), "the note written before the rollback is still listed");
        const [newest, previous, earlier] = historyRows(ok(await command("history", ["--full"], env), "npm run history").stdout);
        assert.equal(newest.marks, `← live rollback to ${earlier.version}`);
        assert.equal(newest.backend, first);
        assert.equal(previous.backend, second);
        assert.equal(newest.database, previous.database, "the database's image did not change");
    });

    it("refuses to roll back to a release that does not exist, changing nothing", async () => {
        const r = await command("rollback", ["--to", "999999"], env);
        assert.equal(r.code, 1, r.output);
        assert.match(r.stderr, /^launchpad: stack testbed has no release 999999 \(npm run history -- --stack testbed lists them\); nothing was changed\.\n$/);
        assert.equal(await backendImage(env), first);
    });
});
