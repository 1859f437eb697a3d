import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runtimeArgv } from "../../dev/bench/cases";
import { FakeEngine, startFakeEngine } from "../../dev/bench/fakeEngine";
import { programLifetime, runHostShare } from "../../dev/bench/hostShare";
import { type BenchArgs, parseArgs as parse } from "../../dev/bench/main";
import { ROOT } from "../../tools/harness";

/** The arguments of a command line that asks for no help. */
const parseArgs = (argv: string[]) => parse(argv) as BenchArgs;

// `npm run bench -- --host-share` on the testbed measures the program's Node process inside a real
// `pulumi preview`. Here the Pulumi CLI and its language host are replaced by a script that starts the
// run path as the host does (PULUMI_LANGUAGE_NODEJS_RUN_PATH, the runtime's flags), against the bench's fake engine.

describe("npm run bench -- --host-share", () => {
    let engine: FakeEngine;
    let bin: string;
    let program: string;
    before(async () => {
        engine = await startFakeEngine();
        bin = fs.mkdtempSync(path.join(os.tmpdir(), "host-share-test-"));
        // A program of nothing but the Stack the runtime registers, inside the project (where the runtime resolves from).
        fs.mkdirSync(path.join(ROOT, "bin"), { recursive: true });
        program = fs.mkdtempSync(path.join(ROOT, "bin", ".host-share-test-"));
        fs.writeFileSync(path.join(program, "index.js"), "module.exports = {};\n");
        // `pulumi preview …`: what the language host runs for it, with that program, in the project folder.
        const [, , ...flags] = runtimeArgv(ROOT, "launchpad", engine.address, "testbed", path.join(path.relative(ROOT, program), "index.js"));
        const quoted = flags.map((f) => `'${f}'`).join(" ");
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\n[ "$1 $2 $3" = "preview --stack testbed" ] || exit 9\nexec '${process.execPath}' "$PULUMI_LANGUAGE_NODEJS_RUN_PATH" ${quoted}\n`, { mode: 0o755 });
    });
    after(async () => {
        await engine.stop();
        fs.rmSync(bin, { recursive: true, force: true });
        fs.rmSync(program, { recursive: true, force: true });
    });

    it("is chosen with --host-share, on the testbed stack of this checkout unless told otherwise", () => {
        assert.deepEqual(parseArgs(["--host-share"]).hostShare, { stack: "testbed", project: ROOT });
        assert.deepEqual(parseArgs(["--host-share", "--stack", "dev", "--project", "/work/main", "--runs", "3"]).hostShare, { stack: "dev", project: "/work/main" });
        assert.equal(parseArgs([]).hostShare, undefined);
        assert.throws(() => parseArgs(["--stack", "dev"]), /--stack and --project go with --host-share/);
    });

    it("reads the program's lifetime from the one line its stopwatch wrote, and nothing from none or two", () => {
        assert.equal(programLifetime('{"started":1000.5,"ended":1900.5,"code":0}\n'), 900);
        assert.equal(programLifetime(""), undefined);
        assert.equal(programLifetime('{"started":1,"ended":2}\n{"started":3,"ended":4}\n'), undefined);
    });

    it("times the program's process inside each preview, both ways, and tabulates its share", async function () {
        this.timeout(60_000);
        const originalPath = process.env.PATH;
        process.env.PATH = `${bin}${path.delimiter}${originalPath}`;
        try {
            const rounds: string[] = [];
            const outcome = await runHostShare({ runs: 1, stack: "testbed", project: ROOT }, (line) => rounds.push(line));
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.deepEqual(rounds.map((r) => r.replace(/[\d.]+s/g, "Ns")), ["warm-up: pulumi preview Ns (program Ns), as npm run preview starts it Ns (program Ns)", "round 1/1: pulumi preview Ns (program Ns), as npm run preview starts it Ns (program Ns)"]);
            const rows = outcome.stdout.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| started") && !l.startsWith("| ---"));
            assert.deepEqual(rows.map((r) => r.split("|")[1].trim()), ["pulumi preview", "as npm run preview starts it"]);
            for (const row of rows) {
                const [, , total, program, share] = row.split("|").map((c) => c.trim());
                assert.ok(parseFloat(program) > 0 && parseFloat(program) <= parseFloat(total), row);
                assert.match(share, /^\d+ %$/);
            }
            assert.equal(engine.takeRun().resources, 4, "each of the 4 previews (warm-up and one round, two ways) ran the program, which registered its Stack");
        } finally {
            process.env.PATH = originalPath;
        }
    });

    it("says what went wrong when a preview fails, and refuses a folder without Pulumi.yaml", async () => {
        const originalPath = process.env.PATH;
        process.env.PATH = `${bin}${path.delimiter}${originalPath}`;
        try {
            const failed = await runHostShare({ runs: 1, stack: "other", project: ROOT }, () => undefined);
            assert.equal(failed.code, 1);
            assert.match(failed.stderr, /^bench: pulumi preview \(pulumi preview\) exited 9/);
        } finally {
            process.env.PATH = originalPath;
        }
        const nowhere = await runHostShare({ runs: 1, stack: "testbed", project: os.tmpdir() }, () => undefined);
        assert.equal(nowhere.code, 2);
        assert.match(nowhere.stderr, /has no Pulumi\.yaml; --project takes the project folder/);
    });
});
