// What every command shares (up, preview, down, doctor, render, diagram, and the maintainers' docs and
// bench): their options and help in one format, one wording for being called wrongly, one exit-code
// rule, and LAUNCHPAD_DEBUG's traces; one-line stack errors.

import { parseArgs } from "node:util";
import { closest } from "../components/validate";

/**
 * The stack every command uses without `--stack`: the one that runs on a laptop, the only one that gets a
 * generated passphrase and the kind bootstrap by default.
 */
export const DEV_STACK = "dev";

/** Exit codes every command uses. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The exit-code rule, as every command's help and the README say it. */
export const EXIT_RULE =
    "Exit codes: 0 done; 1 failed: the stack's config, a tool, the cluster or a check said no, and the message says why and what to do; " +
    "2 wrong usage: an unknown command, option or stack, an option without its value, or a file named on the command line that cannot be read.";

/**
 * A mistake in how a command was called: an unknown option or stack, a missing value, a file named on the
 * command line that cannot be read. Printed as one line with the command's usage; the command exits 2.
 */
export class UsageError extends Error {
    readonly exitCode = EXIT.usage;
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/**
 * A failure the user can act on that is not how the command was called (the stack's config, a missing
 * tool, a cluster that does not answer): printed as its message, without a stack trace; exit 1.
 */
export class Failure extends Error {
    readonly exitCode = EXIT.failure;
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "Failure";
    }
}

/** What a command prints and how it exits; `main` only writes it out. */
export interface Outcome {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** One option of a command: how it is written, the value it takes if any, and its line in the help. */
export interface OptionSpec {
    /** As written: "--stack". */
    readonly flag: string;
    /** What it takes, as the help shows it ("<name>"); a switch takes none. */
    readonly value?: string;
    readonly doc: string;
}

/** A command as a user runs it: its name (`npm run <name>`), what it does, and every option but --help. */
export interface CommandSpec {
    readonly name: string;
    /** The options in one line: "[--stack <name>] [--out <dir>]". */
    readonly synopsis: string;
    /** What the command does, a few lines. */
    readonly about: string;
    readonly options: readonly OptionSpec[];
}

const HELP: OptionSpec = { flag: "--help", doc: "show this help (also -h)" };

/** The --stack option every command that works on a stack takes. */
export const STACK_OPTION: OptionSpec = { flag: "--stack", value: "<name>", doc: `the stack: Pulumi.<name>.yaml (default: ${DEV_STACK})` };

/** A command's help: usage, what it does, every option, the exit codes. The one format of every command. */
export function helpText(spec: CommandSpec): string {
    const options = [...spec.options, HELP];
    const shown = options.map((o) => (o.value ? `${o.flag} ${o.value}` : o.flag));
    const width = Math.max(...shown.map((s) => s.length));
    return [
        `Usage: npm run ${spec.name} -- ${spec.synopsis}`,
        "",
        spec.about,
        "",
        "Options:",
        ...options.map((o, i) => `  ${shown[i].padEnd(width)}  ${o.doc}`),
        "",
        ...wrap(EXIT_RULE, 110),
    ].join("\n");
}

/** A paragraph in lines of at most `width` characters, broken between words. */
function wrap(text: string, width: number): string[] {
    const lines: string[] = [];
    for (const word of text.split(" ")) {
        const last = lines.length - 1;
        if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
        else lines.push(word);
    }
    return lines;
}

/** A command line read against a command's options: each option given with every value it was given (a switch with none). */
export type Flags = ReadonlyMap<string, readonly string[]>;

/**
 * Reads a command line of options with node:util's parseArgs: `--flag value`, `--flag=value` and
 * switches. A value may be neither empty nor, unless written `--flag=-x`, start with "-" (`--stack
 * --json` forgot the stack). Returns "help" when -h or --help is anywhere on it; throws UsageError, in
 * the one wording every command uses, for anything else: an unknown option (with the closest one), an
 * argument that is no option, an option without its value.
 */
export function readCommandLine(argv: readonly string[], spec: CommandSpec): Flags | "help" {
    if (argv.includes("-h") || argv.includes("--help")) return "help";
    const takesValue = spec.options.filter((o) => o.value !== undefined).map((o) => o.flag);
    const isSwitch = (flag: string) => spec.options.some((o) => o.flag === flag && o.value === undefined);
    const options = Object.fromEntries(takesValue.map((flag) => [flag.replace(/^--/, ""), { type: "string", multiple: true } as const]));
    const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
    const flags = new Map<string, string[]>();
    for (const token of tokens) {
        if (token.kind === "option" && takesValue.includes(token.rawName)) {
            const value = token.value;
            if (value === undefined || value === "" || (!token.inlineValue && value.startsWith("-"))) {
                const option = spec.options.find((o) => o.flag === token.rawName)!;
                throw new UsageError(`${option.flag} needs a value: ${option.flag} ${option.value}`);
            }
            flags.set(token.rawName, [...(flags.get(token.rawName) ?? []), value]);
        } else if (token.kind === "option" && isSwitch(token.rawName) && token.value === undefined) {
            flags.set(token.rawName, []);
        } else {
            throw new UsageError(unknownArgument(argv[token.index], spec));
        }
    }
    return flags;
}

/** The one wording of an argument a command does not take, with the option it was closest to. */
function unknownArgument(arg: string, spec: CommandSpec): string {
    if (!arg.startsWith("-") || arg === "--") return `unexpected argument "${arg}": ${spec.name} takes only options`;
    const name = arg.split("=")[0];
    const known = spec.options.map((o) => o.flag);
    const taken = known.includes(name) ? ` (${name} takes ${spec.options.find((o) => o.flag === name)?.value ?? "no value"})` : "";
    // Misspelt (--stak), or longer or shorter than the option (--outdir, --dele).
    const bare = (flag: string) => flag.replace(/^-+/, "");
    const misspelt = closest(bare(name), known.map(bare));
    const meant = taken ? undefined : (known.find((k) => bare(k) === misspelt) ?? known.find((k) => bare(name).length > 2 && (name.startsWith(k) || k.startsWith(name))));
    return `unknown option "${arg}"${taken}${meant ? `; did you mean ${meant}?` : ""}`;
}

/** The one value of an option given at most once, or its default. */
export function single(flags: Flags, flag: string, fallback?: string): string | undefined {
    const values = flags.get(flag) ?? [];
    if (values.length > 1) throw new UsageError(`${flag} is given ${values.length} times; give it once`);
    return values[0] ?? fallback;
}

/** The stack of `--stack` (default dev), checked to be a name a stack file can have. */
export function stackOf(flags: Flags): string {
    return stackName(single(flags, "--stack", DEV_STACK)!);
}

/** A stack name as given, once checked to be one a stack file can have. */
export function stackName(stack: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`"${stack}" is not a stack name (letters, digits, _ . - only)`);
    return stack;
}

/**
 * The one rule every command exits by: 0 done; 1 a failure (the stack's config, a tool, the cluster:
 * its message says why), and any unexpected error, which with LAUNCHPAD_DEBUG set shows its trace; 2
 * wrong usage, followed by the command's usage line. `prefixFailures` false leaves a failure's own
 * words unprefixed (up, preview and down speak as "launchpad: …").
 */
export function errorOutcome(spec: CommandSpec, error: unknown, env: NodeJS.ProcessEnv = process.env, prefixFailures = true): Outcome {
    const debug = Boolean(env.LAUNCHPAD_DEBUG) && env.LAUNCHPAD_DEBUG !== "0";
    const trace = (e: unknown) => {
        const cause = (e as { cause?: unknown })?.cause ?? e;
        return `${(cause as Error)?.stack ?? String(cause)}\n`;
    };
    if (error instanceof UsageError) {
        return { code: EXIT.usage, stdout: "", stderr: `${spec.name}: ${error.message}\nUsage: npm run ${spec.name} -- ${spec.synopsis}  (--help says what each option does)\n` };
    }
    const name = (error as Error)?.name;
    if (error instanceof Failure || name === "ConfigError" || name === "StackFileError") {
        const said = `${prefixFailures ? `${spec.name}: ` : ""}${(error as Error).message}\n`;
        return { code: EXIT.failure, stdout: "", stderr: debug ? `${said}${trace(error)}` : said };
    }
    return {
        code: EXIT.failure,
        stdout: "",
        stderr: `${spec.name}: unexpected error: ${firstLine(error)}\n${debug ? trace(error) : "(set LAUNCHPAD_DEBUG=1 to see where it happened)\n"}`,
    };
}

/** What --help prints, and exit 0. */
export function helpOutcome(spec: CommandSpec): Outcome {
    return { code: EXIT.ok, stdout: `${helpText(spec)}\n`, stderr: "" };
}

/**
 * Runs a command's body; whatever it throws becomes output and an exit code by the one rule
 * (errorOutcome). `prefixFailures` false: the command's failures speak for themselves ("launchpad: …").
 */
export async function runCommand(spec: CommandSpec, body: () => Promise<Outcome>, env: NodeJS.ProcessEnv = process.env, prefixFailures = true): Promise<Outcome> {
    try {
        return await body();
    } catch (error) {
        return errorOutcome(spec, error, env, prefixFailures);
    }
}

/** The first line of an error's message, for one-line reports. */
export function firstLine(error: unknown): string {
    return String((error as Error)?.message ?? error).split("\n")[0];
}

/**
 * What a command throws when the program could not run for a stack: a ConfigError lists every problem
 * with its fix, one per line, as the program itself does (components/config.ts formatProblems), and a
 * StackFileError (a stack file that cannot be read or parsed) says what and where: both are failures,
 * printed as they are. An unknown stack (a UsageError) and an error nobody wrote a message for (a bug,
 * reported as unexpected) pass on unchanged.
 */
export function stackFailure(error: unknown): unknown {
    const name = (error as Error)?.name;
    return name === "ConfigError" || name === "StackFileError" ? new Failure(String((error as Error).message), { cause: error }) : error;
}

/** Runs a command from `main`: prints its outcome and exits (the mocked Pulumi runtime may keep handles open). */
export function exitWith(outcome: Promise<Outcome>): void {
    void outcome.then(({ code, stdout, stderr }) => {
        process.stderr.write(stderr);
        process.stdout.write(stdout, () => process.exit(code));
    });
}
