import * as fs from "fs";
import * as path from "path";
import type { Manifest } from "./render";

// The committed renders of each stack (tests/golden/<stack>/) against a fresh render: which files
// appeared, disappeared or changed, with a unified diff a reviewer can read in the test output.

/** The folder of the committed renders. */
export const GOLDEN_DIR = path.join(__dirname, "..", "..", "tests", "golden");

/** The command that accepts an intended change (rewrites the golden files of every stack). */
export const ACCEPT = "npm run render -- --all --out tests/golden";

type Op = { kind: " " | "-" | "+"; line: string };

/** The edit script from `a` to `b` (longest common subsequence), line by line. */
function diffLines(a: readonly string[], b: readonly string[]): Op[] {
    const n = a.length;
    const m = b.length;
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
    const ops: Op[] = [];
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] === b[j]) {
            ops.push({ kind: " ", line: a[i++] });
            j++;
        } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
            ops.push({ kind: "-", line: a[i++] });
        } else {
            ops.push({ kind: "+", line: b[j++] });
        }
    }
    return ops;
}

/** A unified diff of two texts with `context` lines around each change; "" when they are equal. */
export function unifiedDiff(expected: string, actual: string, names: { expected: string; actual: string }, context = 3): string {
    if (expected === actual) return "";
    const a = expected.split("\n");
    const b = actual.split("\n");
    const ops = diffLines(a, b);
    const changed = ops.map((op, k) => (op.kind !== " " ? k : -1)).filter((k) => k >= 0);
    const out = [`--- ${names.expected}`, `+++ ${names.actual}`];
    let k = 0;
    while (k < changed.length) {
        const start = Math.max(0, changed[k] - context);
        let end = changed[k];
        while (k < changed.length && changed[k] <= end + 2 * context) end = changed[k++];
        end = Math.min(ops.length - 1, end + context);
        // Line numbers of the hunk in each file.
        let aLine = 1;
        let bLine = 1;
        for (const op of ops.slice(0, start)) {
            if (op.kind !== "+") aLine++;
            if (op.kind !== "-") bLine++;
        }
        const hunk = ops.slice(start, end + 1);
        const aCount = hunk.filter((op) => op.kind !== "+").length;
        const bCount = hunk.filter((op) => op.kind !== "-").length;
        out.push(`@@ -${aLine},${aCount} +${bLine},${bCount} @@`, ...hunk.map((op) => `${op.kind}${op.line}`));
    }
    return out.join("\n");
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
