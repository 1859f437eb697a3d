import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { homeAsTilde } from "../../dev/docs/docs";
import { writeReliabilitySection } from "./figures";
import { recycleVolumes } from "../../dev/testbed/cluster";
import { layout, REGISTRY } from "../../dev/testbed/layout";
import { type ServerName, startServer, stopServer } from "../../dev/testbed/lifecycle";
import { waitFor } from "../../dev/testbed/processes";
import { processAlive } from "../../lib/process";
import { endOrphanedPlugins, type PluginProcess, pluginName, processTableLive } from "../../tools/engine/orphans";
import { localBackendDir, stackStateFile } from "../../tools/engine/backend";
import { kube, launchpad, NAMESPACE, ok, pulumi, ROOT, run, type Run, useTestbed, withFileChanged } from "./support";

type Kube = Awaited<ReturnType<typeof kube>>;

/** Every object of the app's namespace, as "Kind/name" → resourceVersion: any change shows. */
async function namespaceVersions(k: Kube): Promise<Record<string, string>> {
    const ns = { namespace: NAMESPACE };
    const lists: [string, { items: { metadata?: { name?: string; resourceVersion?: string } }[] }][] = [
        ["Deployment", await k.apps.listNamespacedDeployment(ns)],
        ["StatefulSet", await k.apps.listNamespacedStatefulSet(ns)],
        ["Service", await k.core.listNamespacedService(ns)],
        ["Secret", await k.core.listNamespacedSecret(ns)],
        ["PersistentVolumeClaim", await k.core.listNamespacedPersistentVolumeClaim(ns)],
        ["Ingress", await k.networking.listNamespacedIngress(ns)],
        ["NetworkPolicy", await k.networking.listNamespacedNetworkPolicy(ns)],
    ];
    return Object.fromEntries(lists.flatMap(([kind, list]) => list.items.map((o) => [`${kind}/${o.metadata!.name}`, o.metadata!.resourceVersion!])));
}

interface Outcome {
    readonly fault: string;
    readonly said: string;
    readonly kept: string;
    readonly seconds: number;
}

/** Its section of docs/RELIABILITY.md: what this suite injected, and what launchpad said and kept, written after each run. */
function writeReport(outcomes: readonly Outcome[], failed: readonly string[]): void {
    const cell = (t: string) => homeAsTilde(t).replace(/\|/g, "\\|").replace(/\n/g, " ");
    writeReliabilitySection("faults", [
        "## Faults injected",
        "",
        `Written by \`npm run e2e\` (tests/e2e/faults.e2e.ts) on ${new Date().toISOString().slice(0, 10)}: each fault injected into the running`,
        "[testbed](testing.md) (its real Pulumi engine, API server, Docker Engine and registry), then launchpad run as a user runs it.",
        "\"Kept\" is what the suite checked afterwards through the API server and the state.",
        "",
        "| fault | what launchpad said (its own line) | what was kept | seconds |",
        "| --- | --- | --- | --: |",
        ...outcomes.map((o) => `| ${cell(o.fault)} | ${cell(o.said)} | ${cell(o.kept)} | ${o.seconds.toFixed(1)} |`),
        "",
        failed.length === 0 ? `All ${outcomes.length} scenarios passed.` : `Failed: ${failed.join("; ")}.`,
    ].join("\n"));
}

/** The line of launchpad's output that starts with `prefix` (the one a user reads). */
function lineOf(out: string, pattern: RegExp): string {
    const line = out.split("\n").find((x) => pattern.test(x));
    assert.ok(line, `no line matching ${pattern} in:\n${out}`);
    return line;
}

/** What must survive an interrupted run: the database's claim (same object, same volume) and its Secret. */
async function dataOf(k: Kube): Promise<{ claim: string; volume: string; secret: string }> {
    const [claim] = (await k.core.listNamespacedPersistentVolumeClaim({ namespace: NAMESPACE })).items;
    const [secret] = (await k.core.listNamespacedSecret({ namespace: NAMESPACE })).items.filter((x) => x.metadata!.name!.startsWith("db-credentials"));
    return { claim: claim.metadata!.uid!, volume: claim.spec!.volumeName!, secret: JSON.stringify(secret.data) };
}

/**
 * `npm run up` in its own process group, sent `signal` (the whole group, as a terminal's Ctrl-C or a
 * sleeping laptop's kill would reach it) once its output matches `when`; resolves when every process
 * of the group has ended.
 */
async function interruptedUp(env: NodeJS.ProcessEnv, signal: NodeJS.Signals, when: RegExp): Promise<{ output: string; sent: boolean }> {
    const child = spawn("npm", ["run", "--silent", "up", "--", "--stack", "testbed"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let sent = false;
    const watch = (d: Buffer) => {
        output += d;
        if (!sent && when.test(output)) {
            sent = true;
            process.kill(-child.pid!, signal);
        }
    };
    child.stdout.on("data", watch);
    child.stderr.on("data", watch);
    await new Promise((resolve) => child.once("close", resolve));
    await waitFor(async () => !processAlive(-child.pid!), 60, 100);
    return { output, sent };
}

/** Pulumi plugins left running, reparented to init, whose engine no longer answers: a killed run's. */
function orphanedPlugins(): Promise<PluginProcess[]> {
    // What up's recovery would end, found on the real process table and left running.
    return endOrphanedPlugins({ ...processTableLive, end: () => undefined });
}

/** What launchpad printed about the failure: its own lines, none of them a stack trace. */
function failure(r: Run, what: string): string {
    assert.notEqual(r.code, 0, `${what} should fail`);
    assert.ok(!/^\s+at .+\(.*:\d+:\d+\)$/m.test(r.output), `${what} printed a stack trace:\n${r.output}`);
    return r.output;
}

/** The file backend's folder of the testbed's stacks. */
const stateDir = (env: NodeJS.ProcessEnv) => localBackendDir(env.PULUMI_BACKEND_URL as string);

/**
 * `npm run up` with the state folder on a disk of its own, in a private mount namespace (nothing
 * changes for the host or any other process): "read-only" binds the folder read-only; a size in KiB
 * puts a tmpfs of the state's size plus that much over it, with the state copied in, and copies what
 * the run left there back afterwards, as a user's disk would keep it; with `fillWhen`, that tmpfs is filled
 * from inside the namespace once the output matches it.
 */
async function upWithStateDisk(env: NodeJS.ProcessEnv, disk: "read-only" | { spareKiB: number; fillWhen?: RegExp }): Promise<Run> {
    const dir = stateDir(env);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-state-"));
    const script = disk === "read-only"
        ? `mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && npm run --silent up -- --stack testbed`
        : [
              'mount --bind "$1" "$2"',
              `mount -t tmpfs -o size=$(( $(du -sk "$1" | cut -f1) + ${disk.spareKiB} ))k tmpfs "$1"`,
              'cp -a "$2/." "$1/"',
              "npm run --silent up -- --stack testbed; code=$?",
              'rm -f "$1/filler"; rm -rf "$2/.pulumi"; cp -a "$1/.pulumi" "$2/"',
              "exit $code",
          ].join("\n");
    let filled = false;
    const r = await run("unshare", ["--mount", "--propagation", "private", "bash", "-c", script, "bash", dir, outside], env, ROOT, (output, pid) => {
        if (disk !== "read-only" && disk.fillWhen && !filled && disk.fillWhen.test(output)) {
            filled = true;
            // unshare execs bash in the new namespace: its pid is the namespace's.
            spawn("nsenter", ["--target", String(pid), "--mount", "--", "dd", "if=/dev/zero", `of=${dir}/filler`, "bs=1M"], { stdio: "ignore" });
        }
    });
    fs.rmSync(outside, { recursive: true, force: true });
    if (disk !== "read-only" && disk.fillWhen) assert.ok(filled, `the run reached the moment to fill the disk (${disk.fillWhen}):\n${r.output}`);
    return r;
}

/** The stack's state file: its bytes, to tell that a refused run did not touch it. */
const stateFile = (env: NodeJS.ProcessEnv) => fs.readFileSync(path.join(stateDir(env), ".pulumi", "stacks", "launchpad", "testbed.json"));

describe("e2e: faults on the real testbed: nothing changes, every failure says what to do", function () {
    this.timeout(30 * 60_000);
    const l = layout();
    let env: NodeJS.ProcessEnv;
    let k: Kube;
    let stopped: ServerName | undefined;
    const outcomes: Outcome[] = [];
    const failed: string[] = [];

    /** Runs `body` with one of the testbed's servers stopped, and starts it again whatever happens. */
    async function without<T>(server: ServerName, body: () => Promise<T>): Promise<T> {
        await stopServer(l, server);
        stopped = server;
        try {
            return await body();
        } finally {
            await startServer(l, server);
            stopped = undefined;
        }
    }

    /** Runs a launchpad command, timed. */
    async function timed(run: () => Promise<Run>): Promise<{ r: Run; seconds: number }> {
        const t0 = Date.now();
        const r = await run();
        return { r, seconds: (Date.now() - t0) / 1000 };
    }

    before(async () => {
        env = await useTestbed();
        ok(await launchpad("up", [], env), "npm run up");
        k = await kube(env);
    });
    afterEach(function () {
        if (this.currentTest?.state === "failed") failed.push(this.currentTest.title);
    });
    after(async () => {
        if (stopped) await startServer(l, stopped);
        if (outcomes.length > 0) writeReport(outcomes, failed);
    });

    it("Docker Engine down: up names the daemon and how to start it, and changes nothing in the cluster", async () => {
        const before = await namespaceVersions(k);
        const { r, seconds } = await without("dockerd", () => timed(() => launchpad("up", [], env)));
        const out = failure(r, "npm run up without dockerd");
        const said = lineOf(out, /docker is installed but its daemon is not running \(docker info: .+\)/);
        assert.match(out, /nothing was changed/);
        assert.deepEqual(await namespaceVersions(k), before);
        outcomes.push({ fault: "Docker Engine stopped, then `npm run up`", said: said.trim(), kept: `all ${Object.keys(before).length} objects of the namespace unchanged (resourceVersions)`, seconds });
    });

    it("registry down: up stops before the update, in one line naming the registry, and changes nothing", async () => {
        const before = await namespaceVersions(k);
        const { r, seconds } = await without("registry", () => timed(() => launchpad("up", [], env)));
        const out = failure(r, "npm run up without the registry");
        const said = lineOf(out, /^launchpad: the registry does not answer/);
        assert.match(said, new RegExp(`cannot reach ${REGISTRY} \\(ECONNREFUSED\\); nothing was changed\\. Start it, or point launchpad:registry at the right one`));
        // The engine started beside the checks; its program was stopped at the gate before it declared anything, and its output is not shown.
        assert.doesNotMatch(out, /Updating \(testbed\)|updating stack testbed/, "no update was shown");
        assert.deepEqual(await namespaceVersions(k), before);
        outcomes.push({ fault: "team registry stopped, then `npm run up`", said, kept: `all ${Object.keys(before).length} objects unchanged; the update stopped at the gate, before the program declared anything`, seconds });
    });

    it("wrong registry password: up stops before the update, naming the keys to set, and changes nothing", async () => {
        const before = await namespaceVersions(k);
        // The CI route: LAUNCHPAD_REGISTRY_PASSWORD overrides the stack's password (and is written to its file).
        const run = await withFileChanged("Pulumi.testbed.yaml", (text) => text, () =>
            timed(() => launchpad("up", [], { ...env, LAUNCHPAD_REGISTRY_PASSWORD: "not-the-password" })));
        const out = failure(run.r, "npm run up with a wrong registry password");
        const said = lineOf(out, /refused the login of launchpad/);
        assert.match(said, new RegExp(`^launchpad: ${REGISTRY} refused the login of launchpad \\(HTTP 401\\); nothing was changed\\. Set the right login: pulumi config set --stack testbed launchpad:registryUsername NAME and pulumi config set --stack testbed --secret launchpad:registryPassword`));
        assert.ok(!out.includes("not-the-password"), "the password is never printed");
        assert.deepEqual(await namespaceVersions(k), before);
        outcomes.push({ fault: "wrong registry password (LAUNCHPAD_REGISTRY_PASSWORD), `npm run up`", said, kept: `all ${Object.keys(before).length} objects unchanged; the password never printed`, seconds: run.seconds });
    });

    it("API server stopped: preview and the live doctor fail within seconds, in one line naming the cluster", async () => {
        const [preview, doctor] = await without("kube-apiserver", async () => [await timed(() => launchpad("preview", [], env)), await timed(() => launchpad("doctor", [], env))]);
        const said: Record<string, string> = {};
        for (const [what, { r, seconds }, pattern] of [
            ["npm run preview", preview, /^launchpad: the cluster of context launchpad-testbed does not answer: https:\/\/127\.0\.0\.1:26443 \(ECONNREFUSED\); nothing was changed\./],
            ["npm run doctor", doctor, /^doctor: cannot read the cluster through context launchpad-testbed: .*ECONNREFUSED/],
        ] as const) {
            const out = failure(r, `${what} without the API server`);
            assert.ok(seconds < 30, `${what} took ${seconds.toFixed(1)} s`);
            said[what] = lineOf(out, pattern);
        }
        ok(await launchpad("preview", [], env), "npm run preview once the API server is back");
        outcomes.push({ fault: "API server stopped, then `npm run preview`", said: said["npm run preview"], kept: "nothing was run; preview passes again once it is back", seconds: preview.seconds });
        outcomes.push({ fault: "API server stopped, then `npm run doctor`", said: said["npm run doctor"], kept: "nothing to keep: the doctor only reads", seconds: doctor.seconds });
    });

    it("API server stopped in the middle of up, then back: the failure names the cluster, and the rerun converges", async () => {
        const before = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items.find((d) => d.metadata!.name!.startsWith("launchpad-backend"))!;
        let stopping: Promise<void> | undefined;
        const t0 = Date.now();
        const first = await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\n// e2e: a change the API server's outage interrupts\n`, async () => {
            const update = launchpad("up", [], env, (output) => {
                // The backend's new image is pushed and its Deployment is being updated: the API server goes.
                if (!stopping && /Deployment launchpad-backend-deployment\s+updating/.test(output)) stopping = stopServer(l, "kube-apiserver");
            });
            // Back after about half a minute, as a cluster whose control plane restarts.
            const done = await Promise.race([update.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000))]);
            assert.ok(stopping, "the update reached the backend's Deployment");
            await stopping;
            if (!done) await new Promise((resolve) => setTimeout(resolve, 15_000));
            await startServer(l, "kube-apiserver");
            const r = await update;
            // The rerun happens with the change still in place, as a user would simply run up again.
            const rerun = await launchpad("up", [], env);
            return { r, rerun };
        });
        const seconds = (Date.now() - t0) / 1000;
        let said: string;
        if (first.r.code !== 0) {
            failure(first.r, "npm run up while the API server went away");
            said = lineOf(first.r.output, /The cluster of context launchpad-testbed is not reachable|does not answer/);
        } else {
            said = "(the update rode through the outage: the provider retried until the API server was back)";
        }
        ok(first.rerun, "npm run up once the API server is back");
        const after = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items.find((d) => d.metadata!.name === before.metadata!.name)!;
        assert.notEqual(after.spec!.template.spec!.containers[0].image, before.spec!.template.spec!.containers[0].image, "the rerun rolled out the new backend image");
        assert.equal(after.status?.availableReplicas, after.spec?.replicas, "and it is available");
        outcomes.push({ fault: "API server stopped while `npm run up` updated the backend, back after about 30 s; then `npm run up` again", said, kept: "the rerun converged: the new backend image rolled out and available", seconds });
    });

    it("up interrupted by Ctrl-C while the backend rolls out: the next up converges, the data intact", async () => {
        const data = await dataOf(k);
        const t0 = Date.now();
        // The rerun and the check of convergence happen with the change still in place.
        const { interrupted, rerun, converged } = await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\n// e2e: a change Ctrl-C interrupts\n`, async () => ({
            interrupted: await interruptedUp(env, "SIGINT", /Deployment launchpad-backend-deployment\s+updating/),
            rerun: await launchpad("up", [], env),
            converged: await pulumi(["preview", "--expect-no-changes"], env),
        }));
        assert.ok(interrupted.sent, `the update reached the backend's Deployment:\n${interrupted.output}`);
        ok(rerun, "npm run up after the interrupted one");
        ok(converged, "pulumi preview --expect-no-changes: converged");
        assert.deepEqual(await dataOf(k), data, "the same claim, volume and Secret");
        const said = rerun.output.split("\n").find((l) => l.startsWith("launchpad: recovered")) ?? "(nothing to recover: Pulumi finished its running operations before it stopped)";
        outcomes.push({ fault: "SIGINT (Ctrl-C) to `npm run up` while the backend rolled out; then `npm run up`", said, kept: "converged (preview: no changes); the database's claim, volume and Secret the same", seconds: (Date.now() - t0) / 1000 });
    });

    it("up killed (SIGKILL) while it creates the app again after down: the next up recovers the lock and the operations, the data intact", async () => {
        const data = await dataOf(k);
        ok(await launchpad("down", [], env), "npm run down (keeps the data)");
        const t0 = Date.now();
        const killed = await interruptedUp(env, "SIGKILL", /Deployment launchpad-\w+-deployment\s+creating/);
        assert.ok(killed.sent, `the update reached the Deployments:\n${killed.output}`);
        const left = await orphanedPlugins();
        assert.ok(left.some((p) => pluginName(p) === "pulumi-resource-pulumi-nodejs"), `the killed run left Pulumi's shim for Node's dynamic provider running: ${left.map((p) => p.args.join(" ")).join("; ")}`);
        const rerun = ok(await launchpad("up", [], env), "npm run up after the killed one");
        const recovered = rerun.output.split("\n").filter((l) => l.startsWith("launchpad: recovered"));
        const said = (pattern: RegExp) => assert.ok(recovered.some((l) => pattern.test(l)), `${pattern} in:\n${rerun.output}`);
        said(/^launchpad: recovered: ended (a Pulumi plugin process|\d+ Pulumi plugin processes) a killed run left running, its engine gone \(.*pulumi-resource-pulumi-nodejs.*\)\.$/);
        said(/^launchpad: recovered: removed the lock of stack testbed that a killed run left \(pid \d+, since \S+; no such process now\)\.$/);
        assert.deepEqual((await orphanedPlugins()).map((p) => p.args.join(" ")), [], "none of them is left");
        assert.ok(!processTableLive.list().some((p) => left.some((l) => l.pgid === p.pgid)), "nor anything of their process groups (the shim's node)");
        ok(await pulumi(["preview", "--expect-no-changes"], env), "pulumi preview --expect-no-changes: converged");
        assert.deepEqual(await dataOf(k), data, "the retained claim, volume and Secret adopted again");
        outcomes.push({ fault: `SIGKILL to \`npm run up\` while it created the app after \`npm run down\` (it left ${left.length} Pulumi plugin processes running); then \`npm run up\``, said: recovered.join(" "), kept: "converged (preview: no changes); the database's claim, volume and Secret the same as before down", seconds: (Date.now() - t0) / 1000 });
    });

    it("the state's attributes file left empty by a killed run: Pulumi fails on EOF; up removes it, says so, and converges", async () => {
        // As a SIGKILL between Pulumi's truncating `<stack>.json.attrs` and writing it leaves it (seen in a CI run).
        const attrs = `${stackStateFile(stateDir(env), "testbed")}.attrs`;
        assert.ok(fs.statSync(attrs).size > 0, "Pulumi wrote the attributes beside the state");
        const t0 = Date.now();
        fs.truncateSync(attrs, 0);
        const broken = await pulumi(["stack", "ls", "--json"], env);
        assert.notEqual(broken.code, 0);
        assert.match(broken.output, /error: EOF/, "without the fix every Pulumi command fails so");
        const rerun = ok(await launchpad("up", [], env), "npm run up with the empty attributes file");
        const said = lineOf(rerun.output, /^launchpad: recovered: removed \.pulumi\/stacks\/launchpad\/testbed\.json\.attrs in \S+, an empty attributes file a killed run left beside the state/);
        ok(await pulumi(["preview", "--expect-no-changes"], env), "pulumi preview --expect-no-changes: converged");
        outcomes.push({ fault: "the stack's `.attrs` file left empty (as a SIGKILL mid-write leaves it): `pulumi stack ls` fails with \"error: EOF\"; then `npm run up`", said, kept: "converged (preview: no changes); the state as it was", seconds: (Date.now() - t0) / 1000 });
    });

    it("the namespace deleted outside launchpad (as a down stopped before it saved the state leaves it): up says so, reads the state back, and converges", async () => {
        // Without the refresh the engine takes the state's word and every create fails with `namespaces … not found` (seen in CI after a killed run).
        const t0 = Date.now();
        await k.core.deleteNamespace({ name: NAMESPACE });
        const gone = await waitFor(() => k.core.readNamespace({ name: NAMESPACE }).then(() => false, (e: { code?: number }) => e.code === 404), 180, 500);
        assert.ok(gone, `namespace ${NAMESPACE} deleted within 180 s`);
        // Its volume claim went with it; the released volume is made available again, as kind's provisioner would make a new one.
        await recycleVolumes(env.KUBECONFIG as string);
        const rerun = ok(await launchpad("up", [], env), "npm run up after the namespace was deleted");
        const said = lineOf(rerun.output, new RegExp(`^launchpad: the state of testbed lists namespace ${NAMESPACE}, but the cluster of context \\S+ has none \\(deleted outside launchpad, or by a down that was stopped\\); this update reads the state back from the cluster first, then creates what is missing\\.$`));
        ok(await pulumi(["preview", "--expect-no-changes"], env), "pulumi preview --expect-no-changes: converged");
        outcomes.push({ fault: `namespace ${NAMESPACE} deleted with its objects (\`kubectl delete namespace\`), the state unchanged; then \`npm run up\``, said, kept: "converged (preview: no changes): every object created again; the data went with the namespace's volume claim", seconds: (Date.now() - t0) / 1000 });
    });

    it("two ups at once: the second refuses, naming the lock's owner; the state stays whole", async () => {
        const t0 = Date.now();
        const results = await Promise.all([launchpad("up", [], env), launchpad("up", [], env)]);
        const seconds = (Date.now() - t0) / 1000;
        const refused = results.filter((r) => r.code !== 0);
        assert.ok(refused.length < 2, `one of two concurrent updates goes through:\n${results.map((r) => r.output).join("\n---\n")}`);
        // The other waits (its retry came after the first finished) or is refused, naming the lock's owner.
        const said = refused.length === 0
            ? "(both went through: the second took the lock after the first released it)"
            : lineOf(failure(refused[0], "the concurrent npm run up"), /^launchpad: stack testbed is locked by another update, run by \S+ \(pid \d+\) since \S+; nothing was changed\. .*delete the lock \/\S+\.json, then run the command again\.$/);
        const exported = ok(await pulumi(["stack", "export"], env), "pulumi stack export");
        const resources = JSON.parse(exported.stdout).deployment.resources.length as number;
        assert.ok(resources > 10, "the state still holds the app");
        ok(await pulumi(["preview", "--expect-no-changes"], env), "pulumi preview --expect-no-changes after both");
        outcomes.push({ fault: "two `npm run up` at once on the same stack", said: said.trim(), kept: `state whole (${resources} resources, exported and previewed with no changes)`, seconds });
    });

    it("state folder read-only: up stops before the update, in one line naming the folder, and changes nothing", async () => {
        const [before, state] = [await namespaceVersions(k), stateFile(env)];
        const { r, seconds } = await timed(() => upWithStateDisk(env, "read-only"));
        const said = lineOf(failure(r, "npm run up with a read-only state folder"), /^launchpad: the state of stack testbed cannot be written/);
        assert.equal(said, `launchpad: the state of stack testbed cannot be written in ${stateDir(env)}: read-only file system; nothing was changed. Make that folder writable (remount its disk read-write, or fix its owner and permissions), or set PULUMI_BACKEND_URL to one that is, then run npm run up -- --stack testbed again.`);
        assert.deepEqual(await namespaceVersions(k), before);
        assert.ok(stateFile(env).equals(state), "the state file is byte for byte the same");
        outcomes.push({ fault: "the state folder on a read-only mount, then `npm run up`", said, kept: `all ${Object.keys(before).length} objects unchanged; the state file byte for byte the same`, seconds });
    });

    it("state disk nearly full: up stops before the update, saying how much room it needs, and changes nothing", async () => {
        const [before, state] = [await namespaceVersions(k), stateFile(env)];
        const { r, seconds } = await timed(() => upWithStateDisk(env, { spareKiB: 2048 }));
        const said = lineOf(failure(r, "npm run up with 2 MiB free for the state"), /^launchpad: only /);
        assert.match(said, new RegExp(`^launchpad: only \\d\\.\\d MiB is free on the disk that holds the state of stack testbed \\(${stateDir(env)}\\), and an update needs about \\d+\\.\\d MiB there to save it after each step; nothing was changed\\. Free space on that disk`));
        assert.deepEqual(await namespaceVersions(k), before);
        assert.ok(stateFile(env).equals(state), "the state file is byte for byte the same");
        outcomes.push({ fault: "the state folder's disk with 2 MiB free, then `npm run up`", said, kept: `all ${Object.keys(before).length} objects unchanged; the state file byte for byte the same`, seconds });
    });

    it("state disk filling up in the middle of up: one line says where and why, the state stays whole, and the next up converges", async () => {
        const data = await dataOf(k);
        const t0 = Date.now();
        const { failed: r, exported, rerun, converged } = await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\n// e2e: a change a full disk interrupts\n`, async () => ({
            // Room for the checks; filled while the backend's new image is built and pushed, before its step is saved.
            failed: await upWithStateDisk(env, { spareKiB: 40 * 1024, fillWhen: /Image launchpad-backend-image-build\s+updating/ }),
            exported: await pulumi(["stack", "export"], env),
            rerun: await launchpad("up", [], env),
            converged: await pulumi(["preview", "--expect-no-changes"], env),
        }));
        const said = lineOf(failure(r, "npm run up while the state's disk filled"), /^launchpad: the update of stack testbed (stopped|could not start)/);
        assert.match(said, new RegExp(`its state could not be saved in ${stateDir(env)} \\(no space left on device\\)\\. The state saved before is whole`));
        ok(exported, "pulumi stack export of the state the failed run left");
        const resources = JSON.parse(exported.stdout).deployment.resources.length as number;
        assert.ok(resources > 10, "the state the failed run left still holds the app");
        ok(rerun, "npm run up once there is room again");
        ok(converged, "pulumi preview --expect-no-changes: converged");
        assert.deepEqual(await dataOf(k), data, "the same claim, volume and Secret");
        const recovered = rerun.output.split("\n").find((l) => l.startsWith("launchpad: recovered")) ?? "";
        outcomes.push({ fault: "the state folder's disk filled while `npm run up` built the backend's new image; then `npm run up` with room again", said, kept: `the state left whole (${resources} resources, exported); the rerun ${recovered ? `said "${recovered}" and ` : ""}converged (preview: no changes); the database's claim, volume and Secret the same`, seconds: (Date.now() - t0) / 1000 });
    });
});
