// What the commands a user runs (render, diagram, doctor, up, bench) share: flag parsing, the one
// error for being called wrongly, one-line stack errors, loading a stack.

import type { StackRun } from "./harness";

/** Exit codes every command uses. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * A mistake in how a command was called or in what it was given (unknown flag, unknown stack, invalid
 * config, an unreadable file): printed as one line without a stack trace, and the command exits 2.
 */
export class UsageError extends Error {
    readonly exitCode = EXIT.usage;
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** What a command prints and how it exits; `main` only writes it out. */
export interface Outcome {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface FlagSpec {
    /** Flags that take a value (`--out dir` or `--out=dir`). */
    readonly values: readonly string[];
    /** Flags that stand alone. */
    readonly switches: readonly string[];
}

/** Parses `--flag value`, `--flag=value` and switches; a value flag given twice keeps every value. */
export function parseFlags(argv: readonly string[], spec: FlagSpec, usage: string): Map<string, string[]> {
    const flags = new Map<string, string[]>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
        const flag = eq > 0 ? arg.slice(0, eq) : arg;
        if (spec.values.includes(flag)) {
            const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
            if (value === undefined || value === "" || (eq < 0 && value.startsWith("-"))) throw new UsageError(`${flag} needs a value; ${usage}`);
            flags.set(flag, [...(flags.get(flag) ?? []), value]);
        } else if (spec.switches.includes(flag) && eq < 0) {
            flags.set(flag, []);
        } else {
            throw new UsageError(`unknown argument ${JSON.stringify(arg)}; ${usage}`);
        }
    }
    return flags;
}

function firstLine(error: unknown): string {
    return String((error as Error)?.message ?? error).split("\n")[0];
}

/**
 * The harness's failures in one line: a ConfigError (it carries `problems`) lists every problem with
 * its fix; a StackFileError (unknown stack, missing or unreadable stack file) is one line already.
 */
export function describeStackError(stack: string, error: unknown): string {
    const problems = (error as { problems?: unknown }).problems;
    if (Array.isArray(problems) && problems.length > 0) {
        const listed = problems.map((p: { key?: string; value?: string; message?: string; fix?: string }) => {
            const value = p.value === undefined ? "" : ` = ${JSON.stringify(p.value)}`;
            const fix = p.fix ? ` (fix: ${p.fix})` : "";
            return `launchpad:${p.key}${value}: ${p.message}${fix}`;
        });
        const count = problems.length === 1 ? "1 config problem" : `${problems.length} config problems`;
        return `stack "${stack}" has ${count}: ${listed.join("; ")}`;
    }
    if ((error as Error)?.name === "StackFileError") return firstLine(error);
    return `the program failed for stack "${stack}": ${firstLine(error)}`;
}

/** Runs the program under mocks for a stack (loaded on first use: tests inject their own runs). */
export function loadStack(stack: string): Promise<StackRun> {
    const harness = require("./harness") as typeof import("./harness");
    return harness.runStack(stack);
}

/** Stacks with a committed stack file. */
export function stacks(): string[] {
    const harness = require("./harness") as typeof import("./harness");
    return harness.listStacks();
}

/** Runs a command from `main`: prints its outcome and exits (the mocked Pulumi runtime may keep handles open). */
export function exitWith(outcome: Promise<Outcome>): void {
    void outcome.then(({ code, stdout, stderr }) => {
        process.stderr.write(stderr);
        process.stdout.write(stdout, () => process.exit(code));
    });
}
