// `npm run rollback`: see COMMAND. Exit 0: the stack runs the earlier release. 1: refused or failed
// (the message says why and what to do; a refusal changes nothing). 2: wrong usage (tools/cli.ts EXIT_RULE).

import { type CommandSpec, exitWith, helpOutcome, type Outcome, readCommandLine, runCommand, single, stackOf, STACK_OPTION, UsageError } from "../cli";
import { livePinnedDeployDeps } from "../engine/pinned";
import { rollback, type RollbackDeps, rollbackReport } from "./rollback";

export const COMMAND: CommandSpec = {
    name: "rollback",
    synopsis: "[--stack <name>] [--to <release>]",
    about:
        "Redeploys the frontend and backend image digests of an earlier release that succeeded, building nothing: it pins them in\n" +
        "Pulumi.<stack>.yaml (launchpad:frontendImage, launchpad:backendImage) and deploys as npm run up does. The database is never\n" +
        "rolled back; a release that ran on another database is refused. The rollback shows in npm run history.",
    options: [STACK_OPTION, { flag: "--to", value: "<release>", doc: "the release to go back to, by its number in npm run history (default: the one before the live one)" }],
};

export interface ParsedArgs {
    readonly stack: string;
    readonly to?: number;
}

/** Parses the command line; "help" for --help. Throws UsageError. */
export function parseArgs(argv: readonly string[]): ParsedArgs | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    const to = single(flags, "--to");
    if (to !== undefined && !/^[1-9]\d*$/.test(to)) throw new UsageError(`--to takes a release's number, as npm run history shows it; got "${to}"`);
    return { stack: stackOf(flags), ...(to !== undefined && { to: Number(to) }) };
}

/** The command as a function: argv in, exit code and output out. `deps` replaces the engine and the deploy (tests). */
export async function runRollback(argv: readonly string[], deps: Partial<RollbackDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    return runCommand(COMMAND, async () => {
        const args = parseArgs(argv);
        if (args === "help") return helpOutcome(COMMAND);
        const result = await rollback({ ...livePinnedDeployDeps(env), ...deps }, args);
        return { code: 0, stdout: rollbackReport(args.stack, result), stderr: "" };
    }, env, false); // its failures say "launchpad: …", as up's do
}

if (require.main === module) exitWith(runRollback(process.argv.slice(2)));
