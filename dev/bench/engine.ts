// `npm run bench -- --engine [--runs N] [--no-write]`: the real Pulumi engine on the testbed.
//
// Pairs launchpad's testbed stack with a plain @pulumi/kubernetes program of the same Kubernetes objects
// (dev/bench/plain), both on the testbed: `pulumi preview`, a no-op `pulumi up`, `up` after one
// source change and a first `up` of each, taking turns in every round (one warm-up, then `runs`),
// medians and ratios, and the budgets (preview and no-op up at most 1.2x the plain program). Writes its
// section of bench/RESULTS.md. Starts the testbed when it is not running, and stops it again.

import * as fs from "fs";
import * as path from "path";
import { recycleVolumes } from "../testbed/cluster";
import { CONTEXT, layout } from "../testbed/layout";
import { ensureRunning, stop } from "../testbed/lifecycle";
import { Command, lastLines, mustRun, runOnce } from "./measure";
import { summarize } from "./stats";
import type { Outcome } from "../../tools/cli";
import { RESULTS_FILE, withSections, writtenBy } from "./report";

const ROOT = path.resolve(__dirname, "..", "..");
const PLAIN = path.join(__dirname, "plain");
/** The backend source file the source-change row edits (and puts back). */
const BACKEND_SOURCE = path.join(ROOT, "apps", "backend", "src", "main.ts");
const STACK = "testbed";
const PLAIN_STACK = "bench";
const LIMIT = 1.2;

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** What each side does before a measured run of a row, unmeasured: a source change, a teardown. */
interface Side {
    readonly prepare: (round: number) => void;
}

/** One operation, as launchpad's stack and as the plain program run it. */
interface Row {
    readonly id: string;
    readonly label: string;
    readonly args: readonly string[];
    /** At most this ratio to the plain program; none: measured, not budgeted. */
    readonly limit?: number;
    readonly launchpad?: Side;
    readonly plain?: Side;
}

export interface EngineResult {
    readonly id: string;
    readonly label: string;
    readonly launchpadMs: number;
    readonly plainMs: number;
    readonly ratio: number;
    readonly limit?: number;
    readonly verdict: "PASS" | "FAIL" | "—";
}

/** The table the command prints and its section of bench/RESULTS.md holds. */
export function formatEngine(results: readonly EngineResult[], runs: number): string {
    return [
        `| operation (median of ${runs}) | launchpad | plain @pulumi/kubernetes | ratio | limit | verdict |`,
        "| --- | --: | --: | --: | --: | --- |",
        ...results.map((r) => `| ${r.label} | ${(r.launchpadMs / 1000).toFixed(2)} s | ${(r.plainMs / 1000).toFixed(2)} s | ${r.ratio.toFixed(2)}x | ${r.limit ? `${r.limit}x` : "—"} | ${r.verdict} |`),
    ].join("\n");
}

export async function runEngineBench(runs: number, write: boolean): Promise<Outcome> {
    const l = layout();
    let started = false;
    const source = fs.readFileSync(BACKEND_SOURCE, "utf8");
    try {
        const running = await ensureRunning(l, progress);
        started = running.started;
        const { env } = running;
        deployBoth(env);
        const rows = engineRows(env, source);
        const results = engineResults(rows, await measureRounds(rows, runs, env));
        const table = formatEngine(results, runs);
        const out = ["", table];
        if (write) {
            fs.writeFileSync(RESULTS_FILE, withSections(fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, "utf8") : "# Benchmark results\n", { engine: engineSection(table) }));
            out.push("", `wrote its section of ${path.relative(process.cwd(), RESULTS_FILE)}`);
        }
        return { code: results.every((r) => r.verdict !== "FAIL") ? 0 : 1, stdout: `${out.join("\n")}\n`, stderr: "" };
    } catch (error) {
        return { code: 1, stdout: "", stderr: `bench: ${(error as Error).message}\n` };
    } finally {
        fs.writeFileSync(BACKEND_SOURCE, source);
        if (started) await stop(l);
    }
}

/** The testbed stack's image references by image name, as the plain program's `images` config takes them. */
function launchpadImages(env: NodeJS.ProcessEnv): string {
    const outputs = JSON.parse(mustRun(["pulumi", "stack", "output", "--json", "--stack", STACK], ROOT, env, "pulumi stack output")) as Record<string, string>;
    return JSON.stringify(Object.fromEntries(["frontendImage", "backendImage", "databaseImage"].map((k) => [outputs[k].split("@")[0], outputs[k]])));
}

function plainConfig(env: NodeJS.ProcessEnv, key: string, value: string): void {
    mustRun(["pulumi", "config", "set", "--stack", PLAIN_STACK, key, value], PLAIN, env, `pulumi config set ${key} (plain)`);
}

/** Both deployed first (launchpad's images built and pushed); only what follows is measured. */
function deployBoth(env: NodeJS.ProcessEnv): void {
    progress("bench: deploying the testbed stack and the plain program");
    mustRun(["npm", "run", "--silent", "up", "--", "--stack", STACK], ROOT, env, "npm run up -- --stack testbed");
    mustRun(["pulumi", "stack", "select", "--create", PLAIN_STACK, "--non-interactive"], PLAIN, env, "pulumi stack select (plain)");
    for (const [key, value] of [["namespace", "launchpad-plain"], ["kubeContext", CONTEXT], ["images", launchpadImages(env)]]) plainConfig(env, key, value);
    mustRun(["pulumi", "up", "--yes", "--skip-preview", "--stack", PLAIN_STACK, "--non-interactive"], PLAIN, env, "pulumi up (plain)");
}

/** The operations measured, each with what both sides do before it. `source` is the backend's source as committed. */
function engineRows(env: NodeJS.ProcessEnv, source: string): readonly Row[] {
    const up = ["up", "--yes", "--skip-preview"];
    return [
        { id: "preview", label: "`pulumi preview` (no changes)", args: ["preview", "--expect-no-changes"], limit: LIMIT },
        { id: "noop-up", label: "no-op `pulumi up`", args: [...up, "--expect-no-changes"], limit: LIMIT },
        {
            // launchpad builds and pushes the changed backend image; the plain program is given the
            // digest that build made (its users build elsewhere), so both roll out the same change.
            id: "change-up",
            label: "`pulumi up` after one change in the backend's source (launchpad: its image build and push included)",
            args: up,
            launchpad: { prepare: (round) => fs.writeFileSync(BACKEND_SOURCE, `${source}\n// bench: engine round ${round} ${Date.now()}\n`) },
            plain: { prepare: () => plainConfig(env, "images", launchpadImages(env)) },
        },
        {
            // From nothing in the cluster (launchpad's data deleted too, so that it adopts nothing), with
            // every image already built and pushed: Docker's layer cache answers each build.
            id: "first-up",
            label: "first `pulumi up` of an empty namespace (images already built and pushed)",
            args: up,
            launchpad: {
                prepare: () => {
                    mustRun(["npm", "run", "--silent", "down", "--", "--stack", STACK, "--delete-data"], ROOT, env, "npm run down -- --delete-data");
                },
            },
            plain: { prepare: () => mustRun(["pulumi", "destroy", "--yes", "--skip-preview", "--stack", PLAIN_STACK, "--non-interactive"], PLAIN, env, "pulumi destroy (plain)") },
        },
    ];
}

/** One warm-up round, then `runs` rounds, the two sides taking turns on every row; the wall times of the measured rounds. */
async function measureRounds(rows: readonly Row[], runs: number, env: NodeJS.ProcessEnv): Promise<Map<string, { launchpad: number[]; plain: number[] }>> {
    const command = (cwd: string, stack: string, args: readonly string[]): Command => ({ argv: ["pulumi", ...args, "--stack", stack, "--non-interactive"], cwd, env });
    const samples = new Map(rows.map((r) => [r.id, { launchpad: [] as number[], plain: [] as number[] }]));
    for (let round = 0; round <= runs; round++) {
        const line: string[] = [];
        for (const row of rows) {
            for (const [who, cwd, stack] of [["launchpad", ROOT, STACK], ["plain", PLAIN, PLAIN_STACK]] as const) {
                row[who]?.prepare(round);
                if (row.id === "first-up") await recycleVolumes(env.KUBECONFIG as string);
                const run = await runOnce(command(cwd, stack, row.args));
                if (run.code !== 0) throw new Error(`${who} ${row.id} exited ${run.code}:\n${lastLines(`${run.stdout}${run.stderr}`)}`);
                line.push(`${who} ${row.id} ${(run.wallMs / 1000).toFixed(2)}s`);
                if (round > 0) samples.get(row.id)![who].push(run.wallMs);
            }
        }
        progress(`${round === 0 ? "warm-up" : `round ${round}/${runs}`}: ${line.join(", ")}`);
    }
    return samples;
}

/** Each row's medians, their ratio and its verdict against the row's limit. */
function engineResults(rows: readonly Row[], samples: ReadonlyMap<string, { launchpad: number[]; plain: number[] }>): EngineResult[] {
    return rows.map((row) => {
        const s = samples.get(row.id)!;
        const launchpadMs = summarize(s.launchpad).median;
        const plainMs = summarize(s.plain).median;
        const ratio = launchpadMs / plainMs;
        const verdict = row.limit === undefined ? "—" : ratio <= row.limit ? "PASS" : "FAIL";
        return { id: row.id, label: row.label, launchpadMs, plainMs, ratio, limit: row.limit, verdict };
    });
}

/** The section of bench/RESULTS.md: how it was measured, then the table. */
function engineSection(table: string): string {
    return [
        "## The real engine: launchpad vs. a plain @pulumi/kubernetes program",
        "",
        writtenBy("`npm run bench -- --engine`"),
        "Both on the testbed (README \"Test against real parts\"), each run a fresh `pulumi` process; the two programs",
        "take turns in every round. The plain program (dev/bench/plain) creates the same Kubernetes objects as",
        "plain resources, without components, config validation, image builds or the dynamic resources.",
        "What each side does before a measured run (a source change, a teardown) is not measured.",
        "",
        table,
    ].join("\n");
}
