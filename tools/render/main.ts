// `npm run render -- [--stack <name>] [--out <dir>] [--check]` (default stack dev; `--all` for every stack file)
//
// Writes every Kubernetes object a stack would create, one YAML file per object under
// `<dir>/<stack>/` (default `rendered/`), by running the program under Pulumi mocks: no cluster,
// Docker, Pulumi CLI or account. `--check` validates each object against the Kubernetes OpenAPI schema.
// Exit 0: written (and valid). 1: written, but --check found violations. 2: bad arguments, unknown
// stack or invalid config: one line on stderr, nothing written.

import * as path from "path";
import { checkObject } from "./check";
import { describeStackError, DEV_STACK, exitWith, firstLine, loadStack, Outcome, parseFlags, stacks, UsageError } from "../cli";
import { Manifest, RenderInput, renderManifests, writeManifests } from "./render";

export const USAGE = "usage: npm run render -- [--stack <name> (default dev) | --all] [--out <dir>] [--check]";

export interface RenderArgs {
    readonly stacks: readonly string[];
    readonly out: string;
    readonly check: boolean;
    readonly help: boolean;
}

export interface RenderDeps {
    /** Runs the program under mocks; throws StackFileError or ConfigError. */
    loadStack(stack: string): Promise<RenderInput>;
    /** Stacks with a stack file, for `--all`. */
    listStacks(): string[];
}

/** Parses the command line; throws UsageError with a one-line message. */
export function parseArgs(argv: readonly string[], listStacks: () => string[] = stacks): RenderArgs {
    const flags = parseFlags(argv, { values: ["--stack", "--out"], switches: ["--check", "--all", "--help", "-h"] }, USAGE);
    const help = flags.has("--help") || flags.has("-h");
    const out = flags.get("--out") ?? ["rendered"];
    if (out.length > 1) throw new UsageError(`--out is given twice; ${USAGE}`);
    let chosen = flags.get("--stack") ?? [];
    if (flags.has("--all")) {
        if (chosen.length > 0) throw new UsageError(`--all and --stack exclude each other; ${USAGE}`);
        chosen = listStacks();
        if (chosen.length === 0) throw new UsageError("--all found no Pulumi.<stack>.yaml");
    }
    if (chosen.length === 0) chosen = [DEV_STACK];
    return { stacks: [...new Set(chosen)], out: out[0], check: flags.has("--check"), help };
}

interface Rendered {
    readonly stack: string;
    readonly manifests: Manifest[];
}

/** The `--check` report of one stack: violations (stderr) and what was skipped or passed (stdout). */
function checkReport({ stack, manifests }: Rendered): { ok: boolean; stdout: string[]; stderr: string[] } {
    const stdout: string[] = [];
    const stderr: string[] = [];
    let valid = 0;
    for (const m of manifests) {
        const result = checkObject(m.object);
        const what = `${m.file} (${m.object.apiVersion} ${m.object.kind} ${m.object.metadata.name})`;
        if (result.skipped) stdout.push(`  skipped, no upstream schema to check it against: ${what}`);
        else if (result.errors.length === 0) valid++;
        else stderr.push(`  ${what}:`, ...result.errors.map((e) => `    ${e}`));
    }
    const skipped = stdout.length;
    const invalid = manifests.length - valid - skipped;
    const counts = `${valid} valid${invalid ? `, ${invalid} invalid` : ""}${skipped ? `, ${skipped} skipped` : ""}`;
    const summary = `check ${stack}: ${counts} against the Kubernetes OpenAPI schema (kubernetes-models), unknown fields included`;
    if (invalid) return { ok: false, stdout, stderr: [`${summary}:`, ...stderr] };
    return { ok: true, stdout: [summary, ...stdout], stderr };
}

/** The command: argv in, exit code and output out. `deps` replaces the harness (tests). */
export async function runRender(argv: readonly string[], deps: Partial<RenderDeps> = {}): Promise<Outcome> {
    const { loadStack: load, listStacks } = { loadStack, listStacks: stacks, ...deps };
    try {
        const args = parseArgs(argv, listStacks);
        if (args.help) return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
        // Run every stack before writing anything: a bad stack leaves the output folder untouched.
        const rendered: Rendered[] = [];
        for (const stack of args.stacks) {
            let input: RenderInput;
            try {
                input = await load(stack);
            } catch (error) {
                throw new UsageError(describeStackError(stack, error));
            }
            rendered.push({ stack, manifests: renderManifests(input) });
        }
        const stdout: string[] = [];
        const stderr: string[] = [];
        let ok = true;
        for (const r of rendered) {
            let dir: string;
            try {
                dir = writeManifests(args.out, r.stack, r.manifests);
            } catch (error) {
                throw new UsageError(`cannot write to ${path.join(args.out, r.stack)}: ${(error as Error).message}`);
            }
            stdout.push(`${r.stack}: ${r.manifests.length} objects in ${dir}${path.sep}`, ...r.manifests.map((m) => `  ${m.file}`));
            if (args.check) {
                const report = checkReport(r);
                ok &&= report.ok;
                stdout.push(...report.stdout);
                stderr.push(...report.stderr);
            }
        }
        const lines = (list: string[]) => (list.length ? `${list.join("\n")}\n` : "");
        return { code: ok ? 0 : 1, stdout: lines(stdout), stderr: lines(stderr) };
    } catch (error) {
        const message = error instanceof UsageError ? error.message : `unexpected error: ${firstLine(error)}`;
        return { code: 2, stdout: "", stderr: `render: ${message}\n` };
    }
}

if (require.main === module) exitWith(runRender(process.argv.slice(2)));
