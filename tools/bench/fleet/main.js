// @ts-check
"use strict";
// The fleet project's program (Pulumi.yaml `main`): tools/bench/fleetProgram.ts, compiled to bin/ and
// loaded by tools/launch exactly as launchpad's own main loads index.ts.

const path = require("path");
const { launch } = require("../../launch/program");

module.exports = launch(path.resolve(__dirname, "..", "..", ".."), path.join("tools", "bench", "fleetProgram.ts"));
