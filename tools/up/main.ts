import * as path from "node:path";
import { type Deps, down, preview, up } from "./commands";
import { EXIT, readArgv, UsageError } from "../cli";
import { UpError } from "./errors";
import { ProcessRunner } from "./runner";
import { DEV_STACK } from "./state";
import { openPulumiWorkspace } from "./workspace";

export const USAGE = `Usage: npm run up|preview|down [-- options]
       npx ts-node --transpile-only tools/up/main.ts up|preview|down [options]

Commands:
  up        build, push and deploy the stack and print its URL; for a kind stack, first create
            (or check) the local cluster, registry and ingress controller
  preview   show what \`up\` would change, changing nothing
  down      destroy the app; the database's data is kept unless --delete-data

Options:
  --stack <name>   the stack to use (default: ${DEV_STACK}); prod is a cloud cluster
  --delete-data    down: delete the database's data as well
  --cluster        down: also delete the kind cluster and the local registry (needs --delete-data)
  -h, --help       show this help

Exit codes: 0 done, 1 failed (the message says why), 2 wrong usage.`;

export type Command = "up" | "preview" | "down";

export interface ParsedArgs {
    readonly command: Command;
    readonly stack: string;
    readonly deleteData: boolean;
    readonly cluster: boolean;
}

/** Parses the command line; `"help"` when help was asked for. Throws UsageError for anything else. */
export function parseArgs(argv: readonly string[]): ParsedArgs | "help" {
    if (argv.includes("-h") || argv.includes("--help")) return "help";
    const [command, ...rest] = argv;
    if (command !== "up" && command !== "preview" && command !== "down") {
        throw new UsageError(command === undefined ? "Missing command: up, preview or down." : `Unknown command "${command}": use up, preview or down.`);
    }
    const switches = command === "down" ? ["--delete-data", "--cluster"] : [];
    const read = readArgv(rest, { values: ["--stack"], switches });
    if (!("flags" in read)) {
        throw new UsageError(read.problem === "no value" ? "--stack needs a stack name, e.g. --stack prod." : `Unknown option "${read.arg}" for ${command}.`);
    }
    const stacks = read.flags.get("--stack") ?? [DEV_STACK];
    const badStack = stacks.find((name) => !/^[A-Za-z0-9_.-]+$/.test(name));
    if (badStack !== undefined) throw new UsageError(`"${badStack}" is not a stack name (letters, digits, _ . - only).`);
    const stack = stacks[stacks.length - 1];
    const deleteData = read.flags.has("--delete-data");
    const cluster = read.flags.has("--cluster");
    return { command, stack, deleteData, cluster };
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
    let args: ParsedArgs | "help";
    try {
        args = parseArgs(argv);
    } catch (err) {
        output.err(`${(err as Error).message}\n\n${USAGE}\n`);
        return EXIT.usage;
    }
    if (args === "help") {
        output.out(`${USAGE}\n`);
        return EXIT.ok;
    }
    const env = overrides.env ?? process.env;
    const deps: Deps = {
        runner: overrides.runner ?? new ProcessRunner(process.env),
        openWorkspace: overrides.openWorkspace ?? openPulumiWorkspace,
        repoRoot: overrides.repoRoot ?? path.resolve(__dirname, "..", ".."),
        env,
        nodeVersion: overrides.nodeVersion ?? process.versions.node,
        color: overrides.color ?? Boolean(process.stdout.isTTY),
        io: { info: (line) => output.out(`${line}\n`), engine: output.out },
    };
    try {
        if (args.command === "up") await up(deps, args);
        else if (args.command === "preview") await preview(deps, args);
        else await down(deps, args);
        return EXIT.ok;
    } catch (err) {
        if (err instanceof UpError || err instanceof UsageError) {
            output.err(`${err.message}\n`);
            return err.exitCode;
        }
        const e = err instanceof Error ? err : new Error(String(err));
        output.err(`launchpad ${args.command}: unexpected error: ${e.message}\n`);
        output.err(env.LAUNCHPAD_DEBUG ? `${e.stack}\n` : "(set LAUNCHPAD_DEBUG=1 to see where it happened)\n");
        return EXIT.failure;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
