import * as assert from "node:assert/strict";
import { AppLogs, restartLine, showLogs } from "../../tools/logs/stream";
import { LineSplitter, parseSince, Prefixer, readStamped } from "../../tools/logs/lines";
import { UsageError } from "../../tools/cli";
import { collect, ctrlC, FakeCluster, pod, tick } from "./fakeCluster";

const T = (s: string) => `2026-12-07T07:${s}Z`;
const scope = { stack: "testbed", namespace: "launchpad-testbed" };

/** One backend pod that logged `first`, shown and then followed: what a test of --follow starts from. */
async function followingOneBackend(first: string, options: { sinceSeconds?: number } = {}) {
    const cluster = new FakeCluster([pod("backend-a", "backend")]);
    cluster.logs.set("backend-a/backend", [first]);
    const out = collect();
    const { until, press } = ctrlC();
    const logs = new AppLogs(cluster, { follow: true, ...options }, out);
    await logs.snapshot(cluster.pods);
    const following = logs.follow(cluster.pods, until);
    await logs.settled();
    /** Ctrl-C, and the follow's end. */
    const stop = async () => {
        press();
        await following;
    };
    return { cluster, out, logs, stop };
}

describe("logs: lines, prefixes and --since", () => {
    it("reads the kubelet's stamps, padding the fraction it trims so that stamps sort as text", () => {
        assert.deepEqual(readStamped(`${T("30:01.5")} listening`), { time: "2026-12-07T07:30:01.500000000Z", text: "listening" });
        assert.deepEqual(readStamped(`${T("30:01")} `), { time: "2026-12-07T07:30:01.000000000Z", text: "" });
        assert.ok(readStamped(`${T("30:01.5")} a`).time > readStamped(`${T("30:01.123456789")} b`).time);
        assert.deepEqual(readStamped("no stamp here"), { time: "", text: "no stamp here" });
    });

    it("prefixes each line with its tier and pod in aligned columns, widening for a longer pod name", () => {
        const p = new Prefixer();
        p.widen(["db-0", "backend-7d9f8-x2k4p"]);
        assert.equal(p.line("db", "db-0", "ready"), "db       db-0                | ready");
        assert.equal(p.line("backend", "backend-7d9f8-x2k4p", "up"), "backend  backend-7d9f8-x2k4p | up");
        assert.equal(p.line("frontend", "frontend-5c6b7d8f9-abcde", "GET /"), "frontend frontend-5c6b7d8f9-abcde | GET /");
        assert.equal(p.line("db", "db-0", "again"), "db       db-0                     | again");
    });

    it("splits a stream's chunks into whole lines, a line cut between chunks joined, \\r\\n taken as \\n", () => {
        const lines: string[] = [];
        const s = new LineSplitter((l) => lines.push(l));
        s.push("one\r\ntw");
        s.push("o\nthr");
        assert.deepEqual(lines, ["one", "two"]);
        s.end();
        assert.deepEqual(lines, ["one", "two", "thr"]);
    });

    const durations: [string, number][] = [["30s", 30], ["10m", 600], ["2h", 7200], ["1d", 86400], ["1h30m", 5400], ["90s", 90]];
    for (const [text, seconds] of durations) it(`reads --since ${text} as ${seconds} s`, () => assert.equal(parseSince(text), seconds));

    const wrong: [string, string][] = [
        ["10", '--since "10" is not a duration: write it as 30s, 10m, 2h, 1d or 1h30m'],
        ["10x", '--since "10x" is not a duration: write it as 30s, 10m, 2h, 1d or 1h30m'],
        ["-5m", '--since "-5m" is not a duration: write it as 30s, 10m, 2h, 1d or 1h30m'],
        ["1.5h", '--since "1.5h" is not a duration: write it as 30s, 10m, 2h, 1d or 1h30m'],
        ["0m", '--since "0m" is no time at all: give more than 0, e.g. 10m'],
    ];
    for (const [text, message] of wrong) {
        it(`refuses --since ${text} as wrong usage, saying how to write it`, () => {
            assert.throws(() => parseSince(text), (e: Error) => e instanceof UsageError && e.message === message);
        });
    }
});

describe("logs: every pod's log so far", () => {
    it("interleaves the pods' lines by time, each prefixed by tier and pod, and asks each log since --since", async () => {
        const cluster = new FakeCluster([pod("backend-7d9f8-x2k4p", "backend"), pod("frontend-5c6b-abcde", "frontend"), pod("db-0", "db")]);
        cluster.logs.set("backend-7d9f8-x2k4p/backend", [`${T("30:01.2")} listening`, `${T("30:03")} database schema ready`]);
        cluster.logs.set("frontend-5c6b-abcde/frontend", [`${T("30:00.9")} nginx started`, `${T("30:02.5")} GET /`]);
        cluster.logs.set("db-0/db", [`${T("29:59")} database system is ready`]);
        const out = collect();
        await showLogs(cluster, scope, { follow: false, sinceSeconds: 600 }, out, new Promise(() => undefined));
        assert.deepEqual(out.lines, [
            "db       db-0                | database system is ready",
            "frontend frontend-5c6b-abcde | nginx started",
            "backend  backend-7d9f8-x2k4p | listening",
            "frontend frontend-5c6b-abcde | GET /",
            "backend  backend-7d9f8-x2k4p | database schema ready",
        ]);
        assert.deepEqual(cluster.requests.map((r) => [r.pod, r.sinceSeconds]), [["frontend-5c6b-abcde", 600], ["backend-7d9f8-x2k4p", 600], ["db-0", 600]]);
        assert.deepEqual(out.notes, []);
    });

    it("tells a restart in one line, with how the previous container ended and its last lines (previous: true), before the new container's lines", async () => {
        const restarted = pod("backend-7d9f8-x2k4p", "backend", { restartCount: 2, lastEnded: { reason: "Error", exitCode: 1, finishedAt: "2026-12-07T07:31:00.000Z" } });
        const cluster = new FakeCluster([restarted, pod("frontend-5c6b-abcde", "frontend")]);
        cluster.logs.set("backend-7d9f8-x2k4p/backend/previous", [...Array.from({ length: 12 }, (_, i) => `${T(`30:${String(40 + i)}`)} line ${i}`)]);
        cluster.logs.set("backend-7d9f8-x2k4p/backend", [`${T("31:02")} listening`]);
        cluster.logs.set("frontend-5c6b-abcde/frontend", [`${T("31:01")} GET /`]);
        const out = collect();
        await showLogs(cluster, scope, { follow: false }, out, new Promise(() => undefined));
        assert.deepEqual(out.lines, [
            "backend  backend-7d9f8-x2k4p | ── restarted (2 restarts): the previous container backend ended at 2026-12-07T07:31:00Z (exit code 1); its last lines:",
            ...Array.from({ length: 10 }, (_, i) => `backend  backend-7d9f8-x2k4p | previous: line ${i + 2}`),
            "frontend frontend-5c6b-abcde | GET /",
            "backend  backend-7d9f8-x2k4p | listening",
        ]);
        assert.deepEqual(cluster.requests.find((r) => r.previous), { pod: "backend-7d9f8-x2k4p", container: "backend", previous: true, tailLines: 10 });
    });

    it("names the reason of a restart that is not a plain error (OOMKilled), and says when the previous container wrote nothing", () => {
        const c = { name: "backend", restartCount: 1, running: true, started: true, lastEnded: { reason: "OOMKilled", exitCode: 137, finishedAt: "2026-12-07T07:31:00.123Z" } };
        assert.equal(restartLine(c, "none"), "── restarted (1 restart): the previous container backend ended at 2026-12-07T07:31:00Z (OOMKilled, exit code 137); it wrote nothing");
    });

    it("leaves out a restart older than --since", async () => {
        const cluster = new FakeCluster([pod("backend-a", "backend", { restartCount: 1, lastEnded: { exitCode: 1, finishedAt: "2026-12-07T06:00:00.000Z" } })]);
        cluster.logs.set("backend-a/backend", [`${T("39:00")} still here`]);
        const out = collect("2026-12-07T07:40:00Z");
        await showLogs(cluster, scope, { follow: false, sinceSeconds: 600 }, out, new Promise(() => undefined));
        assert.deepEqual(out.lines, ["backend  backend-a | still here"]);
        assert.ok(!cluster.requests.some((r) => r.previous));
    });

    it("says why a container has no log yet, after every line there is", async () => {
        const waiting = pod("backend-b", "backend", { running: false, started: false, id: undefined, waiting: "ImagePullBackOff: Back-off pulling image" });
        const cluster = new FakeCluster([waiting, pod("backend-a", "backend")]);
        cluster.logs.set("backend-a/backend", [`${T("30:00")} listening`]);
        const out = collect();
        await showLogs(cluster, scope, { follow: false }, out, new Promise(() => undefined));
        assert.deepEqual(out.lines, ["backend  backend-a | listening", "backend  backend-b | ── not started: ImagePullBackOff: Back-off pulling image"]);
    });

    it("fails, without --follow, when the stack has no pods, saying how to deploy it", async () => {
        await assert.rejects(showLogs(new FakeCluster([]), { ...scope, tier: "backend" }, { follow: false }, collect(), new Promise(() => undefined)), {
            name: "Failure",
            message: "stack testbed has no backend pods in namespace launchpad-testbed: deploy it with npm run up -- --stack testbed, or follow them as they come with --follow",
        });
    });
});

describe("logs --follow: the stream goes on through rollouts and restarts", () => {
    it("follows each running container from the last line shown, prints what comes, and ends cleanly at Ctrl-C", async () => {
        const cluster = new FakeCluster([pod("backend-a", "backend")]);
        cluster.logs.set("backend-a/backend", [`${T("30:01.25")} listening`]);
        const out = collect();
        const { until, press } = ctrlC();
        const done = showLogs(cluster, scope, { follow: true, sinceSeconds: 300 }, out, until);
        await tick();
        const f = cluster.following("backend-a");
        assert.deepEqual(f.request, { pod: "backend-a", container: "backend", sinceTime: "2026-12-07T07:30:01Z" });
        f.write(`${T("30:01.25")} listening`); // the API server's whole second sends it again
        f.write(`${T("30:05")} GET /api/notes failed`);
        press();
        await done;
        assert.deepEqual(out.lines, ["backend  backend-a | listening", "backend  backend-a | GET /api/notes failed"]);
        assert.ok(f.stopped, "the followed log was stopped");
        assert.ok(cluster.watchStopped, "the pod watch was stopped");
    });

    it("picks up a new pod of a rollout and follows it from its first line; the old pod's last lines come before it is said gone", async () => {
        const old = pod("backend-old-aaaaa", "backend");
        const cluster = new FakeCluster([old]);
        cluster.logs.set("backend-old-aaaaa/backend", [`${T("30:00")} listening`]);
        const out = collect();
        const { until, press } = ctrlC();
        const logs = new AppLogs(cluster, { follow: true, sinceSeconds: 60 }, out);
        await logs.snapshot(cluster.pods);
        const following = logs.follow(cluster.pods, until);
        await logs.settled();
        const fresh = pod("backend-new-bbbbbbb", "backend", { running: false, started: false, id: undefined, waiting: "ContainerCreating" });
        cluster.watcher!.changed(fresh);
        await logs.settled();
        cluster.watcher!.changed(pod("backend-new-bbbbbbb", "backend"));
        await logs.settled();
        const newFollow = cluster.following("backend-new-bbbbbbb");
        assert.deepEqual(newFollow.request, { pod: "backend-new-bbbbbbb", container: "backend" }, "a new pod is followed from its first line, not --since");
        newFollow.write(`${T("31:00")} listening`);
        cluster.watcher!.changed({ ...old, deleting: true });
        const oldFollow = cluster.following("backend-old-aaaaa");
        oldFollow.write(`${T("31:01")} shutting down`);
        cluster.watcher!.deleted({ ...old, deleting: true });
        await tick();
        oldFollow.write(`${T("31:02")} stopped`);
        oldFollow.end();
        await logs.settled();
        newFollow.write(`${T("31:03")} database schema ready`);
        press();
        await following;
        assert.deepEqual(out.lines, [
            "backend  backend-old-aaaaa | listening",
            "backend  backend-new-bbbbbbb | ── new pod",
            "backend  backend-new-bbbbbbb | listening",
            "backend  backend-old-aaaaa   | shutting down",
            "backend  backend-old-aaaaa   | stopped",
            "backend  backend-old-aaaaa   | ── pod deleted",
            "backend  backend-new-bbbbbbb | database schema ready",
        ]);
    });

    it("tells a restart while following, with the previous container's lines it had not shown, then follows the new container", async () => {
        const { cluster, out, logs, stop } = await followingOneBackend(`${T("30:00")} listening`);
        const f = cluster.following("backend-a");
        f.write(`${T("30:10")} out of patience`);
        f.end(); // the container exited: the kubelet ends its log
        // The last words reached the previous log but not the stream before it ended.
        cluster.logs.set("backend-a/backend/previous", [`${T("30:00")} listening`, `${T("30:10")} out of patience`, `${T("30:11")} launchpad-backend: fatal: boom`]);
        cluster.watcher!.changed(pod("backend-a", "backend", { id: "containerd://backend-a-1", restartCount: 1, lastEnded: { exitCode: 1, finishedAt: "2026-12-07T07:30:11.000Z" } }));
        await logs.settled();
        const next = cluster.following("backend-a");
        assert.notEqual(next, f);
        assert.deepEqual(next.request, { pod: "backend-a", container: "backend", sinceTime: "2026-12-07T07:30:11Z" });
        next.write(`${T("30:21")} listening`);
        // A second restart whose previous lines were all shown while following.
        next.end();
        cluster.logs.set("backend-a/backend/previous", [`${T("30:21")} listening`]);
        cluster.watcher!.changed(pod("backend-a", "backend", { id: undefined, running: false, restartCount: 2, waiting: "CrashLoopBackOff", lastEnded: { exitCode: 1, finishedAt: "2026-12-07T07:30:30.000Z" } }));
        await logs.settled();
        await stop();
        assert.deepEqual(out.lines, [
            "backend  backend-a | listening",
            "backend  backend-a | out of patience",
            "backend  backend-a | ── restarted (1 restart): the previous container backend ended at 2026-12-07T07:30:11Z (exit code 1); its last lines:",
            "backend  backend-a | previous: launchpad-backend: fatal: boom",
            "backend  backend-a | listening",
            "backend  backend-a | ── restarted (2 restarts): the previous container backend ended at 2026-12-07T07:30:30Z (exit code 1); its last lines are above",
        ]);
    });

    it("follows a container again from its last line when its stream is cut while it still runs", async () => {
        const { cluster, out, logs, stop } = await followingOneBackend(`${T("30:00.5")} listening`);
        const cut = cluster.following("backend-a");
        cut.write(`${T("30:02.5")} one`);
        cut.cut();
        await tick(1200);
        await logs.settled();
        const again = cluster.following("backend-a");
        assert.notEqual(again, cut);
        assert.deepEqual(again.request, { pod: "backend-a", container: "backend", sinceTime: "2026-12-07T07:30:02Z" });
        again.write(`${T("30:02.5")} one`);
        again.write(`${T("30:03")} two`);
        await stop();
        assert.deepEqual(out.lines, ["backend  backend-a | listening", "backend  backend-a | one", "backend  backend-a | two"]);
    });

    it("waits for pods when there are none yet, saying so on stderr, and shows the first one's lines", async () => {
        const cluster = new FakeCluster([]);
        const out = collect();
        const { until, press } = ctrlC();
        const done = showLogs(cluster, { ...scope, tier: "backend" }, { follow: true }, out, until);
        await tick();
        assert.deepEqual(out.notes, ["logs: stack testbed has no backend pods in namespace launchpad-testbed yet; waiting for them (Ctrl-C ends)"]);
        cluster.watcher!.changed(pod("backend-a", "backend"));
        await tick();
        cluster.following("backend-a").write(`${T("30:00")} listening`);
        press();
        await done;
        assert.deepEqual(out.lines, ["backend  backend-a | ── new pod", "backend  backend-a | listening"]);
    });

    it("says on stderr when the pod watch is in trouble, and goes on", async () => {
        const cluster = new FakeCluster([pod("backend-a", "backend")]);
        cluster.logs.set("backend-a/backend", []);
        const out = collect();
        const { until, press } = ctrlC();
        const done = showLogs(cluster, scope, { follow: true }, out, until);
        await tick();
        cluster.watcher!.trouble("the cluster of context launchpad-testbed does not answer: https://127.0.0.1:26443 (ECONNREFUSED); trying again in 5 s");
        cluster.following("backend-a").write(`${T("30:00")} still here`);
        press();
        await done;
        assert.deepEqual(out.notes, ["logs: the cluster of context launchpad-testbed does not answer: https://127.0.0.1:26443 (ECONNREFUSED); trying again in 5 s"]);
        assert.deepEqual(out.lines, ["backend  backend-a | still here"]);
    });
});
