import assert from "node:assert/strict";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ROOT, listStacks, runStack, stackConfig } from "../../tools/harness";
import { compareRuns } from "../../tools/bench/idempotency";
import { parseHostReport } from "../../tools/bench/cases";
import { compileProgram } from "../../tools/launch/program";

// What `pulumi up` runs is the JavaScript tools/launch compiles, not the TypeScript the other tests
// load through ts-node: the two must be the same program.

/** Output of a finished child process. */
interface Finished { readonly code: number | null; readonly stdout: string; readonly stderr: string }

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Finished> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("the program as deployed (tools/launch's JavaScript)", () => {
    let outDir: string;
    let outFile: string;
    let runtime: Promise<Finished>;
    before(() => {
        // Pulumi's own runtime entry, in another process: it runs on the other core while the
        // comparisons below run in this one.
        const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_CONFIG: JSON.stringify(stackConfig("dev")), PULUMI_CONFIG_SECRET_KEYS: "[]" };
        for (const key of Object.keys(env)) if (/^(PULUMI_NODEJS_|TS_NODE_)/.test(key) || key === "NODE_OPTIONS") delete env[key];
        runtime = run(process.execPath, [path.join("tools", "bench", "host.js"), "--runtime", project.main, "dev"], { cwd: ROOT, env });

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
            const source = await runStack(stack);
            const compiled = await runStack(stack, { entry: outFile });
            assert.ok(compiled.resources.length > 10);
            const drifts = compareRuns(source.resources, compiled.resources);
            assert.deepEqual(drifts, [], drifts.map((d) => `${d.resource} ${d.path}: ${d.problem}`).join("\n"));
            assert.deepEqual(compiled.outputs, source.outputs);
        });
    }

    it("starts through Pulumi's own runtime entry (cmd/run) with typescript off, and registers the dev stack", async function () {
        this.timeout(60_000);
        const expected = (await runStack("dev")).resources.length;
        const finished = await runtime;
        assert.equal(finished.code, 0, finished.stderr);
        // The runtime adds the root Stack resource, which runStack's mocks never see.
        assert.deepEqual(parseHostReport(finished.stdout), { resources: expected + 1 });
    });
});
