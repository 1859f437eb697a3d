"use strict";
// Runs a Pulumi TypeScript program as `pulumi up` would, with the engine replaced by mocks.
//
//   node tools/bench/host.js [--runtime] <program> [stack]     (cwd: the project; config in PULUMI_CONFIG)
//
// Default: what Pulumi's Node runtime does to load a program (@pulumi/pulumi/cmd/run/run.js): read
// the tsconfig with the SDK's own tsutils, register ts-node with the options run.js derives from it
// (type-checked unless `noCheck` is set or PULUMI_NODEJS_TRANSPILE_ONLY says otherwise), then require
// the program inside the root Stack resource. That is the part of a deployment the program owns.
// --runtime: start the runtime's real entry point (cmd/run) instead, with its tracing and hooks:
// what a user waits for, including the runtime's own fixed cost.
//
// Either way the harness's recording mocks answer in-process where the engine would answer over
// gRPC. Plain JavaScript on purpose: nothing may compile TypeScript before ts-node is registered with
// the runtime's options. On exit it prints `bench-host {"resources":N}`, so a run that registered
// nothing is caught.

const fs = require("fs");
const path = require("path");
const pulumi = require("@pulumi/pulumi");
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");

const args = process.argv.slice(2);
const runtime = args[0] === "--runtime";
const [program, stack = "dev"] = runtime ? args.slice(1) : args;
if (!program) {
    process.stderr.write("usage: node tools/bench/host.js [--runtime] <program> [stack]\n");
    process.exit(2);
}

// The harness's mocks are TypeScript: load them on the first registration, once ts-node is
// registered, so they compile exactly like the program does.
let recording;
const recorder = () => (recording ??= new (require(path.join(__dirname, "..", "harness", "mocks.ts")).RecordingMocks)());
const mocks = {
    newResource: (request) => recorder().newResource(request),
    call: (request) => recorder().call(request),
};
// The engine acknowledges the shutdown signal the runtime sends once the program is done.
MockMonitor.prototype.signalAndWaitForShutdown ??= (_request, callback) => callback(null, {});

process.on("exit", () => {
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

pulumi.runtime.setMocks(mocks, "launchpad", stack, false).then(async () => {
    if (runtime) {
        process.env.PULUMI_NODEJS_TYPESCRIPT ??= "true";
        // What the language host passes; `--monitor` is never dialled, the mocks are already set.
        process.argv = [process.argv[0], require.resolve("@pulumi/pulumi/cmd/run"), "--monitor=mocks", "--project=launchpad", `--stack=${stack}`, program];
        require("@pulumi/pulumi/cmd/run");
        return;
    }
    registerTypeScript();
    const { runInPulumiStack } = require("@pulumi/pulumi/runtime/stack");
    await runInPulumiStack(async () => require(path.resolve(program)));
    await pulumi.runtime.disconnect();
});
