import assert from "node:assert/strict";
import { checkBudgets, verdict } from "../../dev/bench/budget";
import { BenchReport, CaseResult, formatBudgets, formatCases, formatSuite, formatTable, renderResults, sectionsOf, withSections } from "../../dev/bench/report";
import { summarize } from "../../dev/bench/stats";

const result = (id: string, wallMs: number[], rssMiB?: number[], note?: string): CaseResult => ({
    id, label: id, wallMs: summarize(wallMs), rssMiB: rssMiB && summarize(rssMiB), note,
});

describe("bench budgets", () => {
    it("passes a measurement at the limit of a <= budget and fails one above it", () => {
        assert.equal(verdict(1.3, { limit: 1.3, strict: false }), "PASS");
        assert.equal(verdict(1.31, { limit: 1.3, strict: false }), "FAIL");
    });
    it("fails a measurement at the limit of a < budget", () => {
        assert.equal(verdict(20, { limit: 20, strict: true }), "FAIL");
        assert.equal(verdict(19.9, { limit: 20, strict: true }), "PASS");
    });
    it("fails what could not be measured", () => {
        assert.equal(verdict(undefined, { limit: 60, strict: false }), "FAIL");
        assert.equal(verdict(Number.NaN, { limit: 60, strict: false }), "FAIL");
    });
    it("checks every budget, a missing measurement failing its line only", () => {
        const lines = checkBudgets({ devProgram: 1.05, perServiceTime: 11, perServiceMemory: 6, render: 1.15 });
        assert.deepEqual(lines.map((l) => `${l.budget.id} ${l.verdict}`), [
            "devProgram PASS", "perServiceTime PASS", "perServiceMemory FAIL", "render PASS", "testSuite FAIL",
        ]);
    });
});

describe("bench tables", () => {
    it("pads every column to its widest cell, numbers right-aligned", () => {
        const table = formatTable(["name", "ms"], [["floor", "850"], ["dev", "1100"]], ["l", "r"]);
        assert.equal(table, [
            "| name  |   ms |",
            "|-------|-----:|",
            "| floor |  850 |",
            "| dev   | 1100 |",
        ].join("\n"));
    });
    it("gives each command its median, spread and ratio to the floor's time and memory", () => {
        const table = formatCases([result("floor", [800, 900, 1000], [130, 140, 150]), result("dev", [1000, 1100, 1500], [200, 210, 400], "33 resources")], "floor");
        const dev = table.split("\n").find((l) => l.startsWith("| dev"))!;
        const cells = dev.split("|").map((c) => c.trim());
        assert.deepEqual(cells.slice(1, -1), ["dev", "3", "1.10 s", "1.22x", "1.00–1.50 (IQR 1.05–1.30)", "210 MiB", "1.50x", "33 resources"]);
    });
    it("says n/a where memory was not measured", () => {
        const table = formatCases([result("floor", [800]), result("dev", [1000])], "floor");
        const dev = table.split("\n").find((l) => l.startsWith("| dev"))!;
        assert.equal(dev.split("|").map((c) => c.trim())[6], "n/a");
    });
    it("prints each budget with its measurement, limit and verdict", () => {
        const table = formatBudgets(checkBudgets({ devProgram: 2.345, perServiceTime: 44.44, perServiceMemory: 1.234, render: 1.5, testSuite: 19.25 }));
        const rows = table.split("\n").slice(2).map((l) => l.split("|").slice(2, 5).map((c) => c.trim()).join(" "));
        assert.deepEqual(rows, [
            "2.35x <= 1.10x FAIL",
            "44.4 ms <= 12.0 ms FAIL",
            "1.23x <= 1.00x FAIL",
            "1.50x <= 1.20x FAIL",
            "19.3 s < 20.0 s PASS",
        ]);
    });
    it("lists the slowest test files first and folds the rest into one line", () => {
        const files = Array.from({ length: 12 }, (_, i) => ({ file: `tests/f${i}.test.ts`, ms: 1200 - i * 100, tests: 2 }));
        const table = formatSuite({ wallMs: summarize([15000]), passed: 24, failed: 0, loadMs: 3100, files }, 10);
        const lines = table.split("\n");
        assert.match(lines[2], /^\| tests\/f0\.test\.ts +\| +2 \| +1\.20 s \|$/);
        assert.match(table, /\(loading: .*\| +3\.10 s \|/);
        assert.match(table, /\(2 other files\) +\| +4 \| +0\.30 s \|/);
    });
});

describe("bench/RESULTS.md", () => {
    const report: BenchReport = {
        date: "2026-01-02",
        machine: { node: "v22.23.3", cpu: "AMD EPYC", cores: 2, loadBefore: [1.5, 1, 0.5], loadAfter: [2, 1.5, 1] },
        runs: 5,
        cases: [result("floor", [800, 850, 900], [130, 131, 132]), result("dev", [1000, 1050, 1100], [200, 201, 202])],
        floor: "floor",
        marginal: {
            time: { slope: 44.5, intercept: 1500, r2: 0.99 },
            memory: { slope: 1.1, intercept: 200, r2: 0.98 },
            timeDifferenceMs: 45.2,
            memoryDifferenceMiB: 1.05,
        },
        suite: { wallMs: summarize([17000]), passed: 600, failed: 0, loadMs: 3000, files: [{ file: "tests/a.test.ts", ms: 5000, tests: 20 }] },
        budgets: checkBudgets({ devProgram: 1.04, perServiceTime: 11.5, perServiceMemory: 0.9, render: 1.14, testSuite: 17 }),
        seconds: 200,
    };
    const text = renderResults(report);

    it("names the Node version, the CPU, the cores and the load", () => {
        assert.match(text, /Node v22\.23\.3, AMD EPYC, 2 cores; load average 1\.50 1\.00 0\.50 before and 2\.00 1\.50 1\.00 after/);
    });
    it("leads with the budget verdicts, then the tables, then where the time goes and how it is measured", () => {
        const headings = text.split("\n").filter((l) => l.startsWith("## "));
        assert.deepEqual(headings, [
            "## Budgets: all pass",
            "## Whole-process wall time and peak memory (median of 5 runs after a warm-up)",
            "## Cost of one more web service (synthetic apps, linear fit of the medians)",
            "## Test suite: 17.00 s wall, 600 passed, 0 failed",
            "## Where the time goes under Pulumi's runtime entry, and what launchpad does about it",
            "## How it is measured",
        ]);
    });
    it("puts the floor in perspective when the minimal program was measured", () => {
        assert.doesNotMatch(text, /For reference/);
        const withMinimal = renderResults({ ...report, cases: [...report.cases, result("minimal", [1000, 1020, 1040])] });
        assert.match(withMinimal, /the minimal TypeScript program \(one Namespace, started the same way\) takes 1\.20x the floor's time, and the dev program 1\.03x the minimal program's\./);
    });
    it("counts failing budgets in the heading", () => {
        const failing = renderResults({ ...report, budgets: checkBudgets({ devProgram: 1 }) });
        assert.match(failing, /^## Budgets: 4 of 5 fail$/m);
    });
    it("quotes the marginal cost per web service from the fit and the difference", () => {
        assert.match(text, /\| wall time, as `npm run preview` starts it +\| +44\.5 ms \| +1\.50 s \| 0\.990 \| +45\.2 ms \|/);
        assert.match(text, /\| peak RSS, as `npm run preview` starts it +\| +1\.10 MiB \| +200 MiB \| 0\.980 \| +1\.05 MiB \|/);
        assert.doesNotMatch(text, /wall time, as `pulumi preview` starts it/);
        const both = renderResults({ ...report, marginalAsTyped: { time: { slope: 60, intercept: 1500, r2: 0.99 }, timeDifferenceMs: 61 } });
        assert.match(both, /\| wall time, as `npm run preview` starts it +\| +44\.5 ms \|[^\n]*\n\| peak RSS, as `npm run preview` starts it[^\n]*\n\| wall time, as `pulumi preview` starts it +\| +60\.0 ms \|/);
    });
});

describe("bench/RESULTS.md's testbed sections", () => {
    const engine = "## The real engine\n\n| operation | launchpad |\n| --- | --: |\n| preview | 2.00 s |";
    const load = "## Load\n\n| run | time |\n| --- | --: |\n| first up | 60 s |";

    it("are added to a file without them, and replaced in a file with them, each on its own", () => {
        const once = withSections("# Benchmark results\n\nthe mock-engine tables\n", { engine });
        assert.deepEqual(sectionsOf(once), { engine });
        assert.ok(once.startsWith("# Benchmark results\n\nthe mock-engine tables\n\n"));
        const both = withSections(once, { load });
        assert.deepEqual(sectionsOf(both), { engine, load });
        const newer = withSections(both, { engine: "## The real engine\n\nnewer" });
        assert.deepEqual(sectionsOf(newer), { engine: "## The real engine\n\nnewer", load });
        assert.equal(newer.split("the mock-engine tables").length, 2, "the rest of the file is kept once");
    });

    it("keep their order whichever was written first", () => {
        const loadFirst = withSections(withSections("# Benchmark results\n", { load }), { engine });
        assert.ok(loadFirst.indexOf("## The real engine") < loadFirst.indexOf("## Load"));
        assert.deepEqual(sectionsOf(loadFirst), { engine, load });
    });

    it("survive npm run bench rewriting the rest of the file, and are absent from a file that never had them", () => {
        const old = withSections("# Benchmark results\n\nold tables\n", { engine, load });
        const rewritten = withSections("# Benchmark results\n\nnew tables\n", sectionsOf(old));
        assert.ok(rewritten.includes("new tables") && !rewritten.includes("old tables"));
        assert.deepEqual(sectionsOf(rewritten), { engine, load });
        assert.deepEqual(sectionsOf("# Benchmark results\n"), {});
    });
});
