// `npm run diagram`: see COMMAND.
//
// Draws the app as its users think of it, top to bottom — browser → ingress controller (host, paths)
// → Services (ports) → workloads (replicas, where the image is built from) → database (storage),
// inside the namespace, with the traffic its NetworkPolicies allow and the registry the images come
// from — from the objects the stack would create (the program under mocks, as `render` runs it).
// Writes `<dir>/<app>-<stack>.mmd` (Mermaid, for GitHub) and `<dir>/<app>-<stack>.svg` (Graphviz),
// default dir `rendered/`; `--print` prints the Mermaid text instead of writing files.
// Exit 0: drawn. 1: invalid config (every problem listed), nothing written. 2: wrong usage (tools/cli.ts EXIT_RULE).

import * as fs from "fs";
import * as path from "path";
import { CONFIG_KEYS } from "../../components/config";
import { type CommandSpec, exitWith, Failure, helpOutcome, Outcome, readCommandLine, runCommand, single, stackFailure, stackOf, STACK_OPTION } from "../cli";
import { loadStack } from "../harness/load";
import { RenderInput, renderManifests, shownName } from "../harness/manifests";
import { toDot } from "./dot";
import { toMermaid } from "./mermaid";
import { buildModel, imageOrigins } from "./model";
import { dotToSvg } from "./svg";

export const COMMAND: CommandSpec = {
    name: "diagram",
    synopsis: "[--stack <name>] [--out <dir>] [--print]",
    about:
        "Draws the app as its users think of it, top to bottom (browser, ingress controller, Services, workloads, database,\n" +
        "the traffic its NetworkPolicies allow, the registry), from the objects the stack would create under Pulumi mocks.\n" +
        "Writes <dir>/<app>-<stack>.mmd (Mermaid, for GitHub) and <dir>/<app>-<stack>.svg (Graphviz).",
    options: [
        STACK_OPTION,
        { flag: "--out", value: "<dir>", doc: "where the two files go (default: rendered)" },
        { flag: "--print", doc: "print the Mermaid text instead of writing files" },
    ],
};

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
}

/** Parses the command line; "help" for --help; throws UsageError. */
export function parseArgs(argv: readonly string[]): DiagramArgs | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    return { stack: stackOf(flags), out: single(flags, "--out", "rendered")!, print: flags.has("--print") };
}

/** The picture of a run: Mermaid text and DOT, both from one model. */
export function draw(input: DiagramInput, command: string): { mermaid: string; dot: string } {
    const manifests = renderManifests(input);
    const names = new Map(manifests.map((m) => [m.object, shownName(m.object, m.resource)]));
    const model = buildModel(input.stack, manifests.map((m) => m.object), { shown: (o) => names.get(o) ?? o.metadata.name, origins: imageOrigins(input.resources) });
    return { mermaid: toMermaid(model, command), dot: toDot(model) };
}

/** The command: argv in, exit code and output out. `deps` replaces the harness and Graphviz (tests). */
export async function runDiagram(argv: readonly string[], deps: Partial<DiagramDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    const { loadStack: load, toSvg } = { loadStack, toSvg: dotToSvg, ...deps };
    return runCommand(COMMAND, async () => {
        const args = parseArgs(argv);
        if (args === "help") return helpOutcome(COMMAND);
        const input = await load(args.stack).catch((error: unknown) => {
            throw stackFailure(error);
        });
        const { mermaid, dot } = draw(input, `\`npm run diagram -- --stack ${args.stack}\``);
        if (args.print) return { code: 0, stdout: mermaid, stderr: "" };
        const svg = await toSvg(dot);
        const base = path.join(args.out, `${input.config?.appName ?? CONFIG_KEYS.appName.default}-${args.stack}`);
        try {
            fs.mkdirSync(args.out, { recursive: true });
            fs.writeFileSync(`${base}.mmd`, mermaid);
            fs.writeFileSync(`${base}.svg`, svg);
        } catch (error) {
            throw new Failure(`cannot write to ${args.out}: ${(error as Error).message}`);
        }
        return { code: 0, stdout: `${args.stack}: ${base}.mmd (Mermaid) and ${base}.svg (Graphviz)\n`, stderr: "" };
    }, env);
}

if (require.main === module) exitWith(runDiagram(process.argv.slice(2)));
