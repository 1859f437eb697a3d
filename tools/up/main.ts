import * as path from "node:path";
import { type Deps, down, preview, up } from "./commands";
import { type CommandSpec, errorOutcome, EXIT, helpText, readCommandLine, stackOf, STACK_OPTION, UsageError } from "../cli";
import { ProcessRunner } from "../../lib/runner";
import { DEV_STACK } from "./state";
import { openPulumiWorkspace } from "../engine/workspace";
import { fileTrace } from "./trace";

export type Command = "up" | "preview" | "down";

const CLOUD = `${STACK_OPTION.doc}; prod is a cloud cluster`;

/** up, preview and down: each its own help, in the one format of every command. */
export const COMMANDS: Readonly<Record<Command, CommandSpec>> = {
    up: {
        name: "up",
        synopsis: "[--stack <name>]",
        about:
            "Builds, pushes and deploys the stack, and prints its URL. First it checks the stack's config and everything it needs\n" +
            "(the tools, the passphrase) and lists every problem at once; for a kind stack it then creates (or checks) the local\n" +
            `cluster, registry and ingress controller. The ${DEV_STACK} stack needs no account, login or passphrase of yours.`,
        options: [{ ...STACK_OPTION, doc: CLOUD }],
    },
    preview: {
        name: "preview",
        synopsis: "[--stack <name>]",
        about: "Shows what `npm run up` would change, changing nothing. On kind it only checks that the local platform is there.",
        options: [{ ...STACK_OPTION, doc: CLOUD }],
    },
    down: {
        name: "down",
        synopsis: "[--stack <name>] [--delete-data [--cluster]]",
        about: "Destroys the app. The database's data (its namespace, StatefulSet, Secret and volume) is kept unless --delete-data.",
        options: [
            { ...STACK_OPTION, doc: CLOUD },
            { flag: "--delete-data", doc: "delete the database's data as well" },
            { flag: "--cluster", doc: "also delete the kind cluster and the local registry (kind stacks only; needs --delete-data)" },
        ],
    },
};

export interface ParsedArgs {
    readonly command: Command;
    readonly stack: string;
    readonly deleteData: boolean;
    readonly cluster: boolean;
}

function commandOf(argv: readonly string[]): Command {
    const [command] = argv;
    if (command === "up" || command === "preview" || command === "down") return command;
    throw new UsageError(command === undefined ? "missing command: up, preview or down" : `unknown command "${command}": use up, preview or down`);
}

/** Parses the command line (the command, then its options); "help" for --help. Throws UsageError. */
export function parseArgs(argv: readonly string[]): ParsedArgs | "help" {
    const command = commandOf(argv);
    const flags = readCommandLine(argv.slice(1), COMMANDS[command]);
    if (flags === "help") return "help";
    return { command, stack: stackOf(flags), deleteData: flags.has("--delete-data"), cluster: flags.has("--cluster") };
}

/** Where the program prints; tests capture it. */
export interface Output {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
}

const processOutput: Output = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
};

/**
 * The whole CLI as a function: parses `argv`, runs the command and returns the exit code. Failures
 * are printed as their message only: a missing tool or a refused `down` never shows a stack trace.
 */
export async function main(argv: readonly string[], overrides: Partial<Omit<Deps, "io">> = {}, output: Output = processOutput): Promise<number> {
    const env = overrides.env ?? process.env;
    let spec = COMMANDS.up;
    try {
        spec = COMMANDS[commandOf(argv)];
        const args = parseArgs(argv);
        if (args === "help") {
            output.out(`${helpText(spec)}\n`);
            return EXIT.ok;
        }
        const deps: Deps = {
            runner: overrides.runner ?? new ProcessRunner(process.env),
            openWorkspace: overrides.openWorkspace ?? openPulumiWorkspace,
            repoRoot: overrides.repoRoot ?? path.resolve(__dirname, "..", ".."),
            env,
            nodeVersion: overrides.nodeVersion ?? process.versions.node,
            color: overrides.color ?? Boolean(process.stdout.isTTY),
            io: { info: (line) => output.out(`${line}\n`), engine: output.out },
            trace: overrides.trace ?? (env.LAUNCHPAD_TRACE ? fileTrace(env.LAUNCHPAD_TRACE) : undefined),
        };
        if (args.command === "up") await up(deps, args);
        else if (args.command === "preview") await preview(deps, args);
        else await down(deps, args);
        return EXIT.ok;
    } catch (err) {
        // up, preview and down speak for themselves ("launchpad: …"); the one rule decides the rest.
        const { code, stderr } = errorOutcome(spec, err, env, false);
        output.err(stderr);
        return code;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
