import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** What one finished command left behind. `code` is 127 when the program could not be started. */
export interface RunResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface RunOptions {
    /** Text written to the command's standard input (e.g. a kind config or a manifest for `-f -`). */
    readonly input?: string;
    /** Receives output while the command runs, for long steps the user should watch (cluster creation). */
    readonly onOutput?: (chunk: string) => void;
}

/**
 * The one boundary through which launchpad's tools start other programs (`docker`, `kind`, `kubectl`).
 * Tests replace it with a fake that records every call and answers from a model of the machine.
 */
export interface Runner {
    run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
    /** The absolute path of `cmd` on PATH, or undefined when it is not installed. Starts nothing. */
    which(cmd: string): Promise<string | undefined>;
}

/** Looks `cmd` up on a PATH string the way a shell would, without running anything. */
export function findOnPath(cmd: string, pathVar: string, platform: NodeJS.Platform = process.platform, pathExt = ""): string | undefined {
    const exts = platform === "win32" ? (pathExt || ".EXE;.CMD;.BAT;.COM").split(";").concat([""]) : [""];
    for (const dir of pathVar.split(path.delimiter)) {
        if (dir === "") continue;
        for (const ext of exts) {
            const candidate = path.join(dir, cmd + ext);
            try {
                const stat = fs.statSync(candidate);
                if (!stat.isFile()) continue;
                if (platform !== "win32") fs.accessSync(candidate, fs.constants.X_OK);
                return candidate;
            } catch {
                // not here, or not executable: keep looking
            }
        }
    }
    return undefined;
}

/** The real Runner: spawns processes without a shell, so arguments are never re-parsed. */
export class ProcessRunner implements Runner {
    /** `cwd`: where the commands run. @default this process's working directory */
    constructor(
        private readonly env: NodeJS.ProcessEnv = process.env,
        private readonly cwd?: string,
    ) {}

    async which(cmd: string): Promise<string | undefined> {
        return findOnPath(cmd, this.env.PATH ?? "", process.platform, this.env.PATHEXT ?? "");
    }

    run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
        return new Promise((resolve) => {
            let stdout = "";
            let stderr = "";
            const child = spawn(cmd, [...args], { env: this.env, cwd: this.cwd, stdio: ["pipe", "pipe", "pipe"] });
            child.stdout.setEncoding("utf8");
            child.stderr.setEncoding("utf8");
            child.stdout.on("data", (chunk: string) => {
                stdout += chunk;
                opts.onOutput?.(chunk);
            });
            child.stderr.on("data", (chunk: string) => {
                stderr += chunk;
                opts.onOutput?.(chunk);
            });
            child.on("error", (err: NodeJS.ErrnoException) => {
                resolve({ code: 127, stdout, stderr: stderr + `${cmd}: ${err.code === "ENOENT" ? "command not found" : err.message}` });
            });
            child.on("close", (code, signal) => {
                resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
            });
            child.stdin.on("error", () => {
                // the program exited before reading its input; its exit code tells the story
            });
            child.stdin.end(opts.input ?? "");
        });
    }
}
