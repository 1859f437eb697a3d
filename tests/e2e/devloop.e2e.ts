import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { localBackendDir, projectStateFolders } from "../../tools/engine/backend";
import { endOrphanedPlugins, processTableLive } from "../../tools/engine/orphans";
import { processAlive } from "../../lib/process";
import { waitFor } from "../../dev/testbed/processes";
import { throughIngress } from "./inCluster";
import { kube, launchpad, NAMESPACE, ok, pulumi, ROOT, STACK, useTestbed, withFileChanged } from "./support";

type Kube = Awaited<ReturnType<typeof kube>>;

/** `npm run dev -- --stack testbed` in a process group of its own, as a terminal runs it (Ctrl-C reaches the whole group). */
class DevRun {
    readonly child: ChildProcess;
    output = "";
    exit: number | null | undefined;
    private readonly closed: Promise<number | null>;

    constructor(env: NodeJS.ProcessEnv) {
        this.child = spawn("npm", ["run", "--silent", "dev", "--", "--stack", STACK], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        const keep = (d: Buffer) => {
            this.output += d;
            if (process.env.E2E_VERBOSE) process.stdout.write(d);
        };
        this.child.stdout!.on("data", keep);
        this.child.stderr!.on("data", keep);
        this.closed = new Promise((resolve) => this.child.once("close", (code) => resolve((this.exit = code))));
    }

    /** The first line matching `pattern` after `from` characters of output, within `seconds`. */
    async line(pattern: RegExp, seconds: number, from = 0): Promise<RegExpExecArray> {
        const found = await waitFor(async () => this.exit !== undefined || pattern.test(this.output.slice(from)), seconds, 200);
        const m = pattern.exec(this.output.slice(from));
        assert.ok(found && m, `npm run dev printed no line matching ${pattern} within ${seconds} s (${this.exit === undefined ? "still running" : `exited ${this.exit}`}):\n${this.output}`);
        return m;
    }

    /** Ctrl-C, as a terminal sends it; the exit code. */
    async interrupt(): Promise<number | null> {
        process.kill(-this.child.pid!, "SIGINT");
        const code = await this.closed;
        await waitFor(async () => !processAlive(-this.child.pid!), 60, 100);
        return code;
    }

    kill(): void {
        if (this.exit === undefined) process.kill(-this.child.pid!, "SIGKILL");
    }
}

async function deploymentOf(k: Kube, tier: string) {
    const d = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE, labelSelector: `app.kubernetes.io/name=${tier}` })).items[0];
    return { image: d.spec!.template.spec!.containers[0].image!, generation: d.metadata!.generation!, uid: d.metadata!.uid! };
}

describe("e2e: npm run dev on the testbed's real node", function () {
    this.timeout(20 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Kube;
    let dev: DevRun | undefined;

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        ok(await launchpad("up", [], env), "npm run up");
    });
    after(() => dev?.kill());

    it("rolls a saved backend change out to the backend alone, reports a broken build and goes on, and stops clean on Ctrl-C", async () => {
        const frontend = await deploymentOf(k, "frontend");
        const backend = await deploymentOf(k, "backend");
        const nonce = `e2e-devloop-${Date.now()}`;
        const source = "apps/backend/src/server.ts";
        dev = new DevRun(env);
        await dev.line(/^launchpad: dev: watching apps\/frontend \(frontend\) and apps\/backend \(backend\) for stack testbed;.*$/m, 120);

        const changed = /^launchpad: dev: backend: src\/server\.ts → (sha256:[0-9a-f]{64}), new pod Ready (\d+\.\d) s after the save \(prebuild \d+\.\d s, update \d+\.\d s, rollout \d+\.\d s\)$/m;
        let from = dev.output.length;
        await withFileChanged(source, (text) => text.replace("no route for ${path}", `${nonce}: no route for \${path}`), async () => {
            const [, digest, seconds] = await dev!.line(changed, 240, from);
            console.log(`      the backend's change: ${digest}, Ready ${seconds} s after the save`);
            const now = await deploymentOf(k, "backend");
            assert.ok(now.image.endsWith(`@${digest}`), `the backend's Deployment runs the digest the line names (${now.image})`);
            assert.equal(now.uid, backend.uid, "the same Deployment, rolled in place");
            const served = await waitFor(async () => (await throughIngress("/api/e2e-devloop")).body.includes(nonce), 30, 500);
            assert.ok(served, `the new backend answers through the ingress with the change (${(await throughIngress("/api/e2e-devloop")).body})`);
            assert.deepEqual(await deploymentOf(k, "frontend"), frontend, "the frontend was not touched");

            from = dev!.output.length;
            fs.writeFileSync(path.join(ROOT, source), `${fs.readFileSync(path.join(ROOT, source), "utf8")}\nconst = ;\n`);
            const [failed] = await dev!.line(/^launchpad: dev: backend: src\/server\.ts → build failed: docker build of \S+ failed \(exit \d+\) \| .+ \(the backend keeps what it ran; watching on\)$/m, 240, from);
            console.log(`      the broken build: ${failed.slice(0, 200)}…`);
            assert.equal(dev!.exit, undefined, "the loop still runs");
            assert.ok((await deploymentOf(k, "backend")).image.endsWith(`@${digest}`), "the backend still runs the last good image");
            from = dev!.output.length;
        });
        // The committed source again: the loop deploys it.
        await dev.line(changed, 240, from);

        const code = await dev.interrupt();
        console.log(dev.output.trimEnd().split("\n").map((l) => `      | ${l}`).join("\n"));
        // The loop exits 0; npm, which the Ctrl-C reached too, then ends itself by that signal, as for any script.
        assert.ok(code === 0 || code === null, `npm run dev exited ${code}:\n${dev.output}`);
        assert.match(dev.output, /^launchpad: dev: stopped; stack testbed is as last deployed, no lock held\.$/m);
        const locks = path.join(projectStateFolders(localBackendDir(env.PULUMI_BACKEND_URL!)).locks, STACK);
        assert.deepEqual(fs.existsSync(locks) ? fs.readdirSync(locks) : [], [], "no lock of the stack is left");
        const left = await endOrphanedPlugins({ ...processTableLive, end: () => undefined });
        assert.deepEqual(left.map((p) => p.args.join(" ")), [], "no Pulumi plugin process is left");
        assert.ok(!processTableLive.list().some((p) => p.pgid === dev!.child.pid), "nothing of the loop's process group is left");

        const up = ok(await launchpad("up", [], env), "npm run up after the loop");
        assert.doesNotMatch(up.output, /\b\d+ (created|updated|replaced|deleted)\b/, `a plain up after the loop changes no resource:\n${up.output}`);
        ok(await pulumi(["preview", "--expect-no-changes"], env), "pulumi preview --expect-no-changes");
    });
});
