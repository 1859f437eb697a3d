// @ts-check
"use strict";
// The SDK's debug messages, where nobody reads them. For every resource the SDK sends the engine three or
// four DEBUG messages ("Registering resource…", "RegisterResource RPC prepared", "… finished"), each its
// own gRPC call, one after another (each waits for the previous answer), and the program cannot exit
// before the last is answered: half of what one more web service costs (docs/performance.md).
//
// The engine shows them only under `pulumi up --debug` (or keeps them with Pulumi Cloud under --debug,
// or logs them at -v=3 and up), and nothing tells the program whether that was asked. When launchpad's
// own commands start the engine (tools/up, driving the Pulumi CLI), it was not: they pass no
// --debug, no verbosity, and read no event log, so every DEBUG message is dropped on arrival. They say
// so with LAUNCHPAD_ENGINE_DEBUG=off in the engine's environment, which reaches the program; then the
// program does not send them. `pulumi up` typed by a user, with or without --debug, sends them all.

/** The variable launchpad's commands give the engine: "off" when no DEBUG message is shown or kept. */
const ENGINE_DEBUG = "LAUNCHPAD_ENGINE_DEBUG";

/** @typedef {{ debug: (...args: any[]) => Promise<void> }} SdkLog */

/**
 * Makes the SDK's `log.debug` send nothing (info, warnings and errors are untouched).
 * @param {SdkLog} sdkLog the SDK's log module, whose `debug` the runtime calls through the module object
 */
function dropDebugLogs(sdkLog) {
    sdkLog.debug = () => Promise.resolve();
}

/**
 * The SDK's log module that Pulumi's runtime entry loaded into this process (the copy @pulumi/pulumi
 * resolves from `root`, already in the module cache: never loaded here), if it did.
 * @param {string} root
 * @returns {SdkLog | undefined}
 */
function runtimeLog(root) {
    try {
        const loaded = require.cache[require.resolve("@pulumi/pulumi/log", { paths: [root] })];
        return loaded ? /** @type {SdkLog} */ (loaded.exports) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * In a program started by launchpad's commands (ENGINE_DEBUG=off), stops the SDK's DEBUG messages;
 * otherwise changes nothing. Returns whether it did.
 * @param {string} root @param {NodeJS.ProcessEnv} [env]
 */
function skipUnreadDebugLogs(root, env = process.env) {
    if (env[ENGINE_DEBUG] !== "off") return false;
    const sdkLog = runtimeLog(root);
    if (sdkLog === undefined) return false;
    dropDebugLogs(sdkLog);
    return true;
}

module.exports = { ENGINE_DEBUG, dropDebugLogs, runtimeLog, skipUnreadDebugLogs };
