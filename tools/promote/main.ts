// `npm run promote`: see COMMAND. Exit 0: the target stack runs the source's digests. 1: refused or failed
// (the message says why and what to do; a refusal changes nothing). 2: wrong usage (tools/cli.ts EXIT_RULE).

import { checkImage, copyImageByDigest, credentialsFor, parseImageRef, readDockerConfig } from "../../lib/registry";
import { type CommandSpec, exitWith, helpOutcome, type Outcome, readCommandLine, runCommand, single, stackName, UsageError } from "../cli";
import { livePinnedDeployDeps } from "../engine/pinned";
import { promote, type PromoteDeps, type PromoteOptions, type PromoteRegistry, promoteReport } from "./promote";

export const COMMAND: CommandSpec = {
    name: "promote",
    synopsis: "--from <stack> --to <stack>",
    about:
        "Deploys to one stack exactly the frontend and backend image digests live in another, building nothing, with the target's own\n" +
        "config: copies each image by digest into the target's registry when it is not there, pins them in Pulumi.<to>.yaml\n" +
        "(launchpad:frontendImage, launchpad:backendImage) and deploys as npm run up does. The promotion shows in npm run history.",
    options: [
        { flag: "--from", value: "<stack>", doc: "the stack whose live digests are promoted (its last update must have succeeded)" },
        { flag: "--to", value: "<stack>", doc: "the stack that deploys them" },
    ],
};

/** Parses the command line; "help" for --help. Throws UsageError. */
export function parseArgs(argv: readonly string[]): PromoteOptions | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    const from = single(flags, "--from");
    const to = single(flags, "--to");
    if (from === undefined || to === undefined) throw new UsageError(`promote needs both --from <stack> and --to <stack>, e.g. npm run promote -- --from staging --to prod`);
    if (from === to) throw new UsageError(`--from and --to name the same stack (${from}): promote deploys one stack's digests to another`);
    return { from: stackName(from), to: stackName(to) };
}

/** The registries through the Registry HTTP API, with the stacks' logins, else the Docker config's. */
const liveRegistry: PromoteRegistry = {
    has: async (image, credentials) =>
        checkImage(image, { exactDigest: true, credentials: credentials ?? credentialsFor(parseImageRef(image).registry, { dockerConfig: await readDockerConfig() }), timeoutMs: 10_000 }),
    copy: async (source, target, from, to) => {
        const dockerConfig = await readDockerConfig();
        return copyImageByDigest(source, target, {
            from: { credentials: from ?? credentialsFor(parseImageRef(source).registry, { dockerConfig }) },
            to: { credentials: to ?? credentialsFor(parseImageRef(target).registry, { dockerConfig }) },
        });
    },
};

/** The command as a function: argv in, exit code and output out. `deps` replaces the engine, the registries and the deploy (tests). */
export async function runPromote(argv: readonly string[], deps: Partial<PromoteDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    return runCommand(COMMAND, async () => {
        const args = parseArgs(argv);
        if (args === "help") return helpOutcome(COMMAND);
        const result = await promote({ ...livePinnedDeployDeps(env), registry: liveRegistry, ...deps }, args);
        return { code: 0, stdout: promoteReport(args, result), stderr: "" };
    }, env, false); // its failures say "launchpad: …", as up's do
}

if (require.main === module) exitWith(runPromote(process.argv.slice(2)));
