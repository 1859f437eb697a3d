// @ts-check
"use strict";
// Stack traces at the cost of a lookup. Pulumi's runtime entry (@pulumi/pulumi/cmd/run) installs
// source-map-support, which formats every stack trace through the source maps, and the SDK asks for
// thousands of them: each resource records its call site, and every promise the runtime makes for a
// resource property keeps the stack it was made on (debuggablePromise), formatted at once. For each
// frame of each of those stacks source-map-support copies the V8 call site into a new object and maps
// its position again, which dominates the program's time between loading and exiting (bench/RESULTS.md
// measures it).
//
// Two things make that cheap without changing a character of any stack trace:
// - The frames repeat: a program has a few hundred distinct call sites. So this formatter asks
//   source-map-support once per distinct frame and reuses the text (tests/launch/stackTraces.test.ts
//   compares the two on real stacks); it is installed only where it checks that on probe stacks first.
// - A promise's stack is read only to report the promise if it leaks (runtime/debuggable.js,
//   promiseDebugString, which turns it into text). For a stack taken in debuggablePromise the
//   formatter returns an object whose text is made, by the same formatting, when it is first turned
//   into a string: on a leak report, usually never.

/** @typedef {{ nextPosition: any, curPosition: any }} State */
/** @typedef {{ wrapCallSite(frame: NodeJS.CallSite, state: State): NodeJS.CallSite }} SourceMapSupport */
/** @typedef {(error: Error, frames: NodeJS.CallSite[]) => any} PrepareStackTrace */

/** A frame that leaves the position source-map-support carries to the next frame as it was. */
const KEEP = Symbol("keep the position");

/** A stack trace made into text when first used as text, the way a template literal uses it. */
class DeferredStack {
    /** @param {() => string} format */
    constructor(format) {
        /** @type {(() => string) | undefined} */
        this.format = format;
        this.text = "";
    }

    toString() {
        if (this.format !== undefined) {
            this.text = this.format();
            this.format = undefined;
        }
        return this.text;
    }
}

/**
 * source-map-support's `prepareStackTrace`, with each distinct frame mapped once, and stacks taken
 * in `deferIn` (a function's name and file) formatted when first used as text.
 * @param {SourceMapSupport} sourceMapSupport the instance whose formatting it reproduces
 * @param {{ name: string, file: string }} [deferIn]
 * @returns {PrepareStackTrace}
 */
function cachedStackFormatter(sourceMapSupport, deferIn) {
    /** @type {Map<string, { text: string, position: any }>} */
    const frames = new Map();
    /** @type {PrepareStackTrace} */
    const prepareStackTrace = (error, stack) => {
        if (deferIn !== undefined && stack.length > 0 && stack[0].getFunctionName() === deferIn.name && stack[0].getFileName() === deferIn.file) {
            const { name, message } = error;
            return new DeferredStack(() => format({ name, message }, stack));
        }
        return format(error, stack);
    };
    /** @param {{ name?: string, message?: string }} error @param {NodeJS.CallSite[]} stack */
    const format = (error, stack) => {
        /** @type {State} */
        const state = { nextPosition: null, curPosition: null };
        const lines = new Array(stack.length);
        // As source-map-support does: from the outermost frame in, each frame named after the position of
        // the frame it called (its `nextPosition`), which is part of the key for that reason.
        for (let i = stack.length - 1; i >= 0; i--) {
            const frame = stack[i];
            const key = `${frame}\0${(state.nextPosition && state.nextPosition.name) || ""}`;
            let known = frames.get(key);
            if (known === undefined) {
                /** @type {State} */
                const probe = { nextPosition: state.nextPosition, curPosition: KEEP };
                const text = `${sourceMapSupport.wrapCallSite(frame, probe)}`;
                known = { text, position: probe.curPosition };
                frames.set(key, known);
            }
            if (known.position !== KEEP) state.curPosition = known.position;
            lines[i] = `\n    at ${known.text}`;
            state.nextPosition = state.curPosition;
        }
        return `${error.name || "Error"}: ${error.message || ""}${lines.join("")}`;
    };
    return prepareStackTrace;
}

/** The call sites of a few stacks, some frames repeated, as a program's stacks repeat them. */
function probeStacks() {
    /** @type {NodeJS.CallSite[][]} */
    const stacks = [];
    const saved = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    try {
        Error.prepareStackTrace = (_error, frames) => frames;
        Error.stackTraceLimit = Infinity;
        const capture = () => /** @type {NodeJS.CallSite[]} */ (/** @type {unknown} */ (new Error("probe").stack));
        class Probe { constructor() { stacks.push(capture()); } static make() { return new Probe(); } }
        stacks.push(capture());
        [1, 2].forEach(() => Probe.make());
    } finally {
        Error.prepareStackTrace = saved;
        Error.stackTraceLimit = limit;
    }
    return stacks;
}

/**
 * Puts the cached formatter in place of source-map-support's when that is the formatter installed and
 * the two format probe stacks alike; otherwise changes nothing. Returns whether it did.
 * @param {SourceMapSupport | undefined} sourceMapSupport the instance cmd/run installed, if any
 * @param {{ name: string, file: string }} [deferIn] where the stacks are taken that may wait
 */
function installCachedStackTraces(sourceMapSupport, deferIn) {
    const current = Error.prepareStackTrace;
    if (sourceMapSupport === undefined || typeof current !== "function" || current.name !== "prepareStackTrace") return false;
    const cached = cachedStackFormatter(sourceMapSupport, deferIn);
    const error = new Error("probe");
    // Twice through the cached one: the second time from the cache.
    const differs = probeStacks().some((frames) => [cached(error, frames), cached(error, frames)].some((text) => text !== current(error, frames)));
    if (differs) return false;
    Error.prepareStackTrace = cached;
    return true;
}

/**
 * The source-map-support that Pulumi's runtime entry loaded into this process, if it did (the copy
 * @pulumi/pulumi resolves, already in the module cache: never loaded here), and where the SDK takes
 * the stacks of its promises.
 * @returns {{ sourceMapSupport?: SourceMapSupport, promiseStacks?: { name: string, file: string } }}
 */
function runtimeStackTraces() {
    try {
        const sdk = require("path").dirname(require.resolve("@pulumi/pulumi/package.json"));
        const loaded = require.cache[require.resolve("source-map-support/source-map-support.js", { paths: [sdk] })];
        const promiseStacks = { name: "debuggablePromise", file: require.resolve("@pulumi/pulumi/runtime/debuggable.js") };
        return loaded ? { sourceMapSupport: /** @type {SourceMapSupport} */ (loaded.exports), promiseStacks } : {};
    } catch {
        return {};
    }
}

module.exports = { DeferredStack, cachedStackFormatter, installCachedStackTraces, runtimeStackTraces };
