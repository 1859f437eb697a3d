import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { ROOT, listStacks, runStack, stackConfig } from "../../tools/harness";
import { compareRuns } from "../../dev/bench/idempotency";
import { Case, benchCases } from "../../dev/bench/cases";
import { EngineRun, FakeEngine, startFakeEngine } from "../../dev/bench/fakeEngine";
import { Run, runOnce } from "../../dev/bench/measure";
import { compileProgram } from "../../tools/launch/program";
import { stackRun } from "../stackRuns";

// What `pulumi up` runs is the JavaScript tools/launch compiles, not the TypeScript the other tests
// load through ts-node: the two must be the same program.

describe("the program as deployed (tools/launch's JavaScript)", () => {
    let outDir: string;
    let outFile: string;
    let runtime: Promise<{ run: Run; seen: EngineRun }>;
    let npmRuntime: Promise<{ run: Run; seen: EngineRun }>;
    const engines: FakeEngine[] = [];
    before(async () => {
        // The benchmark's dev commands (Pulumi's own runtime entry with Pulumi.yaml's main and runtime options,
        // as the language host starts it, against the bench's fake engine), as `pulumi preview` starts the
        // program and as `npm run preview` does (the engine's environment from tools/up), each in a process
        // of its own with an engine of its own: they run while the comparisons below run in this one. Those
        // cases neither render, nor type-check, nor use the scratch folder, so those paths are never used.
        const runCase = async (id: string) => {
            const engine = await startFakeEngine();
            engines.push(engine);
            let seen: EngineRun | undefined;
            const recording = { address: engine.address, takeRun: () => (seen = engine.takeRun()) };
            const runtimeCase: Case = benchCases({ root: ROOT, devConfig: stackConfig("dev"), renderOut: "/unused", typeChecked: "/unused", scratch: "/unused", engine: recording }).find((c) => c.id === id)!;
            const run = await runOnce(runtimeCase.command);
            assert.equal(runtimeCase.check(run), undefined);
            return { run, seen: seen! };
        };
        runtime = runCase("dev");
        npmRuntime = runCase("devNpm");

        fs.mkdirSync(path.join(ROOT, "bin"), { recursive: true });
        outDir = fs.mkdtempSync(path.join(ROOT, "bin", ".test-"));
        outFile = compileProgram(ROOT, "index.ts", { outDir }).outFile;
    });
    after(async () => {
        fs.rmSync(outDir, { recursive: true, force: true });
        await Promise.all([runtime, npmRuntime].map((r) => r.catch(() => undefined)));
        await Promise.all(engines.map((e) => e.stop()));
    });

    for (const stack of listStacks()) {
        it(`registers byte-identical resources and outputs to the TypeScript for stack ${stack}`, async () => {
            const source = await stackRun(stack);
            const compiled = await runStack(stack, { entry: outFile });
            assert.ok(compiled.resources.length > 10);
            const drifts = compareRuns(source.resources, compiled.resources);
            assert.deepEqual(drifts, [], drifts.map((d) => `${d.resource} ${d.path}: ${d.problem}`).join("\n"));
            assert.deepEqual(compiled.outputs, source.outputs);
        });
    }

    it("starts through Pulumi's own runtime entry (cmd/run) with typescript off, and registers the dev stack over gRPC", async function () {
        this.timeout(60_000);
        const expected = (await stackRun("dev")).resources.length;
        const { run, seen } = await runtime;
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(seen.errors, []);
        // The runtime adds the root Stack resource, which runStack's mocks never see.
        assert.equal(seen.resources, expected + 1);
        assert.ok(seen.debugMessages >= 2 * seen.resources, `the SDK sent ${seen.debugMessages} DEBUG messages for ${seen.resources} resources`);
    });

    it("sends the engine no DEBUG message of its own when launchpad's commands started it (nobody reads them there), and registers the same", async function () {
        this.timeout(60_000);
        const [typed, npm] = [await runtime, await npmRuntime];
        assert.equal(npm.run.code, 0, npm.run.stderr);
        assert.deepEqual(npm.seen.errors, []);
        assert.equal(npm.seen.resources, typed.seen.resources);
        // Only the runtime's own, sent before it loads the program: "Running program …" and the Stack's registration.
        assert.ok(npm.seen.debugMessages <= 4, `sent ${npm.seen.debugMessages} DEBUG messages`);
    });
});
