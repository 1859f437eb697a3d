// @ts-check
"use strict";
// How `npm run up`, `preview` and `down` start (package.json): `node tools/launch/command.js <entry.ts> ARGS`
// compiles the command's TypeScript (the entry and every file it imports) to JavaScript under
// bin/.commands/ with the program's own machinery (./program.js: only what changed since the last run),
// then runs it as the main module with ARGS, as `ts-node --transpile-only <entry.ts> ARGS` did, without
// loading TypeScript on every run. `__dirname` in the compiled code is the source's, as under ts-node.
// Node's compile cache (in .launchpad/, as for the program) keeps the SDK's compiled code between runs.
// Stack traces of a command's bug name the compiled lines; NODE_OPTIONS=--enable-source-maps maps them to
// the TypeScript through the .js.map beside each file. (Always on, Node would parse the source map of every
// module the command loads, the SDK's thousands included: it more than doubled the command's start.)

// First: on a Node.js too old for launchpad, this stops with one line before anything else is loaded.
require("./nodeVersion");
const path = require("path");
const { LaunchError, compileCacheDir, compileProgram, enableCompileCache } = require("./program");

const root = path.resolve(__dirname, "..", "..");

/**
 * Where the commands' JavaScript goes: apart from the program's (bin/), whose `__dirname` is its own, in a
 * dot-folder, which the program's key for its kept provider code leaves out (components/dynamicResource.ts),
 * so that a command's change does not make the program serialize its providers again.
 */
const COMMANDS_OUT = path.join("bin", ".commands");

/**
 * The compiled entry of a command; a source that does not compile stops with the reason, exit 1.
 * @param {string} entry the command's TypeScript, relative to the project
 */
function compiledCommand(entry) {
    try {
        return compileProgram(root, entry, { outDir: COMMANDS_OUT, sourcePaths: true }).outFile;
    } catch (error) {
        if (!(error instanceof LaunchError)) throw error;
        process.stderr.write(`launchpad: ${error.message}\n`);
        process.exit(1);
    }
}

const [entry, ...args] = process.argv.slice(2);
if (entry === undefined) {
    process.stderr.write("usage: node tools/launch/command.js <command's entry.ts> [args]\n");
    process.exit(2);
}
enableCompileCache(compileCacheDir(root));
const outFile = compiledCommand(entry);
process.argv = [process.argv[0], outFile, ...args];
require("module").runMain();
