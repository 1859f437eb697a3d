import type { WebTier } from "../../components/app";

// Editors save in bursts (a temporary file, a rename, a formatter's second write; a checkout touches
// many files): each tier's saves are gathered until it has been quiet for a moment, then handed on as
// one change.

/** Time, and timers: the live clock, or a test's. */
export interface Clock {
    now(): number;
    /** Calls `fn` after `ms`; returns what cancels it. */
    after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
    now: () => Date.now(),
    after(ms, fn) {
        const timer = setTimeout(fn, ms);
        return () => clearTimeout(timer);
    },
};

/** One tier's saves, gathered. */
export interface Change {
    readonly tier: WebTier;
    /** The files saved, in the order first seen, each once. */
    readonly files: readonly string[];
    /** When the first of them was seen saved (the clock's time). */
    readonly savedAt: number;
}

/** The default quiet time before a tier's saves are handed on. */
export const DEFAULT_QUIET_MS = 300;

/** Gathers saves per tier; `flush` receives each tier's change once it has been quiet for `quietMs`. */
export class Debouncer {
    private readonly pending = new Map<WebTier, { files: string[]; savedAt: number; cancel: () => void }>();

    constructor(
        private readonly quietMs: number,
        private readonly clock: Clock,
        private readonly flush: (change: Change) => void,
    ) {}

    add(tier: WebTier, file: string): void {
        const open = this.pending.get(tier);
        open?.cancel();
        const files = open?.files ?? [];
        if (!files.includes(file)) files.push(file);
        const savedAt = open?.savedAt ?? this.clock.now();
        const cancel = this.clock.after(this.quietMs, () => {
            this.pending.delete(tier);
            this.flush({ tier, files, savedAt });
        });
        this.pending.set(tier, { files, savedAt, cancel });
    }

    /** Drops what is gathered and not yet handed on. */
    cancel(): void {
        for (const p of this.pending.values()) p.cancel();
        this.pending.clear();
    }
}
