import { openDeployedStack } from "../engine/open";
import { type Release, readReleases } from "../engine/releases";
import type { OpenWorkspace } from "../engine/workspace";

/** What `npm run history` needs outside itself; tests replace the engine. */
export interface HistoryDeps {
    readonly openWorkspace: OpenWorkspace;
    /** The project: Pulumi.yaml, the stack files and `.launchpad/`. */
    readonly repoRoot: string;
    readonly env: Readonly<Record<string, string | undefined>>;
}

/** The stack's releases, newest first, from Pulumi's update history and its outputs. */
export async function stackHistory(deps: HistoryDeps, stack: string): Promise<Release[]> {
    const ws = await openDeployedStack({ ...deps, stack });
    return readReleases(ws, stack);
}

/** An image reference as the table shows it: the digest's first 12 hex digits, or the whole reference. */
export function shownImage(image: string | undefined, full: boolean): string {
    if (image === undefined) return "—";
    if (full) return image;
    const at = image.indexOf("@sha256:");
    return at < 0 ? image : image.slice(at + "@sha256:".length, at + "@sha256:".length + 12);
}

/** "2026-12-07 11:20:03" (UTC). */
function when(date: Date): string {
    return date.toISOString().slice(0, 19).replace("T", " ");
}

/** A release's result as the table shows it: a down is "down", an update its result. */
function outcome(release: Release): string {
    return release.kind === "destroy" ? `down ${release.result}` : release.result;
}

/**
 * What `npm run history` prints: a header, then one line per release, newest first: Pulumi's number
 * for it, when it started, who ran it, the commit, the result, each tier's image, and which is live.
 */
export function historyReport(stack: string, releases: readonly Release[], full = false): string {
    if (releases.length === 0) return `stack ${stack} has no releases yet: npm run up -- --stack ${stack} makes the first.\n`;
    const header = ["#", "started (UTC)", "by", "commit", "result", "frontend", "backend", "database", ""];
    const rows = releases.map((r) => [
        String(r.version),
        when(r.startTime),
        r.by ?? "—",
        r.commit ?? "—",
        outcome(r),
        shownImage(r.images.frontend, full),
        shownImage(r.images.backend, full),
        shownImage(r.images.database, full),
        [r.live ? "← live" : "", r.note ?? ""].filter(Boolean).join("  "),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i])).join("  ")}`.trimEnd();
    const live = releases.find((r) => r.live);
    return [
        `stack ${stack}: ${releases.length === 1 ? "1 release" : `${releases.length} releases`}, newest first, from Pulumi's update history` +
            (full ? "" : " (digests shortened to 12 hex digits; --full shows whole references)"),
        line(header),
        ...rows.map(line),
        live ? `live: release ${live.version}, since ${when(live.endTime ?? live.startTime)} UTC` : "live: nothing (the newest release is a down, or none succeeded)",
    ].join("\n") + "\n";
}
