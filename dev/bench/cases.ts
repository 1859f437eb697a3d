import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import * as YAML from "yaml";
import { Command, lastLines, Run } from "./measure";
import type { FakeEngine } from "./fakeEngine";
import { engineEnv } from "../../tools/launch/program";

// The commands `npm run bench` measures, each a whole process started the way a user or Pulumi starts it:
// the programs through Pulumi's runtime entry (cmd/run) as the language host starts it for `pulumi
// preview`, talking over gRPC to the bench's fake engine (dev/bench/fakeEngine.ts).

/** Sizes of the synthetic app, in web services. */
export const FLEET_SIZES = [1, 10, 50, 100] as const;

/** Resources the fleet program registers: the Stack, a provider, the namespace and two Secrets, then a component and 4 objects per service. */
export function fleetResources(services: number): number {
    return 5 + 5 * services;
}

export interface Case {
    readonly id: string;
    readonly label: string;
    readonly command: Command;
    /** A problem with one run's output (the command failed, or did not do what it is measured for). */
    check(run: Run): string | undefined;
    /** Web services in the synthetic app. */
    readonly services?: number;
    /** Who starts the engine: launchpad's commands (`npm run preview`, with the environment they give it) or a user typing `pulumi preview`. */
    readonly startedBy?: "launchpad" | "pulumi";
    /** Shown beside the figures. */
    readonly note?: string;
}

/** Exit 0, else the end of stderr. */
function exitedCleanly(run: Run): string | undefined {
    return run.code === 0 ? undefined : `exited ${run.code}: ${lastLines(run.stderr || run.stdout, 5)}`;
}

/** Exit 0, nothing logged as an error, and the fake engine saw `expected` resources (or any, when unknown). */
function engineRegistered(engine: EngineRuns, expected?: number) {
    return (run: Run): string | undefined => {
        // Taken whatever the exit code, so that the next run starts afresh.
        const seen = engine.takeRun();
        const failed = exitedCleanly(run);
        if (failed) return failed;
        if (seen.errors.length > 0) return `logged an error: ${seen.errors[0]}`;
        if (expected !== undefined ? seen.resources !== expected : seen.resources <= 1) {
            return `registered ${seen.resources} resources, expected ${expected ?? "more than the Stack"}`;
        }
        return undefined;
    };
}

/**
 * The environment of every measured process: the caller's, less whatever changes how Pulumi, ts-node or
 * Node load a program (a user's PULUMI_NODEJS_TRANSPILE_ONLY or NODE_COMPILE_CACHE would change the very
 * thing measured, and so would the environment launchpad's commands give the engine), with
 * the project's node_modules/.bin on PATH as npm puts it.
 */
export function cleanEnvironment(root: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const clean: NodeJS.ProcessEnv = {};
    const fromLaunchpad = engineEnv(root);
    for (const [key, value] of Object.entries(env)) {
        if (/^(PULUMI_|TS_NODE_)/.test(key) || key === "NODE_OPTIONS" || key in fromLaunchpad) continue;
        clean[key] = value;
    }
    clean.PATH = [path.join(root, "node_modules", ".bin"), path.dirname(process.execPath), env.PATH].filter(Boolean).join(path.delimiter);
    return clean;
}

/** How `npm run render` runs, from package.json's script (the documented CLI when there is none). */
export function renderCommandLine(root: string): string {
    const scripts = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts ?? {};
    return typeof scripts.render === "string" ? scripts.render : "ts-node --transpile-only tools/render/main.ts";
}

/**
 * The project's tsconfig made to type-check, written to `dir`: the same compilerOptions (type roots
 * pinned to the project's, which a file elsewhere would not find) with `noCheck: false`, and ts-node's
 * own section without `swc` (which only transpiles). Pulumi's runtime, pointed at it with
 * PULUMI_NODEJS_TSCONFIG_PATH, type-checks as a TypeScript program's `pulumi up` does by default.
 */
export function typeCheckedTsconfig(root: string, dir: string): string {
    const file = path.join(root, "tsconfig.json");
    const parsed = ts.parseConfigFileTextToJson(file, fs.readFileSync(file, "utf8"));
    if (parsed.error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, "\n")}`);
    const { swc: _swc, ...tsNode } = parsed.config["ts-node"] ?? {};
    const config = {
        compilerOptions: { ...parsed.config.compilerOptions, noCheck: false, typeRoots: [path.join(root, "node_modules", "@types")] },
        "ts-node": tsNode,
    };
    const out = path.join(dir, "tsconfig.typecheck.json");
    fs.writeFileSync(out, JSON.stringify(config, null, 2));
    return out;
}

/** How Pulumi starts the project's program: Pulumi.yaml's name, `main` and runtime option `typescript`. */
export interface ProjectEntry {
    /** The project's name (`--project`). */
    readonly name: string;
    /** The program, relative to the project: `main`, or "." (package.json's main). */
    readonly main: string;
    /** Whether the runtime registers ts-node (the language host's PULUMI_NODEJS_TYPESCRIPT). */
    readonly typescript: boolean;
}

export function projectEntry(root: string): ProjectEntry {
    const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) ?? {};
    const option = project.runtime?.options?.typescript;
    return {
        name: String(project.name),
        main: typeof project.main === "string" ? project.main : ".",
        typescript: option === undefined ? true : option === true || option === "true",
    };
}

/** The fake engine's side of the measured runs (dev/bench/fakeEngine.ts). */
export type EngineRuns = Pick<FakeEngine, "address" | "takeRun">;

export interface CaseOptions {
    readonly root: string;
    /** The dev stack's config as Pulumi passes it to the program (PULUMI_CONFIG). */
    readonly devConfig: Readonly<Record<string, string>>;
    /** Where render writes (a temporary folder, never the committed rendered/). */
    readonly renderOut: string;
    /** A tsconfig that type-checks (typeCheckedTsconfig). */
    readonly typeChecked: string;
    /** A folder for the compile cache of the rows that start with an empty or a separate one. */
    readonly scratch: string;
    /** The engine the programs talk to. */
    readonly engine: EngineRuns;
    /** @default projectEntry(root) */
    readonly entry?: ProjectEntry;
}

/**
 * The command line the language host runs for `pulumi preview` (dev/testbed/langhost's runArgs, as
 * Pulumi's own host): node, Pulumi's runtime entry from the project's @pulumi/pulumi, the engine's
 * addresses, the project and stack, the program's folder, and its entry point (`main`'s file name, or
 * "." for a folder), then the program's own arguments.
 */
export function runtimeArgv(root: string, project: string, engine: string, stack: string, main: string, args: readonly string[] = []): string[] {
    const runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [root] });
    const isFile = /\.[cm]?[jt]s$/.test(main);
    const folder = path.resolve(root, isFile ? path.dirname(main) : main);
    return [
        process.execPath, runPath,
        "--monitor", engine, "--engine", engine,
        "--project", project, "--root-directory", root, "--stack", stack, "--pwd", folder,
        "--dry-run", "--parallel", "16",
        isFile ? path.basename(main) : ".", ...args,
    ];
}

/** What every case is started with: the clean environment, the runtime's command line, the engine's count. */
interface CaseKit {
    readonly root: string;
    readonly env: NodeJS.ProcessEnv;
    /** A program's environment: the clean one, its config as Pulumi passes it, and `extra`. */
    readonly program: (extra: NodeJS.ProcessEnv, config: Readonly<Record<string, string>>) => NodeJS.ProcessEnv;
    /** The runtime's command line for `main` on `stack`. */
    readonly runtime: (stack: string, main: string, args?: readonly string[]) => string[];
    /** Checks that a run registered `expected` resources (or any, without it). */
    readonly registered: (expected?: number) => Case["check"];
}

/** dev/bench/launch.js: a benchmark program started as Pulumi.yaml's main starts index.ts. */
const LAUNCHER = path.join("dev", "bench", "launch.js");

export function benchCases({ root, devConfig, renderOut, typeChecked, scratch, engine, entry = projectEntry(root) }: CaseOptions): Case[] {
    const env = cleanEnvironment(root);
    const kit: CaseKit = {
        root,
        env,
        program: (extra, config) => ({ ...env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_CONFIG_SECRET_KEYS: "[]", ...extra }),
        runtime: (stack, main, args = []) => runtimeArgv(root, entry.name, engine.address, stack, main, args),
        registered: (expected) => engineRegistered(engine, expected),
    };
    return [
        ...floorCases(kit, scratch),
        ...devProgramCases(kit, entry, devConfig, typeChecked),
        {
            id: "minimal",
            label: "minimal TypeScript program (one Namespace), started like the dev program",
            command: { argv: kit.runtime("bench", LAUNCHER, [path.join("dev", "bench", "minimalProgram.ts")]), cwd: root, env: kit.program({}, {}) },
            check: kit.registered(2),
            note: "Stack + Namespace",
        },
        {
            id: "render",
            label: "render --stack dev",
            command: { argv: ["/bin/sh", "-c", `${renderCommandLine(root)} --stack dev --out "$BENCH_RENDER_OUT"`], cwd: root, env: { ...env, BENCH_RENDER_OUT: renderOut } },
            check: exitedCleanly,
        },
        ...fleetCases(kit),
    ];
}

/** A program of the two SDKs alone, without and with Node's compile cache. */
function floorCases(kit: CaseKit, scratch: string): Case[] {
    const floorProgram = path.join("dev", "bench", "floorProgram.js");
    return [
        {
            id: "floor",
            label: "floor: a program that only loads @pulumi/pulumi and @pulumi/kubernetes",
            command: { argv: kit.runtime("dev", floorProgram), cwd: kit.root, env: kit.program({}, {}) },
            check: kit.registered(1),
            note: "the Stack alone",
        },
        {
            id: "floorCache",
            label: "the floor, with NODE_COMPILE_CACHE set",
            command: { argv: kit.runtime("dev", floorProgram), cwd: kit.root, env: kit.program({ NODE_COMPILE_CACHE: path.join(scratch, "floor-cache") }, {}) },
            check: kit.registered(1),
            note: "for reference",
        },
    ];
}

/** The dev stack's program, each way it is started: by `pulumi preview`, `npm run preview`, on a fresh clone, through ts-node. */
function devProgramCases(kit: CaseKit, entry: ProjectEntry, devConfig: Readonly<Record<string, string>>, typeChecked: string): Case[] {
    const { root, program, runtime, registered } = kit;
    // What the language host tells the runtime, from Pulumi.yaml.
    const asDeployed = entry.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {};
    const throughTsNode = { PULUMI_NODEJS_TYPESCRIPT: "true" };
    return [
        {
            id: "dev",
            label: "dev program, as `pulumi preview` starts it",
            command: { argv: runtime("dev", entry.main), cwd: root, env: program(asDeployed, devConfig) },
            check: registered(),
            note: `main: ${entry.main}`,
        },
        {
            id: "devNpm",
            label: "dev program, as `npm run preview` starts it",
            command: { argv: runtime("dev", entry.main), cwd: root, env: program({ ...asDeployed, ...engineEnv(root) }, devConfig) },
            check: registered(),
            note: "the environment tools/up gives the engine",
        },
        {
            id: "devFresh",
            label: "dev program, first run on a fresh clone (compiles all of it)",
            command: { argv: runtime("dev", LAUNCHER, ["--fresh", "index.ts"]), cwd: root, env: program({}, devConfig) },
            check: registered(),
            note: "empty bin/ and compile cache",
        },
        {
            id: "devTsNode",
            label: "dev program through ts-node, transpile-only (swc)",
            command: { argv: runtime("dev", "index.ts"), cwd: root, env: program({ ...throughTsNode, PULUMI_NODEJS_TRANSPILE_ONLY: "true" }, devConfig) },
            check: registered(),
        },
        {
            id: "devTypeChecked",
            label: "dev program through ts-node, type-checked",
            command: { argv: runtime("dev", "index.ts"), cwd: root, env: program({ ...throughTsNode, PULUMI_NODEJS_TSCONFIG_PATH: typeChecked }, devConfig) },
            check: registered(),
        },
    ];
}

/** The fleet as `npm run preview` starts it (the budgets), then as `pulumi preview` does (for reference). */
function fleetCases(kit: CaseKit): Case[] {
    return (["launchpad", "pulumi"] as const).flatMap((startedBy) => FLEET_SIZES.map((services): Case => ({
        id: startedBy === "launchpad" ? `fleet${services}` : `fleet${services}Pulumi`,
        label: `fleet of ${services} web service${services === 1 ? "" : "s"}, as \`${startedBy === "launchpad" ? "npm run preview" : "pulumi preview"}\` starts it`,
        command: {
            argv: kit.runtime("bench", LAUNCHER, [path.join("dev", "bench", "fleetProgram.ts")]),
            cwd: kit.root,
            env: kit.program(startedBy === "launchpad" ? engineEnv(kit.root) : {}, { "bench:webServices": String(services) }),
        },
        check: kit.registered(fleetResources(services)),
        note: `${fleetResources(services)} resources`,
        services,
        startedBy,
    })));
}

/** mocha as `npx mocha` runs it, with a reporter that times each test file into `out`. */
export function suiteCommand(root: string, out: string): Command {
    const mocha = require.resolve("mocha/bin/mocha.js", { paths: [root] });
    const reporter = path.join(root, "dev", "bench", "suiteReporter.ts");
    return { argv: [process.execPath, mocha, "--reporter", reporter, "--reporter-option", `out=${out}`], cwd: root, env: cleanEnvironment(root) };
}
