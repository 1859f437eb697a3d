import * as assert from "node:assert/strict";
import { causeOf, DevLoop, failureKind } from "../../tools/devloop/loop";
import { FakeClock, FakeCluster, FakeEngine } from "./fakes";

/** What the engine's output holds when the backend's build fails (Pulumi's diagnostics, Docker's words under them). */
const BUILD_FAILURE = [
    "Updating (testbed):",
    " ~  pulumi-nodejs:dynamic/launchpad:Image launchpad-backend-image-build updating (3s) [diff: ~build]; error: docker build of localhost:26500/launchpad-backend:testbed failed (exit 1)",
    "",
    "Diagnostics:",
    "  pulumi-nodejs:dynamic/launchpad:Image (launchpad-backend-image-build):",
    "    error: docker build of localhost:26500/launchpad-backend:testbed failed (exit 1)",
    "      src/server.ts(1,7): error TS1005: ';' expected.",
    "      The command '/bin/sh -c npm run build' returned a non-zero code: 2",
    "",
    "  pulumi:pulumi:Stack (launchpad-testbed):",
    "    error: update failed",
].join("\n");

describe("devloop: one update per change, one line each, and the loop goes on", () => {
    function setUp() {
        const clock = new FakeClock();
        const engine = new FakeEngine(clock, 4000);
        const cluster = new FakeCluster(clock, 2000);
        const lines: string[] = [];
        const loop = new DevLoop({ engine, cluster, clock, say: (l) => lines.push(l) });
        return { clock, engine, cluster, lines, loop };
    }

    it("updates only the changed tier and prints one line: the files, the new digest, the seconds from the save to Ready", async () => {
        const { clock, engine, lines, loop } = setUp();
        await loop.start(["frontend", "backend"]);
        loop.submit({ tier: "backend", files: ["src/server.ts"], savedAt: clock.now() - 300 });
        await loop.idle();
        assert.deepEqual(engine.updates, ["backend"]);
        assert.deepEqual(lines, ["launchpad: dev: backend: src/server.ts → sha256:b1, new pod Ready 6.3 s after the save (update 4.0 s, rollout 2.0 s)"]);
    });

    it("starts the tier's prebuild with its update, and says how long it took beside the engine's start", async () => {
        const clock = new FakeClock();
        const engine = new FakeEngine(clock, 4000, 1500);
        const lines: string[] = [];
        const loop = new DevLoop({ engine, cluster: new FakeCluster(clock, 2000), clock, say: (l) => lines.push(l) });
        await loop.start(["frontend", "backend"]);
        loop.submit({ tier: "backend", files: ["src/server.ts"], savedAt: clock.now() - 300 });
        await loop.idle();
        assert.deepEqual(engine.prebuilds, ["backend"]);
        assert.deepEqual(engine.updates, ["backend"]);
        assert.deepEqual(lines, ["launchpad: dev: backend: src/server.ts → sha256:b1, new pod Ready 6.3 s after the save (prebuild 1.5 s, update 4.0 s, rollout 2.0 s)"]);
    });

    it("reports a failed update in the engine's words even when its prebuild is still running, and waits for the prebuild", async () => {
        const clock = new FakeClock();
        const engine = new FakeEngine(clock, 1000, 3000);
        engine.failures.set("backend", BUILD_FAILURE);
        const lines: string[] = [];
        const loop = new DevLoop({ engine, cluster: new FakeCluster(clock, 2000), clock, say: (l) => lines.push(l) });
        await loop.start(["frontend", "backend"]);
        loop.submit({ tier: "backend", files: ["src/server.ts"], savedAt: clock.now() });
        let idle = false;
        void loop.idle().then(() => (idle = true));
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(idle, false, "the change is not done while its prebuild runs");
        clock.advance(2000);
        await loop.idle();
        assert.equal(lines.length, 1);
        assert.match(lines[0], /→ build failed: docker build of localhost:26500\/launchpad-backend:testbed failed \(exit 1\)/);
    });

    it("says when the build made the same image again: nothing rolled out", async () => {
        const { clock, cluster, lines, loop } = setUp();
        await loop.start(["frontend", "backend"]);
        cluster.sameImage = true;
        loop.submit({ tier: "frontend", files: ["public/app.js"], savedAt: clock.now() });
        await loop.idle();
        assert.deepEqual(lines, ["launchpad: dev: frontend: public/app.js → sha256:f0 (the same image: nothing to roll out), 6.0 s after the save (update 4.0 s, rollout 2.0 s)"]);
    });

    it("prints a failed build with the compiler's words in one line, and the next change deploys", async () => {
        const { clock, engine, lines, loop } = setUp();
        await loop.start(["frontend", "backend"]);
        engine.failures.set("backend", BUILD_FAILURE);
        loop.submit({ tier: "backend", files: ["src/server.ts"], savedAt: clock.now() });
        await loop.idle();
        loop.submit({ tier: "backend", files: ["src/server.ts"], savedAt: clock.now() });
        await loop.idle();
        assert.equal(lines.length, 2);
        assert.equal(
            lines[0],
            "launchpad: dev: backend: src/server.ts → build failed: docker build of localhost:26500/launchpad-backend:testbed failed (exit 1) | " +
                "src/server.ts(1,7): error TS1005: ';' expected. | The command '/bin/sh -c npm run build' returned a non-zero code: 2 (the backend keeps what it ran; watching on)",
        );
        assert.match(lines[1], /^launchpad: dev: backend: src\/server\.ts → sha256:b1, new pod Ready/);
    });

    it("prints a rollout that did not complete with the cluster's reason, and goes on", async () => {
        const { clock, cluster, lines, loop } = setUp();
        await loop.start(["frontend", "backend"]);
        cluster.rolloutFailure = "the backend's Deployment did not roll out: ProgressDeadlineExceeded: ReplicaSet has timed out progressing.";
        loop.submit({ tier: "backend", files: ["src/main.ts"], savedAt: clock.now() });
        await loop.idle();
        cluster.rolloutFailure = undefined;
        loop.submit({ tier: "frontend", files: ["public/index.html"], savedAt: clock.now() });
        await loop.idle();
        assert.equal(lines[0], "launchpad: dev: backend: src/main.ts → rollout failed: the backend's Deployment did not roll out: ProgressDeadlineExceeded: ReplicaSet has timed out progressing. (the backend keeps what it ran; watching on)");
        assert.match(lines[1], /^launchpad: dev: frontend: public\/index\.html → sha256:f\d+, new pod Ready/);
    });

    it("runs one update at a time; a tier's changes that wait meanwhile become one update, timed from the earliest save", async () => {
        const { clock, engine, lines, loop } = setUp();
        await loop.start(["frontend", "backend"]);
        engine.holding = true;
        const t0 = clock.now();
        loop.submit({ tier: "backend", files: ["src/a.ts"], savedAt: t0 });
        loop.submit({ tier: "frontend", files: ["public/x.css"], savedAt: t0 + 10 });
        loop.submit({ tier: "frontend", files: ["public/y.css", "public/x.css"], savedAt: t0 + 20 });
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(engine.updates, ["backend"], "the frontend waits for the backend's update");
        engine.release();
        await loop.idle();
        assert.deepEqual(engine.updates, ["backend", "frontend"]);
        assert.equal(lines.length, 2);
        assert.match(lines[1], /^launchpad: dev: frontend: public\/x\.css, public\/y\.css → /);
    });

    it("on stop, lets the update under way finish, starts none of those waiting, and waits for no rollout", async () => {
        const { clock, engine, lines, loop } = setUp();
        await loop.start(["frontend", "backend"]);
        engine.holding = true;
        loop.submit({ tier: "backend", files: ["src/a.ts"], savedAt: clock.now() });
        loop.submit({ tier: "frontend", files: ["public/x.css"], savedAt: clock.now() });
        await new Promise((resolve) => setImmediate(resolve));
        let stopped = false;
        const stopping = loop.stop().then(() => (stopped = true));
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(stopped, false, "stop waits for the engine");
        engine.release();
        await stopping;
        assert.deepEqual(engine.updates, ["backend"]);
        assert.deepEqual(lines, [], "its rollout was not waited for");
        loop.submit({ tier: "backend", files: ["src/b.ts"], savedAt: clock.now() });
        assert.deepEqual(engine.updates, ["backend"], "nothing starts after stop");
    });

    it("names what failed: the build, the push, a rollout, or the update", () => {
        assert.equal(failureKind(BUILD_FAILURE), "build failed");
        assert.equal(failureKind("error: docker push of r/x:t failed (exit 1)"), "push failed");
        assert.equal(failureKind("error: 2 errors occurred: resource x was not successfully created: failed to become available"), "rollout failed");
        assert.equal(failureKind("error: the stack is currently locked by 1 lock(s)"), "update failed");
        assert.equal(causeOf("Updating (testbed):\n  error: the stack is currently locked by 1 lock(s)\n  error: update failed\n"), "the stack is currently locked by 1 lock(s)");
    });
});
