import type { ContainerState, Following, LogCluster, LogRequest, PodEvents, PodState } from "../../tools/logs/cluster";
import type { LogsOutput } from "../../tools/logs/stream";

/** A pod of one container, as the boundary reports it. */
export function pod(name: string, tier: string, container: Partial<ContainerState> = {}, extra: Partial<PodState> = {}): PodState {
    return {
        name, uid: `uid-${name}`, tier, deleting: false,
        containers: [{ name: tier, id: `containerd://${name}-0`, restartCount: 0, running: true, started: true, ...container }],
        ...extra,
    };
}

/** A followed log the test writes to and ends. */
export interface FakeFollow {
    readonly request: LogRequest;
    stopped: boolean;
    write(line: string): void;
    /** The server ends the log (the container stopped). */
    end(): void;
    /** The connection breaks. */
    cut(): void;
}

/**
 * The cluster boundary in memory: pods, their logs (by "pod/container", and "pod/container/previous"),
 * the requests made, the logs followed and the pod watch, which the test drives.
 */
export class FakeCluster implements LogCluster {
    readonly logs = new Map<string, string[]>();
    readonly requests: LogRequest[] = [];
    readonly follows: FakeFollow[] = [];
    watcher?: PodEvents;
    watchStopped = false;

    constructor(public pods: PodState[] = []) {}

    async listPods(): Promise<PodState[]> {
        return this.pods;
    }

    async readLog(request: LogRequest): Promise<string[]> {
        this.requests.push(request);
        const lines = this.logs.get(`${request.pod}/${request.container}${request.previous ? "/previous" : ""}`);
        if (!lines) throw new Error(`container "${request.container}" in pod "${request.pod}" is waiting to start: ContainerCreating`);
        return request.tailLines ? lines.slice(-request.tailLines) : [...lines];
    }

    followLog(request: LogRequest, onLine: (line: string) => void): Following {
        let end: (how: "end" | "cut") => void = () => undefined;
        const ended = new Promise<"end" | "cut">((resolve) => (end = resolve));
        const follow: FakeFollow = {
            request,
            stopped: false,
            write: (line) => {
                if (!follow.stopped) onLine(line);
            },
            end: () => end("end"),
            cut: () => end("cut"),
        };
        this.follows.push(follow);
        return {
            ended,
            stop: () => {
                follow.stopped = true;
                end("cut");
            },
        };
    }

    watchPods(events: PodEvents): { stop(): void } {
        this.watcher = events;
        // As an informer does: first every pod there is.
        for (const p of this.pods) events.changed(p);
        return { stop: () => (this.watchStopped = true) };
    }

    /** The follow of a pod's container that is still going. */
    following(podName: string): FakeFollow {
        const f = [...this.follows].reverse().find((x) => x.request.pod === podName && !x.stopped);
        if (!f) throw new Error(`nothing follows ${podName}; follows: ${JSON.stringify(this.follows.map((x) => x.request))}`);
        return f;
    }
}

/** Output collected: the log lines and the notes; the clock fixed. */
export function collect(now = "2026-12-07T07:40:00Z"): LogsOutput & { lines: string[]; notes: string[] } {
    const lines: string[] = [];
    const notes: string[] = [];
    return { lines, notes, line: (t) => lines.push(t), note: (t) => notes.push(t), now: () => new Date(now) };
}

/** A promise and the function that settles it: Ctrl-C, in a test. */
export function ctrlC(): { until: Promise<void>; press(): void } {
    let press: () => void = () => undefined;
    const until = new Promise<void>((resolve) => (press = resolve));
    return { until, press: () => press() };
}

/** Lets queued work and timers of a few milliseconds run. */
export const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));
