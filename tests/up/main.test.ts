import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { main, parseArgs, USAGE } from "../../tools/up/main";
import { FakeMachine, freshMachine, removeTemps, tempDir, tempProject } from "./fakes";

after(removeTemps);

function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, output: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe("up: the command line", () => {
    it("defaults to the dev stack", () => {
        assert.deepEqual(parseArgs(["up"]), { command: "up", stack: "dev", deleteData: false, cluster: false });
    });

    it("takes --stack as two words or one", () => {
        assert.equal((parseArgs(["preview", "--stack", "prod"]) as { stack: string }).stack, "prod");
        assert.equal((parseArgs(["up", "--stack=prod"]) as { stack: string }).stack, "prod");
    });

    it("takes --delete-data and --cluster for down only", () => {
        assert.deepEqual(parseArgs(["down", "--delete-data", "--cluster"]), { command: "down", stack: "dev", deleteData: true, cluster: true });
        assert.throws(() => parseArgs(["up", "--delete-data"]), /Unknown option "--delete-data" for up/);
    });

    it("rejects a missing or unknown command, an unknown option and a stack without a name", () => {
        assert.throws(() => parseArgs([]), /Missing command/);
        assert.throws(() => parseArgs(["deploy"]), /Unknown command "deploy"/);
        assert.throws(() => parseArgs(["up", "--force"]), /Unknown option "--force"/);
        assert.throws(() => parseArgs(["up", "--stack"]), /--stack needs a stack name/);
        assert.throws(() => parseArgs(["up", "--stack", "../etc"]), /is not a stack name/);
    });

    it("exits 2 with the usage on a usage error", async () => {
        const c = capture();
        assert.equal(await main(["up", "--bogus"], {}, c.output), 2);
        assert.match(c.err.join(""), /Unknown option "--bogus" for up\.\n\nUsage: npm run up\|preview\|down/);
    });

    it("exits 0 with the usage for --help", async () => {
        const c = capture();
        assert.equal(await main(["--help"], {}, c.output), 0);
        assert.equal(c.out.join(""), `${USAGE}\n`);
    });
});

describe("up: main's exit codes", () => {
    it("exits 1 listing every missing tool with how to install it, and no stack trace", async () => {
        const c = capture();
        const code = await main(["up"], { runner: new FakeMachine(freshMachine({ installed: new Set() })), repoRoot: tempProject(), env: {}, nodeVersion: "22.3.0" }, c.output);
        assert.equal(code, 1);
        const err = c.err.join("");
        assert.match(err, /^launchpad up: 4 prerequisites are not met; nothing was changed:\n/);
        for (const tool of ["pulumi", "docker", "kind", "kubectl"]) assert.match(err, new RegExp(`  - ${tool} is not installed: `));
        assert.match(err, /brew install pulumi\/tap\/pulumi/);
        assert.doesNotMatch(err, /\n\s+at /, "no stack trace");
        assert.deepEqual(c.out, []);
    });

    it("exits 1 without a stack trace when down refuses to delete data", async () => {
        const c = capture();
        const code = await main(["down", "--cluster"], { runner: new FakeMachine(freshMachine()), repoRoot: tempProject(), env: {} }, c.output);
        assert.equal(code, 1);
        assert.match(c.err.join(""), /refusing to delete the kind cluster/);
        assert.doesNotMatch(c.err.join(""), /\n\s+at /);
    });

    it("exits 2 for an unknown stack", async () => {
        const c = capture();
        assert.equal(await main(["up", "--stack", "qa"], { runner: new FakeMachine(freshMachine()), repoRoot: tempProject(), env: {} }, c.output), 2);
        assert.match(c.err.join(""), /Unknown stack "qa"/);
    });

    it("reports an unexpected error in one line, with the trace only under LAUNCHPAD_DEBUG", async () => {
        const broken = {
            run: async () => ({ code: 0, stdout: "", stderr: "" }),
            which: async (): Promise<string | undefined> => {
                throw new TypeError("boom");
            },
        };
        const c = capture();
        const deps = { runner: broken, repoRoot: tempProject() };
        assert.equal(await main(["up"], { ...deps, env: {} }, c.output), 1);
        assert.equal(c.err.join(""), "launchpad up: unexpected error: boom\n(set LAUNCHPAD_DEBUG=1 to see where it happened)\n");
        const d = capture();
        await main(["up"], { ...deps, env: { LAUNCHPAD_DEBUG: "1" } }, d.output);
        assert.match(d.err.join(""), /TypeError: boom\n\s+at /);
    });
});

describe("up: the real CLI on a machine without the tools", () => {
    it("prints exactly which tools are missing and how to get them, and exits non-zero", function () {
        this.timeout(120_000);
        const repo = path.resolve(__dirname, "..", "..");
        const emptyPath = tempDir();
        const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/up/main.ts", "up"], {
            cwd: repo,
            env: { PATH: emptyPath, HOME: process.env.HOME ?? emptyPath },
            encoding: "utf8",
        });
        assert.equal(run.status, 1, run.stderr);
        const reported = [...run.stderr.matchAll(/^ {2}- (\S+) is not installed/gm)].map((m) => m[1]);
        assert.deepEqual(reported, ["pulumi", "docker", "kind", "kubectl"]);
        assert.match(run.stderr, /^launchpad up: 4 prerequisites are not met; nothing was changed:/);
        assert.match(run.stderr, /Fix the above, then run `npm run up` again\.\n$/);
        assert.doesNotMatch(run.stderr, /\n\s+at /);
        assert.equal(run.stdout, "");
    });
});
