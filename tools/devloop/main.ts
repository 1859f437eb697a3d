// `npm run dev -- --stack S`: the inner loop. Watches each web tier's build context; a save rebuilds that
// tier's image and rolls out that tier alone (a Pulumi update targeted at its image and what depends on
// it, so the stack's state stays the truth), one line per change; Ctrl-C stops with the stack as last
// deployed.

import * as fs from "node:fs";
import * as path from "node:path";
import type { WebTier } from "../../components/app";
import { loadConfig } from "../../components/config";
import { PROJECT } from "../../components/project";
import type { ClusterRef } from "../../lib/kubernetesClient";
import { type CommandSpec, EXIT, errorOutcome, Failure, helpText, readCommandLine, stackFailure, stackOf, STACK_OPTION } from "../cli";
import { backendUrl, isLocalBackend, localBackendDir, projectStateFolders } from "../engine/backend";
import { endOrphanedPlugins, pluginName, type ProcessTable, processTableLive } from "../engine/orphans";
import { openPulumiWorkspace } from "../engine/workspace";
import { targetOf } from "../appTarget";
import { stackConfig, stackSecretKeys } from "../stackFile";
import { type Clock, Debouncer, DEFAULT_QUIET_MS, systemClock } from "./debounce";
import { openTierCluster, openTierEngine, type Watch, type Watched, watchLive } from "./live";
import { DevLoop, type TierCluster, type TierEngine } from "./loop";
import { TierFiles, tiersOf } from "./tiers";

export const COMMAND: CommandSpec = {
    name: "dev",
    synopsis: "[--stack <name>] [--allow-protected]",
    about:
        "Watches the frontend's and the backend's build contexts (what their .dockerignore lets Docker send, and their\n" +
        "Dockerfiles). A save rebuilds that tier's image and rolls out that tier alone, in one line: the files, the new digest,\n" +
        "and the seconds from the save to the new pod Ready. A failed build or rollout is printed with its cause and the loop\n" +
        "goes on; Ctrl-C stops, leaving the stack as last deployed. The stack must have been deployed with npm run up.",
    options: [STACK_OPTION, { flag: "--allow-protected", doc: "run on a stack that sets launchpad:protect (refused otherwise)" }],
};

const WEB_TIERS: readonly WebTier[] = ["frontend", "backend"];

export interface DevOptions {
    readonly stack: string;
    readonly allowProtected: boolean;
}

/** What the loop touches outside itself; tests pass fakes. */
export interface DevDeps {
    readonly repoRoot: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly say: (line: string) => void;
    readonly clock: Clock;
    readonly watch: Watch;
    readonly processes: ProcessTable;
    readonly openEngine: (args: { repoRoot: string; stack: string; appName: string; tiers: readonly WebTier[]; env: DevDeps["env"] }) => Promise<TierEngine>;
    readonly openCluster: (where: ClusterRef & { namespace: string; instance: string }, clock: Clock, timeoutMs: number) => Promise<TierCluster>;
    /** Resolves when the user asks the loop to stop (Ctrl-C). */
    readonly stopRequested: Promise<void>;
    /** How long a tier's saves must be quiet before its update starts. @default DEFAULT_QUIET_MS */
    readonly quietMs?: number;
}

/** The refusal of a stack that guards its data, before anything is opened. */
export function protectRefusal(stack: string): Failure {
    return new Failure(
        `launchpad: refusing to run the dev loop on stack ${stack}: ${PROJECT}:protect is true in Pulumi.${stack}.yaml, a stack whose data is ` +
            `guarded (a shared or production one), and every save would deploy to it; nothing was changed.\n` +
            `  run it there all the same:  npm run dev -- --stack ${stack} --allow-protected`,
    );
}

/** The lock files of the stack a file backend still holds. */
export function locksLeft(repoRoot: string, env: DevDeps["env"], stack: string): string[] {
    const url = backendUrl(repoRoot, env);
    if (!isLocalBackend(url)) return [];
    const dir = path.join(projectStateFolders(localBackendDir(url)).locks, stack);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => path.join(dir, f)) : [];
}

/** The folders to watch: each context's tree, and the folder of a Dockerfile that lies outside its context. */
function foldersOf(tiers: readonly TierFiles[]): Watched[] {
    const folders: Watched[] = tiers.map((t) => ({ dir: t.source.context, recursive: true }));
    for (const t of tiers) {
        const dir = path.dirname(t.source.dockerfile);
        if (!tiers.some((c) => !path.relative(c.source.context, dir).startsWith(".."))) folders.push({ dir, recursive: false });
    }
    return folders;
}

async function sweepOrphans(deps: DevDeps): Promise<void> {
    const ended = await endOrphanedPlugins(deps.processes);
    if (ended.length > 0) {
        deps.say(`launchpad: dev: ended ${ended.length} Pulumi plugin process${ended.length === 1 ? "" : "es"} whose engine was gone (${ended.map((p) => `pid ${p.pid} ${pluginName(p)}`).join(", ")}).`);
    }
}

/** The loop, from the refusals to Ctrl-C. */
export async function dev(deps: DevDeps, opts: DevOptions): Promise<void> {
    const { stack, allowProtected } = opts;
    const { repoRoot, say, clock } = deps;
    const raw = stackConfig(stack, repoRoot);
    if (raw[`${PROJECT}:protect`] === "true" && !allowProtected) throw protectRefusal(stack);
    const secretKeys = stackSecretKeys(stack, repoRoot);
    const config = loadConfig(raw, { stack, isSecret: (key) => secretKeys.includes(key), fileExists: (relative) => fs.existsSync(path.resolve(repoRoot, relative)) });
    const tiers = WEB_TIERS.map((tier) => {
        const context = path.resolve(repoRoot, config[tier].build.context);
        return new TierFiles({ tier, context, dockerfile: path.resolve(context, config[tier].build.dockerfile) });
    });

    await sweepOrphans(deps);
    const engine = await deps.openEngine({ repoRoot, stack, appName: config.appName, tiers: WEB_TIERS, env: deps.env });
    const cluster = await deps.openCluster(targetOf(config), clock, config.rollout.timeoutSeconds * 1000);
    const loop = new DevLoop({ engine, cluster, clock, say });
    await loop.start(WEB_TIERS);
    const debouncer = new Debouncer(deps.quietMs ?? DEFAULT_QUIET_MS, clock, (change) => loop.submit(change));
    const close = deps.watch(foldersOf(tiers), (file) => {
        for (const p of tiersOf(tiers, file)) debouncer.add(p.tier, p.file);
    });
    const shown = tiers.map((t) => `${path.relative(repoRoot, t.source.context)} (${t.source.tier})`).join(" and ");
    say(`launchpad: dev: watching ${shown} for stack ${stack}; a save rebuilds that tier's image and rolls out that tier alone. Ctrl-C stops.`);

    await deps.stopRequested;
    say("launchpad: dev: stopping: no new update starts; one under way is let finish");
    close();
    debouncer.cancel();
    await loop.stop();
    await sweepOrphans(deps);
    const locks = locksLeft(repoRoot, deps.env, stack);
    for (const lock of locks) say(`launchpad: dev: warning: a lock of stack ${stack} is left: ${lock} (npm run up removes it once its process is gone)`);
    say(`launchpad: dev: stopped; stack ${stack} is as last deployed${locks.length === 0 ? ", no lock held" : ""}.`);
}

/** Parses the command line; "help" for --help; throws UsageError. */
export function parseArgs(argv: readonly string[]): DevOptions | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    return { stack: stackOf(flags), allowProtected: flags.has("--allow-protected") };
}

/** The whole CLI: the loop's lines on stdout as they come; a failure by the one rule. */
export async function main(argv: readonly string[], overrides: Partial<DevDeps> = {}, out: (text: string) => void = (t) => process.stdout.write(t), err: (text: string) => void = (t) => process.stderr.write(t)): Promise<number> {
    const env = overrides.env ?? process.env;
    try {
        const args = parseArgs(argv);
        if (args === "help") {
            out(`${helpText(COMMAND)}\n`);
            return EXIT.ok;
        }
        const repoRoot = overrides.repoRoot ?? path.resolve(__dirname, "..", "..");
        const deps: DevDeps = {
            repoRoot,
            env,
            say: (line) => out(`${line}\n`),
            clock: systemClock,
            watch: watchLive,
            processes: processTableLive,
            openEngine: (a) => openTierEngine({ ...a, openWorkspace: openPulumiWorkspace }),
            openCluster: openTierCluster,
            stopRequested: new Promise((resolve) => process.once("SIGINT", () => resolve())),
            ...overrides,
        };
        await dev(deps, args).catch((error: unknown) => {
            throw stackFailure(error);
        });
        return EXIT.ok;
    } catch (error) {
        const { code, stderr } = errorOutcome(COMMAND, error, env as NodeJS.ProcessEnv, false);
        err(stderr);
        return code;
    }
}

if (require.main === module) {
    // A second Ctrl-C does not wait for the update under way. npm passes the terminal's Ctrl-C on to
    // the script, which the terminal already signalled: the same Ctrl-C arrives twice, close together.
    let first: number | undefined;
    process.on("SIGINT", () => {
        first ??= Date.now();
        if (Date.now() - first > 1000) process.exit(130);
    });
    void main(process.argv.slice(2)).then((code) => process.exit(code));
}
