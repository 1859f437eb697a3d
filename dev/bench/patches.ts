// `npm run bench -- --patches [--runs N] [--no-write]`: what each of the SDK internals the deploy path
// changes is worth in the whole no-op `npm run up -- --stack testbed`, on the testbed.
//
// Each round runs the command as shipped, then once with each patch switched off (its documented switch,
// docs/performance.md), taking turns; a patch's share is the median, pair by pair, of how much longer
// the command took without it. Issue 28 keeps a patch only where that share is 5% or more. Writes its
// section of bench/RESULTS.md. Starts the testbed when it is not running, and stops it again.

import * as fs from "fs";
import * as path from "path";
import { layout } from "../testbed/layout";
import { ensureRunning, stop } from "../testbed/lifecycle";
import { mustRun } from "./measure";
import { measured, PAIRS } from "./commands";
import { median } from "./stats";
import type { Outcome } from "../../tools/cli";
import { RESULTS_FILE, withSections, writtenBy } from "./report";

const ROOT = path.resolve(__dirname, "..", "..");
/** A patch is kept when the command takes at least this much longer without it. */
export const KEEP_SHARE = 0.05;

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** A patch, and how to run the command without it. */
interface Patch {
    readonly id: string;
    readonly label: string;
    readonly env: NodeJS.ProcessEnv;
    /** Before each run without it. */
    readonly prepare?: () => void;
}

export const PATCHES: readonly Patch[] = [
    { id: "debugLogs", label: "the SDK's DEBUG messages not sent (tools/launch/debugLogs.js; off: LAUNCHPAD_ENGINE_DEBUG=on)", env: { LAUNCHPAD_ENGINE_DEBUG: "on" } },
    { id: "stackTraces", label: "stack frames formatted once each (tools/launch/stackTraces.js; off: LAUNCHPAD_STACK_TRACES=sdk)", env: { LAUNCHPAD_STACK_TRACES: "sdk" } },
    {
        id: "serializedProviders",
        label: "the dynamic providers' serialized code kept (components/dynamicResource.ts; off: its folder emptied before the run)",
        env: {},
        prepare: () => fs.rmSync(path.join(ROOT, "bin", ".serialized-providers"), { recursive: true, force: true }),
    },
];

/** Each patch's share: the median, pair by pair, of (without it − as shipped) / as shipped. */
export function shares(shipped: readonly number[], without: ReadonlyMap<string, readonly number[]>): Map<string, number> {
    return new Map([...without].map(([id, ms]) => [id, median(ms.map((m, i) => (m - shipped[i]) / shipped[i]))]));
}

export function formatShares(shipped: readonly number[], without: ReadonlyMap<string, readonly number[]>, runs: number): string {
    const share = shares(shipped, without);
    return [
        `| no-op \`npm run up -- --stack testbed\` (median of ${runs} rounds) | wall | longer without it, pair by pair | keep (>= ${KEEP_SHARE * 100} %) |`,
        "| --- | --: | --: | --- |",
        `| as shipped | ${(median(shipped) / 1000).toFixed(2)} s | | |`,
        ...PATCHES.map((p) => `| without ${p.label} | ${(median(without.get(p.id) ?? [0]) / 1000).toFixed(2)} s | ${(100 * (share.get(p.id) ?? 0)).toFixed(1)} % | ${(share.get(p.id) ?? 0) >= KEEP_SHARE ? "yes" : "no"} |`),
    ].join("\n");
}

export async function runPatchesBench(runs: number, write: boolean): Promise<Outcome> {
    const l = layout();
    let started = false;
    try {
        const running = await ensureRunning(l, progress);
        started = running.started;
        const { env } = running;
        const up = PAIRS[0].launchpad;
        progress("bench: deploying the testbed stack");
        mustRun([...up], ROOT, env, "npm run up -- --stack testbed");
        const shipped: number[] = [];
        const without = new Map<string, number[]>(PATCHES.map((p) => [p.id, []]));
        for (let round = 0; round <= runs; round++) {
            const line: string[] = [];
            const s = await measured(up, env);
            line.push(`shipped ${(s.wallMs / 1000).toFixed(2)}s`);
            if (round > 0) shipped.push(s.wallMs);
            for (const p of PATCHES) {
                p.prepare?.();
                const w = await measured(up, { ...env, ...p.env });
                line.push(`${p.id} off ${(w.wallMs / 1000).toFixed(2)}s`);
                if (round > 0) without.get(p.id)!.push(w.wallMs);
            }
            progress(`${round === 0 ? "warm-up" : `round ${round}/${runs}`}: ${line.join(", ")}`);
        }
        // Leave the providers' code kept, as a shipped run would.
        mustRun([...up], ROOT, env, "npm run up -- --stack testbed");
        const table = formatShares(shipped, without, runs);
        const out = ["", table];
        if (write) {
            const section = ["## The SDK internals the deploy path patches: each one's share of a no-op `npm run up`", "", writtenBy("`npm run bench -- --patches`"), "", table].join("\n");
            fs.writeFileSync(RESULTS_FILE, withSections(fs.readFileSync(RESULTS_FILE, "utf8"), { patches: section }));
            out.push("", `wrote its section of ${path.relative(process.cwd(), RESULTS_FILE)}`);
        }
        return { code: 0, stdout: `${out.join("\n")}\n`, stderr: "" };
    } catch (error) {
        return { code: 1, stdout: "", stderr: `bench: ${(error as Error).message}\n` };
    } finally {
        if (started) await stop(l);
    }
}
