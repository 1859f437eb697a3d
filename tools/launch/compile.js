// @ts-check
"use strict";
// `node tools/launch/compile.js [entry.ts]` (run by `npm run build`): compiles the program to bin/ ahead
// of `pulumi up`, which would otherwise compile whatever changed on its first run. Exit 1 with the
// reason when a file does not compile.

const path = require("path");
const { LaunchError, compileProgram } = require("./program");

const root = path.resolve(__dirname, "..", "..");
const entry = process.argv[2] ?? "index.ts";
const started = process.hrtime.bigint();
try {
    const { outFile, sources, compiled } = compileProgram(root, entry);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const where = path.relative(process.cwd(), path.dirname(outFile)) || ".";
    process.stdout.write(compiled.length === 0
        ? `${entry}: the ${sources.length} files in ${where}/ are current\n`
        : `${entry}: compiled ${compiled.length} of ${sources.length} files to ${where}/ in ${ms.toFixed(0)} ms\n`);
} catch (error) {
    if (!(error instanceof LaunchError)) throw error;
    process.stderr.write(`compile: ${error.message}\n`);
    process.exitCode = 1;
}
