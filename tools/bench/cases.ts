import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import * as YAML from "yaml";
import { Command, Run } from "./measure";

// The commands `npm run bench` measures, each a whole process started the way a user or Pulumi starts it.

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
    /** Shown beside the figures. */
    readonly note?: string;
}

/** The line tools/bench/host.js prints on exit. */
export function parseHostReport(stdout: string): { resources: number } | undefined {
    const line = stdout.split("\n").reverse().find((l) => l.startsWith("bench-host "));
    if (!line) return undefined;
    try {
        const parsed = JSON.parse(line.slice("bench-host ".length));
        return typeof parsed?.resources === "number" ? { resources: parsed.resources } : undefined;
    } catch {
        return undefined;
    }
}

function lastLines(text: string, count = 5): string {
    return text.trim().split("\n").slice(-count).join("\n");
}

/** Exit 0, else the end of stderr. */
function exitedCleanly(run: Run): string | undefined {
    return run.code === 0 ? undefined : `exited ${run.code}: ${lastLines(run.stderr || run.stdout)}`;
}

/** Exit 0 and the host registered `expected` resources (or any, when unknown). */
function hostRegistered(expected?: number) {
    return (run: Run): string | undefined => {
        const failed = exitedCleanly(run);
        if (failed) return failed;
        const report = parseHostReport(run.stdout);
        if (!report) return `printed no bench-host line: ${lastLines(run.stderr || run.stdout)}`;
        if (expected !== undefined ? report.resources !== expected : report.resources === 0) {
            return `registered ${report.resources} resources, expected ${expected ?? "some"}`;
        }
        return undefined;
    };
}

/**
 * The environment of every measured process: the caller's, less whatever changes how Pulumi or ts-node
 * load a program (a user's PULUMI_NODEJS_TRANSPILE_ONLY would change the very thing measured), with
 * the project's node_modules/.bin on PATH as npm puts it.
 */
export function cleanEnvironment(root: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const clean: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(env)) {
        if (/^(PULUMI_|TS_NODE_)/.test(key) || key === "NODE_OPTIONS") continue;
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

/** How Pulumi starts the project's program: Pulumi.yaml's `main` and runtime option `typescript`. */
export interface ProjectEntry {
    /** The program, relative to the project: `main`, or "." (package.json's main). */
    readonly main: string;
    /** Whether the runtime registers ts-node (the language host's PULUMI_NODEJS_TYPESCRIPT). */
    readonly typescript: boolean;
}

export function projectEntry(root: string): ProjectEntry {
    const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) ?? {};
    const option = project.runtime?.options?.typescript;
    return { main: typeof project.main === "string" ? project.main : ".", typescript: option === undefined ? true : option === true || option === "true" };
}

export interface CaseOptions {
    readonly root: string;
    /** The dev stack's config as Pulumi passes it to the program (PULUMI_CONFIG). */
    readonly devConfig: Readonly<Record<string, string>>;
    /** Where render writes (a temporary folder, never the committed rendered/). */
    readonly renderOut: string;
    /** A tsconfig that type-checks (typeCheckedTsconfig). */
    readonly typeChecked: string;
    /** @default projectEntry(root) */
    readonly entry?: ProjectEntry;
}

export function benchCases({ root, devConfig, renderOut, typeChecked, entry = projectEntry(root) }: CaseOptions): Case[] {
    const env = cleanEnvironment(root);
    const node = process.execPath;
    const host = path.join("tools", "bench", "host.js");
    const program = (extra: NodeJS.ProcessEnv, config: Readonly<Record<string, string>>): NodeJS.ProcessEnv => ({
        ...env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_CONFIG_SECRET_KEYS: "[]", ...extra,
    });
    // What the language host tells the runtime, from Pulumi.yaml.
    const asDeployed = entry.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {};
    const throughTsNode = { PULUMI_NODEJS_TYPESCRIPT: "true" };
    const cases: Case[] = [
        {
            id: "floor",
            label: "floor: require @pulumi/pulumi and @pulumi/kubernetes",
            command: { argv: [node, "-e", "require('@pulumi/pulumi'); require('@pulumi/kubernetes')"], cwd: root, env },
            check: exitedCleanly,
        },
        {
            id: "dev",
            label: "dev program, as deployed (Pulumi.yaml's main, bin/ current)",
            command: { argv: [node, host, entry.main, "dev"], cwd: root, env: program(asDeployed, devConfig) },
            check: hostRegistered(),
            note: `main: ${entry.main}`,
        },
        {
            id: "devFresh",
            label: "dev program, first run on a fresh clone (compiles all of it)",
            command: { argv: [node, host, "--launch", "--fresh", "index.ts", "dev"], cwd: root, env: program({}, devConfig) },
            check: hostRegistered(),
        },
        {
            id: "devTsNode",
            label: "dev program through ts-node, transpile-only (swc)",
            command: { argv: [node, host, "index.ts", "dev"], cwd: root, env: program({ ...throughTsNode, PULUMI_NODEJS_TRANSPILE_ONLY: "true" }, devConfig) },
            check: hostRegistered(),
        },
        {
            id: "devTypeChecked",
            label: "dev program through ts-node, type-checked",
            command: { argv: [node, host, "index.ts", "dev"], cwd: root, env: program({ ...throughTsNode, PULUMI_NODEJS_TSCONFIG_PATH: typeChecked }, devConfig) },
            check: hostRegistered(),
        },
        {
            id: "devRuntime",
            label: "dev program through Pulumi's runtime entry (cmd/run)",
            command: { argv: [node, host, "--runtime", entry.main, "dev"], cwd: root, env: program(asDeployed, devConfig) },
            check: hostRegistered(),
        },
        {
            id: "minimal",
            label: "minimal TypeScript program (one Namespace), as deployed",
            command: { argv: [node, host, "--launch", path.join("tools", "bench", "minimalProgram.ts"), "bench"], cwd: root, env: program({}, {}) },
            check: hostRegistered(2),
            note: "Stack + Namespace",
        },
        {
            id: "render",
            label: "render --stack dev",
            command: { argv: ["/bin/sh", "-c", `${renderCommandLine(root)} --stack dev --out "$BENCH_RENDER_OUT"`], cwd: root, env: { ...env, BENCH_RENDER_OUT: renderOut } },
            check: exitedCleanly,
        },
    ];
    for (const services of FLEET_SIZES) {
        cases.push({
            id: `fleet${services}`,
            label: `fleet of ${services} web service${services === 1 ? "" : "s"}`,
            command: { argv: [node, host, "--launch", path.join("tools", "bench", "fleetProgram.ts"), "bench"], cwd: root, env: program({}, { "bench:webServices": String(services) }) },
            check: hostRegistered(fleetResources(services)),
            note: `${fleetResources(services)} resources`,
            services,
        });
    }
    return cases;
}

/** mocha as `npx mocha` runs it, with a reporter that times each test file into `out`. */
export function suiteCommand(root: string, out: string): Command {
    const mocha = require.resolve("mocha/bin/mocha.js", { paths: [root] });
    const reporter = path.join(root, "tools", "bench", "suiteReporter.ts");
    return { argv: [process.execPath, mocha, "--reporter", reporter, "--reporter-option", `out=${out}`], cwd: root, env: cleanEnvironment(root) };
}
