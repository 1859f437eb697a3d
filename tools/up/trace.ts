import * as fs from "node:fs";

// LAUNCHPAD_TRACE=FILE: up, preview and down write how long each of their checks and steps took, one
// JSON line each ({"step", "startMs", "ms"}, times from the process's start), so `npm run bench --
// --commands` can say where launchpad's own time goes. Unset: nothing is timed or written.

/** One timed step: when it started (ms since the process started) and how long it took. */
export interface TracedStep {
    readonly step: string;
    readonly startMs: number;
    readonly ms: number;
}

/** Times the steps of one command. */
export interface Trace {
    step<T>(name: string, op: () => Promise<T>): Promise<T>;
    /** A step that is not a promise. */
    stepSync<T>(name: string, op: () => T): T;
}

/** Times nothing. */
export const NO_TRACE: Trace = { step: (_, op) => op(), stepSync: (_, op) => op() };

/** Milliseconds since this process started. */
function sinceStart(): number {
    return performance.now();
}

/**
 * A trace that appends each step's line to `file` as it ends, and a first line for the time before
 * the command's own code ran (Node's start and the loading of the command's modules).
 */
export function fileTrace(file: string): Trace {
    const write = (s: TracedStep) => fs.appendFileSync(file, `${JSON.stringify(s)}\n`);
    write({ step: "start: Node and the command's modules loaded", startMs: 0, ms: sinceStart() });
    const timed = <T>(name: string, op: () => T): T => {
        const startMs = sinceStart();
        const done = () => write({ step: name, startMs, ms: sinceStart() - startMs });
        const result = op();
        if (result instanceof Promise) return result.finally(done) as T;
        done();
        return result;
    };
    return { step: (name, op) => timed(name, op), stepSync: (name, op) => timed(name, op) };
}

/** The steps of a trace file, in the order they ended. */
export function readTrace(text: string): TracedStep[] {
    return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as TracedStep);
}
