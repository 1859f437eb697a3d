// `npm run bench -- --commands [--runs N] [--no-write]`: what users wait for, on the testbed.
//
// The whole commands a user types, against the plain Pulumi CLI on the same stack and state: a no-op
// `npm run up -- --stack testbed` against `pulumi up --yes --skip-preview --stack testbed`, and
// `npm run preview` against `pulumi preview`, each pair taking turns in every round (one warm-up, then
// `runs`). Wall time and the peak memory of the whole process tree (the largest sum of its processes'
// resident memory at one moment); medians, and the ratio pair by pair. Then one `npm run up` traced
// (LAUNCHPAD_TRACE, tools/up/trace.ts): launchpad's own time, check by check. Writes its section of
// bench/RESULTS.md. Starts the testbed when it is not running, and stops it again.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { layout } from "../testbed/layout";
import { ensureRunning, stop } from "../testbed/lifecycle";
import { type Command, lastLines, mustRun, runOnce } from "./measure";
import { sampleTreeTotal } from "./processTree";
import { median } from "./stats";
import { readTrace, type TracedStep } from "../../tools/up/trace";
import type { Outcome } from "../../tools/cli";
import { RESULTS_FILE, withSections, writtenBy } from "./report";

const ROOT = path.resolve(__dirname, "..", "..");
const STACK = "testbed";
/** The budgets: launchpad's command at most this many times the plain CLI's, pair by pair. */
export const WALL_LIMIT = 1.15;
export const MEMORY_LIMIT = 1.2;

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** A command a user types, and the plain CLI's that does the same. */
interface Pair {
    readonly id: string;
    readonly launchpad: readonly string[];
    readonly plain: readonly string[];
}

export const PAIRS: readonly Pair[] = [
    { id: "no-op up", launchpad: ["npm", "run", "--silent", "up", "--", "--stack", STACK], plain: ["pulumi", "up", "--yes", "--skip-preview", "--stack", STACK] },
    { id: "preview", launchpad: ["npm", "run", "--silent", "preview", "--", "--stack", STACK], plain: ["pulumi", "preview", "--stack", STACK] },
];

/** One run of one side: wall time in ms, the tree's peak memory in KiB. */
export interface Sample {
    readonly wallMs: number;
    readonly peakKiB: number;
}

export interface PairResult {
    readonly id: string;
    readonly launchpad: readonly Sample[];
    readonly plain: readonly Sample[];
}

/** Medians of each side, and the medians of the pair-by-pair ratios, with the verdicts. */
export function summarizePair(r: PairResult) {
    const wallRatio = median(r.launchpad.map((s, i) => s.wallMs / r.plain[i].wallMs));
    const memoryRatio = median(r.launchpad.map((s, i) => s.peakKiB / r.plain[i].peakKiB));
    return {
        id: r.id,
        launchpadMs: median(r.launchpad.map((s) => s.wallMs)),
        plainMs: median(r.plain.map((s) => s.wallMs)),
        launchpadMiB: median(r.launchpad.map((s) => s.peakKiB)) / 1024,
        plainMiB: median(r.plain.map((s) => s.peakKiB)) / 1024,
        wallRatio,
        memoryRatio,
        ok: wallRatio <= WALL_LIMIT && memoryRatio <= MEMORY_LIMIT,
    };
}

/** The table of the pairs. */
export function formatPairs(results: readonly PairResult[], runs: number): string {
    const rows = results.map(summarizePair).flatMap((s) => {
        const pair = PAIRS.find((p) => p.id === s.id);
        const shown = (argv: readonly string[] | undefined) => (argv ? `\`${argv.filter((a) => a !== "--silent").join(" ")}\`` : s.id);
        return [
            `| ${shown(pair?.launchpad)} | ${(s.launchpadMs / 1000).toFixed(2)} s | ${s.launchpadMiB.toFixed(0)} MiB | | |`,
            `| ${shown(pair?.plain)} | ${(s.plainMs / 1000).toFixed(2)} s | ${s.plainMiB.toFixed(0)} MiB | | |`,
            `| ratio, pair by pair (limits ${WALL_LIMIT}x, ${MEMORY_LIMIT}x) | **${s.wallRatio.toFixed(2)}x** | **${s.memoryRatio.toFixed(2)}x** | ${s.ok ? "PASS" : "FAIL"} | |`,
        ];
    });
    return [`| command (median of ${runs} pairs) | wall | peak memory, whole process tree | verdict | |`, "| --- | --: | --: | --- | --- |", ...rows].join("\n");
}

/** The traced run's steps in the order they started (those started together overlap), with their share of the whole command. */
export function formatTrace(steps: readonly TracedStep[], wallMs: number): string {
    const rows = [...steps].sort((a, b) => a.startMs - b.startMs).map((s) => `| ${s.step} | ${s.startMs.toFixed(0)} | ${s.ms.toFixed(0)} | ${((100 * s.ms) / wallMs).toFixed(0)} % |`);
    return [`One traced no-op \`npm run up -- --stack ${STACK}\`, ${(wallMs / 1000).toFixed(2)} s in all (npm's own start included):`, "", "| step | started at ms (from Node's start) | ms | share |", "| --- | --: | --: | --: |", ...rows].join("\n");
}

/** One run of `argv` in the project: its wall time and the peak memory of its whole process tree; throws when it fails. */
export async function measured(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Sample> {
    let sampler: { stop: () => number } | undefined;
    const command: Command = { argv, cwd: ROOT, env };
    const run = await runOnce(command, (pid) => (sampler = sampleTreeTotal(pid, 25)));
    const peakKiB = sampler?.stop() ?? 0;
    if (run.code !== 0) throw new Error(`${argv.join(" ")} exited ${run.code}:\n${lastLines(`${run.stdout}${run.stderr}`)}`);
    return { wallMs: run.wallMs, peakKiB };
}

export async function runCommandsBench(runs: number, write: boolean): Promise<Outcome> {
    const l = layout();
    let started = false;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-bench-commands-"));
    try {
        const running = await ensureRunning(l, progress);
        started = running.started;
        const { env } = running;
        progress(`bench: deploying the ${STACK} stack`);
        mustRun(["npm", "run", "--silent", "up", "--", "--stack", STACK], ROOT, env, `npm run up -- --stack ${STACK}`);
        const results: PairResult[] = PAIRS.map((p) => ({ id: p.id, launchpad: [], plain: [] }));
        for (let round = 0; round <= runs; round++) {
            const line: string[] = [];
            for (const [i, pair] of PAIRS.entries()) {
                // Taking turns: the plain CLI first in odd rounds, so that neither side always runs second.
                const order = round % 2 === 0 ? (["launchpad", "plain"] as const) : (["plain", "launchpad"] as const);
                for (const side of order) {
                    const s = await measured(pair[side], env);
                    line.push(`${side} ${pair.id} ${(s.wallMs / 1000).toFixed(2)}s ${(s.peakKiB / 1024).toFixed(0)}MiB`);
                    if (round > 0) (results[i][side] as Sample[]).push(s);
                }
            }
            progress(`${round === 0 ? "warm-up" : `round ${round}/${runs}`}: ${line.join(", ")}`);
        }
        const traceFile = path.join(dir, "trace.jsonl");
        const traced = await measured(PAIRS[0].launchpad, { ...env, LAUNCHPAD_TRACE: traceFile });
        const table = formatPairs(results, runs);
        const trace = formatTrace(readTrace(fs.readFileSync(traceFile, "utf8")), traced.wallMs);
        const out = ["", table, "", trace];
        if (write) {
            fs.writeFileSync(RESULTS_FILE, withSections(fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, "utf8") : "# Benchmark results\n", { commands: commandsSection(table, trace) }));
            out.push("", `wrote its section of ${path.relative(process.cwd(), RESULTS_FILE)}`);
        }
        const ok = results.every((r) => summarizePair(r).ok);
        return { code: ok ? 0 : 1, stdout: `${out.join("\n")}\n`, stderr: "" };
    } catch (error) {
        return { code: 1, stdout: "", stderr: `bench: ${(error as Error).message}\n` };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        if (started) await stop(l);
    }
}

/** The section of bench/RESULTS.md: how it was measured, the pairs, the traced run. */
export function commandsSection(table: string, trace: string): string {
    return [
        "## What users wait for: the whole commands against the plain Pulumi CLI",
        "",
        writtenBy("`npm run bench -- --commands`"),
        `Both on the testbed's \`${STACK}\` stack, deployed first, nothing to change; each run a fresh process, the two`,
        "taking turns in every round. Peak memory: the most the whole process tree (npm, launchpad, the CLI, the",
        "language host, the program, the providers) held at one moment, sampled every 25 ms.",
        "",
        table,
        "",
        trace,
    ].join("\n");
}
