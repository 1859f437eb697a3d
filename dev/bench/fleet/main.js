// @ts-check
"use strict";
// The fleet project's program (Pulumi.yaml `main`): dev/bench/fleetProgram.ts, compiled to bin/ and
// started by tools/launch exactly as launchpad's own main starts index.ts.

const path = require("path");
const { start } = require("../../../tools/launch/program");

module.exports = start(path.resolve(__dirname, "..", "..", ".."), path.join("dev", "bench", "fleetProgram.ts"));
