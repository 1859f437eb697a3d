import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// Runs a command as a fresh process and measures it from the outside: wall time from spawn to exit,
// and peak resident memory through GNU time (`/usr/bin/time -f %M`), which sees the whole process
// however it was started (a shell script, ts-node, mocha).

export interface Command {
    readonly argv: readonly string[];
    readonly cwd: string;
    /** The whole environment of the process. */
    readonly env: NodeJS.ProcessEnv;
}

export interface Run {
    readonly wallMs: number;
    /** Peak resident set size in KiB; absent without GNU time. */
    readonly maxRssKiB?: number;
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export const GNU_TIME = "/usr/bin/time";

/** Whether peak memory can be measured here (`apt-get install -y time` if not). */
export function canMeasureMemory(): boolean {
    return fs.existsSync(GNU_TIME);
}

/** The last lines of a command's output: what a failure message shows of it. */
export function lastLines(output: string, count = 15): string {
    return output.trim().split("\n").slice(-count).join("\n");
}

/** Runs a command to its end, unmeasured; its stdout, or an Error naming `what`, its exit code and its last lines. */
export function mustRun(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, what: string): string {
    const r = spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${lastLines(`${r.stdout}${r.stderr}`)}`);
    return r.stdout;
}

/** Keeps the end of a long output: what a failure report needs. */
function tail(text: string, limit = 64 * 1024): string {
    return text.length > limit ? text.slice(text.length - limit) : text;
}

/** `onStart` is told the pid of the process started (GNU time's, when memory is measured: the command is its child). */
export async function runOnce(command: Command, onStart?: (pid: number) => void): Promise<Run> {
    const memory = canMeasureMemory();
    const report = memory ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-bench-")), "rss") : undefined;
    const argv = report ? [GNU_TIME, "-f", "%M", "-o", report, ...command.argv] : [...command.argv];
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: command.cwd, env: command.env, stdio: ["ignore", "pipe", "pipe"] });
    if (onStart && child.pid !== undefined) onStart(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout = tail(stdout + chunk); });
    child.stderr.on("data", (chunk) => { stderr = tail(stderr + chunk); });
    const code = await new Promise<number | null>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", resolve);
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    let maxRssKiB: number | undefined;
    if (report) {
        // GNU time writes "Command exited with non-zero status N" before the figure when the command fails.
        const figure = Number(fs.readFileSync(report, "utf8").trim().split("\n").pop());
        maxRssKiB = Number.isFinite(figure) && figure > 0 ? figure : undefined;
        fs.rmSync(path.dirname(report), { recursive: true, force: true });
    }
    return { wallMs, maxRssKiB, code, stdout, stderr };
}
