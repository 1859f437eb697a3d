import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { waitFor } from "../../dev/testbed/processes";
import { appPods, execIn, throughIngress } from "./inCluster";
import { deployAfresh, kube, launchpad, NAMESPACE, ok, ROOT, run, type Run, STACK, useTestbed, withFileChanged } from "./support";

/**
 * A `kubectl` first on PATH that only records that it was called: `npm run logs` must never call it
 * (it talks to the API server itself).
 */
const TRAP = fs.mkdtempSync(path.join(os.tmpdir(), "logs-e2e-trap-"));
const CALLED = path.join(TRAP, "kubectl-was-called");
fs.writeFileSync(path.join(TRAP, "kubectl"), `#!/bin/sh\necho "$@" >> ${CALLED}\nexit 1\n`, { mode: 0o755 });

function withoutKubectl(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return { ...env, PATH: `${TRAP}${path.delimiter}${env.PATH ?? ""}` };
}

/** `npm run logs -- --stack testbed …`, as a user runs it. */
function logs(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
    return run("npm", ["run", "--silent", "logs", "--", "--stack", STACK, ...args], withoutKubectl(env));
}

/**
 * `npm run logs -- --stack testbed … --follow` in a process group of its own, as a terminal runs it, so
 * that `ctrlC` sends SIGINT to the group, as Ctrl-C does.
 */
function follow(args: readonly string[], env: NodeJS.ProcessEnv) {
    // The script `npm run logs` runs, exec'd by sh, so that the exit code seen is the command's own (npm
    // dies of the SIGINT it forwards, as it does in a terminal).
    const script: string = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.logs;
    const bin = path.join(ROOT, "node_modules", ".bin");
    const childEnv = withoutKubectl(env);
    const child = spawn("sh", ["-c", `exec ${script} "$@"`, "logs", "--stack", STACK, ...args, "--follow"], {
        cwd: ROOT, env: { ...childEnv, PATH: `${childEnv.PATH}${path.delimiter}${bin}` }, detached: true, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const closed = new Promise<number>((resolve) => {
        child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
        child.once("error", (e) => {
            stderr += `${String(e)}\n`;
            resolve(1);
        });
    });
    let exited: number | undefined;
    void closed.then((code) => (exited = code));
    return {
        get stdout() {
            return stdout;
        },
        get stderr() {
            return stderr;
        },
        get exited() {
            return exited;
        },
        /** Waits until stdout has a line that matches; false after `seconds`. */
        shows: (line: RegExp, seconds: number) => waitFor(async () => line.test(stdout), seconds, 250),
        ctrlC: async () => {
            if (child.pid === undefined) return exited ?? 1;
            if (exited === undefined) process.kill(-child.pid, "SIGINT");
            const code = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 20_000))]);
            if (code === -1) process.kill(-child.pid, "SIGKILL");
            return code;
        },
    };
}

/** A port on 127.0.0.1 nothing listens on: one that was free a moment ago. */
function closedPort(): Promise<number> {
    return new Promise((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Runs `body` while `npm run logs -- … --follow` runs, then presses Ctrl-C, whatever happened: the command's exit code and output. */
async function whileFollowing(args: readonly string[], env: NodeJS.ProcessEnv, body: (f: ReturnType<typeof follow>) => Promise<void>) {
    const f = follow(args, env);
    let failed: unknown;
    try {
        await body(f);
    } catch (e) {
        failed = e;
    }
    const code = await f.ctrlC();
    if (failed) throw failed;
    return { code, stdout: f.stdout, stderr: f.stderr };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A line of the output from one backend pod: the tier and the pod in their columns, then the text. */
const fromPod = (pod: string, text: string) => new RegExp(`^backend {2}${escape(pod)} *\\| ${text}`, "m");

describe("e2e: npm run logs, on the real node", function () {
    this.timeout(20 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Awaited<ReturnType<typeof kube>>;
    const backendPods = async () => (await appPods(k, NAMESPACE)).filter((p) => p.tier === "backend");

    after(() => {
        const calls = fs.existsSync(CALLED) ? fs.readFileSync(CALLED, "utf8") : "";
        fs.rmSync(TRAP, { recursive: true, force: true });
        assert.equal(calls, "", "npm run logs never called kubectl");
    });

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        await deployAfresh(env);
    });

    it("shows what the backend really logged, each line prefixed by tier and pod, through the API server without kubectl, and exits 0", async () => {
        // The app answers through the Ingress: the backend reached its database, which it logged.
        assert.equal((await throughIngress("/api/notes")).status, 200);
        const [backend] = await backendPods();
        const r = ok(await logs(["--tier", "backend"], env), "npm run logs -- --tier backend");
        assert.match(r.stdout, fromPod(backend.name, `\\{"time":"[^"]+","message":"listening","port":3000\\}$`));
        assert.match(r.stdout, fromPod(backend.name, `\\{"time":"[^"]+","message":"database schema ready","host":"db",`));
        const strays = r.stdout.trimEnd().split("\n").filter((line) => !/^backend {2}\S+ +\| /.test(line));
        assert.deepEqual(strays, [], `every line is the backend's, prefixed:\n${r.stdout}`);
        assert.equal(r.stderr, "");
        // The frontend logs each request it serves: one through the Ingress, with a query of its own.
        const asked = `/?e2e-logs=${Date.now()}`;
        assert.equal((await throughIngress(asked)).status, 200);
        const all = ok(await logs(["--since", "1h"], env), "npm run logs -- --since 1h");
        assert.match(all.stdout, new RegExp(`^frontend \\S+ +\\| .*"GET ${escape(asked)} HTTP/1\\.1" 200 `, "m"), "the frontend's line for the request");
        for (const tier of ["frontend", "backend", "db"]) assert.match(all.stdout, new RegExp(`^${tier} +\\S+ +\\| `, "m"), `the ${tier}'s lines are there`);
    });

    it("follows through a rollout of a changed backend: the new pod's lines come, the old pod is said gone, and the stream goes on until Ctrl-C", async () => {
        const before = (await backendPods()).map((p) => p.name);
        const marker = `e2e: npm run logs follows this new backend ${Date.now()}`;
        const ended = await whileFollowing(["--tier", "backend"], env, async (f) => {
            assert.ok(await f.shows(/"message":"listening"/, 60), `the follow showed the running backend's lines first:\n${f.stdout}${f.stderr}`);
            const update = await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\nconsole.log(${JSON.stringify(marker)});\n`, () => launchpad("up", [], env));
            ok(update, "npm run up with a changed backend");
            const after = (await backendPods()).map((p) => p.name).filter((name) => !before.includes(name));
            assert.ok(after.length > 0, "the rollout made new backend pods");
            for (const pod of after) {
                assert.ok(await f.shows(fromPod(pod, escape(marker)), 60), `the new pod's line came through the follow:\n${f.stdout}${f.stderr}`);
                assert.match(f.stdout, fromPod(pod, "── new pod$"));
            }
            for (const pod of before) {
                assert.ok(await f.shows(fromPod(pod, "── pod deleted$"), 90), `the old pod was said gone:\n${f.stdout}`);
                const stopping = f.stdout.search(fromPod(pod, '\\{"time":"[^"]+","message":"shutting down","signal":"SIGTERM"\\}'));
                assert.ok(stopping >= 0 && stopping < f.stdout.search(fromPod(pod, "── pod deleted$")), `the old pod's last words came before it was said gone:\n${f.stdout}`);
            }
            assert.equal(f.exited, undefined, `the rollout did not end the stream:\n${f.stdout}${f.stderr}`);
        });
        assert.equal(ended.code, 0, `Ctrl-C ended it with exit 0:\n${ended.stderr}`);
        assert.equal(ended.stderr, "", "and it said nothing on stderr, no stack trace");
        ok(await launchpad("up", [], env), "npm run up with the committed backend again");
    });

    it("tells a restart (the backend's pid 1 stopped from inside) with the previous container's last lines, following and afterwards", async () => {
        const [backend] = await backendPods();
        assert.equal(backend.restarts, 0);
        const ended = await whileFollowing(["--tier", "backend"], env, async (f) => {
            assert.ok(await f.shows(/"message":"listening"/, 60), `the follow showed the running backend's lines first:\n${f.stdout}${f.stderr}`);
            ok(await execIn(env, NAMESPACE, backend.name, backend.containers[0], ["sh", "-c", "kill 1"]), "kill 1 in the backend's container");
            const restarted = fromPod(backend.name, "── restarted \\(1 restart\\): the previous container backend ended at \\S+ \\(Completed, exit code 0\\); its last lines");
            assert.ok(await f.shows(restarted, 90), `the follow told the restart:\n${f.stdout}${f.stderr}`);
            const afterRestart = () => f.stdout.slice(f.stdout.search(restarted));
            assert.ok(await waitFor(async () => fromPod(backend.name, '\\{"time":"[^"]+","message":"listening"').test(afterRestart()), 60, 250), `the new container's lines followed:\n${f.stdout}`);
            assert.equal(f.exited, undefined);
        });
        assert.equal(ended.code, 0, ended.stderr);
        const r = ok(await logs(["--tier", "backend"], env), "npm run logs -- --tier backend after the restart");
        assert.match(r.stdout, fromPod(backend.name, "── restarted \\(1 restart\\): the previous container backend ended at \\S+ \\(Completed, exit code 0\\); its last lines:$"));
        assert.match(r.stdout, fromPod(backend.name, 'previous: \\{"time":"[^"]+","message":"stopped"\\}$'));
    });

    it("refuses what it cannot do in the one format: an unknown tier (exit 2), a cluster that does not answer, named by its context (exit 1)", async () => {
        const tier = await logs(["--tier", "api"], env);
        assert.equal(tier.code, 2);
        assert.equal(tier.stderr.split("\n")[0], 'logs: unknown tier "api" (tiers: frontend, backend, db)');
        // The testbed's kubeconfig with its API server moved to a port nothing listens on.
        const port = await closedPort();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logs-e2e-"));
        const gone = path.join(dir, "kubeconfig");
        fs.writeFileSync(gone, fs.readFileSync(env.KUBECONFIG as string, "utf8").replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`), { mode: 0o600 });
        try {
            const r = await logs([], { ...env, KUBECONFIG: gone });
            assert.equal(r.code, 1);
            assert.equal(r.stdout, "");
            assert.equal(r.stderr, `logs: the cluster of context launchpad-testbed does not answer: https://127.0.0.1:${port} (ECONNREFUSED); start it, or set launchpad:kubeContext (and launchpad:kubeconfig) in Pulumi.testbed.yaml\n`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
