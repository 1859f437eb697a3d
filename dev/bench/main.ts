// `npm run bench`: see COMMAND.
//
// Measures whole processes (wall time, peak memory): the floor (a program of the two SDKs alone), the dev
// stack's program as `pulumi preview` starts it (Pulumi's runtime entry, against a fake engine),
// `npm run render`, synthetic apps of 1 to 100 web services, and the test suite; checks the budgets
// (budget.ts) and writes bench/RESULTS.md. Each command runs once to warm up, then `--runs` times (default 5), the commands taking turns so that a busy moment on the machine
// slows all of them alike. Exit 0: every budget passes. 1: a budget fails or a command failed. 2: usage.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Measured, checkBudgets } from "./budget";
import { Case, benchCases, suiteCommand, typeCheckedTsconfig } from "./cases";
import { runOnce } from "./measure";
import { BenchReport, CaseResult, Marginal, SuiteResult, SuiteTimes, formatBudgets, formatCases, formatMarginal, formatSuite, renderResults, RESULTS_FILE, sectionsOf, withSections } from "./report";
import { linearFit, summarize } from "./stats";
import { type CommandSpec, exitWith, type Flags, helpOutcome, Outcome, readCommandLine, runCommand, UsageError } from "../../tools/cli";

const ROOT = path.resolve(__dirname, "..", "..");
/** Web services of the load run unless `--services` says otherwise. */
export const LOAD_SERVICES = 50;

export const COMMAND: CommandSpec = {
    name: "bench",
    synopsis: "[--runs N] [--suite-runs N] [--only id,id] [--no-write] | --engine | --commands | --patches | --devloop [--runs N] | --load [--services N] | --host-share [--stack S] [--project DIR]",
    about:
        "Measures whole processes (wall time, peak memory) against the performance budgets and writes bench/RESULTS.md: by default\n" +
        "launchpad's commands against a fake engine; --engine, --load and --host-share measure the real engine on the testbed\n" +
        "(its env file sourced).",
    options: [
        { flag: "--runs", value: "N", doc: "measured runs of each command, after one warm-up run (default 5)" },
        { flag: "--suite-runs", value: "N", doc: "runs of the whole test suite (default 1; 0 leaves it out)" },
        { flag: "--only", value: "id,id", doc: "only these commands (the floor is always measured); bench/RESULTS.md is left as it was" },
        { flag: "--no-write", doc: "print the figures, leave bench/RESULTS.md as it was" },
        { flag: "--engine", doc: "launchpad against a plain @pulumi/kubernetes program on the real engine" },
        { flag: "--commands", doc: "no-op npm run up and npm run preview against the plain Pulumi CLI on the testbed, and launchpad's own time step by step" },
        { flag: "--patches", doc: "each SDK patch's share of a no-op npm run up on the testbed, switched off in turns" },
        { flag: "--devloop", doc: "save → Ready for a one-line backend change: npm run dev and npm run up against the floor by hand, on the testbed" },
        { flag: "--load", doc: "deploy --services web services on the real engine: time and each process's peak memory" },
        { flag: "--services", value: "N", doc: `with --load: how many web services (default ${LOAD_SERVICES})` },
        { flag: "--host-share", doc: "the program's share of a no-op pulumi preview" },
        { flag: "--stack", value: "S", doc: "with --host-share: the stack (default testbed)" },
        { flag: "--project", value: "DIR", doc: "with --host-share: the project folder (default this one)" },
    ],
};

export interface BenchArgs {
    /** Measured runs of each command, after one warm-up run. */
    readonly runs: number;
    /** Runs of the whole test suite (0: not measured). */
    readonly suiteRuns: number;
    /** Only the commands with these ids (the floor is always measured). */
    readonly only?: readonly string[];
    readonly write: boolean;
    /** The real-engine rows on the testbed instead (dev/bench/engine.ts). */
    readonly engine: boolean;
    /** The whole commands against the plain Pulumi CLI on the testbed instead (dev/bench/commands.ts). */
    readonly commands: boolean;
    /** Each SDK patch's share of a no-op `npm run up` on the testbed instead (dev/bench/patches.ts). */
    readonly patches: boolean;
    /** Save → Ready of the dev loop on the testbed instead (dev/bench/devloop.ts). */
    readonly devloop: boolean;
    /** The load run on the testbed instead (dev/bench/load.ts), with this many web services. */
    readonly load?: number;
    /** The program's share of a no-op `pulumi preview` instead (dev/bench/hostShare.ts), on this stack in this project. */
    readonly hostShare?: { readonly stack: string; readonly project: string };
}

function count(flags: Flags, flag: string, fallback: number, least: number): number {
    const values = flags.get(flag);
    if (!values) return fallback;
    const value = Number(values[values.length - 1]);
    if (!Number.isInteger(value) || value < least) throw new UsageError(`${flag} takes a whole number of ${least} or more, not ${JSON.stringify(values[values.length - 1])}`);
    return value;
}

/** Parses the command line; "help" for --help; throws UsageError. */
export function parseArgs(argv: readonly string[]): BenchArgs | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    const last = (flag: string) => flags.get(flag)?.at(-1);
    if (!flags.has("--host-share") && (flags.has("--stack") || flags.has("--project"))) throw new UsageError("--stack and --project go with --host-share");
    const only = flags.get("--only")?.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
    return {
        runs: count(flags, "--runs", 5, 1),
        suiteRuns: count(flags, "--suite-runs", 1, 0),
        only,
        write: !flags.has("--no-write"),
        engine: flags.has("--engine"),
        commands: flags.has("--commands"),
        patches: flags.has("--patches"),
        devloop: flags.has("--devloop"),
        ...(flags.has("--load") ? { load: count(flags, "--services", LOAD_SERVICES, 1) } : {}),
        ...(flags.has("--host-share") ? { hostShare: { stack: last("--stack") ?? "testbed", project: last("--project") ?? ROOT } } : {}),
    };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const MiB = 1024;

interface Samples {
    readonly wallMs: number[];
    readonly rssKiB: number[];
    failure?: string;
}

/** Runs the commands in turns: one warm-up round, then `runs` measured rounds. */
async function measureCases(cases: readonly Case[], runs: number): Promise<Map<Case, Samples>> {
    const samples = new Map<Case, Samples>(cases.map((c) => [c, { wallMs: [], rssKiB: [] }]));
    for (let round = 0; round <= runs; round++) {
        const line: string[] = [];
        for (const c of cases) {
            const s = samples.get(c)!;
            if (s.failure) continue;
            const run = await runOnce(c.command);
            const problem = c.check(run);
            if (problem) {
                s.failure = problem;
                progress(`  ${c.id} failed: ${problem}`);
                continue;
            }
            line.push(`${c.id} ${(run.wallMs / 1000).toFixed(2)}s`);
            if (round === 0) continue;
            s.wallMs.push(run.wallMs);
            if (run.maxRssKiB !== undefined) s.rssKiB.push(run.maxRssKiB);
        }
        progress(`${round === 0 ? "warm-up" : `round ${round}/${runs}`}: ${line.join(", ")}`);
    }
    return samples;
}

function caseResult(c: Case, s: Samples): CaseResult {
    return {
        id: c.id,
        label: c.label,
        wallMs: summarize(s.wallMs),
        rssMiB: s.rssKiB.length === s.wallMs.length ? summarize(s.rssKiB.map((k) => k / MiB)) : undefined,
        note: c.note,
    };
}

/** The cost of one more web service, from the fleet cases' medians. */
export function marginalCost(points: readonly { readonly services: number; readonly result: CaseResult }[]): Marginal | undefined {
    if (points.length < 2) return undefined;
    const bySize = [...points].sort((a, b) => a.services - b.services);
    const [first, last] = [bySize[0], bySize[bySize.length - 1]];
    const span = last.services - first.services;
    if (span === 0) return undefined;
    const memory = bySize.every((p) => p.result.rssMiB !== undefined);
    return {
        time: linearFit(bySize.map((p) => ({ x: p.services, y: p.result.wallMs.median }))),
        timeDifferenceMs: (last.result.wallMs.median - first.result.wallMs.median) / span,
        memory: memory ? linearFit(bySize.map((p) => ({ x: p.services, y: p.result.rssMiB!.median }))) : undefined,
        memoryDifferenceMiB: memory ? (last.result.rssMiB!.median - first.result.rssMiB!.median) / span : undefined,
    };
}

async function measureSuite(runs: number): Promise<SuiteResult | string> {
    const walls: number[] = [];
    let times: SuiteTimes | undefined;
    for (let i = 1; i <= runs; i++) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-bench-suite-"));
        try {
            const out = path.join(dir, "times.json");
            const run = await runOnce(suiteCommand(ROOT, out));
            if (!fs.existsSync(out)) return `mocha exited ${run.code} before running tests: ${run.stderr.trim().split("\n").slice(-5).join("\n")}`;
            times = JSON.parse(fs.readFileSync(out, "utf8")) as SuiteTimes;
            walls.push(run.wallMs);
            progress(`test suite ${i}/${runs}: ${(run.wallMs / 1000).toFixed(1)}s, ${times.passed} passed, ${times.failed} failed`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    return { wallMs: summarize(walls), passed: times!.passed, failed: times!.failed, loadMs: times!.loadMs, files: times!.files };
}

/** Measures the commands `--only` chose (all by default) in a scratch folder it removes after, against the fake engine. */
async function measureChosen(args: BenchArgs): Promise<Outcome | { chosen: Case[]; samples: Map<Case, Samples>; suiteRuns: number }> {
    const harness = require("../../tools/harness") as typeof import("../../tools/harness");
    const { startFakeEngine } = require("./fakeEngine") as typeof import("./fakeEngine");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-bench-"));
    const engine = await startFakeEngine();
    try {
        const all = benchCases({ root: ROOT, devConfig: harness.stackConfig("dev"), renderOut: path.join(scratch, "rendered"), typeChecked: typeCheckedTsconfig(ROOT, scratch), scratch, engine });
        const unknown = (args.only ?? []).filter((id) => id !== "suite" && !all.some((c) => c.id === id));
        if (unknown.length > 0) throw new UsageError(`--only names no command ${unknown.join(", ")}; ids: ${all.map((c) => c.id).join(", ")}, suite`);
        const chosen = all.filter((c) => !args.only || c.id === "floor" || args.only.includes(c.id));
        const suiteRuns = !args.only || args.only.includes("suite") ? args.suiteRuns : 0;
        progress(`bench: ${chosen.length} commands × (1 warm-up + ${args.runs} runs)${suiteRuns ? `, then the test suite × ${suiteRuns}` : ""}`);
        return { chosen, samples: await measureCases(chosen, args.runs), suiteRuns };
    } finally {
        await engine.stop();
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

export async function runBench(argv: readonly string[]): Promise<Outcome> {
    return runCommand(COMMAND, () => bench(argv));
}

async function bench(argv: readonly string[]): Promise<Outcome> {
    const args = parseArgs(argv);
    if (args === "help") return helpOutcome(COMMAND);
    if (args.load !== undefined) return (require("./load") as typeof import("./load")).runLoadBench(args.load, args.write);
    if (args.devloop) return (require("./devloop") as typeof import("./devloop")).runDevloopBench(args.runs, args.write);
    if (args.patches) return (require("./patches") as typeof import("./patches")).runPatchesBench(args.runs, args.write);
    if (args.commands) return (require("./commands") as typeof import("./commands")).runCommandsBench(args.runs, args.write);
    if (args.engine) return (require("./engine") as typeof import("./engine")).runEngineBench(args.runs, args.write);
    if (args.hostShare) return (require("./hostShare") as typeof import("./hostShare")).runHostShare({ runs: args.runs, ...args.hostShare });

    const started = Date.now();
    const loadBefore = os.loadavg();
    const measuredCases = await measureChosen(args);
    if ("code" in measuredCases) return measuredCases;
    const { chosen, samples, suiteRuns } = measuredCases;
    const suite = suiteRuns > 0 ? await measureSuite(suiteRuns) : undefined;

    const failures = [...samples].filter(([, s]) => s.failure).map(([c, s]) => `${c.id}: ${s.failure}`);
    if (typeof suite === "string") failures.push(`suite: ${suite}`);
    const results = new Map(chosen.filter((c) => !samples.get(c)!.failure).map((c) => [c.id, caseResult(c, samples.get(c)!)]));
    const floor = results.get("floor");
    const relative = (id: string) => (floor && results.has(id) ? results.get(id)!.wallMs.median / floor.wallMs.median : undefined);
    const fleet = (startedBy: Case["startedBy"]) =>
        marginalCost(chosen.filter((c) => c.services !== undefined && c.startedBy === startedBy && results.has(c.id)).map((c) => ({ services: c.services!, result: results.get(c.id)! })));
    const marginal = fleet("launchpad");
    const marginalAsTyped = fleet("pulumi");
    const suiteResult = typeof suite === "object" ? suite : undefined;
    const measured: Measured = {
        devProgram: relative("devNpm"),
        perServiceTime: marginal?.time.slope,
        perServiceMemory: marginal?.memory && marginalAsTyped?.memory ? marginal.memory.slope / marginalAsTyped.memory.slope : undefined,
        render: relative("render"),
        testSuite: suiteResult ? suiteResult.wallMs.median / 1000 : undefined,
    };
    const report: BenchReport = {
        date: new Date().toISOString().slice(0, 10),
        machine: { node: process.version, cpu: os.cpus()[0]?.model ?? "unknown CPU", cores: os.cpus().length, loadBefore, loadAfter: os.loadavg() },
        runs: args.runs,
        cases: [...results.values()],
        floor: "floor",
        marginal,
        marginalAsTyped,
        suite: suiteResult,
        budgets: checkBudgets(measured),
        seconds: (Date.now() - started) / 1000,
    };

    const out = ["", formatCases(report.cases, "floor")];
    if (marginal || marginalAsTyped) out.push("", formatMarginal(marginal, marginalAsTyped));
    if (suiteResult) out.push("", formatSuite(suiteResult));
    out.push("", formatBudgets(report.budgets));
    if (failures.length > 0) out.push("", "commands that failed (not measured):", ...failures.map((f) => `  ${f}`));
    const complete = !args.only && failures.length === 0;
    if (args.write && complete) {
        fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
        const kept = fs.existsSync(RESULTS_FILE) ? sectionsOf(fs.readFileSync(RESULTS_FILE, "utf8")) : {};
        fs.writeFileSync(RESULTS_FILE, withSections(renderResults(report), kept));
        out.push("", `wrote ${path.relative(process.cwd(), RESULTS_FILE)} (${report.seconds.toFixed(0)} s)`);
    } else if (args.write) {
        out.push("", `${path.relative(process.cwd(), RESULTS_FILE)} left as it was: ${args.only ? "--only measures part of the benchmark" : "a command failed"}`);
    }
    const ok = failures.length === 0 && report.budgets.every((b) => b.verdict === "PASS");
    return { code: ok ? 0 : 1, stdout: `${out.join("\n")}\n`, stderr: "" };
}

if (require.main === module) exitWith(runBench(process.argv.slice(2)));
