import * as os from "node:os";
import * as path from "path";
import { Budget, BudgetLine } from "./budget";
import { LinearFit, Summary } from "./stats";

// Formats what `npm run bench` measured: the tables it prints and bench/RESULTS.md. Pure: numbers in,
// text out.

/** The results document every part of the benchmark writes its section of. */
export const RESULTS_FILE = path.join(__dirname, "..", "..", "bench", "RESULTS.md");

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

/** What dev/bench/suiteReporter.ts writes for one run of the suite. */
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
    /** One more web service, as `npm run preview` starts the program: what the budgets hold. */
    readonly marginal?: Marginal;
    /** The same as `pulumi preview` starts it, for reference. */
    readonly marginalAsTyped?: Marginal;
    readonly suite?: SuiteResult;
    readonly budgets: readonly BudgetLine[];
    readonly seconds: number;
}

/** The first line of a section a run on this machine writes: which command, the day, and the machine. */
export function writtenBy(command: string): string {
    return `Written by ${command} on ${new Date().toISOString().slice(0, 10)} (Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}).`;
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
        case "x floor":
        case "x SDK": return ratio(value);
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

/** The cost of one more web service as `npm run preview` starts the program (budgeted), and as `pulumi preview` does. */
export function formatMarginal(m: Marginal | undefined, asTyped?: Marginal): string {
    const rows: string[][] = [];
    const add = (x: Marginal, how: string) => {
        rows.push([`wall time, ${how}`, `${x.time.slope.toFixed(1)} ms`, `${seconds(x.time.intercept)}`, x.time.r2.toFixed(3), `${x.timeDifferenceMs.toFixed(1)} ms`]);
        if (x.memory) {
            rows.push([`peak RSS, ${how}`, `${x.memory.slope.toFixed(2)} MiB`, mib(x.memory.intercept), x.memory.r2.toFixed(3), x.memoryDifferenceMiB === undefined ? "n/a" : `${x.memoryDifferenceMiB.toFixed(2)} MiB`]);
        }
    };
    if (m) add(m, "as `npm run preview` starts it");
    if (asTyped) add(asTyped, "as `pulumi preview` starts it");
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
    return ["", `For reference: the minimal TypeScript program (one Namespace, started the same way) takes ${ratio(minimal / floor)} the floor's time, and the dev program ${ratio(dev / minimal)} the minimal program's.`];
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
    if (report.marginal || report.marginalAsTyped) parts.push("", "## Cost of one more web service (synthetic apps, linear fit of the medians)", "", formatMarginal(report.marginal, report.marginalAsTyped));
    if (report.suite) {
        parts.push(
            "",
            `## Test suite: ${seconds(report.suite.wallMs.median)} wall, ${report.suite.passed} passed, ${report.suite.failed} failed`,
            "",
            formatSuite(report.suite),
        );
    }
    parts.push("", "## Where the time goes under Pulumi's runtime entry, and what launchpad does about it", "", ...WHY.map((line) => `- ${line}`));
    parts.push("", "## How it is measured", "", ...HOW.map((line) => `- ${line}`), "");
    return parts.join("\n");
}

/** What a CPU profile of cmd/run showed, and what the launcher does about each part. */
const WHY = [
    "A CPU profile of the dev program under cmd/run (`node --cpu-prof`, before the changes) split its 1.7 s as: module loading 0.96 s (the two SDKs 0.55 s of it, all in the floor too: `@pulumi/pulumi`'s index loads its automation API, npm's arborist and TypeScript; launchpad's own modules 0.06 s), the runtime entry's own set-up 0.23 s (tracing, gRPC clients, the inspector the SDK's closure serializer needs), and the program's work about 0.5 s, of which 0.15 s was formatting stack traces through source-map-support, 0.15 s serializing the two dynamic providers, and the rest registering resources over gRPC.",
    "**Compile cache.** `tools/launch/main.js` turns on Node's on-disk compile cache (`module.enableCompileCache`, in `.launchpad/compile-cache`) before it loads anything, so the SDKs' thousand-odd modules come back as compiled code instead of being parsed and compiled on every run: it helps the SDKs' own load most (the floor program runs in 0.67x its time with the cache). `npm run up`/`preview` also start the engine with NODE_COMPILE_CACHE set to the same folder, so the runtime entry's modules (and the dynamic-provider process the engine starts) are cached too.",
    "**Stack traces.** cmd/run installs source-map-support, and the SDK formats a stack for every resource and for every promise it makes for a resource property (about 30 per resource). `tools/launch/stackTraces.js` formats each distinct frame once and reuses the text, and leaves the promise stacks, which the SDK reads only to report a leaked promise, unformatted until they are read. The text of every stack is unchanged (tests compare it with source-map-support's).",
    "**Measured where users wait.** The budgets are now measured through cmd/run against a fake engine over gRPC, not in-process mocks: that path costs every resource a gRPC round trip and the runtime's own stack-trace and logging work, which the old harness did not see, so the per-service figures are higher than the old ones although the program did not get slower.",
    "**Serialized providers kept.** The image and password providers' code, which the SDK serializes into every dynamic resource's `__provider` input by walking their closures through V8's inspector and TypeScript's parser (about 0.27 s of every run, before the first image could be registered and so before the engine could start the dynamic provider's process), is kept beside the compiled program (`bin/.serialized-providers`, `components/dynamicResource.ts`) under a key of the compiled code, the SDK and Node, and sent byte for byte as `pulumi.dynamic.Resource` would send it (a test compares the two).",
    "**Debug messages nobody reads, not sent.** For every resource the SDK sends the engine three or four DEBUG messages, each its own gRPC call sent after the previous one is answered: half of what one more web service costs. The engine shows them only under `--debug`, which launchpad's own commands never pass (nor a verbosity, nor do they read the event log), so they give the engine LAUNCHPAD_ENGINE_DEBUG=off with the compile cache (`engineEnv`), and the program started that way does not send them (`tools/launch/debugLogs.js`). A `pulumi preview` typed by a user sends them all: the fleet rows are measured both ways.",
    "Left as they are: the SDK's eager imports (the floor pays them too) and its per-resource work. The memory of one more web service is the SDK's: a promise with its stack for every output property of every resource, and their Promise.all/then graphs, live until the registrations are answered (0.7 MiB of live heap per service at the peak), which V8 lets grow to about twice that before collecting. docs/performance.md has the figures and what was tried.",
];

const HOW = [
    "Every figure is a whole process, started fresh, timed from spawn to exit; peak memory is its maximum resident set size (GNU time's `%M`).",
    "**How a program is started**: as the language host starts it for `pulumi preview` (dev/testbed/langhost, like Pulumi's own host): `node node_modules/@pulumi/pulumi/cmd/run --monitor <addr> --engine <addr> --project launchpad --root-directory <project> --stack <stack> --pwd <main's folder> --dry-run --parallel 16 <main's file>`, with the stack's config in `PULUMI_CONFIG`. Pulumi's runtime entry loads its tracing and source-map-support, dials both addresses over gRPC, runs the program inside the root Stack, and registers each resource with a round trip. At those addresses the bench serves a fake engine (`dev/bench/fakeEngine.ts`): the ResourceMonitor and Engine gRPC services, answered by the harness's recording mocks behind the wire, so the program does the same work as under the unit tests. Left out: the Pulumi CLI, the language host and the real providers' own time (the `--engine` rows below measure those on the testbed).",
    "**floor**: `dev/bench/floorProgram.js`, a program that only requires `@pulumi/pulumi` and `@pulumi/kubernetes`, started the same way: what any Pulumi program on Kubernetes pays before its own code counts. *with NODE_COMPILE_CACHE* is the same with Node's compile cache on for the whole process, for reference.",
    "**dev program**: Pulumi.yaml's `main`, `tools/launch/main.js`: it turns on the compile cache (`.launchpad/compile-cache`), formats stack traces once per distinct frame, compiles whatever changed in `index.ts` and its imports to `bin/` and loads the JavaScript; the dev stack's config. *as `pulumi preview` starts it* is every run but the first after an edit (`bin/` and the cache are current). *as `npm run preview` starts it* adds the environment tools/up gives the engine (`engineEnv`): NODE_COMPILE_CACHE, so the runtime entry's own modules come from the cache too, and LAUNCHPAD_ENGINE_DEBUG=off, so the SDK's DEBUG messages, which nothing reads in those runs, are not sent. *first run on a fresh clone* compiles every file into an empty folder with an empty cache (`dev/bench/launch.js --fresh`). *through ts-node* starts `index.ts` as Pulumi starts a TypeScript program by default (the runtime registers ts-node with the options it derives from the tsconfig), transpile-only with swc, or type-checked (the tsconfig without swc, via PULUMI_NODEJS_TSCONFIG_PATH).",
    "**minimal program**: `dev/bench/minimalProgram.ts`, one Namespace, started like the dev program (`dev/bench/launch.js`, which starts a TypeScript entry as main.js starts index.ts).",
    "**render**: the `render` script of package.json with `--stack dev --out <temporary folder>`, without npm's own start-up.",
    "**fleet N**: `dev/bench/fleetProgram.ts`, N WebServices (Deployment, Service, autoscaler and disruption budget each) in one namespace, started like the minimal program: as `npm run preview` starts it (the environment tools/up gives the engine), which the budgets hold, and as `pulumi preview` does, for reference.",
    "**test suite**: `mocha` with the project's .mocharc and a reporter that times each test file.",
];

/**
 * The sections of bench/RESULTS.md that runs on the testbed write, each after its marker, in this order
 * after the mock-engine tables; `npm run bench` keeps them when it rewrites the rest.
 */
export const SECTIONS = {
    commands: "<!-- what users wait for: written by npm run bench -- --commands -->",
    patches: "<!-- the SDK patches' shares: written by npm run bench -- --patches -->",
    engine: "<!-- the real engine: written by npm run bench -- --engine -->",
    load: "<!-- load on the real engine: written by npm run bench -- --load -->",
    devloop: "<!-- the dev loop on the real node: written by npm run bench -- --devloop -->",
    realNode: "<!-- the app on the real node: written by npm run e2e (tests/e2e/app.e2e.ts) -->",
    kind: "<!-- the main job on kind: written by npm run e2e (tests/e2e/kind.e2e.ts) -->",
} as const;
export type SectionName = keyof typeof SECTIONS;

/** A file's marked sections (each after its marker, to the next marker), and the rest of it before them. */
function splitSections<K extends string>(results: string, markers: Readonly<Record<K, string>>): { head: string; sections: Partial<Record<K, string>> } {
    const found = (Object.keys(markers) as K[])
        .map((name) => ({ name, at: results.indexOf(markers[name]) }))
        .filter((f) => f.at >= 0)
        .sort((a, b) => a.at - b.at);
    const sections: Partial<Record<K, string>> = {};
    found.forEach((f, i) => {
        sections[f.name] = results.slice(f.at + markers[f.name].length, found[i + 1]?.at ?? results.length).trim();
    });
    return { head: (found.length > 0 ? results.slice(0, found[0].at) : results).trimEnd(), sections };
}

/**
 * `results` with the sections given replaced (or added), every other section kept, in the markers'
 * order: bench/RESULTS.md's testbed sections by default, or another file's markers.
 */
export function withSections<K extends string = SectionName>(
    results: string,
    replace: Partial<Record<K, string>>,
    markers: Readonly<Record<K, string>> = SECTIONS as unknown as Record<K, string>,
): string {
    const { head, sections } = splitSections(results, markers);
    const merged: Partial<Record<K, string>> = { ...sections, ...replace };
    const parts = (Object.keys(markers) as K[])
        .filter((name) => merged[name])
        .map((name) => `${markers[name]}\n${merged[name]!.trim()}\n`);
    return [`${head}\n`, ...parts].join("\n");
}

/** The testbed sections of an existing bench/RESULTS.md, for `npm run bench` to keep. */
export function sectionsOf(results: string): Partial<Record<SectionName, string>> {
    return splitSections(results, SECTIONS).sections;
}
