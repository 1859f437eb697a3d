import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { recycleVolumes } from "../../dev/testbed/cluster";
import { HOST, PORTS, S3_BUCKET } from "../../dev/testbed/layout";
import { waitFor } from "../../dev/testbed/processes";
import { throughIngress } from "./inCluster";
import { cloneAtHead, kube, ok, ROOT, run, type Run, STACK, useTestbed } from "./support";

// A team's shared state: two clones of the project, as two teammates on two machines (each in a UTS
// namespace of its own, so Pulumi's lock and launchpad's releases name a different host), deploy one
// stack whose state is in the testbed's S3-compatible bucket (gofakes3). While one `up` holds the
// stack's lock the other is refused in one line naming the owner, and deploys once the first is done;
// a lock in the bucket is never removed by launchpad, even one whose owner looks gone.

const TEAM_STACK = `${STACK}-team`;
const TEAM_HOST = "launchpad-team.testbed.localhost";
const NAMESPACE = `launchpad-${TEAM_STACK}`;
/** Where Pulumi's diy backend keeps the stack's locks in the bucket (project-scoped layout). */
const LOCKS = `.pulumi/locks/organization/launchpad/${TEAM_STACK}/`;
/** The lock the test leaves in the bucket as a run that died would, and removes itself whatever happens. */
const PLANTED_LOCK = `${LOCKS}00000000-dead-4000-8000-000000000000.json`;

/** One S3 request to the testbed's bucket (gofakes3 does not check signatures, so none is made). */
function s3(method: "GET" | "PUT" | "DELETE", key: string, query = "", body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: HOST, port: PORTS.s3, method, path: `/${S3_BUCKET}/${key}${query}`, agent: false }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.once("error", reject);
        req.end(body);
    });
}

/** The keys of the stack's lock objects in the bucket. */
async function lockKeys(): Promise<string[]> {
    const r = await s3("GET", "", `?list-type=2&prefix=${encodeURIComponent(LOCKS)}`);
    assert.equal(r.status, 200, `listing the bucket: ${r.body}`);
    return [...r.body.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
}

/** A clone of the project at HEAD, as a teammate has it: its own folder, the same node_modules, the testbed stack's file with the team stack's host. */
async function cloneProject(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
    await cloneAtHead(dir, env);
    const text = fs.readFileSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), "utf8");
    fs.writeFileSync(path.join(dir, `Pulumi.${TEAM_STACK}.yaml`), text.replace(/^ {2}launchpad:host: .*$/m, `  launchpad:host: ${TEAM_HOST}`));
}

/**
 * A launchpad command in a clone, run as on the teammate's machine `host`: in a UTS namespace whose
 * host name is `host`. What the user saw goes to the log.
 */
async function asTeammate(host: string, dir: string, args: readonly string[], env: NodeJS.ProcessEnv, watch?: (output: string, pid: number) => void): Promise<Run> {
    const r = await run("unshare", ["--uts", "--", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh", host, "npm", "run", "--silent", ...args], env, dir, watch);
    for (const line of r.output.trimEnd().split("\n").slice(-12)) console.log(`      ${host} | ${line}`);
    return r;
}

/** The rows of `npm run history --full`: release number, by, commit, result, the three images and the marks. */
function historyRows(stdout: string): { version: number; by: string; commit: string; result: string; backend: string; marks: string }[] {
    return stdout.split("\n").filter((l) => /^ {2}\d+ /.test(l)).map((l) => {
        const [version, , , by, commit, result, , backend, , ...marks] = l.trim().split(/\s+/);
        return { version: Number(version), by, commit, result, backend, marks: marks.join(" ") };
    });
}

describe("e2e: a team's shared state in an S3-compatible bucket — two clones, one lock", function () {
    this.timeout(30 * 60_000);
    const clones = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-team-"));
    const ana = { host: "ana-laptop", dir: path.join(clones, "ana") };
    const ben = { host: "ben-laptop", dir: path.join(clones, "ben") };
    let env: NodeJS.ProcessEnv;

    before(async () => {
        const testbed = await useTestbed();
        assert.ok(testbed.LAUNCHPAD_TESTBED_S3_BACKEND, "the testbed's env file names its bucket (LAUNCHPAD_TESTBED_S3_BACKEND)");
        // What each teammate sets: the bucket as the backend, and their access key. They run it at their
        // laptops, not in CI: a CI variable would make each release's "by" the CI system (whoRuns).
        const { CI: _ci, GITHUB_ACTIONS: _actions, GITLAB_CI: _gitlab, ...atALaptop } = testbed;
        env = {
            ...atALaptop,
            PULUMI_BACKEND_URL: testbed.LAUNCHPAD_TESTBED_S3_BACKEND,
            AWS_ACCESS_KEY_ID: testbed.LAUNCHPAD_TESTBED_S3_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY: testbed.LAUNCHPAD_TESTBED_S3_SECRET_ACCESS_KEY,
        };
        for (const who of [ana, ben]) await cloneProject(who.dir, env);
        // The bucket outlives the testbed's stops: a run of this file stopped midway may have left its planted lock.
        await s3("DELETE", PLANTED_LOCK);
    });

    // The stack's app and data go, then its Pulumi stack in the bucket, then the clones; the database's volume is made ready again.
    after(async () => {
        assert.equal((await s3("DELETE", PLANTED_LOCK)).status, 204, "the planted lock is deleted (gone already when pulumi cancel worked)");
        const down = await asTeammate(ana.host, ana.dir, ["down", "--", "--stack", TEAM_STACK, "--delete-data"], env);
        const rm = await run("pulumi", ["stack", "rm", TEAM_STACK, "--yes", "--force", "--non-interactive"], env, ana.dir);
        fs.rmSync(clones, { recursive: true, force: true });
        await recycleVolumes(env.KUBECONFIG as string);
        ok(down, `npm run down -- --stack ${TEAM_STACK} --delete-data`);
        if (!/no stack named/.test(rm.stderr)) ok(rm, `pulumi stack rm ${TEAM_STACK}`);
        assert.deepEqual(await lockKeys(), [], "no lock is left in the bucket");
    });

    it("two clones run `up` on the stack at once: the second is refused naming the first's owner, then deploys once it is done; nothing is lost", async () => {
        // The team's stack exists (creating one takes its lock for a moment too, which is not the update's).
        ok(await run("pulumi", ["stack", "init", TEAM_STACK, "--secrets-provider", "passphrase", "--non-interactive"], env, ana.dir), `pulumi stack init ${TEAM_STACK}`);
        assert.deepEqual(await lockKeys(), [], "no lock before the ups");
        const t0 = Date.now();
        let anaPid = 0;
        const first = asTeammate(ana.host, ana.dir, ["up", "--", "--stack", TEAM_STACK], env, (_out, pid) => (anaPid = pid));
        let anaDone = false;
        void first.then(() => (anaDone = true));
        // The second starts once the first's update holds the stack's lock in the bucket.
        let held: string[] = [];
        assert.ok(await waitFor(async () => (held = await lockKeys()).length > 0 || anaDone, 300, 250), "the first up took the stack's lock within 5 minutes");
        if (anaDone) assert.fail(`the first up ended before it took the lock:\n${(await first).output}`);
        console.log(`      ana's up holds ${held.join(", ")} after ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${anaPid})`);

        // ben's clone carries a change of his own to the backend: his release is a new digest.
        const main = path.join(ben.dir, "apps/backend/src/main.ts");
        fs.appendFileSync(main, "\n// e2e: ben's change\n");
        const refused = await asTeammate(ben.host, ben.dir, ["up", "--", "--stack", TEAM_STACK], env);
        assert.equal(refused.code, 1, refused.output);
        assert.ok(!anaDone, "ana's up still ran when ben's was refused (else the refusal proves nothing)");
        const user = os.userInfo().username;
        const line = refused.stderr.trim();
        assert.equal(line.split("\n").length, 1, `one line: ${refused.stderr}`);
        assert.match(line, new RegExp(`^launchpad: stack ${TEAM_STACK} is locked by another update, run by ${user}@${ana.host} \\(pid \\d+\\) since \\S+; nothing was changed\\. .*\`pulumi cancel --stack ${TEAM_STACK} --yes\``));
        assert.deepEqual(await lockKeys(), held, "ana's lock is still there, untouched");
        assert.doesNotMatch(refused.output, /recovered/);

        ok(await first, "ana's npm run up");
        console.log(`      ana's up took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const note = `ana's note ${Date.now()}`;
        let posted = { status: 0, body: "" };
        assert.ok(await waitFor(async () => (posted = await throughIngress("/api/notes", { method: "POST", host: TEAM_HOST, body: JSON.stringify({ text: note }) })).status === 201, 90, 1000), `POST /api/notes on ${TEAM_HOST}: ${posted.status} ${posted.body}`);

        const t1 = Date.now();
        ok(await asTeammate(ben.host, ben.dir, ["up", "--", "--stack", TEAM_STACK], env), "ben's npm run up, after ana's");
        console.log(`      ben's up took ${((Date.now() - t1) / 1000).toFixed(1)} s`);

        // The app is Ready and still has ana's note.
        const k = await kube(env);
        const { items } = await k.apps.listNamespacedDeployment({ namespace: NAMESPACE });
        assert.equal(items.length, 2, "frontend and backend Deployments");
        for (const d of items) assert.equal(d.status?.readyReplicas, d.spec?.replicas, `${d.metadata?.name} is Ready`);
        let listed = { status: 0, body: "" };
        assert.ok(await waitFor(async () => (listed = await throughIngress("/api/notes", { host: TEAM_HOST })).status === 200, 90, 1000), `GET /api/notes: ${listed.status}`);
        assert.ok((JSON.parse(listed.body) as { text: string }[]).some((n) => n.text === note), "ana's note is still listed after ben's release");

        // Both teammates' releases, from either clone: ben's live (his own backend build), ana's before it, both from the clones' commit.
        const history = ok(await asTeammate(ana.host, ana.dir, ["history", "--", "--stack", TEAM_STACK, "--full"], env), "npm run history");
        const [newest, before, ...older] = historyRows(history.stdout);
        assert.deepEqual(older, [], "two releases");
        const head = ok(await run("git", ["rev-parse", "--short=7", "HEAD"], env, ana.dir), "git rev-parse").stdout.trim();
        assert.equal(newest.by, `${user}@${ben.host}`);
        assert.ok(newest.commit.startsWith(head) && before.commit.startsWith(head), `${newest.commit}, ${before.commit}: the clones' commit ${head}`);
        assert.match(newest.marks, /^← live/);
        assert.equal(newest.result, "succeeded");
        assert.equal(before.by, `${user}@${ana.host}`);
        assert.equal(before.result, "succeeded");
        assert.notEqual(newest.backend, before.backend, "ben's release is his own backend build");
        assert.deepEqual(await lockKeys(), [], "no lock is left");
    });

    it("never removes a lock in the bucket, even one of this very user@host whose pid is gone here; `pulumi cancel`, as the refusal says, does", async () => {
        // A lock as Pulumi writes it, by "ana@ana-laptop" — on a bucket that may be another machine of that name.
        const user = os.userInfo().username;
        const lock = PLANTED_LOCK;
        const since = "2026-12-01T09:00:00Z";
        assert.equal((await s3("PUT", lock, "", JSON.stringify({ pid: 999_999, username: user, hostname: ana.host, timestamp: since }))).status, 200);
        const refused = await asTeammate(ana.host, ana.dir, ["up", "--", "--stack", TEAM_STACK], env);
        assert.equal(refused.code, 1, refused.output);
        const line = refused.stderr.trim();
        assert.equal(line.split("\n").length, 1, `one line: ${refused.stderr}`);
        assert.equal(
            line,
            `launchpad: stack ${TEAM_STACK} is locked by another update, run by ${user}@${ana.host} (pid 999999) since ${since}; nothing was changed. ` +
                `Wait for it to end; if that run is gone (killed, or its machine lost), remove its lock with \`pulumi cancel --stack ${TEAM_STACK} --yes\` ` +
                "(in the project's folder, with the same PULUMI_BACKEND_URL), then run the command again.",
        );
        assert.deepEqual(await lockKeys(), [lock], "the lock is still in the bucket");

        const cancel = /`(pulumi cancel [^`]+)`/.exec(line)![1].split(" ");
        ok(await run(cancel[0], cancel.slice(1), env, ana.dir), cancel.join(" "));
        assert.deepEqual(await lockKeys(), [], "pulumi cancel removed it");
    });
});
