// @ts-check
"use strict";
// A Pulumi program for `npm run bench`: the TypeScript entry given as its argument, started exactly as
// tools/launch/main.js starts index.ts, so that the benchmark's programs load the way launchpad's own
// does. The language host passes it through Pulumi's runtime entry:
//   node @pulumi/pulumi/cmd/run … dev/bench/launch.js [--fresh] <entry.ts>
// --fresh: as on a fresh clone, compiled into a new folder under bin/ with a new compile cache beside
// it, both removed on exit.

const fs = require("fs");
const path = require("path");
const { start } = require("../../tools/launch/program");

const root = path.resolve(__dirname, "..", "..");
const args = process.argv.slice(2);
const fresh = args[0] === "--fresh";
const entry = fresh ? args[1] : args[0];
if (!entry) throw new Error("usage: … dev/bench/launch.js [--fresh] <entry.ts>");
if (fresh) {
    fs.mkdirSync(path.join(root, "bin"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(root, "bin", ".bench-fresh-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    module.exports = start(root, entry, { outDir: path.join(dir, "program"), compileCache: path.join(dir, "compile-cache") });
} else {
    module.exports = start(root, entry);
}
