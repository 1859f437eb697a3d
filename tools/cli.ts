// What the commands a user runs (render, diagram, doctor, up, bench) share: flag parsing, the one
// error for being called wrongly, one-line stack errors, loading a stack.

import { parseArgs } from "node:util";
import type { StackRun } from "./harness";

/**
 * The stack every command uses without `--stack`: the one that runs on a laptop, the only one that gets a
 * generated passphrase and the kind bootstrap by default.
 */
export const DEV_STACK = "dev";

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
    /** Flags that take a value (`--out dir` or `--out=dir`), as written: "--out". */
    readonly values: readonly string[];
    /** Flags that stand alone, as written: "--check", "-h". */
    readonly switches: readonly string[];
}

/** What is wrong with a command line; each command puts it in its own words. */
export type ArgvProblem =
    | { readonly problem: "unknown"; /** The argument as written, e.g. "--node=x". */ readonly arg: string }
    | { readonly problem: "no value"; readonly flag: string };

/**
 * Reads a command line of flags with node:util's parseArgs: `--flag value`, `--flag=value` and
 * switches; any other argument is a problem. A value may be neither empty nor, unless written
 * `--flag=-x`, start with "-" (node's own rule: `--stack --json` forgot the stack). The first problem
 * is returned, not thrown, so each command words it. Each flag given maps to every value it was given
 * (a switch to none).
 */
export function readArgv(argv: readonly string[], spec: FlagSpec): { readonly flags: Map<string, string[]> } | ArgvProblem {
    const options = Object.fromEntries(spec.values.map((flag) => [flag.replace(/^--/, ""), { type: "string", multiple: true } as const]));
    const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
    const flags = new Map<string, string[]>();
    for (const token of tokens) {
        if (token.kind === "option" && spec.values.includes(token.rawName)) {
            const value = token.value;
            if (value === undefined || value === "" || (!token.inlineValue && value.startsWith("-"))) return { problem: "no value", flag: token.rawName };
            flags.set(token.rawName, [...(flags.get(token.rawName) ?? []), value]);
        } else if (token.kind === "option" && spec.switches.includes(token.rawName) && token.value === undefined) {
            flags.set(token.rawName, []);
        } else {
            return { problem: "unknown", arg: argv[token.index] };
        }
    }
    return { flags };
}

/** Parses flags for render, diagram and bench; throws UsageError with the command's usage. */
export function parseFlags(argv: readonly string[], spec: FlagSpec, usage: string): Map<string, string[]> {
    const read = readArgv(argv, spec);
    if ("flags" in read) return read.flags;
    throw new UsageError(read.problem === "no value" ? `${read.flag} needs a value; ${usage}` : `unknown argument ${JSON.stringify(read.arg)}; ${usage}`);
}

/** The first line of an error's message, for one-line reports. */
export function firstLine(error: unknown): string {
    return String((error as Error)?.message ?? error).split("\n")[0];
}

/**
 * The harness's failures: a ConfigError lists every problem with its fix, one per line, as the program
 * itself does (components/config.ts formatProblems); a StackFileError (unknown stack, missing or
 * unreadable stack file) says what and where already; anything else in one line.
 */
export function describeStackError(stack: string, error: unknown): string {
    const name = (error as Error)?.name;
    if (name === "ConfigError" || name === "StackFileError") return String((error as Error).message);
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
