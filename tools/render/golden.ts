import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import * as fs from "fs";
import * as path from "path";
import type { Manifest } from "../harness/manifests";

// The committed renders of each stack (tests/golden/<stack>/) against a fresh render: which files
// appeared, disappeared or changed, with a unified diff a reviewer can read in the test output
// (jsdiff's, the library mocha itself uses for its assertion diffs).

/** The folder of the committed renders. */
export const GOLDEN_DIR = path.join(__dirname, "..", "..", "tests", "golden");

/** The command that accepts an intended change (rewrites the golden files of every stack). */
export const ACCEPT = "npm run render -- --all --out tests/golden";

/** A unified diff of two texts with `context` lines around each change; "" when they are equal. */
export function unifiedDiff(expected: string, actual: string, names: { expected: string; actual: string }, context = 3): string {
    if (expected === actual) return "";
    return createTwoFilesPatch(names.expected, names.actual, expected, actual, undefined, undefined, { context, headerOptions: FILE_HEADERS_ONLY })
        .replace(/\n$/, "");
}

/**
 * How a fresh render of `stack` differs from its golden files: one entry per added, removed or
 * changed file (changed ones with a unified diff). Empty when they are byte-identical.
 */
export function compareWithGolden(stack: string, manifests: readonly Manifest[], goldenDir = GOLDEN_DIR): string[] {
    const dir = path.join(goldenDir, stack);
    const committed = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort() : [];
    const fresh = new Map(manifests.map((m) => [m.file, m.text]));
    const problems: string[] = [];
    for (const file of committed.filter((f) => !fresh.has(f))) problems.push(`${stack}/${file}: in the golden files, but the program no longer creates it`);
    for (const [file, text] of fresh) {
        const goldenFile = path.join(dir, file);
        if (!fs.existsSync(goldenFile)) {
            problems.push(`${stack}/${file}: new object, not in the golden files`);
            continue;
        }
        const diff = unifiedDiff(fs.readFileSync(goldenFile, "utf8"), text, { expected: `golden/${stack}/${file}`, actual: `render/${stack}/${file}` });
        if (diff) problems.push(`${stack}/${file}: changed\n${diff}`);
    }
    return problems;
}
