import * as fs from "fs";
import * as path from "path";
import * as Mocha from "mocha";
import type { SuiteTimes } from "./report";

// A mocha reporter for `npm run bench`: mocha's usual summary (and every failure), plus a JSON file
// (`--reporter-option out=<file>`) with the time spent in each test file, hooks included, and how long
// loading took before the first test ran.
//   npx mocha --reporter dev/bench/suiteReporter.ts --reporter-option out=times.json

class SuiteTimesReporter extends Mocha.reporters.Base {
    constructor(runner: Mocha.Runner, options: Mocha.MochaOptions) {
        super(runner, options);
        const out = (options.reporterOptions as { out?: string } | undefined)?.out;
        const loadMs = process.uptime() * 1000;
        const files = new Map<string, { ms: number; tests: number }>();
        const entry = (file: string | undefined) => {
            const key = path.relative(process.cwd(), file ?? "(no file)");
            if (!files.has(key)) files.set(key, { ms: 0, tests: 0 });
            return files.get(key)!;
        };
        const started = new Map<Mocha.Suite, number>();
        const topLevel = (suite: Mocha.Suite) => suite.parent?.root === true;

        runner.on(Mocha.Runner.constants.EVENT_SUITE_BEGIN, (suite) => {
            if (topLevel(suite)) started.set(suite, performance.now());
        });
        runner.on(Mocha.Runner.constants.EVENT_SUITE_END, (suite) => {
            const begin = started.get(suite);
            if (begin !== undefined) entry(suite.file).ms += performance.now() - begin;
        });
        runner.on(Mocha.Runner.constants.EVENT_TEST_END, (test) => {
            const file = entry(test.file);
            file.tests++;
            // A test outside any describe has no suite of its own to time.
            if (test.parent?.root) file.ms += test.duration ?? 0;
        });
        runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
            this.epilogue();
            const stats = runner.stats ?? { passes: 0, failures: 0 };
            const result: SuiteTimes = {
                loadMs,
                passed: stats.passes,
                failed: stats.failures,
                files: [...files].map(([file, t]) => ({ file, ...t })).sort((a, b) => b.ms - a.ms),
            };
            if (out) fs.writeFileSync(out, JSON.stringify(result, null, 2));
        });
    }
}

export = SuiteTimesReporter;
