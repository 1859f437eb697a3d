// A stack's releases, read from Pulumi's own update history (`pulumi stack history`), not from a file
// of ours. Pulumi records when, the result, the config and, run in a git checkout, the commit
// (`git.head`, `git.dirty`, when its git library can read the checkout) and in CI the CI system
// (`ci.system`). What it does not record, launchpad writes into each update's message: who ran it
// (user@host), the commit (for when Pulumi has none), a note (a rollback's target) and the
// image digests that were live *before* it. An update's own digests are only known once it built them,
// after its message is written, so a release's digests are read from the message of the update that
// followed it, and the live release's from the stack's outputs.

import * as os from "node:os";
import { engineMessage, type UpdateRecord, type Workspace } from "./workspace";
import { Failure } from "../cli";
import { ProcessRunner } from "../../lib/runner";

/** The image each tier runs, by digest (`registry/repository@sha256:…`), as the program exports them. */
export interface ReleaseImages {
    readonly frontend?: string;
    readonly backend?: string;
    readonly database?: string;
}

/** The tiers and the stack outputs (index.ts) that name their images. */
export const IMAGE_OUTPUTS = { frontend: "frontendImage", backend: "backendImage", database: "databaseImage" } as const;

export type ImageTier = keyof typeof IMAGE_OUTPUTS;

const TIERS = Object.keys(IMAGE_OUTPUTS) as ImageTier[];

/** One release of a stack, as `npm run history` shows it. */
export interface Release {
    readonly version: number;
    /** "update" (an up or a rollback) or "destroy" (a down). */
    readonly kind: string;
    readonly result: string;
    readonly startTime: Date;
    readonly endTime?: Date;
    /** user@host, or the CI system; undefined when nobody said (an update not made by launchpad). */
    readonly by?: string;
    /** The git commit it was deployed from (short), "+dirty" when the checkout had changes. */
    readonly commit?: string;
    /** What launchpad noted, e.g. "rollback to 4". */
    readonly note?: string;
    /** The digests it deployed, where known. */
    readonly images: ReleaseImages;
    /** The config it ran with. */
    readonly config: Readonly<Record<string, string>>;
    /** What runs now. */
    readonly live: boolean;
}

const MARK = "launchpad release";

/**
 * What `npm run rollback` tells the update it runs through `npm run up`: a note for the update's
 * message in the stack's history, e.g. "rollback to 4".
 */
export const RELEASE_NOTE_ENV = "LAUNCHPAD_RELEASE_NOTE";

/** Who runs a release: the CI system when in CI, else user@host. */
export function whoRuns(env: Readonly<Record<string, string | undefined>>, user: string, host: string): string {
    const ci = env.GITHUB_ACTIONS === "true" ? "GitHub Actions" : env.GITLAB_CI === "true" ? "GitLab CI" : env.CI && env.CI !== "false" && env.CI !== "0" ? "CI" : undefined;
    return ci ?? `${user}@${host}`;
}

/** The images a stack's outputs name (its live release's). */
export function imagesOf(outputs: Readonly<Record<string, { readonly value: unknown }>>): ReleaseImages {
    const images: Record<string, string> = {};
    for (const tier of TIERS) {
        const value = outputs[IMAGE_OUTPUTS[tier]]?.value;
        if (typeof value === "string" && value !== "") images[tier] = value;
    }
    return images;
}

/**
 * The message launchpad gives an update: `launchpad release by ana@laptop; rollback to 4; before:
 * frontend=… backend=… database=…`. `before` is what ran before it (the stack's outputs).
 */
export function releaseMessage(release: { readonly by: string; readonly commit?: string; readonly note?: string; readonly before: ReleaseImages }): string {
    const before = TIERS.filter((t) => release.before[t] !== undefined).map((t) => `${t}=${release.before[t]}`);
    return [
        `${MARK} by ${release.by}`,
        ...(release.commit ? [`commit ${release.commit}`] : []),
        ...(release.note ? [release.note] : []),
        `before: ${before.length > 0 ? before.join(" ") : "nothing"}`,
    ].join("; ");
}

/** The commit of the checkout at `repoRoot`, short and "+dirty" with changes to tracked files; undefined outside git. */
export type ReadCommit = (repoRoot: string) => Promise<string | undefined>;

export const readCommitLive: ReadCommit = async (repoRoot) => {
    const runner = new ProcessRunner();
    // Asked together: both are on the way to the engine's start.
    const [head, status] = await Promise.all([runner.run("git", ["-C", repoRoot, "rev-parse", "HEAD"]), runner.run("git", ["-C", repoRoot, "status", "--porcelain", "--untracked-files=no"])]);
    if (head.code !== 0) return undefined;
    return shortCommit(head.stdout.trim(), status.code === 0 && status.stdout.trim() !== "");
};

/** Who releases, from which checkout: what a release's message reads besides the stack. */
export interface Releaser {
    readonly repoRoot: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    /** @default user@host, or the CI system */
    readonly who?: string;
    /** @default asked of git */
    readonly readCommit?: ReadCommit;
}

/**
 * The message of an update about to run: who runs it, the checkout's commit, a note (the caller's, else
 * LAUNCHPAD_RELEASE_NOTE's) and the digests live before it (the stack's outputs).
 */
export async function releaseMessageNow(ws: Workspace, stack: string, releaser: Releaser, note?: string): Promise<string> {
    const [outputs, commit] = await Promise.all([ws.outputs(stack), (releaser.readCommit ?? readCommitLive)(releaser.repoRoot)]);
    const fromEnv = releaser.env[RELEASE_NOTE_ENV];
    return releaseMessage({
        by: releaser.who ?? whoRuns(releaser.env, os.userInfo().username, os.hostname()),
        commit,
        note: note ?? (fromEnv === "" ? undefined : fromEnv),
        before: imagesOf(outputs),
    });
}

/** A message launchpad wrote, read back; undefined for any other. */
export function parseReleaseMessage(message: string | undefined): { by: string; commit?: string; note?: string; before: ReleaseImages } | undefined {
    if (!message?.startsWith(`${MARK} by `)) return undefined;
    const parts = message.slice(MARK.length + 4).split("; ");
    const by = parts.shift()!;
    const last = parts.at(-1);
    if (last === undefined || !last.startsWith("before: ")) return undefined;
    parts.pop();
    const commit = parts[0]?.startsWith("commit ") ? parts.shift()!.slice("commit ".length) : undefined;
    const before: Record<string, string> = {};
    for (const pair of last.slice("before: ".length).split(" ")) {
        const [tier, image] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
        if ((TIERS as string[]).includes(tier) && image) before[tier] = image;
    }
    return { by, ...(commit !== undefined && { commit }), note: parts.length > 0 ? parts.join("; ") : undefined, before };
}

/**
 * The commit of an update: what Pulumi recorded (`git.head`, when it could read the checkout), else what
 * launchpad wrote into the message; short, "+dirty" with uncommitted changes.
 */
function commitOf(environment: Readonly<Record<string, string>> | undefined, written: string | undefined): string | undefined {
    const head = environment?.["git.head"];
    if (!head) return written;
    return `${head.slice(0, 7)}${environment?.["git.dirty"] === "true" ? "+dirty" : ""}`;
}

/** The checkout's commit as a release records it: its short hash, "+dirty" when tracked files have changes. */
export function shortCommit(head: string, dirty: boolean): string {
    return `${head.slice(0, 7)}${dirty ? "+dirty" : ""}`;
}

/**
 * The history with a number for each update: Pulumi's own where it gives one (Pulumi Cloud), else, as a
 * file or bucket backend records none (0), its place in the history, oldest first, from 1.
 */
function numbered(history: readonly UpdateRecord[]): UpdateRecord[] {
    const oldestFirst = [...history].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    return oldestFirst.map((u, i) => ({ ...u, version: u.version > 0 ? u.version : i + 1 }));
}

/** The kinds of update that change what runs. */
const RELEASE_KINDS = ["update", "destroy"];

/**
 * An update that failed having changed nothing (every resource the same): no release, since the stack
 * runs what it ran. `npm run up` leaves one when a check beside the engine's start says stop
 * (tools/launch/gate.js); a program that failed before it declared anything leaves one too.
 */
function changedNothing(u: UpdateRecord): boolean {
    return u.result === "failed" && u.resourceChanges !== undefined && Object.entries(u.resourceChanges).every(([change, n]) => change === "same" || n === 0);
}

/**
 * The stack's releases, newest first, from Pulumi's history (any order) and the stack's outputs now.
 * A release's images are the `before` of the next update launchpad made, or, for the newest release
 * that changed outputs, the outputs themselves; unknown when the next update was not launchpad's.
 * The live release is the newest update that succeeded, unless a down succeeded after it. An update
 * that failed having changed nothing is left out (its number with it).
 */
export function releasesOf(history: readonly UpdateRecord[], outputs: Readonly<Record<string, { readonly value: unknown }>>): Release[] {
    const records = numbered(history).filter((u) => RELEASE_KINDS.includes(u.kind) && !changedNothing(u)).sort((a, b) => b.version - a.version);
    const liveAt = records.findIndex((u) => u.result === "succeeded");
    const live = liveAt >= 0 && records[liveAt].kind === "update" ? records[liveAt].version : undefined;
    return records.map((u, i) => {
        const said = parseReleaseMessage(u.message);
        // What ran after this update is what the next one found; after the newest, what the outputs say.
        const images = i === 0 ? (u.version === live ? imagesOf(outputs) : {}) : (parseReleaseMessage(records[i - 1].message)?.before ?? {});
        return {
            version: u.version,
            kind: u.kind,
            result: u.result,
            startTime: u.startTime,
            endTime: u.endTime,
            by: said?.by ?? u.environment?.["ci.system"],
            commit: commitOf(u.environment, said?.commit),
            note: said?.note,
            images: u.kind === "update" && u.result !== "failed" ? images : {},
            config: u.config ?? {},
            live: u.version === live,
        };
    });
}

/** A deployed stack's releases, newest first, read through the engine; an engine failure is a Failure saying so. */
export async function readReleases(ws: Workspace, stack: string): Promise<Release[]> {
    try {
        const updates = await ws.history(stack);
        return releasesOf(updates, await ws.outputs(stack));
    } catch (error) {
        if (error instanceof Failure) throw error;
        throw new Failure(`launchpad: cannot read the history of stack ${stack}: ${engineMessage(error)}`, { cause: error });
    }
}
