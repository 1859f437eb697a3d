// `npm run bench -- --engine [--runs N] [--no-write]`: the real Pulumi engine on the testbed.
//
// Pairs launchpad's testbed stack with a plain @pulumi/kubernetes program of the same Kubernetes objects
// (tools/bench/plain), both on the testbed: `pulumi preview` and a no-op `pulumi up` of each, taking turns
// in every round (one warm-up, then `runs`), medians and ratios, and the budgets (at most 1.2x the plain
// program). Writes bench/ENGINE.md. Starts the testbed when it is not running, and stops it again.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONTEXT, layout } from "../testbed/layout";
import { ensureRunning, stop } from "../testbed/lifecycle";
import { Command, runOnce } from "./measure";
import { summarize } from "./stats";
import type { Outcome } from "../render/cli";

const ROOT = path.resolve(__dirname, "..", "..");
const PLAIN = path.join(__dirname, "plain");
export const ENGINE_RESULTS_FILE = path.join(ROOT, "bench", "ENGINE.md");
const STACK = "testbed";
const PLAIN_STACK = "bench";
const LIMIT = 1.2;

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** One operation, as launchpad's stack and as the plain program run it. */
interface Row {
    readonly id: string;
    readonly label: string;
    readonly args: readonly string[];
}

const ROWS: readonly Row[] = [
    { id: "preview", label: "`pulumi preview` (no changes)", args: ["preview", "--expect-no-changes"] },
    { id: "noop-up", label: "no-op `pulumi up`", args: ["up", "--yes", "--skip-preview", "--expect-no-changes"] },
];

function must(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, what: string): string {
    const r = spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${`${r.stdout}${r.stderr}`.trim().split("\n").slice(-15).join("\n")}`);
    return r.stdout;
}

export interface EngineResult {
    readonly id: string;
    readonly label: string;
    readonly launchpadMs: number;
    readonly plainMs: number;
    readonly ratio: number;
    readonly verdict: "PASS" | "FAIL";
}

/** The table the command prints and ENGINE.md holds. */
export function formatEngine(results: readonly EngineResult[], runs: number): string {
    return [
        `| operation (median of ${runs}) | launchpad | plain @pulumi/kubernetes | ratio | limit | verdict |`,
        "| --- | --: | --: | --: | --: | --- |",
        ...results.map((r) => `| ${r.label} | ${(r.launchpadMs / 1000).toFixed(2)} s | ${(r.plainMs / 1000).toFixed(2)} s | ${r.ratio.toFixed(2)}x | ${LIMIT}x | ${r.verdict} |`),
    ].join("\n");
}

export async function runEngineBench(runs: number, write: boolean): Promise<Outcome> {
    const l = layout();
    let started = false;
    try {
        const running = await ensureRunning(l, progress);
        started = running.started;
        const { env } = running;
        // Both deployed first (launchpad's images built and pushed); only what follows is measured.
        progress("bench: deploying the testbed stack and the plain program");
        must(["npm", "run", "--silent", "up", "--", "--stack", STACK], ROOT, env, "npm run up -- --stack testbed");
        const outputs = JSON.parse(must(["pulumi", "stack", "output", "--json", "--stack", STACK], ROOT, env, "pulumi stack output")) as Record<string, string>;
        const images = Object.fromEntries(["frontendImage", "backendImage", "databaseImage"].map((k) => [outputs[k].split("@")[0], outputs[k]]));
        must(["pulumi", "stack", "select", "--create", PLAIN_STACK, "--non-interactive"], PLAIN, env, "pulumi stack select (plain)");
        for (const [key, value] of [["namespace", "launchpad-plain"], ["kubeContext", CONTEXT], ["images", JSON.stringify(images)]]) {
            must(["pulumi", "config", "set", "--stack", PLAIN_STACK, key, value], PLAIN, env, `pulumi config set ${key} (plain)`);
        }
        must(["pulumi", "up", "--yes", "--skip-preview", "--stack", PLAIN_STACK, "--non-interactive"], PLAIN, env, "pulumi up (plain)");

        const command = (cwd: string, stack: string, args: readonly string[]): Command => ({ argv: ["pulumi", ...args, "--stack", stack, "--non-interactive"], cwd, env });
        const samples = new Map(ROWS.map((r) => [r.id, { launchpad: [] as number[], plain: [] as number[] }]));
        for (let round = 0; round <= runs; round++) {
            const line: string[] = [];
            for (const row of ROWS) {
                for (const [who, cwd, stack] of [["launchpad", ROOT, STACK], ["plain", PLAIN, PLAIN_STACK]] as const) {
                    const run = await runOnce(command(cwd, stack, row.args));
                    if (run.code !== 0) throw new Error(`${who} ${row.id} exited ${run.code}:\n${`${run.stdout}${run.stderr}`.trim().split("\n").slice(-15).join("\n")}`);
                    line.push(`${who} ${row.id} ${(run.wallMs / 1000).toFixed(2)}s`);
                    if (round > 0) samples.get(row.id)![who].push(run.wallMs);
                }
            }
            progress(`${round === 0 ? "warm-up" : `round ${round}/${runs}`}: ${line.join(", ")}`);
        }
        const results: EngineResult[] = ROWS.map((row) => {
            const s = samples.get(row.id)!;
            const launchpadMs = summarize(s.launchpad).median;
            const plainMs = summarize(s.plain).median;
            const ratio = launchpadMs / plainMs;
            return { id: row.id, label: row.label, launchpadMs, plainMs, ratio, verdict: ratio <= LIMIT ? "PASS" : "FAIL" };
        });
        const table = formatEngine(results, runs);
        const out = ["", table];
        if (write) {
            const text = [
                "# The real engine: launchpad vs. a plain @pulumi/kubernetes program",
                "",
                `Written by \`npm run bench -- --engine\` on ${new Date().toISOString().slice(0, 10)} (Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}).`,
                "Both on the testbed (README \"Test against real parts\"), each run a fresh `pulumi` process; the two programs",
                "take turns in every round. The plain program (tools/bench/plain) creates the same Kubernetes objects as",
                "plain resources, without components, config validation, image builds or the dynamic resources.",
                "",
                table,
                "",
            ].join("\n");
            fs.writeFileSync(ENGINE_RESULTS_FILE, text);
            out.push("", `wrote ${path.relative(process.cwd(), ENGINE_RESULTS_FILE)}`);
        }
        return { code: results.every((r) => r.verdict === "PASS") ? 0 : 1, stdout: `${out.join("\n")}\n`, stderr: "" };
    } catch (error) {
        return { code: 1, stdout: "", stderr: `bench: ${(error as Error).message}\n` };
    } finally {
        if (started) await stop(l);
    }
}
