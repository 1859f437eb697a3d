// @ts-check
"use strict";
// The gate between `npm run up` (or `preview`) and the program the engine runs: the command starts the
// engine at once, and its read-only checks (the registry, pinned images, the cluster, the namespace)
// run while the CLI, the language host and the program start up; the program loads everything it
// imports, then waits at the gate before it creates a single resource. The command says "go" when every
// check passed, or "stop" with the reason, and the program then ends before it declared anything: the
// update fails having changed nothing, and the command reports the check's failure as before. Without
// the gate, the checks ran first and the engine's start-up (about two seconds) came after them.
//
// The gate is a Unix socket in a fresh private folder; its path reaches the program in LAUNCHPAD_GATE
// (the CLI hands its environment to the program). Each side says one line: "go", or "stop <reason>".

const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");

/** The environment variable that names the gate to the program. */
const GATE = "LAUNCHPAD_GATE";

/**
 * @typedef {{ readonly go: true } | { readonly go: false, readonly reason: string }} Verdict
 * @typedef {{ readonly path: string, readonly verdict: Promise<Verdict>, open(): void, shut(reason: string): void, close(): void }} Gate
 */

/**
 * A gate, closed until `open` or `shut`; the verdict is kept for a program that asks later (the engine
 * retried after a lock). `close` removes it once the update is over.
 * @returns {Promise<Gate>}
 */
async function openGate() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-gate-"));
    const file = path.join(dir, "gate.sock");
    /** @type {string | undefined} */
    let said;
    /** @type {Set<net.Socket>} */
    const waiting = new Set();
    /** @type {(v: Verdict) => void} */
    let decide = () => undefined;
    /** @type {Promise<Verdict>} */
    const verdict = new Promise((resolve) => (decide = resolve));
    const server = net.createServer((socket) => {
        socket.on("error", () => undefined);
        if (said !== undefined) return void socket.end(said);
        waiting.add(socket);
        socket.on("close", () => waiting.delete(socket));
    });
    await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(file, () => resolve(undefined));
    });
    /** @param {string} line @param {Verdict} v */
    const say = (line, v) => {
        if (said !== undefined) return;
        said = line;
        decide(v);
        for (const socket of waiting) socket.end(line);
        waiting.clear();
    };
    return {
        path: file,
        verdict,
        open: () => say("go\n", { go: true }),
        shut: (reason) => {
            const oneLine = reason.replace(/\s*\n\s*/g, " ");
            say(`stop ${oneLine}\n`, { go: false, reason: oneLine });
        },
        close: () => {
            server.close();
            for (const socket of waiting) socket.destroy();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * Waits at the gate: resolves on "go"; rejects with the reason on "stop", or when the command cannot
 * be asked (it is gone: then nothing may be created either).
 * @param {string} file the gate's socket
 * @returns {Promise<void>}
 */
function passGate(file) {
    return new Promise((resolve, reject) => {
        let heard = "";
        const socket = net.createConnection(file);
        socket.setEncoding("utf8");
        socket.on("data", (chunk) => {
            heard += chunk;
            const end = heard.indexOf("\n");
            if (end === -1) return;
            socket.destroy();
            const line = heard.slice(0, end);
            if (line === "go") resolve();
            else reject(new Error(line.startsWith("stop ") ? line.slice("stop ".length) : `the gate said "${line}"`));
        });
        socket.on("error", (error) => reject(new Error(`launchpad's command cannot be asked at ${file} (${error.message})`)));
        socket.on("close", () => reject(new Error("launchpad's command closed the gate without a word")));
    });
}

module.exports = { GATE, openGate, passGate };
