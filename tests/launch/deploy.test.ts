import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { ROOT, listStacks, runStack, stackConfig } from "../../tools/harness";
import { compareRuns } from "../../tools/bench/idempotency";
import { Case, benchCases, parseHostReport } from "../../tools/bench/cases";
import { Run, runOnce } from "../../tools/bench/measure";
import { compileProgram } from "../../tools/launch/program";
import { stackRun } from "../stackRuns";

// What `pulumi up` runs is the JavaScript tools/launch compiles, not the TypeScript the other tests
// load through ts-node: the two must be the same program.

describe("the program as deployed (tools/launch's JavaScript)", () => {
    let outDir: string;
    let outFile: string;
    let runtime: Promise<Run>;
    let runtimeCase: Case;
    before(() => {
        // The benchmark's "through cmd/run" command (Pulumi's own runtime entry with Pulumi.yaml's main and
        // runtime options), in another process: it runs on the other core while the comparisons below run
        // in this one. That case neither renders nor type-checks, so those two paths are never used.
        runtimeCase = benchCases({ root: ROOT, devConfig: stackConfig("dev"), renderOut: "/unused", typeChecked: "/unused" }).find((c) => c.id === "devRuntime")!;
        runtime = runOnce(runtimeCase.command);

        fs.mkdirSync(path.join(ROOT, "bin"), { recursive: true });
        outDir = fs.mkdtempSync(path.join(ROOT, "bin", ".test-"));
        outFile = compileProgram(ROOT, "index.ts", { outDir }).outFile;
    });
    after(async () => {
        fs.rmSync(outDir, { recursive: true, force: true });
        await runtime;
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

    it("starts through Pulumi's own runtime entry (cmd/run) with typescript off, and registers the dev stack", async function () {
        this.timeout(60_000);
        const expected = (await stackRun("dev")).resources.length;
        const finished = await runtime;
        assert.equal(runtimeCase.check(finished), undefined);
        assert.equal(finished.code, 0, finished.stderr);
        // The runtime adds the root Stack resource, which runStack's mocks never see.
        assert.deepEqual(parseHostReport(finished.stdout), { resources: expected + 1 });
    });
});
