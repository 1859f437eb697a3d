// `npm run history`: see COMMAND. Exit 0: the history was printed. 1: the stack was never deployed, or
// the engine could not read its history (the message says why). 2: wrong usage (tools/cli.ts EXIT_RULE).

import * as path from "node:path";
import { type CommandSpec, exitWith, helpOutcome, type Outcome, readCommandLine, runCommand, stackOf, STACK_OPTION } from "../cli";
import { openPulumiWorkspace } from "../engine/workspace";
import { type HistoryDeps, historyReport, stackHistory } from "./history";

export const COMMAND: CommandSpec = {
    name: "history",
    synopsis: "[--stack <name>] [--full]",
    about:
        "Lists the stack's releases, newest first, from Pulumi's own update history: when each started, who ran it (user@host or CI),\n" +
        "the git commit, its result, each tier's image digest, and which one is live. Changes nothing.",
    options: [STACK_OPTION, { flag: "--full", doc: "show whole image references instead of the digests' first 12 hex digits" }],
};

export interface ParsedArgs {
    readonly stack: string;
    readonly full: boolean;
}

/** Parses the command line; "help" for --help. Throws UsageError. */
export function parseArgs(argv: readonly string[]): ParsedArgs | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    return { stack: stackOf(flags), full: flags.has("--full") };
}

/** The command as a function: argv in, exit code and output out. `deps` replaces the engine (tests). */
export async function runHistory(argv: readonly string[], deps: Partial<HistoryDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    return runCommand(COMMAND, async () => {
        const args = parseArgs(argv);
        if (args === "help") return helpOutcome(COMMAND);
        const live: HistoryDeps = { openWorkspace: openPulumiWorkspace, repoRoot: path.resolve(__dirname, "..", ".."), env };
        const releases = await stackHistory({ ...live, ...deps }, args.stack);
        return { code: 0, stdout: historyReport(args.stack, releases, args.full), stderr: "" };
    }, env, false); // its failures say "launchpad: …", as up's do
}

if (require.main === module) exitWith(runHistory(process.argv.slice(2)));
