// @ts-check
"use strict";
// The program Pulumi runs (Pulumi.yaml `main`): launchpad's index.ts, compiled to bin/ where it changed
// since the last run, then loaded. Its exports are the stack's outputs. See ./program.js (`start`).

// First: on a Node.js too old for launchpad, this stops with one line before the SDK is loaded.
require("./nodeVersion");
const path = require("path");
const { start } = require("./program");

module.exports = start(path.resolve(__dirname, "..", ".."), "index.ts");
