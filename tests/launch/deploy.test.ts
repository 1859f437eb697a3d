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
    let runtimeCase: Case;
    let engine: FakeEngine;
    before(async () => {
        // The benchmark's dev command (Pulumi's own runtime entry with Pulumi.yaml's main and runtime options,
        // as the language host starts it, against the bench's fake engine), in another process: it runs on
        // the other core while the comparisons below run in this one. That case neither renders, nor
        // type-checks, nor uses the scratch folder, so those paths are never used.
        engine = await startFakeEngine();
        const seen: EngineRun[] = [];
        const recording = { address: engine.address, takeRun: () => { const run = engine.takeRun(); seen.push(run); return run; } };
        runtimeCase = benchCases({ root: ROOT, devConfig: stackConfig("dev"), renderOut: "/unused", typeChecked: "/unused", scratch: "/unused", engine: recording }).find((c) => c.id === "dev")!;
        runtime = runOnce(runtimeCase.command).then((run) => ({ run, problem: runtimeCase.check(run) })).then(({ run, problem }) => {
            assert.equal(problem, undefined);
            return { run, seen: seen[0] };
        });

        fs.mkdirSync(path.join(ROOT, "bin"), { recursive: true });
        outDir = fs.mkdtempSync(path.join(ROOT, "bin", ".test-"));
        outFile = compileProgram(ROOT, "index.ts", { outDir }).outFile;
    });
    after(async () => {
        fs.rmSync(outDir, { recursive: true, force: true });
        await runtime.catch(() => undefined);
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
    });
});
