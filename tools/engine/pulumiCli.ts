import { ProcessRunner } from "../../lib/runner";

// The one place launchpad's commands start the Pulumi CLI (`openPulumiWorkspace` in ./workspace.ts
// drives it). It runs the CLI directly rather than through the Automation API: that API's module takes
// longer to load than a whole `pulumi` call, and its `up` asks the CLI three more times after the update
// (the outputs twice, masked and plain, and the latest history entry), for what launchpad reads from the
// state file or does not need.

/** Receives the CLI's output as it is produced. */
export type CliOutput = (chunk: string) => void;

/** A CLI call that failed: its message is what the CLI said on stderr, else its output's diagnostics (or the reason it could not start). */
export class PulumiCliError extends Error {
    constructor(
        message: string,
        readonly code: number,
        readonly stdout: string,
    ) {
        super(message);
        this.name = "PulumiCliError";
    }
}

/** Runs `pulumi ARGS` in `cwd` with `env` (and the call's own) added to this process's; resolves with its stdout, throws PulumiCliError. */
export type RunPulumi = (args: readonly string[], opts?: { readonly onOutput?: CliOutput; readonly env?: Readonly<Record<string, string>> }) => Promise<string>;

/**
 * The CLI in `cwd`, with `env` on top of this process's environment, never prompting
 * (`--non-interactive`). Ctrl-C reaches the CLI as it reaches launchpad (the terminal signals the whole
 * process group), and the CLI then ends its update the way it does when typed.
 */
export function pulumiCli(cwd: string, env: Readonly<Record<string, string>>): RunPulumi {
    return async (args, opts = {}) => {
        const runner = new ProcessRunner({ ...process.env, ...env, ...opts.env }, cwd);
        // Before a `--` that ends the flags (config set's value follows it).
        const end = args.indexOf("--");
        const argv = end === -1 ? [...args, "--non-interactive"] : [...args.slice(0, end), "--non-interactive", ...args.slice(end)];
        const r = await runner.run("pulumi", argv, { onOutput: opts.onOutput });
        if (r.code === 0) return r.stdout;
        throw new PulumiCliError(r.stderr.trim() || diagnostics(r.stdout) || `pulumi ${args[0] ?? ""} exited with code ${r.code}`, r.code, r.stdout);
    };
}

/**
 * The "Diagnostics:" section of an update's output, where `pulumi up`, `preview` and `destroy` say what
 * failed (their stderr stays empty then); "" when there is none.
 */
export function diagnostics(stdout: string): string {
    const lines = stdout.split("\n");
    const start = lines.findIndex((l) => /^Diagnostics:\s*$/.test(l));
    if (start === -1) return "";
    const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
    return lines.slice(start + 1, end === -1 ? undefined : end).join("\n").trim();
}
