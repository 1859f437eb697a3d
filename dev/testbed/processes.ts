import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { probeTcp } from "../../lib/net";
import { processAlive } from "../../lib/process";

/** A failure of the testbed command: one line (or a few) with the cause and the fix, no stack trace. */
export class TestbedError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TestbedError";
    }
}

/** One server the testbed runs in the background, known by its pid file and log. */
export interface Daemon {
    readonly name: string;
    readonly command: string;
    readonly args: readonly string[];
    /** Ports it listens on (127.0.0.1), checked free before it starts. */
    readonly ports: readonly number[];
    /** Resolves when the server is ready; rejects (or times out) otherwise. */
    readonly ready: () => Promise<boolean>;
    readonly env?: Readonly<Record<string, string>>;
    /** A daemon that writes its own pid file (dockerd) names it here; others get one from us. */
    readonly pidFile?: string;
    /**
     * Started again a second after it exits, as systemd or the kubelet does on a real control plane
     * (kube-controller-manager exits for good when the API server is slow while it starts its
     * controllers): it runs under RESTARTING, whose pid the pid file holds, and a SIGTERM to that
     * ends both.
     */
    readonly restart?: boolean;
}

/**
 * The shell that keeps a daemon running: `sh -c RESTARTING <command> <args…>` starts it again a
 * second after each exit, saying so in its log; on SIGTERM or SIGINT it passes the signal on, waits
 * for the daemon to end, and exits.
 */
export const RESTARTING = [
    'trap \'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT',
    "while :; do",
    '  "$0" "$@" & child=$!',
    '  wait "$child"; code=$?',
    '  echo "launchpad testbed: $0 exited ($code); starting it again in 1 s"',
    "  sleep 1 & child=$!; wait \"$child\"",
    "done",
].join("\n");

export function pidFileOf(runDir: string, name: string): string {
    return path.join(runDir, `${name}.pid`);
}

export function logFileOf(runDir: string, name: string): string {
    return path.join(runDir, "logs", `${name}.log`);
}

/** The pid in a pid file, when that process is still alive. */
export function livePid(pidFile: string): number | undefined {
    let pid: number;
    try {
        pid = Number.parseInt(fs.readFileSync(pidFile, "utf8").trim(), 10);
    } catch {
        return undefined;
    }
    return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
    return (await probeTcp(host, port)) === "open";
}

/** Whether the port can be bound on 127.0.0.1 right now (the check `start` makes before each server). */
export function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen(port, host, () => server.close(() => resolve(true)));
    });
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it says yes or `seconds` pass. */
export async function waitFor(check: () => Promise<boolean>, seconds: number, everyMs = 200): Promise<boolean> {
    const until = Date.now() + seconds * 1000;
    for (;;) {
        if (await check().catch(() => false)) return true;
        if (Date.now() > until) return false;
        await sleep(everyMs);
    }
}

/** The last lines of a log, for a message about a server that did not come up. */
export function tail(file: string, lines = 5): string {
    try {
        const text = fs.readFileSync(file, "utf8").trimEnd().split("\n");
        return text.slice(-lines).map((l) => `    ${l.slice(0, 300)}`).join("\n");
    } catch {
        return "    (no log)";
    }
}

/**
 * Starts a daemon detached from this process (it outlives `npm run testbed -- start`), its output in
 * its log, its pid in its pid file, and waits until it is ready. A server that exits or never becomes
 * ready is stopped again and reported with the end of its log.
 */
export async function startDaemon(runDir: string, d: Daemon, readySeconds = 60): Promise<number> {
    const pidFile = d.pidFile ?? pidFileOf(runDir, d.name);
    const log = logFileOf(runDir, d.name);
    fs.mkdirSync(path.dirname(log), { recursive: true });
    const out = fs.openSync(log, "a");
    const [command, args] = d.restart ? ["/bin/sh", ["-c", RESTARTING, d.command, ...d.args]] : [d.command, [...d.args]];
    const child = spawn(command, args, {
        detached: true,
        stdio: ["ignore", out, out],
        env: { ...process.env, ...d.env },
    });
    fs.closeSync(out);
    let exited: string | undefined;
    child.once("exit", (code, signal) => {
        exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    });
    child.once("error", (err) => {
        exited = `could not start (${err.message})`;
    });
    if (child.pid === undefined) {
        await sleep(50);
        throw new TestbedError(`${d.name} ${exited ?? "could not start"}: ${d.command}`);
    }
    if (d.pidFile === undefined) fs.writeFileSync(pidFile, `${child.pid}\n`);
    child.unref();
    const ok = await waitFor(async () => exited === undefined && (await d.ready()), readySeconds);
    if (!ok) {
        await stopPid(child.pid);
        fs.rmSync(pidFile, { force: true });
        const why = exited ?? `was not ready within ${readySeconds} s`;
        throw new TestbedError(`${d.name} ${why}; the end of ${log}:\n${tail(log)}`);
    }
    return child.pid;
}

/** SIGTERM, then SIGKILL after `graceSeconds`; resolves when the process is gone. */
/**
 * Stops the server whose pid file under `runDir` is `name`'s (or `pidFile`), if it runs, and removes
 * the file; resolves whether it ran.
 */
export async function stopByPidFile(runDir: string, name: string, graceSeconds: number, pidFile = pidFileOf(runDir, name)): Promise<boolean> {
    const pid = livePid(pidFile);
    if (pid !== undefined) await stopPid(pid, graceSeconds);
    fs.rmSync(pidFile, { force: true });
    return pid !== undefined;
}

export async function stopPid(pid: number, graceSeconds = 20): Promise<void> {
    const alive = () => processAlive(pid);
    if (!alive()) return;
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        return;
    }
    if (await waitFor(async () => !alive(), graceSeconds, 100)) return;
    try {
        process.kill(pid, "SIGKILL");
    } catch {
        return;
    }
    await waitFor(async () => !alive(), 5, 100);
}
