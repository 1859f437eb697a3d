// What `npm run logs` prints: every container's log so far, interleaved by time, with a line for each
// restart and the previous container's last lines; then, following, the lines as they come, pods that
// appear (a rollout) and go, and restarts. The cluster is a LogCluster (./cluster.ts).

import { Failure } from "../cli";
import { TIER_NAMES } from "../appTarget";
import { ClusterError, type ContainerState, type Following, type LogCluster, type PodState } from "./cluster";
import { Prefixer, readStamped, sortableTime, sourceName, type StampedLine } from "./lines";

/** How many of a restarted container's previous lines are shown. */
export const PREVIOUS_LINES = 10;

/** How long a pod that is gone, or a container that restarted, may take to deliver its last lines. */
const LAST_WORDS_MS = 3000;

/**
 * After a followed log ends while its container still runs, how long before it is asked again: a cut
 * connection soon; a log the server ended (the container stopped, as a rule) only once the pod watch
 * has had time to report a restart, so that a new container's lines never come before its restart line.
 */
const REFOLLOW_MS = { cut: 1000, end: 5000 } as const;

export interface LogsOptions {
    /** Only lines at most this old (--since); every line the containers kept when unset. */
    readonly sinceSeconds?: number;
    readonly follow: boolean;
}

/** What the logs are of: the stack, its namespace and the tier asked for, for the messages. */
export interface LogsScope {
    readonly stack: string;
    readonly namespace: string;
    readonly tier?: string;
}

/** Where the command's words go: log lines (stdout) and notes about the command itself (stderr); and the clock. */
export interface LogsOutput {
    line(text: string): void;
    note(text: string): void;
    now(): Date;
}

/** A line to print, before its prefix: sorted by time among every pod's. */
interface Entry {
    readonly time: string;
    readonly tier: string;
    readonly source: string;
    readonly text: string;
}

/** What sorts after every timestamp: notes about the present (a container that waits). */
const NOW = "~";

const tierOrder = (tier: string) => {
    const i = (TIER_NAMES as readonly string[]).indexOf(tier);
    return i < 0 ? TIER_NAMES.length : i;
};

/** The pods in the order a reader expects: frontend, backend, db, then by name. */
export function sortPods(pods: readonly PodState[]): PodState[] {
    return [...pods].sort((a, b) => tierOrder(a.tier) - tierOrder(b.tier) || a.name.localeCompare(b.name));
}

/** The line that says a container restarted, and how the previous one ended. */
export function restartLine(c: ContainerState, tail: "lines" | "above" | "none" | { unreadable: string }): string {
    const ended = c.lastEnded;
    const how = [ended?.reason && ended.reason !== "Error" ? ended.reason : undefined, ended?.exitCode !== undefined ? `exit code ${ended.exitCode}` : undefined].filter(Boolean).join(", ");
    const at = ended?.finishedAt ? ` at ${ended.finishedAt.replace(/\.\d+Z$/, "Z")}` : "";
    const said =
        tail === "lines" ? "its last lines:"
        : tail === "above" ? "its last lines are above"
        : tail === "none" ? "it wrote nothing"
        : `its log cannot be read: ${tail.unreadable}`;
    return `── restarted (${c.restartCount} ${c.restartCount === 1 ? "restart" : "restarts"}): the previous container ${c.name} ended${at}${how ? ` (${how})` : ""}; ${said}`;
}

/** The prefix's text after the restart line, for each of the previous container's lines. */
const PREVIOUS = "previous: ";

/** One pod being followed: its last state, its containers' followers, the restarts already told, and its queue of work. */
interface Tracked {
    pod: PodState;
    readonly followers: Map<string, { readonly id?: string; readonly following: Following; done: boolean }>;
    readonly restarts: Map<string, number>;
    /** --since for a pod that was there at the start; a pod that appears later is followed from its first line. */
    readonly sinceSeconds?: number;
    queue: Promise<void>;
    gone: boolean;
}

/** The app's logs: a snapshot of every container, then, following, everything that happens. */
export class AppLogs {
    private readonly prefix = new Prefixer();
    /** The time of the last line printed, by pod uid and container: nothing is printed twice. */
    private readonly lastTime = new Map<string, string>();
    private readonly tracked = new Map<string, Tracked>();
    private stopped = false;

    constructor(
        private readonly cluster: LogCluster,
        private readonly options: LogsOptions,
        private readonly out: LogsOutput,
    ) {}

    private key(pod: PodState, container: string): string {
        return `${pod.uid}/${container}`;
    }

    private source(pod: PodState, container: string): string {
        return sourceName(pod.name, container, pod.containers.length);
    }

    private print(pod: PodState, container: string, text: string): void {
        this.out.line(this.prefix.line(pod.tier, this.source(pod, container), text));
    }

    /** A pod's note (a new pod, a pod gone): on its first container's line. */
    private notePod(pod: PodState, text: string): void {
        this.print(pod, pod.containers[0]?.name ?? "", text);
    }

    /** The lines of a log newer than the last one printed of that container; remembers the newest. */
    private fresh(key: string, lines: readonly string[]): StampedLine[] {
        const last = this.lastTime.get(key);
        const stamped = lines.map(readStamped).filter((l) => !last || !l.time || l.time > last);
        const newest = stamped.filter((l) => l.time).at(-1)?.time;
        if (newest) this.lastTime.set(key, newest);
        return stamped;
    }

    /** Reads a log; a log the cluster refuses (not a cluster that does not answer) is the reason, as text. */
    private async read(pod: PodState, container: string, request: { previous?: boolean; sinceSeconds?: number; tailLines?: number }): Promise<string[] | { unreadable: string }> {
        try {
            return await this.cluster.readLog({ pod: pod.name, container, ...request });
        } catch (e) {
            if (e instanceof ClusterError) throw e;
            return { unreadable: String((e as Error)?.message ?? e) };
        }
    }

    /** The restart line of a container and its previous container's last lines not printed yet, stamped by when it ended. */
    private async restart(pod: PodState, c: ContainerState): Promise<{ time: string; texts: string[] }> {
        const previous = await this.read(pod, c.name, { previous: true, tailLines: PREVIOUS_LINES });
        const finished = c.lastEnded?.finishedAt ? sortableTime(new Date(c.lastEnded.finishedAt)) : undefined;
        if (!Array.isArray(previous)) return { time: finished ?? NOW, texts: [restartLine(c, previous)] };
        const lines = this.fresh(this.key(pod, c.name), previous);
        const tail = lines.length > 0 ? "lines" : previous.length > 0 ? "above" : "none";
        return { time: finished ?? lines.at(-1)?.time ?? NOW, texts: [restartLine(c, tail), ...lines.map((l) => `${PREVIOUS}${l.text}`)] };
    }

    /** Every container's log of these pods (since --since), interleaved by time, each restart told with its previous lines. */
    async snapshot(pods: readonly PodState[]): Promise<void> {
        const sorted = sortPods(pods);
        this.prefix.widen(sorted.flatMap((p) => p.containers.map((c) => this.source(p, c.name))));
        const since = this.options.sinceSeconds;
        const windowStart = since === undefined ? undefined : this.out.now().getTime() - since * 1000;
        const perContainer = await Promise.all(sorted.flatMap((pod) => pod.containers.map(async (c): Promise<Entry[]> => {
            const entry = (time: string, text: string): Entry => ({ time, tier: pod.tier, source: this.source(pod, c.name), text });
            const entries: Entry[] = [];
            const finished = c.lastEnded?.finishedAt ? Date.parse(c.lastEnded.finishedAt) : undefined;
            if (c.restartCount > 0 && c.lastEnded && (windowStart === undefined || finished === undefined || finished >= windowStart)) {
                const told = await this.restart(pod, c);
                entries.push(...told.texts.map((text) => entry(told.time, text)));
            }
            if (c.started) {
                const log = await this.read(pod, c.name, { sinceSeconds: since });
                if (Array.isArray(log)) entries.push(...this.fresh(this.key(pod, c.name), log).map((l) => entry(l.time, l.text)));
                else entries.push(entry(NOW, `── its log cannot be read: ${log.unreadable}`));
            } else if (c.waiting) {
                entries.push(entry(NOW, `── not started: ${c.waiting}`));
            }
            return entries;
        })));
        // A stable sort: lines of one container, and a restart's lines, keep their order within a time.
        const entries = perContainer.flat().sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
        for (const e of entries) this.out.line(this.prefix.line(e.tier, e.source, e.text));
    }

    /**
     * Follows the pods from the snapshot on, until `until` settles: each running container's log, a line
     * for each pod that appears or goes (a rollout) and for each restart (with the previous container's
     * last lines), nothing printed twice. The pods watch is the source of truth.
     */
    async follow(known: readonly PodState[], until: Promise<void>): Promise<void> {
        for (const pod of known) {
            this.tracked.set(pod.uid, {
                pod, followers: new Map(), restarts: new Map(pod.containers.map((c) => [c.name, c.restartCount])),
                sinceSeconds: this.options.sinceSeconds, queue: Promise.resolve(), gone: false,
            });
        }
        const watch = this.cluster.watchPods({
            changed: (pod) => this.enqueue(pod, (t) => this.changed(t, pod)),
            deleted: (pod) => this.enqueue(pod, (t) => this.deleted(t)),
            trouble: (why) => this.out.note(`logs: ${why}`),
        });
        await until;
        this.stopped = true;
        watch.stop();
        for (const t of this.tracked.values()) for (const f of t.followers.values()) f.following.stop();
    }

    /** Settles when every pod's queued work is done (tests wait on it). */
    async settled(): Promise<void> {
        for (;;) {
            const queues = [...this.tracked.values()].map((t) => t.queue);
            await Promise.all(queues);
            if ([...this.tracked.values()].every((t, i) => t.queue === queues[i]) && queues.length === this.tracked.size) return;
        }
    }

    /** Runs a pod's work after its earlier work, so that its lines keep their order. */
    private enqueue(pod: PodState, work: (t: Tracked) => Promise<void>): void {
        if (this.stopped) return;
        let t = this.tracked.get(pod.uid);
        if (!t) {
            t = { pod, followers: new Map(), restarts: new Map(), queue: Promise.resolve(), gone: false };
            this.tracked.set(pod.uid, t);
            const tracked = t;
            t.queue = t.queue.then(() => this.notePod(tracked.pod, "── new pod"));
        }
        const tracked = t;
        t.queue = t.queue.then(() => (this.stopped || tracked.gone ? undefined : work(tracked))).catch((e) => this.out.note(`logs: ${String((e as Error)?.message ?? e)}`));
    }

    private async changed(t: Tracked, pod: PodState): Promise<void> {
        t.pod = pod;
        for (const c of pod.containers) {
            const follower = t.followers.get(c.name);
            if (c.restartCount > (t.restarts.get(c.name) ?? 0)) {
                if (follower) await this.lastWords(follower);
                const told = await this.restart(pod, c);
                for (const text of told.texts) this.print(pod, c.name, text);
                t.restarts.set(c.name, c.restartCount);
            }
            if (c.running && c.id !== undefined && follower?.id !== c.id) {
                follower?.following.stop();
                this.startFollowing(t, c);
            }
        }
    }

    private async deleted(t: Tracked): Promise<void> {
        for (const f of t.followers.values()) await this.lastWords(f);
        t.gone = true;
        this.notePod(t.pod, "── pod deleted");
        this.tracked.delete(t.pod.uid);
    }

    /** Waits a moment for a stopping container's last lines, then stops following it. */
    private async lastWords(f: { following: Following; done: boolean }): Promise<void> {
        if (!f.done) {
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([f.following.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_WORDS_MS)))]);
            clearTimeout(timer);
        }
        f.following.stop();
    }

    private startFollowing(t: Tracked, c: ContainerState): void {
        const pod = t.pod;
        const key = this.key(pod, c.name);
        const last = this.lastTime.get(key);
        // From the last line printed (the API server keeps whole seconds: `fresh` drops what came again), else from --since.
        const from = last ? { sinceTime: `${last.slice(0, 19)}Z` } : t.sinceSeconds !== undefined ? { sinceSeconds: t.sinceSeconds } : {};
        const following = this.cluster.followLog({ pod: pod.name, container: c.name, ...from }, (line) => {
            if (this.stopped) return;
            for (const l of this.fresh(key, [line])) this.print(pod, c.name, l.text);
        });
        const follower = { id: c.id, following, done: false };
        t.followers.set(c.name, follower);
        void following.ended.then((how) => {
            follower.done = true;
            // Ended while its container still runs (a cut connection): follow it again from the last line.
            setTimeout(() => {
                if (t.gone || this.tracked.get(t.pod.uid) !== t) return;
                this.enqueue(t.pod, async (now) => {
                    const current = now.pod.containers.find((x) => x.name === c.name);
                    if (now.followers.get(c.name) === follower && !now.pod.deleting && current?.running && current.id === c.id) this.startFollowing(now, current);
                });
            }, REFOLLOW_MS[how]).unref();
        });
    }
}

/**
 * The command's work once the stack is known: the snapshot, then, with --follow, everything that
 * happens until `until` settles (Ctrl-C). No pods: without --follow a failure that says how to deploy;
 * with it, a note, and the pods are waited for.
 */
export async function showLogs(cluster: LogCluster, scope: LogsScope, options: LogsOptions, out: LogsOutput, until: Promise<void>): Promise<void> {
    const pods = await cluster.listPods();
    if (pods.length === 0) {
        const what = `stack ${scope.stack} has no ${scope.tier ? `${scope.tier} ` : ""}pods in namespace ${scope.namespace}`;
        if (!options.follow) throw new Failure(`${what}: deploy it with npm run up -- --stack ${scope.stack}, or follow them as they come with --follow`);
        out.note(`logs: ${what} yet; waiting for them (Ctrl-C ends)`);
    }
    const logs = new AppLogs(cluster, options, out);
    await logs.snapshot(pods);
    if (options.follow) await logs.follow(pods, until);
}
