import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { recycleVolumes } from "../../dev/testbed/cluster";
import { waitFor } from "../../dev/testbed/processes";
import { PORTS, REGISTRY_PASSWORD, REGISTRY_USER } from "../../dev/testbed/layout";
import { checkImage, copyImageByDigest } from "../../lib/registry";
import { listedNotes, throughIngress } from "./inCluster";
import { kube, launchpad, NAMESPACE, ok, registryDigest, ROOT, run, type Run, STACK, useTestbed, withFileChanged } from "./support";

// Releases on the real node: one deployment, reused. A release with a changed backend, then a rollback
// to the one before, which must run the earlier digest again without building (the registry's tag still
// names the newer build), keep the database's data, and show in `npm run history` like any release.
// Then a promotion of what testbed runs to a second stack on the same cluster: one more deployment, destroyed with its data.

/** `npm run history|rollback -- --stack testbed …` (or any command and arguments), as a user runs them; what the user saw goes to the log. */
async function command(name: "history" | "rollback" | "promote" | "down", args: readonly string[], env: NodeJS.ProcessEnv, stack: string | null = STACK): Promise<Run> {
    const r = await run("npm", ["run", "--silent", name, "--", ...(stack === null ? [] : ["--stack", stack]), ...args], env, ROOT);
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

/** The image a tier's Deployment runs (the backend's, in testbed's namespace, unless said). */
async function backendImage(env: NodeJS.ProcessEnv, namespace = NAMESPACE, tier = "backend"): Promise<string> {
    const k = await kube(env);
    const { items } = await k.apps.listNamespacedDeployment({ namespace, labelSelector: `app.kubernetes.io/name=${tier}` });
    assert.equal(items.length, 1, `one ${tier} Deployment in ${namespace}`);
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

describe("e2e: promote — testbed's live digests to a second stack on the same cluster, building nothing", function () {
    this.timeout(30 * 60_000);
    const SECOND = `${STACK}-staging`;
    const secondFile = path.join(ROOT, `Pulumi.${SECOND}.yaml`);
    const secondHost = "launchpad-staging.testbed.localhost";
    let env: NodeJS.ProcessEnv;

    // The second stack: testbed's file (its registry, login and passphrase's salt) with its own host; its
    // namespace is the default, launchpad-testbed-staging.
    before(async () => {
        env = await useTestbed();
        const text = fs.readFileSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), "utf8");
        fs.writeFileSync(secondFile, text.replace(/^ {2}launchpad:host: .*$/m, `  launchpad:host: ${secondHost}`));
    });

    // Its app and data go, then its Pulumi stack and file; the volume its database held is made ready again.
    after(async () => {
        const down = await command("down", ["--delete-data"], env, SECOND);
        const rm = await run("pulumi", ["stack", "rm", SECOND, "--yes", "--force", "--non-interactive"], env, ROOT);
        fs.rmSync(secondFile, { force: true });
        await recycleVolumes(env.KUBECONFIG as string);
        ok(down, `npm run down -- --stack ${SECOND} --delete-data`);
        // A promotion that failed before it created the stack leaves none to remove.
        if (!/no stack named/.test(rm.stderr)) ok(rm, `pulumi stack rm ${SECOND}`);
    });

    it("deploys exactly the digests live in testbed, no build happening, and the second stack's URL answers", async () => {
        const [live] = historyRows(ok(await command("history", ["--full"], env), "npm run history").stdout);
        assert.match(live.marks, /^← live/);
        const tags = { frontend: await registryDigest("launchpad-frontend", STACK), backend: await registryDigest("launchpad-backend", STACK) };
        const t0 = Date.now();
        const promoted = ok(await command("promote", ["--from", STACK, "--to", SECOND], env, null), "npm run promote");
        console.log(`      promote (one deployment) took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.ok(promoted.stdout.includes(`\n  frontend ${live.frontend}\n  backend  ${live.backend}\n`), "it prints the digests promoted");
        assert.match(promoted.stdout, new RegExp(`\nlaunchpad: ${SECOND}: http://${secondHost.replace(/\./g, "\\.")}`), "and the second stack's URL");
        assert.match(promoted.output, /launchpad: the backend runs .*, pinned by launchpad:backendImage; it is not built/);

        const namespace = `launchpad-${SECOND}`;
        assert.equal(await backendImage(env, namespace, "frontend"), live.frontend, "the second stack runs testbed's frontend digest");
        assert.equal(await backendImage(env, namespace, "backend"), live.backend, "and its backend digest");
        // A build pushes the stack's tag: testbed's did not move, and the second stack never pushed one.
        assert.deepEqual({ frontend: await registryDigest("launchpad-frontend", STACK), backend: await registryDigest("launchpad-backend", STACK) }, tags);
        assert.equal((await registryDigest("launchpad-backend", SECOND)).status, 404, "nothing was built for the second stack");

        let answer = { status: 0, body: "" };
        const answered = await waitFor(async () => (answer = await throughIngress("/api/notes", { host: secondHost })).status === 200, 90, 1000);
        assert.ok(answered, `GET /api/notes on ${secondHost} through the Ingress: ${answer.status} ${answer.body}`);

        const [newest] = historyRows(ok(await command("history", ["--full"], env, SECOND), "npm run history of the second stack").stdout);
        assert.equal(newest.marks, `← live promote from ${STACK} (release ${live.version})`);
        assert.deepEqual([newest.frontend, newest.backend], [live.frontend, live.backend]);
    });

    it("copies an image into another repository by digest through the real registry, which then has that very digest", async () => {
        const [live] = historyRows(ok(await command("history", ["--full"], env), "npm run history").stdout);
        const credentials = { username: REGISTRY_USER, password: REGISTRY_PASSWORD };
        // 127.0.0.1 names the same registry as another one, so every blob is uploaded rather than mounted.
        const target = `127.0.0.1:${PORTS.registry}/e2e-promote-copy`;
        const digest = live.backend.slice(live.backend.indexOf("@") + 1);
        assert.equal(await copyImageByDigest(live.backend, target, { from: { credentials }, to: { credentials } }), digest);
        assert.equal((await checkImage(`${target}@${digest}`, { exactDigest: true, credentials })).status, "found");
    });
});
