import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileTrace, NO_TRACE, readTrace } from "../../tools/up/trace";

describe("up: LAUNCHPAD_TRACE, each check and step timed", () => {
    it("writes a line per step as it ends, after one for the process's start, and times failed steps too", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-trace-"));
        try {
            const file = path.join(dir, "trace.jsonl");
            const trace = fileTrace(file);
            assert.equal(await trace.step("waits", () => new Promise((resolve) => setTimeout(() => resolve(7), 30))), 7);
            assert.equal(trace.stepSync("counts", () => 3), 3);
            await assert.rejects(trace.step("fails", () => Promise.reject(new Error("no"))), /no/);
            const steps = readTrace(fs.readFileSync(file, "utf8"));
            assert.deepEqual(steps.map((s) => s.step), ["start: Node and the command's modules loaded", "waits", "counts", "fails"]);
            assert.equal(steps[0].startMs, 0);
            assert.ok(steps[1].ms >= 25, `the 30 ms step took ${steps[1].ms} ms`);
            assert.ok(steps[2].startMs >= steps[1].startMs + steps[1].ms);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
    it("times nothing and writes nothing unless asked", async () => {
        assert.equal(await NO_TRACE.step("x", async () => 1), 1);
        assert.equal(NO_TRACE.stepSync("x", () => 2), 2);
    });
});
