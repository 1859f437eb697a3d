import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { appTarget, type AppTarget } from "../../tools/appTarget";
import { helpText } from "../../tools/cli";
import { liveLogCluster, podState } from "../../tools/logs/cluster";
import { COMMAND, parseArgs, runLogs } from "../../tools/logs/main";
import { collect, ctrlC, FakeCluster, pod, tick } from "./fakeCluster";

const USAGE = "Usage: npm run logs -- [--stack <name>] [--tier <tier>] [--since <duration>] [--follow]  (--help says what each option does)\n";

describe("logs: the command line", () => {
    let root: string;
    let cluster: FakeCluster;
    let selectors: string[];
    const deps = () => ({
        target: (stack: string) => appTarget(stack, root),
        cluster: async (_t: AppTarget, selector: string) => {
            selectors.push(selector);
            return cluster;
        },
        output: collect(),
    });

    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "logs-"));
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: launchpad\nruntime: nodejs\n");
        fs.writeFileSync(path.join(root, "Pulumi.staging.yaml"), "config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: staging\n  launchpad:registry: registry.example.com\n  launchpad:host: app.example.com\n");
        fs.writeFileSync(path.join(root, "Pulumi.broken.yaml"), "config:\n  launchpad:platform: moon\n");
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    beforeEach(() => {
        cluster = new FakeCluster([pod("backend-a", "backend")]);
        cluster.logs.set("backend-a/backend", ["2026-12-07T07:30:00Z listening"]);
        selectors = [];
    });

    it("reads --stack, --tier, --since and --follow", () => {
        assert.deepEqual(parseArgs(["--stack", "staging", "--tier", "db", "--since=10m", "--follow"]), { stack: "staging", tier: "db", sinceSeconds: 600, follow: true });
        assert.deepEqual(parseArgs([]), { stack: "dev", follow: false });
    });

    it("prints its help for --help and exits 0", async () => {
        const out = await runLogs(["--help"], deps());
        assert.deepEqual(out, { code: 0, stdout: `${helpText(COMMAND)}\n`, stderr: "" });
        assert.match(out.stdout, /\n {2}--tier <tier> +only this tier's pods: frontend, backend, db \(default: every tier\)\n/);
    });

    it("shows the stack's pods of one tier, by the stack's selector, and exits 0", async () => {
        const d = deps();
        const out = await runLogs(["--stack", "staging", "--tier", "backend"], d);
        assert.deepEqual(out, { code: 0, stdout: "", stderr: "" });
        assert.deepEqual(selectors, ["app.kubernetes.io/instance=launchpad-staging,app.kubernetes.io/name=backend"]);
        assert.deepEqual(d.output.lines, ["backend  backend-a | listening"]);
    });

    const refusals: [string, string[], number, string][] = [
        ["an unknown tier, with the one it is closest to", ["--stack", "staging", "--tier", "backedn"], 2, `logs: unknown tier "backedn"; did you mean --tier backend? (tiers: frontend, backend, db)\n${USAGE}`],
        ["the database tier by its long name", ["--stack", "staging", "--tier", "database"], 2, `logs: unknown tier "database"; did you mean --tier db? (tiers: frontend, backend, db)\n${USAGE}`],
        ["a tier nothing is close to", ["--stack", "staging", "--tier", "api"], 2, `logs: unknown tier "api" (tiers: frontend, backend, db)\n${USAGE}`],
        ["a --since that is no duration", ["--stack", "staging", "--since", "10 minutes"], 2, `logs: --since "10 minutes" is not a duration: write it as 30s, 10m, 2h, 1d or 1h30m\n${USAGE}`],
        ["--since without its value", ["--stack", "staging", "--since"], 2, `logs: --since needs a value: --since <duration>\n${USAGE}`],
        ["an unknown option", ["--stack", "staging", "--folow"], 2, `logs: unknown option "--folow"; did you mean --follow?\n${USAGE}`],
        ["an unknown stack", ["--stack", "stagin"], 2, `logs: unknown stack "stagin": there is no Pulumi.stagin.yaml; did you mean --stack staging? (stacks: broken, staging)\n${USAGE}`],
    ];
    for (const [what, argv, code, stderr] of refusals) {
        it(`refuses ${what} (exit ${code}), asking nothing of the cluster`, async () => {
            const out = await runLogs(argv, deps());
            assert.deepEqual(out, { code, stdout: "", stderr });
            assert.deepEqual(selectors, []);
        });
    }

    it("fails on a stack file with bad config (exit 1), listing the problem with its fix as up does", async () => {
        const out = await runLogs(["--stack", "broken"], deps());
        assert.equal(out.code, 1);
        assert.equal(out.stdout, "");
        assert.match(out.stderr, /^logs: stack "broken" has 1 config problem.*\n {2}- launchpad:platform = "moon": must be one of "kind", "cloud"\n {4}fix: Pulumi\.broken\.yaml: add launchpad:platform: kind under config:\n/);
        assert.ok(!/\n\s+at /.test(out.stderr), "no stack trace");
        assert.deepEqual(selectors, []);
    });

    it("fails (exit 1) when the stack has no pods to show", async () => {
        cluster.pods = [];
        const out = await runLogs(["--stack", "staging"], deps());
        assert.deepEqual(out, { code: 1, stdout: "", stderr: "logs: stack staging has no pods in namespace launchpad-staging: deploy it with npm run up -- --stack staging, or follow them as they come with --follow\n" });
    });

    it("follows until Ctrl-C, then exits 0 with nothing more to say", async () => {
        const { until, press } = ctrlC();
        const d = deps();
        const run = runLogs(["--stack", "staging", "--follow"], { ...d, until });
        await tick();
        cluster.following("backend-a").write("2026-12-07T07:30:05Z GET /api/notes");
        press();
        assert.deepEqual(await run, { code: 0, stdout: "", stderr: "" });
        assert.deepEqual(d.output.lines, ["backend  backend-a | listening", "backend  backend-a | GET /api/notes"]);
        assert.ok(cluster.watchStopped);
    });
});

describe("logs: the live cluster boundary", () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "logs-kubeconfig-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** A port on 127.0.0.1 nothing listens on: one that was free a moment ago. */
    const closedPort = () => new Promise<number>((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });

    const target = (kubeconfig: string, context = "gone"): AppTarget => ({ stack: "staging", context, kubeconfig, namespace: "launchpad-staging", instance: "launchpad-staging", database: { name: "app", user: "app" } });

    it("fails in one line naming the context when its cluster does not answer", async () => {
        const port = await closedPort();
        const file = path.join(dir, "kubeconfig");
        fs.writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: { server: "https://127.0.0.1:${port}" }\nusers:\n- name: u\n  user: { token: t }\ncontexts:\n- name: gone\n  context: { cluster: c, user: u }\n`);
        const cluster = await liveLogCluster(target(file), "app.kubernetes.io/instance=launchpad-staging");
        await assert.rejects(cluster.listPods(), {
            name: "ClusterError",
            message: `the cluster of context gone does not answer: https://127.0.0.1:${port} (ECONNREFUSED); start it, or set launchpad:kubeContext (and launchpad:kubeconfig) in Pulumi.staging.yaml`,
        });
    });

    it("fails in one line when the kubeconfig has no such context", async () => {
        const file = path.join(dir, "other");
        fs.writeFileSync(file, "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n");
        await assert.rejects(liveLogCluster(target(file, "staging"), ""), {
            name: "ClusterError",
            message: `the cluster of context staging cannot be asked: the kubeconfig (${file}) has no such context; set launchpad:kubeContext (and launchpad:kubeconfig) in Pulumi.staging.yaml`,
        });
    });

    it("reads a pod as far as its logs go: tier, containers, restarts and how the previous container ended", () => {
        const v1: V1Pod = {
            metadata: { name: "backend-a", uid: "u1", labels: { "app.kubernetes.io/name": "backend" }, deletionTimestamp: new Date("2026-12-07T07:40:00Z") },
            spec: { containers: [{ name: "backend" }, { name: "sidecar" }] },
            status: {
                containerStatuses: [
                    {
                        name: "backend", image: "i", imageID: "i", ready: true, containerID: "containerd://abc", restartCount: 1,
                        state: { running: { startedAt: new Date("2026-12-07T07:31:00Z") } },
                        lastState: { terminated: { exitCode: 137, reason: "OOMKilled", finishedAt: new Date("2026-12-07T07:30:59Z") } },
                    },
                    { name: "sidecar", image: "i", imageID: "i", ready: false, restartCount: 0, state: { waiting: { reason: "ImagePullBackOff", message: "Back-off" } } },
                ],
            },
        };
        assert.deepEqual(podState(v1), {
            name: "backend-a", uid: "u1", tier: "backend", deleting: true,
            containers: [
                { name: "backend", id: "containerd://abc", restartCount: 1, running: true, started: true, lastEnded: { reason: "OOMKilled", exitCode: 137, finishedAt: "2026-12-07T07:30:59.000Z" } },
                { name: "sidecar", restartCount: 0, running: false, started: false, waiting: "ImagePullBackOff: Back-off" },
            ],
        });
    });
});
