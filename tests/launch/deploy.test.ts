import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { ROOT, listStacks, runStack, stackConfig } from "../../tools/harness";
import { compareRuns } from "../../tools/bench/idempotency";
import { Case, benchCases } from "../../tools/bench/cases";
import { EngineRun, FakeEngine, startFakeEngine } from "../../tools/bench/fakeEngine";
import { Run, runOnce } from "../../tools/bench/measure";
import { compileProgram } from "../../tools/launch/program";
import { stackRun } from "../stackRuns";

// What `pulumi up` runs is the JavaScript tools/launch compiles, not the TypeScript the other tests
// load through ts-node: the two must be the same program.

describe("the program as deployed (tools/launch's JavaScript)", () => {
    let outDir: string;
    let outFile: string;
    let runtime: Promise<{ run: Run; seen: EngineRun }>;
    let npmRuntime: Promise<{ run: Run; seen: EngineRun }>;
    let engine: FakeEngine;
    before(async () => {
        // The benchmark's dev command (Pulumi's own runtime entry with Pulumi.yaml's main and runtime options,
        // as the language host starts it, against the bench's fake engine), in another process: it runs on
        // the other core while the comparisons below run in this one. That case neither renders, nor
        // type-checks, nor uses the scratch folder, so those paths are never used.
        engine = await startFakeEngine();
        const seen: EngineRun[] = [];
        const recording = { address: engine.address, takeRun: () => { const run = engine.takeRun(); seen.push(run); return run; } };
        const cases = benchCases({ root: ROOT, devConfig: stackConfig("dev"), renderOut: "/unused", typeChecked: "/unused", scratch: "/unused", engine: recording });
        const runCase = async (id: string) => {
            const runtimeCase: Case = cases.find((c) => c.id === id)!;
            const run = await runOnce(runtimeCase.command);
            assert.equal(runtimeCase.check(run), undefined);
            return { run, seen: seen[seen.length - 1] };
        };
        // As `pulumi preview` starts it, then as `npm run preview` does (the engine's environment from tools/up): one after the other, on one engine.
        runtime = runCase("dev");
        npmRuntime = runtime.catch(() => undefined).then(() => runCase("devNpm"));

        fs.mkdirSync(path.join(ROOT, "bin"), { recursive: true });
        outDir = fs.mkdtempSync(path.join(ROOT, "bin", ".test-"));
        outFile = compileProgram(ROOT, "index.ts", { outDir }).outFile;
    });
    after(async () => {
        fs.rmSync(outDir, { recursive: true, force: true });
        await npmRuntime.catch(() => undefined);
        await engine.stop();
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
