// `npm run logs`: see COMMAND.
//
// The app's logs through the API server (no kubectl): every container of the stack's pods, or of one
// tier, each line prefixed by tier and pod; a restart is told with the previous container's last lines.
// With --follow it goes on through rollouts (the pods are watched by the stack's selector) until
// Ctrl-C. Exit 0: shown (or followed until Ctrl-C). 1: the stack's config is invalid, the cluster does
// not answer or refuses, or no pod is there to show. 2: wrong usage (tools/cli.ts EXIT_RULE).

import { closest } from "../../components/validate";
import { type AppTarget, appTarget, podSelector, TIER_NAMES, type TierName } from "../appTarget";
import { type CommandSpec, exitWith, helpOutcome, type Outcome, readCommandLine, runCommand, single, stackFailure, stackOf, STACK_OPTION, UsageError } from "../cli";
import { type LogCluster, liveLogCluster } from "./cluster";
import { parseSince } from "./lines";
import { type LogsOutput, showLogs } from "./stream";

export const COMMAND: CommandSpec = {
    name: "logs",
    synopsis: "[--stack <name>] [--tier <tier>] [--since <duration>] [--follow]",
    about:
        "Shows the app's logs through the API server of the stack's cluster (launchpad:kubeContext; no kubectl needed): every\n" +
        "container of the stack's pods, interleaved by time, each line prefixed by its tier and pod. A container that restarted\n" +
        "is told in a line, with the previous container's last lines. --follow goes on: new pods (a rollout) are followed as\n" +
        "they start, pods that go are said so, until Ctrl-C.",
    options: [
        STACK_OPTION,
        { flag: "--tier", value: "<tier>", doc: `only this tier's pods: ${TIER_NAMES.join(", ")} (default: every tier)` },
        { flag: "--since", value: "<duration>", doc: "only lines at most this old: 30s, 10m, 2h, 1d, 1h30m (default: every line the containers kept)" },
        { flag: "--follow", doc: "go on showing lines as they come, through rollouts and restarts, until Ctrl-C" },
    ],
};

export interface LogsArgs {
    readonly stack: string;
    readonly tier?: TierName;
    readonly sinceSeconds?: number;
    readonly follow: boolean;
}

/** A tier as --tier names it, checked against the tiers there are. */
function tierOf(value: string): TierName {
    if ((TIER_NAMES as readonly string[]).includes(value)) return value as TierName;
    // "database" is the tier's name in the docs; its pods' name label says db.
    const meant = closest(value, TIER_NAMES) ?? (value === "database" ? "db" : undefined);
    throw new UsageError(`unknown tier "${value}"${meant ? `; did you mean --tier ${meant}?` : ""} (tiers: ${TIER_NAMES.join(", ")})`);
}

/** Parses the command line; "help" for --help; throws UsageError. */
export function parseArgs(argv: readonly string[]): LogsArgs | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    const tier = single(flags, "--tier"), since = single(flags, "--since");
    return {
        stack: stackOf(flags),
        ...(tier !== undefined && { tier: tierOf(tier) }),
        ...(since !== undefined && { sinceSeconds: parseSince(since) }),
        follow: flags.has("--follow"),
    };
}

export interface LogsDeps {
    /** Where the stack's app runs, from its stack file; throws for an unknown stack or bad config. */
    target(stack: string): AppTarget;
    /** The cluster boundary for the stack's pods that the selector picks. */
    cluster(target: AppTarget, selector: string): Promise<LogCluster>;
    output: LogsOutput;
    /** Settles when following should end (Ctrl-C). */
    until: Promise<void>;
}

function defaultDeps(): LogsDeps {
    return {
        target: (stack) => appTarget(stack),
        cluster: liveLogCluster,
        output: {
            line: (text) => void process.stdout.write(`${text}\n`),
            note: (text) => void process.stderr.write(`${text}\n`),
            now: () => new Date(),
        },
        until: new Promise<void>(() => undefined),
    };
}

/** The command: argv in, exit code out; the logs themselves go to `output` as they come. `deps` replaces the boundaries (tests). */
export async function runLogs(argv: readonly string[], deps: Partial<LogsDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    return runCommand(COMMAND, async () => {
        const args = parseArgs(argv);
        if (args === "help") return helpOutcome(COMMAND);
        const d = { ...defaultDeps(), ...deps };
        let target: AppTarget;
        try {
            target = d.target(args.stack);
        } catch (e) {
            throw stackFailure(e);
        }
        const cluster = await d.cluster(target, podSelector(target, args.tier));
        await showLogs(cluster, { stack: args.stack, namespace: target.namespace, tier: args.tier }, { sinceSeconds: args.sinceSeconds, follow: args.follow }, d.output, d.until);
        return { code: 0, stdout: "", stderr: "" };
    }, env);
}

if (require.main === module) {
    // Ctrl-C (or the reader of a pipe going away) ends following: the watch and the streams stop, exit 0.
    // Before following (a cluster slow to answer), it ends the command all the same: 130, as a shell says.
    let end: () => void = () => undefined;
    const until = new Promise<void>((resolve) => (end = resolve));
    const interrupted = () => {
        end();
        setTimeout(() => process.exit(130), 2000).unref();
    };
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") end();
    });
    exitWith(runLogs(process.argv.slice(2), { until }));
}
