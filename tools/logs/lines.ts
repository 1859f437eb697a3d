// The shapes of `npm run logs`'s output: a line as the API server sends it (with its timestamp), the
// prefix that says which tier and pod wrote it, and --since.

import { UsageError } from "../cli";

/** A log line with the time the kubelet stamped on it (`timestamps: true`). */
export interface StampedLine {
    /** The stamp made sortable as text: RFC 3339 in UTC with nine fraction digits. */
    readonly time: string;
    readonly text: string;
}

/**
 * Reads one line of a log requested with `timestamps: true` ("2026-12-07T07:30:01.12345Z listening").
 * The kubelet drops a fraction's trailing zeros, so the fraction is padded to make the stamps sort as
 * text; a line without a stamp sorts first (an empty time).
 */
export function readStamped(line: string): StampedLine {
    const space = line.indexOf(" ");
    const stamp = space < 0 ? line : line.slice(0, space);
    const text = space < 0 ? "" : line.slice(space + 1);
    const utc = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(stamp);
    if (utc) return { time: `${utc[1]}.${(utc[2] ?? "").padEnd(9, "0")}Z`, text };
    const ms = Date.parse(stamp);
    if (/^\d{4}-\d\d-\d\dT/.test(stamp) && !Number.isNaN(ms)) return { time: sortableTime(new Date(ms)), text };
    return { time: "", text: line };
}

/** A Date as the sortable text readStamped makes of a stamp. */
export function sortableTime(date: Date): string {
    return date.toISOString().replace(/Z$/, "000000Z");
}

/** Splits a stream's chunks into whole lines (without "\n" or "\r\n"); a last line without "\n" comes at `end`. */
export class LineSplitter {
    private rest = "";
    constructor(private readonly onLine: (line: string) => void) {}

    push(chunk: string): void {
        const parts = (this.rest + chunk).split("\n");
        this.rest = parts.pop()!;
        for (const part of parts) this.onLine(part.replace(/\r$/, ""));
    }

    end(): void {
        if (this.rest !== "") this.onLine(this.rest.replace(/\r$/, ""));
        this.rest = "";
    }
}

/** The width of the tier column: the longest tier name. */
const TIER_WIDTH = "frontend".length;

/**
 * The prefix of every line: tier and pod (pod/container when a pod has several), aligned in columns.
 * The pod column widens as longer names appear (a new pod while following), never narrows.
 */
export class Prefixer {
    private width = 0;

    widen(sources: readonly string[]): void {
        for (const s of sources) this.width = Math.max(this.width, s.length);
    }

    line(tier: string, source: string, text: string): string {
        this.widen([source]);
        return `${tier.padEnd(TIER_WIDTH)} ${source.padEnd(this.width)} | ${text}`;
    }
}

/** What a pod's container is called in the prefix: the pod's name, and the container's when the pod has several. */
export function sourceName(pod: string, container: string, containers: number): string {
    return containers > 1 ? `${pod}/${container}` : pod;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** --since as seconds: "30s", "10m", "2h", "1d", or several together ("1h30m"). */
export function parseSince(value: string): number {
    const wrong = () => new UsageError(`--since "${value}" is not a duration: write it as 30s, 10m, 2h, 1d or 1h30m`);
    if (!/^(\d+[smhd])+$/.test(value)) throw wrong();
    let seconds = 0;
    for (const [, n, unit] of value.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * UNIT_SECONDS[unit];
    if (seconds === 0) throw new UsageError(`--since "${value}" is no time at all: give more than 0, e.g. 10m`);
    return seconds;
}
