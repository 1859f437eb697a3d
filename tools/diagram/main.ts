// `npm run diagram -- [--stack <name>] [--out <dir>] [--print]` (default stack dev)
//
// Draws the app as its users think of it, top to bottom — browser → ingress controller (host, paths)
// → Services (ports) → workloads (replicas, where the image is built from) → database (storage),
// inside the namespace, with the traffic its NetworkPolicies allow and the registry the images come
// from — from the objects the stack would create (the program under mocks, as `render` runs it).
// Writes `<dir>/<app>-<stack>.mmd` (Mermaid, for GitHub) and `<dir>/<app>-<stack>.svg` (Graphviz),
// default dir `rendered/`; `--print` prints the Mermaid text instead of writing files.
// Exit 0: drawn. 2: bad arguments, unknown stack or invalid config: one line on stderr, nothing written.

import * as fs from "fs";
import * as path from "path";
import { CONFIG_KEYS } from "../../components/config";
import { describeStackError, DEV_STACK, exitWith, firstLine, loadStack, Outcome, parseFlags, UsageError } from "../cli";
import { RenderInput, renderManifests, shownName } from "../render/render";
import { toDot } from "./dot";
import { toMermaid } from "./mermaid";
import { buildModel, imageOrigins } from "./model";
import { dotToSvg } from "./svg";

export const USAGE = "usage: npm run diagram -- [--stack <name> (default dev)] [--out <dir>] [--print]";

/** A run of the program; `config.appName` names the files. */
export type DiagramInput = RenderInput & { readonly config?: { readonly appName?: string } };

export interface DiagramDeps {
    /** Runs the program under mocks; throws StackFileError or ConfigError. */
    loadStack(stack: string): Promise<DiagramInput>;
    /** DOT → SVG. */
    toSvg(dot: string): Promise<string>;
}

export interface DiagramArgs {
    readonly stack: string;
    readonly out: string;
    readonly print: boolean;
    readonly help: boolean;
}

/** Parses the command line; throws UsageError with a one-line message. */
export function parseArgs(argv: readonly string[]): DiagramArgs {
    const flags = parseFlags(argv, { values: ["--stack", "--out"], switches: ["--print", "--help", "-h"] }, USAGE);
    const help = flags.has("--help") || flags.has("-h");
    const stack = flags.get("--stack") ?? [];
    const out = flags.get("--out") ?? ["rendered"];
    if (stack.length > 1 || out.length > 1) throw new UsageError(`--stack and --out are given once; ${USAGE}`);
    return { stack: stack[0] ?? DEV_STACK, out: out[0], print: flags.has("--print"), help };
}

/** The picture of a run: Mermaid text and DOT, both from one model. */
export function draw(input: DiagramInput, command: string): { mermaid: string; dot: string } {
    const manifests = renderManifests(input);
    const names = new Map(manifests.map((m) => [m.object, shownName(m.object, m.resource)]));
    const model = buildModel(input.stack, manifests.map((m) => m.object), { shown: (o) => names.get(o) ?? o.metadata.name, origins: imageOrigins(input.resources) });
    return { mermaid: toMermaid(model, command), dot: toDot(model) };
}

/** The command: argv in, exit code and output out. `deps` replaces the harness and Graphviz (tests). */
export async function runDiagram(argv: readonly string[], deps: Partial<DiagramDeps> = {}): Promise<Outcome> {
    const { loadStack: load, toSvg } = { loadStack, toSvg: dotToSvg, ...deps };
    try {
        const args = parseArgs(argv);
        if (args.help) return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
        let input: DiagramInput;
        try {
            input = await load(args.stack);
        } catch (error) {
            throw new UsageError(describeStackError(args.stack, error));
        }
        const { mermaid, dot } = draw(input, `\`npm run diagram -- --stack ${args.stack}\``);
        if (args.print) return { code: 0, stdout: mermaid, stderr: "" };
        const svg = await toSvg(dot);
        const base = path.join(args.out, `${input.config?.appName ?? CONFIG_KEYS.appName.default}-${args.stack}`);
        try {
            fs.mkdirSync(args.out, { recursive: true });
            fs.writeFileSync(`${base}.mmd`, mermaid);
            fs.writeFileSync(`${base}.svg`, svg);
        } catch (error) {
            throw new UsageError(`cannot write to ${args.out}: ${(error as Error).message}`);
        }
        return { code: 0, stdout: `${args.stack}: ${base}.mmd (Mermaid) and ${base}.svg (Graphviz)\n`, stderr: "" };
    } catch (error) {
        const message = error instanceof UsageError ? error.message : `unexpected error: ${firstLine(error)}`;
        return { code: 2, stdout: "", stderr: `diagram: ${message}\n` };
    }
}

if (require.main === module) exitWith(runDiagram(process.argv.slice(2)));
