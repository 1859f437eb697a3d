import { Budget, BudgetLine } from "./budget";
import { LinearFit, Summary } from "./stats";

// Formats what `npm run bench` measured: the tables it prints and bench/RESULTS.md. Pure: numbers in,
// text out.

/** One benchmarked command, run several times. */
export interface CaseResult {
    readonly id: string;
    readonly label: string;
    /** Whole-process wall time of each run, in milliseconds. */
    readonly wallMs: Summary;
    /** Peak resident memory of each run, in MiB; absent when it could not be measured. */
    readonly rssMiB?: Summary;
    /** What the reader must know about the runs, e.g. the resources each registered. */
    readonly note?: string;
}

/** The cost of one more web service, from the synthetic apps. */
export interface Marginal {
    readonly time: LinearFit;
    readonly memory?: LinearFit;
    /** (cost at the largest size − cost at the smallest) / (difference in services): a cross-check of the fit. */
    readonly timeDifferenceMs: number;
    readonly memoryDifferenceMiB?: number;
}

/** What tools/bench/suiteReporter.ts writes for one run of the suite. */
export interface SuiteTimes {
    /** From process start until mocha began running tests: Node, ts-node and requiring every test file. */
    readonly loadMs: number;
    readonly passed: number;
    readonly failed: number;
    /** Time in each test file's suites, hooks included, slowest first. */
    readonly files: readonly { readonly file: string; readonly ms: number; readonly tests: number }[];
}

export interface SuiteResult extends SuiteTimes {
    readonly wallMs: Summary;
}

export interface Machine {
    readonly node: string;
    readonly cpu: string;
    readonly cores: number;
    readonly loadBefore: readonly number[];
    readonly loadAfter: readonly number[];
}

export interface BenchReport {
    readonly date: string;
    readonly machine: Machine;
    readonly runs: number;
    readonly cases: readonly CaseResult[];
    /** The id of the floor among `cases`. */
    readonly floor: string;
    readonly marginal?: Marginal;
    readonly suite?: SuiteResult;
    readonly budgets: readonly BudgetLine[];
    readonly seconds: number;
}

/** A Markdown table whose columns line up in a terminal too. `align` is per column, left by default. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ("l" | "r")[] = []): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const pad = (cell: string, i: number) => (align[i] === "r" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]));
    const line = (cells: readonly string[]) => `| ${header.map((_, i) => pad(cells[i] ?? "", i)).join(" | ")} |`;
    const rule = `|${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
    return [line(header), rule, ...rows.map(line)].join("\n");
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const mib = (value: number): string => `${value.toFixed(0)} MiB`;
export const ratio = (value: number): string => `${value.toFixed(2)}x`;

function spread(s: Summary, format: (v: number) => string): string {
    return `${format(s.min)}–${format(s.max)} (IQR ${format(s.q1)}–${format(s.q3)})`;
}

/** The main table: median wall time and peak memory of each command, and their ratio to the floor's. */
export function formatCases(cases: readonly CaseResult[], floorId: string): string {
    const floor = cases.find((c) => c.id === floorId);
    const rows = cases.map((c) => [
        c.label,
        String(c.wallMs.runs),
        seconds(c.wallMs.median),
        floor ? ratio(c.wallMs.median / floor.wallMs.median) : "",
        spread(c.wallMs, (v) => (v / 1000).toFixed(2)),
        c.rssMiB ? mib(c.rssMiB.median) : "n/a",
        c.rssMiB && floor?.rssMiB ? ratio(c.rssMiB.median / floor.rssMiB.median) : "",
        c.note ?? "",
    ]);
    return formatTable(
        ["command", "runs", "wall (median)", "× floor", "wall min–max s (IQR)", "peak RSS (median)", "× floor", "notes"],
        rows,
        ["l", "r", "r", "r", "l", "r", "r", "l"],
    );
}

function formatValue(value: number, unit: Budget["unit"]): string {
    switch (unit) {
        case "x floor": return ratio(value);
        case "ms": return `${value.toFixed(1)} ms`;
        case "MiB": return `${value.toFixed(2)} MiB`;
        case "s": return `${value.toFixed(1)} s`;
    }
}

export function formatBudgets(lines: readonly BudgetLine[]): string {
    return formatTable(
        ["budget", "measured", "limit", "verdict"],
        lines.map(({ budget, measured, verdict }) => [
            budget.what,
            measured === undefined ? "not measured" : formatValue(measured, budget.unit),
            `${budget.strict ? "<" : "<="} ${formatValue(budget.limit, budget.unit)}`,
            verdict,
        ]),
        ["l", "r", "r", "l"],
    );
}

export function formatMarginal(m: Marginal): string {
    const rows = [["wall time", `${m.time.slope.toFixed(1)} ms`, `${seconds(m.time.intercept)}`, m.time.r2.toFixed(3), `${m.timeDifferenceMs.toFixed(1)} ms`]];
    if (m.memory) {
        rows.push(["peak RSS", `${m.memory.slope.toFixed(2)} MiB`, mib(m.memory.intercept), m.memory.r2.toFixed(3), m.memoryDifferenceMiB === undefined ? "n/a" : `${m.memoryDifferenceMiB.toFixed(2)} MiB`]);
    }
    return formatTable(["per web service", "slope (least squares)", "intercept", "r²", "largest − smallest, per service"], rows, ["l", "r", "r", "r", "r"]);
}

export function formatSuite(suite: SuiteResult, top = 10): string {
    const shown = suite.files.slice(0, top);
    const rows = shown.map((f) => [f.file, String(f.tests), seconds(f.ms)]);
    rows.push(["(loading: Node, ts-node and every test file, before the first test)", "", seconds(suite.loadMs)]);
    const rest = suite.files.slice(top);
    if (rest.length > 0) rows.push([`(${rest.length} other files)`, String(rest.reduce((n, f) => n + f.tests, 0)), seconds(rest.reduce((ms, f) => ms + f.ms, 0))]);
    return formatTable(["test file", "tests", "time, hooks included"], rows, ["l", "r", "r"]);
}

/** Where the budgets' floor stands against what any TypeScript program pays: the minimal program's ratios. */
function reference(report: BenchReport): string[] {
    const wall = (id: string) => report.cases.find((c) => c.id === id)?.wallMs.median;
    const [floor, minimal, dev] = [wall(report.floor), wall("minimal"), wall("dev")];
    if (floor === undefined || minimal === undefined || dev === undefined) return [];
    return ["", `For reference: the minimal TypeScript program (one Namespace, loaded the same way) takes ${ratio(minimal / floor)} the floor's time, and the dev program ${ratio(dev / minimal)} the minimal program's.`];
}

/** bench/RESULTS.md. */
export function renderResults(report: BenchReport): string {
    const { machine } = report;
    const failed = report.budgets.filter((b) => b.verdict === "FAIL").length;
    const parts = [
        "# Benchmark results",
        "",
        `Written by \`npm run bench\` on ${report.date} in ${report.seconds.toFixed(0)} s. Node ${machine.node}, ${machine.cpu}, ${machine.cores} cores;`
        + ` load average ${machine.loadBefore.map((l) => l.toFixed(2)).join(" ")} before and ${machine.loadAfter.map((l) => l.toFixed(2)).join(" ")} after.`
        + " The machine is shared and noisy: quote medians and ratios to the floor (measured in the same session), not single runs.",
        "",
        `## Budgets: ${failed === 0 ? "all pass" : `${failed} of ${report.budgets.length} fail`}`,
        "",
        formatBudgets(report.budgets),
        ...reference(report),
        "",
        `## Whole-process wall time and peak memory (median of ${report.runs} runs after a warm-up)`,
        "",
        formatCases(report.cases, report.floor),
    ];
    if (report.marginal) parts.push("", "## Cost of one more web service (synthetic apps, linear fit of the medians)", "", formatMarginal(report.marginal));
    if (report.suite) {
        parts.push(
            "",
            `## Test suite: ${seconds(report.suite.wallMs.median)} wall, ${report.suite.passed} passed, ${report.suite.failed} failed`,
            "",
            formatSuite(report.suite),
        );
    }
    parts.push("", "## How it is measured", "", ...HOW.map((line) => `- ${line}`), "");
    return parts.join("\n");
}

const HOW = [
    "Every figure is a whole process, started fresh, timed from spawn to exit; peak memory is its maximum resident set size (GNU time's `%M`).",
    "**floor**: `node -e` that only requires `@pulumi/pulumi` and `@pulumi/kubernetes`, the least any Pulumi TypeScript program on Kubernetes loads.",
    "**dev program**: `tools/bench/host.js` loads the program as Pulumi's Node runtime does (`cmd/run/run.js`): Pulumi.yaml's `main` (`tools/launch/main.js`, which compiles whatever changed in `index.ts` and its imports to `bin/` and loads the JavaScript), with ts-node registered first only if the runtime option `typescript` is on (it is off), inside the root Stack resource, with the `dev` stack's config in `PULUMI_CONFIG`; the harness's recording mocks stand in for the engine. *as deployed* is every run but the first after an edit: `bin/` is current. *first run on a fresh clone* compiles every file into an empty folder. *through ts-node* loads `index.ts` as Pulumi loads a TypeScript program by default (the runtime registers ts-node with the options run.js derives from the tsconfig), transpile-only with swc, or type-checked (the tsconfig without swc, via PULUMI_NODEJS_TSCONFIG_PATH). *through cmd/run* starts the runtime's real entry point instead, with its tracing and its own source-map support: what a user waits for, less the engine.",
    "**minimal program**: `tools/bench/minimalProgram.ts`, one Namespace, loaded the same way as the dev program (`tools/launch`): what any TypeScript program on `@pulumi/kubernetes` pays before its own code counts.",
    "**render**: the `render` script of package.json with `--stack dev --out <temporary folder>`, without npm's own start-up.",
    "**fleet N**: `tools/bench/fleetProgram.ts`, N WebServices (Deployment, Service, autoscaler and disruption budget each) in one namespace, loaded like the dev program.",
    "**test suite**: `mocha` with the project's .mocharc and a reporter that times each test file.",
];

/**
 * The sections of bench/RESULTS.md that runs on the testbed write, each after its marker, in this order
 * after the mock-engine tables; `npm run bench` keeps them when it rewrites the rest.
 */
export const SECTIONS = {
    engine: "<!-- the real engine: written by npm run bench -- --engine -->",
    load: "<!-- load on the real engine: written by npm run bench -- --load -->",
} as const;
export type SectionName = keyof typeof SECTIONS;

/** The testbed sections of bench/RESULTS.md, and the rest of it (the mock-engine tables) before them. */
function splitSections(results: string): { head: string; sections: Partial<Record<SectionName, string>> } {
    const found = (Object.keys(SECTIONS) as SectionName[])
        .map((name) => ({ name, at: results.indexOf(SECTIONS[name]) }))
        .filter((f) => f.at >= 0)
        .sort((a, b) => a.at - b.at);
    const sections: Partial<Record<SectionName, string>> = {};
    found.forEach((f, i) => {
        sections[f.name] = results.slice(f.at + SECTIONS[f.name].length, found[i + 1]?.at ?? results.length).trim();
    });
    return { head: (found.length > 0 ? results.slice(0, found[0].at) : results).trimEnd(), sections };
}

/** `results` with the testbed sections given replaced (or added), every other section kept, in SECTIONS' order. */
export function withSections(results: string, replace: Partial<Record<SectionName, string>>): string {
    const { head, sections } = splitSections(results);
    const merged = { ...sections, ...replace };
    const parts = (Object.keys(SECTIONS) as SectionName[])
        .filter((name) => merged[name])
        .map((name) => `${SECTIONS[name]}\n${merged[name]!.trim()}\n`);
    return [`${head}\n`, ...parts].join("\n");
}

/** The testbed sections of an existing bench/RESULTS.md, for `npm run bench` to keep. */
export function sectionsOf(results: string): Partial<Record<SectionName, string>> {
    return splitSections(results).sections;
}
