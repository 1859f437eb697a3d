"use strict";
// Runs a Pulumi program as `pulumi up` would, with the engine replaced by mocks.
//
//   node tools/bench/host.js [--runtime] <program> [stack]           (cwd: the project; config in PULUMI_CONFIG)
//   node tools/bench/host.js --launch [--fresh] <entry.ts> [stack]
//
// Default: what Pulumi's Node runtime (@pulumi/pulumi/cmd/run/run.js) does to load a program: when
// PULUMI_NODEJS_TYPESCRIPT is "true" (the language host sets it from Pulumi.yaml's runtime option
// `typescript`, on unless the project turns it off), read the tsconfig with the SDK's own tsutils and
// register ts-node with the options run.js derives from it; then require the program inside the root
// Stack resource. That is the part of a deployment the program owns. launchpad's own program is
// Pulumi.yaml's `main`, tools/launch/main.js, with `typescript: false`.
// --runtime: start the runtime's real entry point (cmd/run) instead, with its tracing and hooks:
// what a user waits for, including the runtime's own fixed cost.
// --launch: load a TypeScript entry through tools/launch, as launchpad's main loads index.ts.
// --fresh: compile it into a new folder under bin/ first, removed on exit: the first run on a fresh clone.
//
// Either way the harness's recording mocks answer in-process where the engine would answer over
// gRPC. Plain JavaScript on purpose: nothing may compile TypeScript before ts-node is registered with
// the runtime's options. On exit it prints `bench-host {"resources":N}`, so a run that registered
// nothing is caught.

const fs = require("fs");
const path = require("path");
const { parseArgs } = require("node:util");
const pulumi = require("@pulumi/pulumi");
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");

let parsed;
try {
    parsed = parseArgs({
        options: { runtime: { type: "boolean" }, launch: { type: "boolean" }, fresh: { type: "boolean" } },
        allowPositionals: true,
    });
} catch {
    parsed = undefined; // an unknown flag, or a value given to one
}
const flags = parsed?.values ?? {};
const [program, stack = "dev"] = parsed?.positionals ?? [];
if (!program || (flags.fresh && !flags.launch) || (flags.runtime && flags.launch)) {
    process.stderr.write("usage: node tools/bench/host.js [--runtime] <program> [stack]\n       node tools/bench/host.js --launch [--fresh] <entry.ts> [stack]\n");
    process.exit(2);
}

// The harness's mocks: compiled JavaScript when the program is (no ts-node in the process), else
// TypeScript loaded on the first registration, once ts-node is registered, so that they compile
// exactly like the program does.
const launchpad = path.join(__dirname, "..", "launch", "program.js");
let mocksModule = path.join(__dirname, "..", "harness", "mocks.ts");
const compileMocks = () => {
    mocksModule = require(launchpad).compileProgram(process.cwd(), path.relative(process.cwd(), mocksModule)).outFile;
};
let recording;
const recorder = () => (recording ??= new (require(mocksModule).RecordingMocks)());
const mocks = {
    newResource: (request) => recorder().newResource(request),
    call: (request) => recorder().call(request),
};
// The engine acknowledges the shutdown signal the runtime sends once the program is done.
MockMonitor.prototype.signalAndWaitForShutdown ??= (_request, callback) => callback(null, {});

let fresh;
process.on("exit", () => {
    if (fresh) fs.rmSync(fresh, { recursive: true, force: true });
    process.stdout.write(`bench-host ${JSON.stringify({ resources: recording?.resources.length ?? 0 })}\n`);
});

/** ts-node registered as run.js registers it for a CommonJS project (TypeScript >= 4.7). */
function registerTypeScript() {
    const tsutils = require("@pulumi/pulumi/tsutils");
    const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
    const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    require(tsnodeRequire).register({
        compiler: typescriptRequire,
        transpileOnly: transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck,
        project: tsConfigPath,
        skipProject: !fs.existsSync(tsConfigPath),
        compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
    });
}

/** The program's exports, loaded the way the flags say. */
function load() {
    const root = process.cwd();
    if (flags.launch) {
        const { launch } = require(launchpad);
        let outDir;
        if (flags.fresh) {
            fs.mkdirSync(path.join(root, "bin"), { recursive: true });
            outDir = fresh = fs.mkdtempSync(path.join(root, "bin", ".bench-fresh-"));
        }
        return launch(root, program, { outDir });
    }
    if (process.env.PULUMI_NODEJS_TYPESCRIPT === "true") registerTypeScript();
    return require(path.resolve(program));
}

pulumi.runtime.setMocks(mocks, "launchpad", stack, false).then(async () => {
    // A JavaScript program (no ts-node in the process): so are the mocks, compiled the way tools/launch compiles.
    if (flags.launch || process.env.PULUMI_NODEJS_TYPESCRIPT !== "true") compileMocks();
    if (flags.runtime) {
        // What the language host passes; `--monitor` is never dialled, the mocks are already set.
        process.argv = [process.argv[0], require.resolve("@pulumi/pulumi/cmd/run"), "--monitor=mocks", "--project=launchpad", `--stack=${stack}`, program];
        require("@pulumi/pulumi/cmd/run");
        return;
    }
    const { runInPulumiStack } = require("@pulumi/pulumi/runtime/stack");
    await runInPulumiStack(async () => load());
    await pulumi.runtime.disconnect();
});
