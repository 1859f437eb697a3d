import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PluginProcess, ProcessTable } from "../../tools/engine/orphans";
import { imageUrn, lastBuild, openTierEngine, rolloutState } from "../../tools/devloop/live";
import { FakeWorkspace } from "../up/fakes";
import { buildCommand, IMAGE_TYPE } from "../../components/image";
import { type DevDeps, main, parseArgs } from "../../tools/devloop/main";
import { FakeClock, FakeCluster, FakeEngine } from "./fakes";

const ROOT = path.resolve(__dirname, "..", "..");

/** The loop's boundaries as fakes: the watcher's callback, the engine, the cluster, the processes, and Ctrl-C. */
function setUp(repoRoot = ROOT) {
    const clock = new FakeClock();
    const engine = new FakeEngine();
    const cluster = new FakeCluster();
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-devloop-state-"));
    let onPath: ((file: string) => void) | undefined;
    let watching = false;
    let ctrlC!: () => void;
    const opened: string[] = [];
    const orphan: PluginProcess = { pid: 4242, ppid: 1, pgid: 4242, args: ["/usr/bin/pulumi-resource-kubernetes", "127.0.0.1:40001"] };
    const ended: number[] = [];
    const processes: ProcessTable = { list: () => (ended.length === 0 && opened.includes("cluster") && !watching ? [orphan] : []), answers: async () => false, end: (p) => ended.push(p.pid) };
    const out: string[] = [];
    const err: string[] = [];
    const deps: Partial<DevDeps> = {
        repoRoot,
        env: { PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "x" },
        clock,
        processes,
        watch: (_folders, callback) => {
            onPath = callback;
            watching = true;
            return () => (watching = false);
        },
        openEngine: async () => (opened.push("engine"), engine),
        openCluster: async () => (opened.push("cluster"), cluster),
        stopRequested: new Promise<void>((resolve) => (ctrlC = resolve)),
    };
    const run = (argv: string[]) => main(argv, deps, (t) => out.push(t), (t) => err.push(t));
    const save = (file: string) => onPath!(path.join(ROOT, file));
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    return { clock, engine, cluster, state, deps, run, save, settle, ctrlC: () => ctrlC(), out, err, opened, ended, watching: () => watching };
}

describe("devloop: npm run dev", () => {
    it("refuses a stack that sets launchpad:protect, opening nothing, unless --allow-protected", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-devloop-root-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
        fs.writeFileSync(path.join(root, "Pulumi.shop.yaml"), "config:\n  launchpad:platform: kind\n  launchpad:protect: true\n");
        const t = setUp(root);
        const code = await t.run(["--stack", "shop"]);
        assert.equal(code, 1);
        assert.match(t.err.join(""), /^launchpad: refusing to run the dev loop on stack shop: launchpad:protect is true in Pulumi\.shop\.yaml/);
        assert.match(t.err.join(""), /npm run dev -- --stack shop --allow-protected\n$/);
        assert.deepEqual(t.opened, [], "neither the engine nor the cluster was opened");
        assert.deepEqual(parseArgs(["--stack", "shop", "--allow-protected"]), { stack: "shop", allowProtected: true });
    });

    it("rolls out a saved backend file in one line, ignores what Docker would not send, and on Ctrl-C ends the engine's orphans and says no lock is held", async () => {
        const t = setUp();
        const running = t.run(["--stack", "dev"]);
        while (!t.watching()) await t.settle();
        t.save("apps/backend/src/server.ts");
        t.save("apps/backend/node_modules/pg/index.js");
        t.save("README.md");
        t.clock.advance(300);
        for (let i = 0; i < 10; i++) await t.settle();
        assert.deepEqual(t.engine.updates, ["backend"], "only the backend was updated");
        t.ctrlC();
        assert.equal(await running, 0);
        const lines = t.out.join("").trimEnd().split("\n");
        assert.match(lines[0], /^launchpad: dev: watching apps\/frontend \(frontend\) and apps\/backend \(backend\) for stack dev;/);
        assert.match(lines[1], /^launchpad: dev: backend: src\/server\.ts → sha256:b1, new pod Ready 0\.3 s after the save \(update 0\.0 s, rollout 0\.0 s\)$/);
        assert.equal(lines[2], "launchpad: dev: stopping: no new update starts; one under way is let finish");
        assert.equal(lines[3], "launchpad: dev: ended 1 Pulumi plugin process whose engine was gone (pid 4242 pulumi-resource-kubernetes).");
        assert.equal(lines[4], "launchpad: dev: stopped; stack dev is as last deployed, no lock held.");
        assert.deepEqual(t.ended, [4242]);
        assert.equal(t.watching(), false, "the watcher is closed");
    });

    it("names a lock of the stack left in a file backend when it stops", async () => {
        const t = setUp();
        const locks = path.join(t.state, ".pulumi", "locks", "organization", "launchpad", "dev");
        fs.mkdirSync(locks, { recursive: true });
        fs.writeFileSync(path.join(locks, "abc.json"), "{}");
        const running = t.run(["--stack", "dev"]);
        while (!t.watching()) await t.settle();
        t.ctrlC();
        assert.equal(await running, 0);
        assert.match(t.out.join(""), /launchpad: dev: warning: a lock of stack dev is left: \S+abc\.json/);
        assert.match(t.out.join(""), /stopped; stack dev is as last deployed\.\n$/);
    });
});

describe("devloop: the engine boundary over the stack's state", () => {
    const stateOf = (tier: string, outputs: object) => ({ type: IMAGE_TYPE, id: `localhost:26500/launchpad-${tier}:testbed`, outputs });
    const built = (tier: string) => ({
        repository: `localhost:26500/launchpad-${tier}`, tag: "testbed", platform: "linux/amd64",
        build: { context: `apps/${tier}`, dockerfile: `apps/${tier}/Dockerfile`, args: {}, network: "host", contextDigest: "sha256:c", root: "/elsewhere" },
        digest: "sha256:d", ref: `localhost:26500/launchpad-${tier}@sha256:d`,
    });
    function open(resources: object[]) {
        const journal: string[] = [];
        let ws!: FakeWorkspace;
        const docker: string[][] = [];
        const engine = openTierEngine({
            repoRoot: "/work/launchpad", stack: "testbed", appName: "launchpad", tiers: ["frontend", "backend"],
            env: { PULUMI_BACKEND_URL: "file:///tmp/state", PULUMI_CONFIG_PASSPHRASE: "x" },
            openWorkspace: async (settings) => {
                ws = new FakeWorkspace(journal, settings);
                ws.stacks.add("testbed");
                ws.resources.set("testbed", resources as never);
                ws.stackOutputs = { backendImage: { value: "localhost:26500/launchpad-backend@sha256:b0", secret: false } };
                return ws;
            },
            docker: async (args) => (docker.push([...args]), { code: 0, stdout: "", stderr: "" }),
            who: "ana@laptop",
            readCommit: async () => "5d1e0c2+dirty",
        });
        return { engine, docker, journal, ws: () => ws };
    }

    it("prebuilds a built tier with its last docker build, in this checkout; a tier whose image is not built has no prebuild", async () => {
        const { engine, docker } = open([stateOf("backend", built("backend")), stateOf("frontend", { ...built("frontend"), build: undefined, mirror: { source: "nginx:1" } })]);
        const tiers = await engine;
        assert.equal(await tiers.prebuild("backend"), true);
        assert.equal(await tiers.prebuild("frontend"), false);
        assert.equal(docker.length, 1);
        assert.deepEqual(docker[0], buildCommand({ ...built("backend"), build: { ...built("backend").build, root: "/work/launchpad" } }));
    });

    it("gives each targeted update a release message, as npm run up's, noted as the dev loop's", async () => {
        const { engine, ws } = open([stateOf("backend", built("backend")), stateOf("frontend", built("frontend"))]);
        await (await engine).update("backend");
        assert.deepEqual(ws().messages, ["launchpad release by ana@laptop; commit 5d1e0c2+dirty; dev loop: backend; before: backend=localhost:26500/launchpad-backend@sha256:b0"]);
    });

    it("refuses a stack whose state has no image of a tier, changing nothing", async () => {
        const { engine, journal } = open([stateOf("backend", built("backend"))]);
        await assert.rejects(engine, /stack testbed has no frontend image in its state: deploy it first: npm run up -- --stack testbed; nothing was changed\./);
        assert.ok(!journal.some((j) => j.startsWith("ws: up")));
    });
});

describe("devloop: the live boundaries' pure parts", () => {
    it("targets a tier's image by the URN the program gives it", () => {
        assert.equal(imageUrn("testbed", "launchpad", "backend"), "urn:pulumi:testbed::launchpad::launchpad:index:App$launchpad:index:ContainerImage$pulumi-nodejs:dynamic/launchpad:Image::launchpad-backend-image-build");
    });

    it("repeats the tier's last docker build from the state's record of it, in this checkout; none for an image not built", () => {
        const build = { context: "apps/backend", dockerfile: "apps/backend/Dockerfile", args: { NODE_ENV: "production" }, network: "host", contextDigest: "sha256:c1", root: "/home/ana/launchpad" };
        const outputs = { repository: "localhost:26500/launchpad-backend", tag: "testbed", platform: "linux/amd64", build, digest: "sha256:d1", ref: "localhost:26500/launchpad-backend@sha256:d1" };
        const last = lastBuild({ type: IMAGE_TYPE, id: "localhost:26500/launchpad-backend:testbed", outputs }, "/work/launchpad");
        assert.equal(last?.image, "localhost:26500/launchpad-backend:testbed");
        const args = last?.args;
        assert.deepEqual(args, buildCommand({ repository: outputs.repository, tag: "testbed", platform: "linux/amd64", build: { ...build, root: "/work/launchpad" } }));
        assert.ok(args!.includes("/work/launchpad/apps/backend") && !args!.some((a) => a.includes("/home/ana")), "the context is this checkout's, not the last deployer's");
        const mirrored = { repository: "localhost:26500/launchpad-postgres", tag: "17", platform: "linux/amd64", mirror: { source: "postgres:17" }, digest: "sha256:d2" };
        assert.equal(lastBuild({ type: IMAGE_TYPE, outputs: mirrored }, "/work/launchpad"), undefined);
        assert.equal(lastBuild({ type: IMAGE_TYPE }, "/work/launchpad"), undefined);
        assert.equal(lastBuild(undefined, "/work/launchpad"), undefined);
    });

    it("calls a rollout done as kubectl rollout status does, and failed past its progress deadline", () => {
        const d = (status: object, generation = 2) => ({ metadata: { generation }, spec: { replicas: 1 }, status });
        assert.deepEqual(rolloutState(d({ observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })), { done: false }, "the controller has not seen the new template");
        assert.deepEqual(rolloutState(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 })), { done: false }, "an old pod is left");
        assert.deepEqual(rolloutState(d({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 })), { done: false }, "the new pod is not Ready");
        assert.deepEqual(rolloutState(d({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })), { done: true });
        assert.deepEqual(rolloutState(d({ conditions: [{ type: "Progressing", reason: "ProgressDeadlineExceeded", message: "ReplicaSet \"b\" has timed out progressing." }] })), {
            done: false,
            failed: "ProgressDeadlineExceeded: ReplicaSet \"b\" has timed out progressing.",
        });
    });
});
