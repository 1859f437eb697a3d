import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { transformSync } from "@swc/core";
import * as ts from "typescript";
import { SWC_OPTIONS } from "../tools/launch/program";

// What may import what (docs/architecture.md, "Layout"): read off every source file's imports, so that
// a command leaning on another command, a shared library reaching up into the commands, or a cycle
// fails here, with the offending import named.

const ROOT = path.resolve(__dirname, "..");

/** The folders and files whose imports are held to the rules (tests and the sample app are not). */
const SOURCES = ["index.ts", "components", "lib", "policy", "tools", "dev"];

/** One import: the file that imports and the file of this repository it names. */
export interface Import {
    readonly from: string;
    readonly to: string;
}

/** Every `.ts` and `.js` file under `entry` (a file or a folder), relative to the root, without node_modules. */
function sourceFiles(root: string, entry: string): string[] {
    const full = path.join(root, entry);
    if (!fs.existsSync(full)) return [];
    if (fs.statSync(full).isFile()) return /\.(ts|js)$/.test(entry) ? [entry] : [];
    return fs.readdirSync(full, { withFileTypes: true })
        .filter((e) => e.name !== "node_modules" && e.name !== "bin")
        .flatMap((e) => sourceFiles(root, path.posix.join(entry, e.name)));
}

/** The file a relative specifier names, as Node and TypeScript resolve it; undefined for a package. */
function resolve(root: string, from: string, specifier: string): string | undefined {
    if (!specifier.startsWith(".")) return undefined;
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    const candidates = [base, `${base}.ts`, `${base}.js`, `${base}.json`, `${base}/index.ts`, `${base}/index.js`];
    return candidates.find((c) => fs.existsSync(path.join(root, c)) && fs.statSync(path.join(root, c)).isFile());
}

/** Every import (static, `export … from`, `import type`, `require()` and `import()` of a literal) between the repository's source files. */
export function readImports(root = ROOT): Import[] {
    return SOURCES.flatMap((entry) => sourceFiles(root, entry)).flatMap((from) => {
        const info = ts.preProcessFile(fs.readFileSync(path.join(root, from), "utf8"), true, true);
        return info.importedFiles
            .map((imported) => resolve(root, from, imported.fileName))
            .filter((to): to is string => to !== undefined)
            .map((to) => ({ from, to }));
    });
}

/** The user commands: the folders of tools/ whose main.ts a package.json script runs. */
export function commandFolders(root = ROOT): string[] {
    const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts;
    const named = Object.values(scripts).flatMap((script) => [...script.matchAll(/\btools\/([\w-]+)\/main\.ts\b/g)].map((m) => m[1]));
    return [...new Set(named)].sort();
}

/** Where a file sits in the layout: "lib", "components", "policy", "dev", "tests", "program", "tools" (the commands' shared parts) or "command <name>". */
function areaOf(file: string, commands: readonly string[]): string {
    const [top, second] = file.split("/");
    if (file === "index.ts") return "program";
    if (top === "tools") return second !== undefined && commands.includes(second) ? `command ${second}` : "tools";
    return top;
}

/** A rule of the layout: its name, and whether an import from one area to another breaks it. */
interface Rule {
    readonly name: string;
    readonly breaks: (from: string, to: string) => boolean;
}

const isCommand = (area: string) => area.startsWith("command ");

const RULES: readonly Rule[] = [
    { name: "a command imports no other command", breaks: (from, to) => isCommand(from) && isCommand(to) && from !== to },
    { name: "lib/ imports nothing but lib/", breaks: (from, to) => from === "lib" && to !== "lib" },
    { name: "components/ import only components/ and lib/", breaks: (from, to) => from === "components" && !["components", "lib"].includes(to) },
    { name: "policy/ imports only policy/ and lib/", breaks: (from, to) => from === "policy" && !["policy", "lib"].includes(to) },
    { name: "tools/ imports nothing from dev/", breaks: (from, to) => (from === "tools" || isCommand(from)) && to === "dev" },
    { name: "the commands' shared parts of tools/ (launch, harness, engine, cli.ts, stackFile.ts, appTarget.ts) import no command", breaks: (from, to) => from === "tools" && isCommand(to) },
    { name: "no source file imports tests/", breaks: (_from, to) => to === "tests" },
];

/** Each rule with the imports that break it (none when the layout holds). */
export function violations(imports: readonly Import[], commands: readonly string[]): { rule: string; imports: string[] }[] {
    return RULES.map((rule) => ({
        rule: rule.name,
        imports: imports.filter((i) => rule.breaks(areaOf(i.from, commands), areaOf(i.to, commands))).map((i) => `${i.from} -> ${i.to}`),
    }));
}

/** The import cycles: each strongly connected group of two or more files (Tarjan), files sorted. */
export function cycles(imports: readonly Import[]): string[][] {
    const next = new Map<string, string[]>();
    for (const { from, to } of imports) next.set(from, [...(next.get(from) ?? []), to]);
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const found: string[][] = [];
    const visit = (file: string) => {
        index.set(file, index.size);
        low.set(file, index.get(file)!);
        stack.push(file);
        onStack.add(file);
        for (const to of next.get(file) ?? []) {
            if (!index.has(to)) {
                visit(to);
                low.set(file, Math.min(low.get(file)!, low.get(to)!));
            } else if (onStack.has(to)) {
                low.set(file, Math.min(low.get(file)!, index.get(to)!));
            }
        }
        if (low.get(file) === index.get(file)) {
            const group: string[] = [];
            let member: string;
            do {
                member = stack.pop()!;
                onStack.delete(member);
                group.push(member);
            } while (member !== file);
            if (group.length > 1) found.push(group.sort());
        }
    };
    for (const file of [...next.keys()].sort()) if (!index.has(file)) visit(file);
    return found;
}

/** The packages whose loading a command that drives the Pulumi CLI must not pay for at its start. */
const SDK = /^@pulumi\/(pulumi|kubernetes)(\/|$)/;

/**
 * The commands tools/launch/command.js starts (package.json): each drives the Pulumi CLI or talks to the
 * cluster, and needs no SDK. (doctor, render and diagram run the program under mocks: they load it on purpose.)
 */
export function launchedCommands(root = ROOT): string[] {
    const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts;
    const entries = Object.values(scripts).flatMap((script) => [...script.matchAll(/\btools\/launch\/command\.js (\S+\.ts)\b/g)].map((m) => m[1]));
    return [...new Set(entries)].sort();
}

/**
 * What a file requires when it is loaded: the requires of its JavaScript as swc compiles it for the
 * commands (tools/launch), so type-only imports are gone, as they are at run time; a JavaScript file as
 * it is. A require inside a function runs when that is called, not at load: it is left out.
 */
function runtimeRequires(root: string, file: string): string[] {
    const source = fs.readFileSync(path.join(root, file), "utf8");
    const code = file.endsWith(".ts") ? transformSync(source, { ...SWC_OPTIONS, sourceMaps: false, filename: path.join(root, file) }).code : source;
    const found: string[] = [];
    const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node)) return;
        const [argument] = ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "require" ? node.arguments : [];
        if (argument !== undefined && ts.isStringLiteral(argument)) found.push(argument.text);
        ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS));
    return found;
}

/**
 * The first chain of run-time requires by which `entry` loads the Pulumi SDK (`tools/up/main.ts ->
 * components/config.ts -> @pulumi/pulumi`), breadth first, so the shortest; undefined when it does not.
 */
export function sdkChain(entry: string, root = ROOT): string[] | undefined {
    const cameFrom = new Map<string, string | undefined>([[entry, undefined]]);
    const chainTo = (file: string, end: string) => {
        const chain = [end];
        for (let at: string | undefined = file; at !== undefined; at = cameFrom.get(at)) chain.unshift(at);
        return chain;
    };
    for (const queue = [entry]; queue.length > 0;) {
        const file = queue.shift()!;
        for (const specifier of runtimeRequires(root, file)) {
            if (SDK.test(specifier)) return chainTo(file, specifier);
            const to = resolve(root, file, specifier);
            if (to === undefined || cameFrom.has(to)) continue;
            cameFrom.set(to, file);
            queue.push(to);
        }
    }
    return undefined;
}

/** Commands that still load the SDK, and why; the test fails once one no longer does, so that its entry goes. */
const STILL_LOADING_THE_SDK: Readonly<Record<string, string>> = {
    "tools/devloop/main.ts": "its live updates build with components/image.ts, whose Image is a dynamic resource of the SDK",
};

describe("the launched commands load no Pulumi SDK at run time", () => {
    it("finds the commands tools/launch starts", () => {
        assert.deepEqual(launchedCommands(), [
            "tools/backup/main.ts", "tools/devloop/main.ts", "tools/history/main.ts", "tools/logs/main.ts", "tools/promote/main.ts", "tools/rollback/main.ts", "tools/up/main.ts",
        ]);
    });

    for (const entry of launchedCommands()) {
        const still = STILL_LOADING_THE_SDK[entry];
        it(still ? `${entry} still loads it: ${still}` : `${entry} loads none`, () => {
            const chain = sdkChain(entry);
            if (still) assert.ok(chain, `${entry} no longer loads the SDK: take it out of STILL_LOADING_THE_SDK`);
            else assert.equal(chain, undefined, `${entry} loads the SDK at its start (~0.4 s) through ${chain?.join(" -> ")}; import what it needs from a module without the SDK (components/defaults.ts) or with \`import type\``);
        });
    }

    it("follows value imports to the SDK, and neither type-only imports, requires inside functions nor other packages", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-sdk-chain-"));
        try {
            const files: Record<string, string> = {
                "a.ts": 'import { b } from "./b";\nimport * as yaml from "yaml";\nexport const a = [b, yaml];\n',
                "b.ts": 'import type { C } from "./c";\nimport { type D, d } from "./d";\nexport const b: C | D = d;\n',
                "c.ts": 'import * as pulumi from "@pulumi/pulumi";\nexport type C = pulumi.Output<string>;\nexport const c = pulumi.output("c");\n',
                "d.ts": 'import * as k8s from "@pulumi/kubernetes";\nexport type D = string;\nexport const d = k8s.core.v1.Secret.name;\n',
                "e.ts": 'import type { C } from "./c";\nexport const e: C | undefined = undefined;\nexport const later = () => require("./c");\n',
            };
            for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, name), text);
            assert.deepEqual(sdkChain("a.ts", root), ["a.ts", "b.ts", "d.ts", "@pulumi/kubernetes"]);
            assert.equal(sdkChain("e.ts", root), undefined);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("the layout: what may import what", () => {
    const imports = readImports();
    const commands = commandFolders();

    it("reads the imports of every source folder and finds the user commands", () => {
        for (const area of ["index.ts", "components/", "lib/", "policy/", "tools/", "dev/"]) {
            assert.ok(imports.some((i) => i.from.startsWith(area)), `no import read from ${area}`);
        }
        assert.deepEqual(commands, ["backup", "devloop", "diagram", "doctor", "history", "logs", "promote", "render", "rollback", "up"]);
    });

    for (const rule of RULES) {
        it(rule.name, () => {
            const broken = violations(imports, commands).find((v) => v.rule === rule.name)!.imports;
            assert.deepEqual(broken, [], `imports that break "${rule.name}" (docs/architecture.md, "Layout"):\n  ${broken.join("\n  ")}`);
        });
    }

    it("has no import cycle", () => {
        const found = cycles(imports);
        assert.deepEqual(found, [], `import cycles:\n  ${found.map((group) => group.join(" -> ")).join("\n  ")}`);
    });

    describe("the checks themselves", () => {
        const commandsHere = ["doctor", "up"];
        const broken = (from: string, to: string) => violations([{ from, to }], commandsHere).filter((v) => v.imports.length > 0).map((v) => v.rule);

        it("find a command importing another, lib/ or components/ reaching up, and tools/ importing dev/", () => {
            assert.deepEqual(broken("tools/doctor/main.ts", "tools/up/kind.ts"), ["a command imports no other command"]);
            assert.deepEqual(broken("lib/registry.ts", "tools/up/commands.ts"), ["lib/ imports nothing but lib/"]);
            assert.deepEqual(broken("lib/net.ts", "components/config.ts"), ["lib/ imports nothing but lib/"]);
            assert.deepEqual(broken("components/app.ts", "tools/cli.ts"), ["components/ import only components/ and lib/"]);
            assert.deepEqual(broken("components/app.ts", "dev/docs/docs.ts"), ["components/ import only components/ and lib/"]);
            assert.deepEqual(broken("tools/up/main.ts", "dev/testbed/layout.ts"), ["tools/ imports nothing from dev/"]);
            assert.deepEqual(broken("tools/harness/index.ts", "tools/up/main.ts"), ["the commands' shared parts of tools/ (launch, harness, engine, cli.ts, stackFile.ts, appTarget.ts) import no command"]);
        });

        it("let a command use its own files, lib/, the shared parts of tools/ and the components, and dev/ use anything", () => {
            for (const [from, to] of [
                ["tools/up/main.ts", "tools/up/commands.ts"],
                ["tools/doctor/main.ts", "lib/registry.ts"],
                ["tools/doctor/main.ts", "tools/cli.ts"],
                ["tools/render/main.ts", "components/config.ts"],
                ["dev/bench/main.ts", "tools/harness/index.ts"],
                ["components/config.ts", "lib/quantity.ts"],
                ["policy/rules.ts", "lib/imageRef.ts"],
            ]) {
                assert.deepEqual(broken(from, to), [], `${from} -> ${to}`);
            }
        });

        it("find a cycle, however long, and only the files on it", () => {
            const found = cycles([
                { from: "a.ts", to: "b.ts" }, { from: "b.ts", to: "c.ts" }, { from: "c.ts", to: "a.ts" }, { from: "c.ts", to: "d.ts" },
            ]);
            assert.deepEqual(found, [["a.ts", "b.ts", "c.ts"]]);
            assert.deepEqual(cycles([{ from: "a.ts", to: "b.ts" }, { from: "b.ts", to: "c.ts" }]), []);
        });
    });
});
