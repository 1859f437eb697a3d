import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type CommandSpec, errorOutcome, EXIT_RULE, Failure, helpText, type Outcome, readCommandLine, UsageError } from "../../tools/cli";
import { COMMAND as BENCH, runBench } from "../../dev/bench/main";
import { COMMAND as DIAGRAM, runDiagram } from "../../tools/diagram/main";
import { COMMAND as DOCS, runDocs } from "../../dev/docs/main";
import { COMMAND as DOCTOR, runDoctor } from "../../tools/doctor/main";
import { ROOT, runStack, stackConfig } from "../../tools/harness";
import { COMMAND as RENDER, runRender } from "../../tools/render/main";
import { COMMANDS, main } from "../../tools/up/main";
import { FakeMachine, freshMachine, removeTemps, tempDir, tempProject } from "../up/fakes";

after(removeTemps);

const spec: CommandSpec = {
    name: "render",
    synopsis: "[--stack <name>] [--out <dir>] [--check]",
    about: "Does a thing.",
    options: [
        { flag: "--stack", value: "<name>", doc: "the stack" },
        { flag: "--out", value: "<dir>", doc: "where" },
        { flag: "--check", doc: "check" },
    ],
};

describe("readCommandLine: every command's options through node:util parseArgs", () => {
    it("reads values with or without '=', keeps every value of a repeated option, and switches", () => {
        const flags = readCommandLine(["--stack", "dev", "--stack=prod", "--out=dir", "--check"], spec);
        assert.notEqual(flags, "help");
        assert.deepEqual([...(flags as Map<string, string[]>)], [["--stack", ["dev", "prod"]], ["--out", ["dir"]], ["--check", []]]);
    });

    it("takes a value starting with '-' only when written with '='", () => {
        for (const argv of [["--stack", "--check"], ["--stack"], ["--stack="]]) {
            assert.throws(() => readCommandLine(argv, spec), { name: "UsageError", message: "--stack needs a value: --stack <name>" }, argv.join(" "));
        }
        assert.deepEqual((readCommandLine(["--out=-"], spec) as Map<string, string[]>).get("--out"), ["-"]);
    });

    it("answers help for -h or --help anywhere, before anything else on the line", () => {
        assert.equal(readCommandLine(["--bogus", "-h"], spec), "help");
        assert.equal(readCommandLine(["--stack", "dev", "--help"], spec), "help");
    });

    it("names an unknown argument as it was written, with the option it was closest to", () => {
        const problem = (argv: string[]) => {
            try {
                readCommandLine(argv, spec);
            } catch (e) {
                assert.ok(e instanceof UsageError);
                return e.message;
            }
            return undefined;
        };
        assert.equal(problem(["--stak=dev"]), 'unknown option "--stak=dev"; did you mean --stack?');
        assert.equal(problem(["--outdir", "x"]), 'unknown option "--outdir"; did you mean --out?');
        assert.equal(problem(["--chek"]), 'unknown option "--chek"; did you mean --check?');
        assert.equal(problem(["--check=yes"]), 'unknown option "--check=yes" (--check takes no value)');
        assert.equal(problem(["--frobnicate"]), 'unknown option "--frobnicate"');
        assert.equal(problem(["dev"]), 'unexpected argument "dev": render takes only options');
        assert.equal(problem(["--", "dev"]), 'unexpected argument "--": render takes only options');
    });
});

describe("helpText: one help format for every command", () => {
    it("gives the usage, what the command does, every option with its value and what it does, and the exit codes", () => {
        assert.equal(
            helpText(spec),
            [
                "Usage: npm run render -- [--stack <name>] [--out <dir>] [--check]",
                "",
                "Does a thing.",
                "",
                "Options:",
                "  --stack <name>  the stack",
                "  --out <dir>     where",
                "  --check         check",
                "  --help          show this help (also -h)",
                "",
                "Exit codes: 0 done; 1 failed: the stack's config, a tool, the cluster or a check said no, and the message says",
                "why and what to do; 2 wrong usage: an unknown command, option or stack, an option without its value, or a file",
                "named on the command line that cannot be read.",
            ].join("\n"),
        );
    });
});

describe("errorOutcome: the one exit-code rule", () => {
    it("exits 2 for wrong usage, with the usage line; 1 for a failure, in its own words; 1 for anything else, as unexpected", () => {
        assert.deepEqual(errorOutcome(spec, new UsageError("unknown option \"--x\""), {}), {
            code: 2,
            stdout: "",
            stderr: 'render: unknown option "--x"\nUsage: npm run render -- [--stack <name>] [--out <dir>] [--check]  (--help says what each option does)\n',
        });
        assert.deepEqual(errorOutcome(spec, new Failure("the cluster does not answer"), {}), { code: 1, stdout: "", stderr: "render: the cluster does not answer\n" });
        assert.deepEqual(errorOutcome(spec, new Failure("launchpad: it broke"), {}, false), { code: 1, stdout: "", stderr: "launchpad: it broke\n" });
        const config = Object.assign(new Error('stack "dev" has 1 config problem; nothing was created.'), { name: "ConfigError" });
        assert.equal(errorOutcome(spec, config, {}).code, 1);
        assert.deepEqual(errorOutcome(spec, new TypeError("x is undefined"), {}), {
            code: 1,
            stdout: "",
            stderr: "render: unexpected error: x is undefined\n(set LAUNCHPAD_DEBUG=1 to see where it happened)\n",
        });
    });

    it("shows the trace under LAUNCHPAD_DEBUG, of the cause a failure wraps when it wraps one", () => {
        assert.match(errorOutcome(spec, new TypeError("x is undefined"), { LAUNCHPAD_DEBUG: "1" }).stderr, /^render: unexpected error: x is undefined\nTypeError: x is undefined\n\s+at /);
        const wrapped = new Failure("the program failed for stack \"dev\": boom", { cause: new RangeError("boom") });
        assert.match(errorOutcome(spec, wrapped, { LAUNCHPAD_DEBUG: "1" }).stderr, /^render: the program failed for stack "dev": boom\nRangeError: boom\n\s+at /);
        assert.equal(errorOutcome(spec, wrapped, { LAUNCHPAD_DEBUG: "0" }).stderr, 'render: the program failed for stack "dev": boom\n');
    });
});

describe("every command: one help, one wording and one exit code for the same situation", function () {
    this.timeout(60_000);
    /** What each command needs to hit a situation: its own way in, a broken stack, an error it does not expect. */
    interface Entry {
        readonly spec: CommandSpec;
        readonly run: (argv: string[], env?: NodeJS.ProcessEnv) => Promise<Outcome>;
        /** Runs it on a stack whose config is invalid; undefined for a command without a stack. */
        readonly badConfig?: () => Promise<Outcome>;
        /** Runs it where something throws an error no message was written for. */
        readonly unexpected?: (env: NodeJS.ProcessEnv) => Promise<Outcome>;
    }
    const viaMain = async (argv: string[], overrides: Parameters<typeof main>[1] = {}): Promise<Outcome> => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(argv, { runner: new FakeMachine(freshMachine()), repoRoot: ROOT, env: {}, ...overrides }, { out: (t) => out.push(t), err: (t) => err.push(t) });
        return { code, stdout: out.join(""), stderr: err.join("") };
    };
    const throwing = { run: async () => ({ code: 0, stdout: "", stderr: "" }), which: async (): Promise<string | undefined> => { throw new TypeError("boom"); } };
    const brokenDev = () => tempProject({ "Pulumi.dev.yaml": "config:\n  launchpad:platform: kind\n  launchpad:backendReplicas: -1\n  launchpad:platform: cloud\n" });
    const invalid = { ...stackConfig("dev"), "launchpad:backendReplicas": "-1" };
    const loadInvalid = (stack: string) => runStack(stack, { config: invalid });
    const boom = async (): Promise<never> => {
        throw new TypeError("boom");
    };
    const entries: Entry[] = [
        ...(["up", "preview", "down"] as const).map((command): Entry => ({
            spec: COMMANDS[command],
            run: (argv, env) => viaMain([command, ...argv], env && { env }),
            // A key given twice: the stack file itself is not valid, for down too.
            badConfig: () => viaMain([command], { repoRoot: brokenDev() }),
            unexpected: (env) => viaMain([command], { runner: throwing, repoRoot: tempProject(), env }),
        })),
        { spec: DOCTOR, run: (argv, env) => runDoctor(argv, {}, env), badConfig: () => runDoctor(["--nodes", path.join(ROOT, "tests/doctor/fixtures/nodes-kind.json")], { loadStack: loadInvalid }), unexpected: (env) => runDoctor(["--nodes", path.join(ROOT, "tests/doctor/fixtures/nodes-kind.json")], { loadStack: boom }, env) },
        { spec: RENDER, run: (argv, env) => runRender(argv, {}, env), badConfig: () => runRender(["--out", tempDir()], { loadStack: loadInvalid }), unexpected: (env) => runRender(["--out", tempDir()], { loadStack: boom }, env) },
        { spec: DIAGRAM, run: (argv, env) => runDiagram(argv, {}, env), badConfig: () => runDiagram(["--print"], { loadStack: loadInvalid }), unexpected: (env) => runDiagram(["--print"], { loadStack: boom }, env) },
        { spec: DOCS, run: (argv) => runDocs(argv, tempDir()) },
        { spec: BENCH, run: (argv) => runBench(argv) },
    ];

    for (const { spec: command, run, badConfig, unexpected } of entries) {
        const name = command.name;
        const takesStack = command.options.some((o) => o.flag === "--stack") && name !== "bench";

        it(`${name}: --help prints the one help format, naming every option, and exits 0`, async () => {
            const help = await run(["--help"]);
            assert.deepEqual(help, { code: 0, stdout: `${helpText(command)}\n`, stderr: "" });
            assert.ok(help.stdout.startsWith(`Usage: npm run ${name} -- `));
            for (const option of command.options) assert.match(help.stdout, new RegExp(`\n  ${option.flag}${option.value ? ` ${option.value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}` : ""} +\\S`), option.flag);
            assert.equal(help.stdout.slice(help.stdout.indexOf("\nExit codes: ") + 1).replace(/\n/g, " ").trim(), EXIT_RULE);
        });

        it(`${name}: an unknown option exits 2 with the one wording and the usage line`, async () => {
            const out = await run(["--frobnicate"]);
            assert.deepEqual(out, { code: 2, stdout: "", stderr: `${name}: unknown option "--frobnicate"\nUsage: npm run ${name} -- ${command.synopsis}  (--help says what each option does)\n` });
        });

        if (!takesStack) continue;

        it(`${name}: a misspelt option is answered with the one it meant, exit 2`, async () => {
            const out = await run(["--stak", "prod"]);
            assert.equal(out.code, 2);
            assert.equal(out.stderr.split("\n")[0], `${name}: unknown option "--stak"; did you mean --stack?`);
        });

        it(`${name}: an unknown stack exits 2 with the one wording, naming the stacks and the closest`, async () => {
            const out = await run(["--stack", "prd"]);
            assert.equal(out.code, 2, out.stderr);
            assert.match(out.stderr, new RegExp(`^${name}: unknown stack "prd": there is no Pulumi\\.prd\\.yaml; did you mean --stack prod\\? \\(stacks: dev, prod, testbed\\)\\nUsage: npm run ${name} -- `));
        });

        it(`${name}: an invalid config exits 1, listing its problems`, async () => {
            const out = await badConfig!();
            assert.equal(out.code, 1, out.stderr);
            assert.match(out.stderr, /config problem|given twice/);
            assert.doesNotMatch(out.stderr, /\n\s+at /, "no trace");
        });

        it(`${name}: an unexpected error exits 1 in one line, with its trace under LAUNCHPAD_DEBUG=1`, async () => {
            const plain = await unexpected!({});
            assert.equal(plain.code, 1);
            assert.equal(plain.stderr, `${name}: unexpected error: boom\n(set LAUNCHPAD_DEBUG=1 to see where it happened)\n`);
            const debug = await unexpected!({ LAUNCHPAD_DEBUG: "1" });
            assert.equal(debug.code, 1);
            assert.match(debug.stderr, /TypeError: boom\n\s+at /);
        });
    }

    it("docs: --check writes nothing and exits 1 when a generated part differs", async () => {
        const root = tempDir();
        for (const file of ["README.md", "Pulumi.yaml"]) fs.copyFileSync(path.join(ROOT, file), path.join(root, file));
        assert.equal((await runDocs(["--check"], root)).code, 0);
        fs.appendFileSync(path.join(root, "Pulumi.yaml"), "  stray: {}\n");
        const before = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
        const out = await runDocs(["--check"], root);
        assert.equal(out.code, 1);
        assert.match(out.stdout, /^README\.md: current\nPulumi\.yaml: differs from CONFIG_KEYS; run npm run docs\n$/);
        assert.equal(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"), before);
    });
});
