import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PULUMI_CONFIG_NOTE } from "../../components/config";
import { helpText } from "../../tools/cli";
import { COMMANDS, main, parseArgs } from "../../tools/up/main";
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
        assert.throws(() => parseArgs(["up", "--delete-data"]), /^UsageError: unknown option "--delete-data"$/);
    });

    it("rejects a missing or unknown command, an unknown option and a stack without a name", () => {
        assert.throws(() => parseArgs([]), /missing command: up, preview or down/);
        assert.throws(() => parseArgs(["deploy"]), /unknown command "deploy": use up, preview or down/);
        assert.throws(() => parseArgs(["up", "--force"]), /unknown option "--force"/);
        assert.throws(() => parseArgs(["up", "--stak", "prod"]), /unknown option "--stak"; did you mean --stack\?/);
        assert.throws(() => parseArgs(["up", "--stack"]), /--stack needs a value: --stack <name>/);
        assert.throws(() => parseArgs(["up", "--stack", "../etc"]), /is not a stack name/);
    });

    it("exits 2 with the usage on a usage error", async () => {
        const c = capture();
        assert.equal(await main(["up", "--bogus"], {}, c.output), 2);
        assert.equal(c.err.join(""), 'up: unknown option "--bogus"\nUsage: npm run up -- [--stack <name>]  (--help says what each option does)\n');
    });

    it("exits 0 with the usage for --help", async () => {
        const c = capture();
        assert.equal(await main(["up", "--help"], {}, c.output), 0);
        assert.equal(c.out.join(""), `${helpText(COMMANDS.up)}\n`);
        const d = capture();
        assert.equal(await main(["down", "--stack", "prod", "-h"], {}, d.output), 0);
        assert.match(d.out.join(""), /^Usage: npm run down -- \[--stack <name>\] \[--delete-data \[--cluster\]\]\n[\s\S]*\n {2}--delete-data {2,}delete the database's data as well\n/);
    });
});

describe("up: main's exit codes", () => {
    it("exits 1 listing every missing tool with how to install it, and no stack trace", async () => {
        const c = capture();
        const code = await main(["up"], { runner: new FakeMachine(freshMachine({ installed: new Set() })), repoRoot: tempProject(), env: {}, nodeVersion: "22.19.0" }, c.output);
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
        assert.match(c.err.join(""), /^up: unknown stack "qa": there is no Pulumi\.qa\.yaml \(stacks: dev, prod\)\n/);
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
        assert.equal(c.err.join(""), "up: unexpected error: boom\n(set LAUNCHPAD_DEBUG=1 to see where it happened)\n");
        const d = capture();
        await main(["up"], { ...deps, env: { LAUNCHPAD_DEBUG: "1" } }, d.output);
        assert.match(d.err.join(""), /TypeError: boom\n\s+at /);
    });
});

describe("up and preview: the stack's config first, then the tools, reported together", () => {
    const brokenDev = [
        "config:",
        "  launchpad:backendReplicas: -1",
        "  launchpd:frontendReplicas: 2",
        "  launchpad:frontendCpuu: 100m",
        "",
    ].join("\n");
    for (const command of ["up", "preview"] as const) {
        it(`${command} on a machine without the tools lists the config problems in the stack file's order, then the missing tools, and exits 1`, async () => {
            const c = capture();
            const machine = new FakeMachine(freshMachine({ installed: new Set() }));
            const code = await main([command], { runner: machine, repoRoot: tempProject({ "Pulumi.dev.yaml": brokenDev }), env: {} }, c.output);
            assert.equal(code, 1);
            const err = c.err.join("");
            assert.equal(
                err.split("\n").slice(0, 12).join("\n"),
                [
                    'stack "dev" has 3 config problems; nothing was created.',
                    '  - launchpad:backendReplicas = "-1": must be at least 0',
                    "    fix: Pulumi.dev.yaml line 2: launchpad:backendReplicas: 1",
                    "      or: pulumi config set --stack dev backendReplicas 1",
                    '  - launchpd:frontendReplicas = "2": is under "launchpd:", which no program reads; did you mean "launchpad:frontendReplicas"?',
                    "    fix: Pulumi.dev.yaml line 3: launchpad:frontendReplicas: 2",
                    "      or: pulumi config rm --stack dev launchpd:frontendReplicas && pulumi config set --stack dev frontendReplicas 2",
                    '  - launchpad:frontendCpuu = "100m": is not a launchpad setting; did you mean "frontendCpu"?',
                    "    fix: Pulumi.dev.yaml line 4: launchpad:frontendCpu: 100m",
                    "      or: pulumi config rm --stack dev frontendCpuu && pulumi config set --stack dev frontendCpu 100m",
                    PULUMI_CONFIG_NOTE,
                    `launchpad ${command}: 4 prerequisites are not met; nothing was changed:`,
                ].join("\n"),
            );
            for (const tool of ["pulumi", "docker", "kind", "kubectl"]) assert.match(err, new RegExp(`\n  - ${tool} is not installed: `));
            assert.match(err, new RegExp(`\nFix the above, then run \`npm run ${command}\` again\.\n$`));
            assert.deepEqual(c.out, [], "nothing ran");
        });
    }

    it("up with every tool present still stops on a config problem, naming the stack in each fix, before it changes anything", async () => {
        const c = capture();
        const machine = new FakeMachine(freshMachine());
        const root = tempProject({ "Pulumi.prod.yaml": "config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: prod-cluster\n  launchpad:registry: registry.example.com/team\n" });
        const code = await main(["up", "--stack", "prod"], { runner: machine, repoRoot: root, env: { PULUMI_CONFIG_PASSPHRASE: "x" } }, c.output);
        assert.equal(code, 1);
        assert.equal(
            c.err.join(""),
            'stack "prod" has 1 config problem; nothing was created.\n' +
                "  - launchpad:host: is required when platform is cloud (there is no sensible default for a cloud cluster)\n" +
                "    fix: Pulumi.prod.yaml: add launchpad:host: app.example.com under config:\n" +
                "      or: pulumi config set --stack prod host app.example.com\n" +
                `${PULUMI_CONFIG_NOTE}\n` +
                "Fix the above, then run `npm run up -- --stack prod` again.\n",
        );
        assert.deepEqual(machine.mutations(), []);
    });

    it("counts the registry login CI passes in the environment as the stack's config", async () => {
        const c = capture();
        const root = tempProject({ "Pulumi.prod.yaml": "config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: prod-cluster\n  launchpad:registry: registry.example.com/team\n  launchpad:host: app.example.com\n  launchpad:registryUsername: ci-bot\n" });
        const runner = new FakeMachine(freshMachine({ installed: new Set() }));
        await main(["up", "--stack", "prod"], { runner, repoRoot: root, env: { LAUNCHPAD_REGISTRY_PASSWORD: "token" } }, c.output);
        assert.doesNotMatch(c.err.join(""), /config problem/);
        const d = capture();
        await main(["up", "--stack", "prod"], { runner, repoRoot: root, env: {} }, d.output);
        assert.match(d.err.join(""), /launchpad:registryPassword: is missing: registryUsername is set/);
    });

    it("names the file, line and column of a YAML mistake, with the lines, and exits 1", async () => {
        const c = capture();
        const root = tempProject({ "Pulumi.dev.yaml": "config:\n  launchpad:platform: kind\n  launchpad:backendReplicas: 2\n  launchpad:backendReplicas: 3\n" });
        assert.equal(await main(["preview"], { runner: new FakeMachine(freshMachine()), repoRoot: root, env: {} }, c.output), 1);
        assert.equal(
            c.err.join(""),
            'Pulumi.dev.yaml:4:3: the key "launchpad:backendReplicas" is given twice (first on line 3); keep one of the lines in Pulumi.dev.yaml\n' +
                "  3 |   launchpad:backendReplicas: 2\n" +
                "  4 |   launchpad:backendReplicas: 3\n" +
                "    |   ^\n" +
                "Fix the above, then run `npm run preview` again.\n",
        );
    });

    it("lists a stack file that is not valid YAML, the missing tools and the missing passphrase in one run", async () => {
        const c = capture();
        const root = tempProject({ "Pulumi.prod.yaml": "config:\n  launchpad:platform: cloud\n  launchpad:platform: kind\n" });
        const machine = new FakeMachine(freshMachine({ installed: new Set() }));
        assert.equal(await main(["up", "--stack", "prod"], { runner: machine, repoRoot: root, env: {} }, c.output), 1);
        const err = c.err.join("");
        assert.match(err, /^Pulumi\.prod\.yaml:3:3: the key "launchpad:platform" is given twice/);
        // The platform is unknown, so the tools every platform needs: not kind's.
        assert.match(err, /\nlaunchpad up: 3 prerequisites are not met; nothing was changed:\n {2}- pulumi is not installed: [^\n]*\n(?: {6}[^\n]*\n)+ {2}- docker is not installed: [^\n]*\n(?: {6}[^\n]*\n)+ {2}- PULUMI_CONFIG_PASSPHRASE is not set: it encrypts stack prod's secrets/);
        assert.doesNotMatch(err, /kind is not installed/);
        assert.deepEqual(machine.mutations(), []);
    });

    it("lists the missing tools, the passphrase and, in CI, the backend of a cloud stack in one run", async () => {
        const c = capture();
        const machine = new FakeMachine(freshMachine({ installed: new Set() }));
        assert.equal(await main(["preview", "--stack", "prod"], { runner: machine, repoRoot: tempProject(), env: { CI: "true" } }, c.output), 1);
        const listed = [...c.err.join("").matchAll(/^ {2}- (\S+) is not (?:installed|set)/gm)].map((m) => m[1]);
        assert.deepEqual(listed, ["pulumi", "docker", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL"]);
    });
});

describe("up: the real CLI (as npm run up starts it) on a machine without the tools", () => {
    it("prints exactly which tools are missing and how to get them, and exits non-zero", function () {
        this.timeout(120_000);
        const repo = path.resolve(__dirname, "..", "..");
        const emptyPath = tempDir();
        const run = spawnSync(process.execPath, ["tools/launch/command.js", "tools/up/main.ts", "up"], {
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
        // Compiled beside the program, in a dot-folder its kept provider code's key leaves out.
        assert.ok(fs.existsSync(path.join(repo, "bin", ".commands", "tools", "up", "main.js")));
    });
});
