// `npm run render`: see COMMAND.
//
// Writes every Kubernetes object a stack would create, one YAML file per object under
// `<dir>/<stack>/` (default `rendered/`), by running the program under Pulumi mocks: no cluster,
// Docker, Pulumi CLI or account. `--check` validates each object against the Kubernetes OpenAPI schema.
// Exit 0: written (and valid). 1: invalid config, or written but --check found violations. 2: wrong
// usage (tools/cli.ts EXIT_RULE); a stack that fails leaves the output folder untouched.

import * as path from "path";
import { checkObject } from "./check";
import { type CommandSpec, DEV_STACK, exitWith, Failure, helpOutcome, Outcome, readCommandLine, runCommand, stackFailure, stackName, STACK_OPTION, UsageError } from "../cli";
import { loadStack, stacks } from "../harness/load";
import { Manifest, RenderInput, renderManifests, writeManifests } from "../harness/manifests";

export const COMMAND: CommandSpec = {
    name: "render",
    synopsis: "[--stack <name> ... | --all] [--out <dir>] [--check]",
    about:
        "Writes every Kubernetes object a stack would create, one YAML file per object under <dir>/<stack>/, by running\n" +
        "the program under Pulumi mocks: no cluster, Docker, Pulumi CLI or account is needed.",
    options: [
        { ...STACK_OPTION, doc: `${STACK_OPTION.doc}; give it again for more stacks` },
        { flag: "--all", doc: "every stack with a Pulumi.<stack>.yaml" },
        { flag: "--out", value: "<dir>", doc: "where the files go (default: rendered)" },
        { flag: "--check", doc: "also validate each object against the Kubernetes OpenAPI schema, unknown fields included; exit 1 on a violation" },
    ],
};

export interface RenderArgs {
    readonly stacks: readonly string[];
    readonly out: string;
    readonly check: boolean;
}

export interface RenderDeps {
    /** Runs the program under mocks; throws StackFileError or ConfigError. */
    loadStack(stack: string): Promise<RenderInput>;
    /** Stacks with a stack file, for `--all`. */
    listStacks(): string[];
}

/** Parses the command line; "help" for --help; throws UsageError. */
export function parseArgs(argv: readonly string[], listStacks: () => string[] = stacks): RenderArgs | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    const out = flags.get("--out") ?? ["rendered"];
    if (out.length > 1) throw new UsageError("--out is given twice; give it once");
    let chosen = (flags.get("--stack") ?? []).map(stackName);
    if (flags.has("--all")) {
        if (chosen.length > 0) throw new UsageError("--all and --stack exclude each other");
        chosen = listStacks();
        if (chosen.length === 0) throw new UsageError("--all found no Pulumi.<stack>.yaml");
    }
    if (chosen.length === 0) chosen = [DEV_STACK];
    return { stacks: [...new Set(chosen)], out: out[0], check: flags.has("--check") };
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
export async function runRender(argv: readonly string[], deps: Partial<RenderDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    const { loadStack: load, listStacks } = { loadStack, listStacks: stacks, ...deps };
    return runCommand(COMMAND, async () => {
        const args = parseArgs(argv, listStacks);
        if (args === "help") return helpOutcome(COMMAND);
        // Run every stack before writing anything: a bad stack leaves the output folder untouched.
        const rendered: Rendered[] = [];
        for (const stack of args.stacks) {
            const input = await load(stack).catch((error: unknown) => {
                throw stackFailure(error);
            });
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
                throw new Failure(`cannot write to ${path.join(args.out, r.stack)}: ${(error as Error).message}`);
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
    }, env);
}

if (require.main === module) exitWith(runRender(process.argv.slice(2)));
