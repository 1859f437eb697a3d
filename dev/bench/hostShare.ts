// `npm run bench -- --host-share [--runs N] [--stack testbed] [--project DIR]`: the language host's share of
// a no-op `pulumi preview`, on a stack that is deployed already (the testbed's, by default).
//
// Runs in the environment it is given (source the testbed's env file first: `pulumi` on PATH, PULUMI_HOME,
// PULUMI_BACKEND_URL, the passphrase), in the project folder DIR (default: this checkout; point it at
// another checkout, e.g. one of the main branch, to compare before and after). Each round runs
// `pulumi preview --expect-no-changes` twice, taking turns: as a user types it, and as `npm run preview`
// starts the engine (with the environment tools/up gives it, engineEnv). The language host starts
// dev/bench/timedRuntime.js in place of Pulumi's runtime entry, which notes the Node process's start and
// exit: that process's lifetime against the whole command's is the share. Prints a table; writes nothing.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { engineEnv } from "../../tools/launch/program";
import { lastLines, runOnce } from "./measure";
import { summarize } from "./stats";
import type { Outcome } from "../../tools/cli";

const progress = (line: string) => process.stderr.write(`${line}\n`);

export interface HostShareArgs {
    readonly runs: number;
    readonly stack: string;
    readonly project: string;
}

interface Sample {
    readonly totalMs: number;
    readonly programMs: number;
}

/** The Node process's lifetime from the stopwatch's log: the one line a run appended. */
export function programLifetime(logText: string): number | undefined {
    const lines = logText.trim().split("\n").filter(Boolean);
    if (lines.length !== 1) return undefined;
    const { started, ended } = JSON.parse(lines[0]) as { started: number; ended: number };
    return ended - started;
}

/** `report` receives a line per round as it ends (the bench's progress on stderr by default). */
export async function runHostShare({ runs, stack, project }: HostShareArgs, report: (line: string) => void = progress): Promise<Outcome> {
    const root = path.resolve(project);
    if (!fs.existsSync(path.join(root, "Pulumi.yaml"))) return { code: 2, stdout: "", stderr: `bench: ${root} has no Pulumi.yaml; --project takes the project folder\n` };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-host-share-"));
    const log = path.join(dir, "runtime.log");
    const ways = [
        { id: "pulumi preview", env: {} },
        { id: "as npm run preview starts it", env: engineEnv(root) },
    ];
    const samples = new Map<string, Sample[]>(ways.map((w) => [w.id, []]));
    try {
        for (let round = 0; round <= runs; round++) {
            const line: string[] = [];
            for (const way of ways) {
                fs.writeFileSync(log, "");
                const env = { ...process.env, ...way.env, PULUMI_LANGUAGE_NODEJS_RUN_PATH: path.join(__dirname, "timedRuntime.js"), LAUNCHPAD_HOST_SHARE_LOG: log };
                const run = await runOnce({ argv: ["pulumi", "preview", "--stack", stack, "--non-interactive", "--expect-no-changes"], cwd: root, env });
                if (run.code !== 0) throw new Error(`pulumi preview (${way.id}) exited ${run.code}:\n${lastLines(`${run.stdout}${run.stderr}`)}`);
                const programMs = programLifetime(fs.readFileSync(log, "utf8"));
                if (programMs === undefined) throw new Error(`the language host did not start ${path.join(__dirname, "timedRuntime.js")} exactly once (PULUMI_LANGUAGE_NODEJS_RUN_PATH); log: ${fs.readFileSync(log, "utf8").trim() || "empty"}`);
                line.push(`${way.id} ${(run.wallMs / 1000).toFixed(2)}s (program ${(programMs / 1000).toFixed(2)}s)`);
                if (round > 0) samples.get(way.id)!.push({ totalMs: run.wallMs, programMs });
            }
            report(`${round === 0 ? "warm-up" : `round ${round}/${runs}`}: ${line.join(", ")}`);
        }
    } catch (error) {
        return { code: 1, stdout: "", stderr: `bench: ${(error as Error).message}\n` };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const rows = ways.map((way) => {
        const s = samples.get(way.id)!;
        const total = summarize(s.map((x) => x.totalMs)).median;
        const program = summarize(s.map((x) => x.programMs)).median;
        const share = summarize(s.map((x) => x.programMs / x.totalMs)).median;
        return `| ${way.id} | ${(total / 1000).toFixed(2)} s | ${(program / 1000).toFixed(2)} s | ${(100 * share).toFixed(0)} % | ${((total - program) / 1000).toFixed(2)} s |`;
    });
    const table = [
        `No-op \`pulumi preview --stack ${stack}\` in ${root} (median of ${runs}, Node ${process.version}, ${os.cpus().length} cores):`,
        "",
        "| started | whole command | program's Node process (cmd/run) | share | the rest (CLI, engine, providers) |",
        "| --- | --: | --: | --: | --: |",
        ...rows,
    ].join("\n");
    return { code: 0, stdout: `${table}\n`, stderr: "" };
}
