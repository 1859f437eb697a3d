import type { WebTier } from "../../components/app";
import type { Change, Clock } from "./debounce";

// The loop itself: each tier's gathered saves become one update of that tier alone (its image built and
// pushed, its Deployment rolled out), one at a time, each reported in one line; a failure is reported
// with its cause and the loop goes on.

/** The engine, as the loop uses it: one tier's image and Deployment updated, nothing else. */
export interface TierEngine {
    /**
     * Builds the tier's image as the engine last built it, into Docker's cache only, while the engine
     * starts: its own build a moment later finds every step done. Resolves whether it built; never
     * rejects (a failed build is the engine's to report, in its words).
     */
    prebuild(tier: WebTier): Promise<boolean>;
    /** Builds and pushes the tier's image and rolls its Deployment onto it; rejects with the engine's words. */
    update(tier: WebTier): Promise<void>;
}

/** The cluster, as the loop reads it. */
export interface TierCluster {
    /** The image the tier's Deployment runs now, if it has one. */
    image(tier: WebTier): Promise<string | undefined>;
    /**
     * Waits until the tier's Deployment has rolled out (its newest pods all Ready, none of an older
     * template left) and resolves with the image it runs; rejects with the cluster's reason; resolves
     * undefined when `stopped()` turns true first.
     */
    rolledOut(tier: WebTier, stopped: () => boolean): Promise<string | undefined>;
}

export interface LoopDeps {
    readonly engine: TierEngine;
    readonly cluster: TierCluster;
    readonly clock: Clock;
    /** Prints one line. */
    readonly say: (line: string) => void;
}

/** The files of a change as a line shows them: the first three, then how many more. */
export function filesShown(files: readonly string[]): string {
    return files.length <= 3 ? files.join(", ") : `${files.slice(0, 3).join(", ")} and ${files.length - 3} more`;
}

/** "sha256:…" of an image reference by digest; the reference itself when it has none. */
export function digestOf(image: string): string {
    const at = image.indexOf("@");
    return at < 0 ? image : image.slice(at + 1);
}

const DOCKER_FAILURE = /docker (build|push|pull|tag) of \S+ failed/;
const ROLLOUT_FAILURE = /failed to (fully initialize|become (available|live))|timed out waiting|CrashLoopBackOff|ImagePullBackOff|ErrImagePull|ProgressDeadlineExceeded|did not roll out/i;

/** What failed, in a few words: the build, the push, the rollout, or the update as a whole. */
export function failureKind(message: string): string {
    const docker = DOCKER_FAILURE.exec(message);
    if (docker) return `${docker[1]} failed`;
    if (ROLLOUT_FAILURE.test(message)) return "rollout failed";
    return "update failed";
}

/**
 * The cause of a failure on one line: Docker's own lines under its "docker build of … failed" in the
 * engine's diagnostics (the compiler's error, the failed step), else the engine's last error line. The
 * engine's progress lines repeat an error's first line after the resource's name: not those.
 */
export function causeOf(message: string): string {
    const lines = message.split("\n");
    const diagnostic = (l: string) => new RegExp(`^(error:\\s*)?${DOCKER_FAILURE.source}`).test(l.trim());
    const at = lines.map(diagnostic).lastIndexOf(true);
    if (at >= 0) {
        const indent = (l: string) => l.length - l.trimStart().length;
        const under: string[] = [];
        for (const l of lines.slice(at + 1)) {
            if (l.trim() === "" || indent(l) <= indent(lines[at])) break;
            under.push(l.trim());
        }
        return [lines[at].trim().replace(/^error:\s*/, ""), ...under].join(" | ");
    }
    const errors = lines.map((l) => l.trim()).filter((l) => /^error:/.test(l) && !/^error: update failed$/.test(l));
    const said = errors.length > 0 ? errors[errors.length - 1] : lines.map((l) => l.trim()).filter(Boolean).pop() ?? message;
    return said.replace(/^error:\s*/, "");
}

/**
 * Where a change's time went, in ms: the prebuild beside the engine's start (when one ran), the targeted
 * update (build, push, the Deployment applied and awaited), then the rollout seen complete.
 */
export interface Split {
    readonly prebuildMs?: number;
    readonly updateMs: number;
    readonly rolloutMs: number;
}

/** The one line of a tier whose change rolled out (or made the same image again), with where its time went. */
export function doneLine(change: Change, image: string, before: string | undefined, seconds: number, split: Split): string {
    const what = `launchpad: dev: ${change.tier}: ${filesShown(change.files)} → ${digestOf(image)}`;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const parts = `(${split.prebuildMs === undefined ? "" : `prebuild ${s(split.prebuildMs)}, `}update ${s(split.updateMs)}, rollout ${s(split.rolloutMs)})`;
    return image === before
        ? `${what} (the same image: nothing to roll out), ${seconds.toFixed(1)} s after the save ${parts}`
        : `${what}, new pod Ready ${seconds.toFixed(1)} s after the save ${parts}`;
}

/** The one line of a tier whose change failed: what failed, its cause, and that the loop goes on. */
export function failedLine(change: Change, error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return `launchpad: dev: ${change.tier}: ${filesShown(change.files)} → ${failureKind(message)}: ${causeOf(message)} (the ${change.tier} keeps what it ran; watching on)`;
}

/** Runs the tiers' changes one at a time, in the order they came; a tier's changes that wait are merged. */
export class DevLoop {
    private queue: Change[] = [];
    private running: Promise<void> | undefined;
    private stopping = false;
    private readonly images = new Map<WebTier, string | undefined>();
    private idleWaiters: (() => void)[] = [];

    constructor(private readonly deps: LoopDeps) {}

    /** Reads what each tier runs before the first change, to tell a new image from the same one. */
    async start(tiers: readonly WebTier[]): Promise<void> {
        for (const tier of tiers) this.images.set(tier, await this.deps.cluster.image(tier));
    }

    submit(change: Change): void {
        if (this.stopping) return;
        const waiting = this.queue.find((c) => c.tier === change.tier);
        if (waiting) {
            const files = [...waiting.files, ...change.files.filter((f) => !waiting.files.includes(f))];
            this.queue[this.queue.indexOf(waiting)] = { tier: change.tier, files, savedAt: Math.min(waiting.savedAt, change.savedAt) };
        } else {
            this.queue.push(change);
        }
        this.next();
    }

    private next(): void {
        if (this.running || this.stopping) return;
        const change = this.queue.shift();
        if (!change) {
            for (const resolve of this.idleWaiters.splice(0)) resolve();
            return;
        }
        this.running = this.run(change).finally(() => {
            this.running = undefined;
            this.next();
        });
    }

    private async run(change: Change): Promise<void> {
        const { engine, cluster, clock, say } = this.deps;
        try {
            const started = clock.now();
            const prebuilt = engine.prebuild(change.tier).then((built) => (built ? clock.now() - started : undefined));
            try {
                await engine.update(change.tier);
            } finally {
                await prebuilt;
            }
            const updated = clock.now();
            const image = await cluster.rolledOut(change.tier, () => this.stopping);
            if (image === undefined) return;
            const ready = clock.now();
            say(doneLine(change, image, this.images.get(change.tier), (ready - change.savedAt) / 1000, { prebuildMs: await prebuilt, updateMs: updated - started, rolloutMs: ready - updated }));
            this.images.set(change.tier, image);
        } catch (error) {
            if (this.stopping) say(`launchpad: dev: ${change.tier}: the update was stopped: ${causeOf(error instanceof Error ? error.message : String(error))}`);
            else say(failedLine(change, error));
        }
    }

    /** Resolves once no change is waiting or running. */
    idle(): Promise<void> {
        if (!this.running && this.queue.length === 0) return Promise.resolve();
        return new Promise((resolve) => this.idleWaiters.push(resolve));
    }

    /**
     * Takes no more changes and drops those waiting; an update under way is let finish (the engine
     * saves its state and gives its lock back), a rollout being watched is no longer waited for.
     */
    async stop(): Promise<void> {
        this.stopping = true;
        this.queue = [];
        await this.running;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
}
