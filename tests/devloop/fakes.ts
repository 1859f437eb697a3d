import type { WebTier } from "../../components/app";
import type { Clock } from "../../tools/devloop/debounce";
import type { TierCluster, TierEngine } from "../../tools/devloop/loop";

/** A clock whose time moves only when the test moves it; its timers fire then, in order. */
export class FakeClock implements Clock {
    private time = 1_000_000;
    private timers: { at: number; fn: () => void; id: number }[] = [];
    private ids = 0;
    now(): number {
        return this.time;
    }
    after(ms: number, fn: () => void): () => void {
        const id = ++this.ids;
        this.timers.push({ at: this.time + ms, fn, id });
        return () => {
            this.timers = this.timers.filter((t) => t.id !== id);
        };
    }
    /** Moves time on by `ms`, firing each timer due on the way. */
    advance(ms: number): void {
        const until = this.time + ms;
        for (;;) {
            const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
            if (!due) break;
            this.timers = this.timers.filter((t) => t !== due);
            this.time = due.at;
            due.fn();
        }
        this.time = until;
    }
}

/**
 * The engine: records each update; `fail` makes the next update of a tier reject with that message;
 * `hold` keeps it running until released. With `prebuildMs`, each update's prebuild ends that long into
 * the update (the update's time includes it, as the engine's start runs beside it); without, there is
 * no prebuild.
 */
export class FakeEngine implements TierEngine {
    readonly updates: WebTier[] = [];
    readonly prebuilds: WebTier[] = [];
    readonly failures = new Map<WebTier, string>();
    private held: (() => void) | undefined;
    holding = false;
    constructor(private readonly clock?: FakeClock, private readonly takesMs = 0, private readonly prebuildMs?: number) {}
    prebuild(tier: WebTier): Promise<boolean> {
        this.prebuilds.push(tier);
        if (this.prebuildMs === undefined || this.clock === undefined) return Promise.resolve(false);
        return new Promise((resolve) => this.clock!.after(this.prebuildMs!, () => resolve(true)));
    }
    async update(tier: WebTier): Promise<void> {
        this.updates.push(tier);
        if (this.holding) await new Promise<void>((resolve) => (this.held = resolve));
        const first = Math.min(this.prebuildMs ?? 0, this.takesMs);
        this.clock?.advance(first);
        // The prebuild's end is seen (its promise settled) before the engine goes on.
        await new Promise((resolve) => setImmediate(resolve));
        this.clock?.advance(this.takesMs - first);
        const failure = this.failures.get(tier);
        if (failure !== undefined) {
            this.failures.delete(tier);
            throw new Error(failure);
        }
    }
    release(): void {
        this.holding = false;
        this.held?.();
    }
}

/** The cluster: each tier's image; a rollout makes the next image of the tier. */
export class FakeCluster implements TierCluster {
    readonly images = new Map<WebTier, string>([["frontend", "r/launchpad-frontend@sha256:f0"], ["backend", "r/launchpad-backend@sha256:b0"]]);
    rolloutFailure: string | undefined;
    sameImage = false;
    private counter = 0;
    constructor(private readonly clock?: FakeClock, private readonly takesMs = 0) {}
    async image(tier: WebTier): Promise<string | undefined> {
        return this.images.get(tier);
    }
    async rolledOut(tier: WebTier, stopped: () => boolean): Promise<string | undefined> {
        if (stopped()) return undefined;
        this.clock?.advance(this.takesMs);
        if (this.rolloutFailure) throw new Error(this.rolloutFailure);
        if (!this.sameImage) this.images.set(tier, `r/launchpad-${tier}@sha256:${tier[0]}${++this.counter}`);
        return this.images.get(tier);
    }
}
