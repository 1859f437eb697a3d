import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LaunchError, STAMP, SWC_OPTIONS, compileProgram, launch, relativeRequires } from "../../tools/launch/program";
import { ROOT } from "../../tools/harness";

interface Project {
    readonly root: string;
    write(file: string, text: string): void;
    read(file: string): string;
}

/** Runs `body` in a throw-away project folder holding `files` (path → text), removed after. */
function inProject(files: Record<string, string>, body: (p: Project) => void): void {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "launch-test-"));
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), text);
    };
    try {
        for (const [file, text] of Object.entries(files)) write(file, text);
        body({ root, write, read: (file) => fs.readFileSync(path.join(root, file), "utf8") });
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

/** Loads a compiled file afresh (a test may have rewritten it). */
function load(file: string): any {
    for (const key of Object.keys(require.cache)) if (key.startsWith(path.dirname(path.dirname(file)))) delete require.cache[key];
    return require(file);
}

const APP = {
    "index.ts": 'import { greet } from "./lib";\nimport type { Shape } from "./lib/types";\nexport const shape: Shape = { sides: 3 };\nexport const message = greet("kind");\n',
    "lib/index.ts": 'export * from "./greet";\n',
    "lib/greet.ts": 'export function greet(name: string): string {\n    return `hello ${name}`;\n}\n',
    "lib/types.ts": "export interface Shape { sides: number }\n",
    "unused.ts": "export const never = 1;\n",
};

describe("tools/launch: the program as Pulumi runs it", () => {
    describe("compileProgram", () => {
        it("compiles the entry and every file it imports, folder indexes and re-exports included, mirroring the layout under bin/", () => {
            inProject(APP, (p) => {
                const compiled = compileProgram(p.root, "index.ts");
                assert.equal(compiled.outFile, path.join(p.root, "bin", "index.js"));
                assert.deepEqual(compiled.sources, ["index.ts", "lib/index.ts", "lib/greet.ts"]);
                assert.deepEqual(compiled.compiled, compiled.sources);
                assert.deepEqual(load(compiled.outFile).message, "hello kind");
                // A type-only import is erased, so its file is not part of the program; nor is a file nothing imports.
                assert.ok(!fs.existsSync(path.join(p.root, "bin", "lib", "types.js")));
                assert.ok(!fs.existsSync(path.join(p.root, "bin", "unused.js")));
            });
        });
        it("compiles nothing when every output is current, and only an edited file after an edit", () => {
            inProject(APP, (p) => {
                compileProgram(p.root, "index.ts");
                const again = compileProgram(p.root, "index.ts");
                assert.deepEqual(again.compiled, []);
                assert.deepEqual(again.sources, ["index.ts", "lib/index.ts", "lib/greet.ts"]);

                p.write("lib/greet.ts", 'export function greet(name: string): string {\n    return `hi ${name}`;\n}\n');
                const edited = compileProgram(p.root, "index.ts");
                assert.deepEqual(edited.compiled, ["lib/greet.ts"]);
                assert.equal(load(edited.outFile).message, "hi kind");
            });
        });
        it("follows an import added by an edit to a file it had not compiled before", () => {
            inProject(APP, (p) => {
                compileProgram(p.root, "index.ts");
                p.write("lib/shout.ts", "export const shout = (text: string): string => text.toUpperCase();\n");
                p.write("lib/greet.ts", 'import { shout } from "./shout";\nexport function greet(name: string): string {\n    return shout(`hello ${name}`);\n}\n');
                const edited = compileProgram(p.root, "index.ts");
                assert.deepEqual(edited.compiled, ["lib/greet.ts", "lib/shout.ts"]);
                assert.equal(load(edited.outFile).message, "HELLO KIND");
            });
        });
        it("recompiles an output whose stamp does not match its source, whatever its age", () => {
            inProject(APP, (p) => {
                compileProgram(p.root, "index.ts");
                const out = path.join(p.root, "bin", "lib", "greet.js");
                fs.writeFileSync(out, 'exports.greet = () => "stale";\n' + `${STAMP}${"0".repeat(64)}\n`);
                assert.deepEqual(compileProgram(p.root, "index.ts").compiled, ["lib/greet.ts"]);
                assert.equal(load(path.join(p.root, "bin", "index.js")).message, "hello kind");
            });
        });
        it("ends every output with the stamp of its source and leaves no temporary files behind", () => {
            inProject(APP, (p) => {
                compileProgram(p.root, "index.ts");
                const written = fs.readdirSync(path.join(p.root, "bin"), { recursive: true }).map(String).sort();
                assert.deepEqual(written, ["index.js", "index.js.map", "lib", "lib/greet.js", "lib/greet.js.map", "lib/index.js", "lib/index.js.map"].map((f) => f.split("/").join(path.sep)));
                assert.match(p.read("bin/lib/greet.js"), /\n\/\/# sourceMappingURL=greet\.js\.map\n\/\/ launchpad-compiled-from sha256:[0-9a-f]{64}\n$/);
            });
        });
        it("writes source maps that lead Node's stack traces back to the TypeScript lines", () => {
            inProject({ "index.ts": 'import { fail } from "./fail";\nexport const run = () => fail();\n', "fail.ts": "type Unused = string;\n\n\nexport function fail(): never {\n    throw new Error(\"boom\");\n}\n" }, (p) => {
                const { outFile } = compileProgram(p.root, "index.ts");
                assert.deepEqual(JSON.parse(p.read("bin/fail.js.map")).sources, ["../fail.ts"]);
                const run = spawnSync(process.execPath, ["--enable-source-maps", "-e", `require(${JSON.stringify(outFile)}).run()`], { encoding: "utf8" });
                assert.match(run.stderr, /fail\.ts:5:11/, run.stderr);
            });
        });
        it("loads a JavaScript file an import names from where it is, compiling only the TypeScript", () => {
            const files = {
                "tools/up/main.ts": 'import { version } from "../launch/check";\nimport { greet } from "../../lib/greet";\nexport const said = `${greet(version())}`;\n',
                "tools/launch/check.js": 'exports.version = () => require("./neighbour").name;\n',
                "tools/launch/neighbour.js": 'exports.name = "v22";\n',
                "lib/greet.ts": APP["lib/greet.ts"],
            };
            inProject(files, (p) => {
                const compiled = compileProgram(p.root, "tools/up/main.ts", { outDir: path.join("bin", "commands") });
                assert.deepEqual(compiled.compiled, ["tools/up/main.ts", "lib/greet.ts"]);
                assert.deepEqual(compiled.sources, ["tools/up/main.ts", "tools/launch/check.js", "lib/greet.ts"]);
                assert.match(p.read("bin/commands/tools/up/main.js"), /require\("\.\.\/\.\.\/\.\.\/\.\.\/tools\/launch\/check\.js"\)/);
                assert.ok(!fs.existsSync(path.join(p.root, "bin", "commands", "tools", "launch")), "the JavaScript is not copied");
                assert.equal(load(compiled.outFile).said, "hello v22");
                // A second run reads the rewritten require back and finds everything current.
                assert.deepEqual(compileProgram(p.root, "tools/up/main.ts", { outDir: path.join("bin", "commands") }).compiled, []);
            });
        });
        it("gives compiled code the source's __dirname and __filename with sourcePaths, keeping its lines where the source map says", () => {
            const files = { "tools/up/main.ts": 'import * as path from "path";\nexport const root = path.resolve(__dirname, "..", "..");\nexport const file = __filename;\nexport const line = () => new Error("here").stack;\n' };
            inProject(files, (p) => {
                const commands = compileProgram(p.root, "tools/up/main.ts", { outDir: path.join("bin", "commands"), sourcePaths: true });
                const loaded = load(commands.outFile);
                assert.equal(loaded.root, p.root);
                assert.equal(loaded.file, path.join(p.root, "tools", "up", "main.ts"));
                const run = spawnSync(process.execPath, ["--enable-source-maps", "-e", `console.log(require(${JSON.stringify(commands.outFile)}).line())`], { encoding: "utf8" });
                assert.match(run.stdout, /main\.ts:4:/, run.stdout + run.stderr);
                // Without it (the program), the compiled file's own: and the two compile to different stamps.
                const program = compileProgram(p.root, "tools/up/main.ts", { outDir: "bin" });
                assert.equal(load(program.outFile).root, path.join(p.root, "bin"));
                assert.notEqual(p.read("bin/tools/up/main.js").split("\n").at(-2), p.read("bin/commands/tools/up/main.js").split("\n").at(-2));
            });
        });
        it("gives the source's __dirname also to a file that opens with a comment, after its use strict, keeping strict mode and its lines", () => {
            const files = {
                "tools/up/main.ts": '// A comment swc keeps above the directive,\n// on two lines.\nimport * as path from "path";\nexport const root = path.resolve(__dirname, "..", "..");\nexport const strict = (function (this: unknown) { return this === undefined; })();\nexport const line = () => new Error("here").stack;\n',
            };
            inProject(files, (p) => {
                const commands = compileProgram(p.root, "tools/up/main.ts", { outDir: path.join("bin", "commands"), sourcePaths: true });
                const loaded = load(commands.outFile);
                assert.equal(loaded.root, p.root);
                assert.equal(loaded.strict, true);
                const run = spawnSync(process.execPath, ["--enable-source-maps", "-e", `console.log(require(${JSON.stringify(commands.outFile)}).line())`], { encoding: "utf8" });
                assert.match(run.stdout, /main\.ts:6:/, run.stdout + run.stderr);
            });
        });
        it("compiles into another folder inside the project, and refuses one outside it (packages would not resolve)", () => {
            inProject(APP, (p) => {
                const compiled = compileProgram(p.root, "index.ts", { outDir: path.join(p.root, "bin", ".other") });
                assert.equal(compiled.outFile, path.join(p.root, "bin", ".other", "index.js"));
                assert.throws(() => compileProgram(p.root, "index.ts", { outDir: os.tmpdir() }), (e: unknown) => e instanceof LaunchError && /must go in a folder inside the project/.test(e.message));
                assert.throws(() => compileProgram(p.root, "index.ts", { outDir: p.root }), LaunchError);
            });
        });
    });

    describe("problems with the sources", () => {
        it("names the file and swc's reason for a syntax error, points at npm run build, and writes nothing for that file", () => {
            inProject({ ...APP, "lib/greet.ts": "export function greet(name: string: string {}\n" }, (p) => {
                assert.throws(() => compileProgram(p.root, "index.ts"), (e: unknown) => {
                    assert.ok(e instanceof LaunchError);
                    assert.match(e.message, /^cannot compile lib\/greet\.ts:\n/);
                    assert.match(e.message, /npm run build` type-checks the program/);
                    return true;
            });
            assert.ok(!fs.existsSync(path.join(p.root, "bin", "lib", "greet.js")));
            });
        });
        it("names the importer, the import and the files looked for when an import has no TypeScript file", () => {
            inProject({ "index.ts": 'export * from "./missing";\n' }, (p) => {
                assert.throws(() => compileProgram(p.root, "index.ts"), /^LaunchError: index\.ts imports "\.\/missing", but there is no missing\.ts or missing\/index\.ts or missing\.js/);
            });
        });
        it("says where it could not write and what to do, when bin/ cannot be written", () => {
            inProject({ ...APP, bin: "a file where the folder should be\n" }, (p) => {
                assert.throws(() => compileProgram(p.root, "index.ts"), /^LaunchError: cannot write the compiled index\.ts to .*bin\/index\.js: .*; make bin\/ writable, or run `npm run build` where it is/);
            });
        });
        it("refuses an import from outside the project and an entry that is not a TypeScript file there", () => {
            inProject({ "index.ts": 'export * from "../elsewhere";\n' }, (p) => {
                assert.throws(() => compileProgram(p.root, "index.ts"), /imports "\.\.\/elsewhere", which is outside the project/);
                assert.throws(() => compileProgram(p.root, "main.ts"), /the program's entry main\.ts is not a TypeScript file/);
            });
        });
        it("runs the program in the project folder, not the folder of Pulumi.yaml's main where the engine starts it", () => {
            const before = process.cwd();
            inProject({ "index.ts": "export const cwd = process.cwd();\n" }, (p) => {
                try {
                    process.chdir(os.tmpdir());
                    assert.equal((launch(p.root, "index.ts") as { cwd: string }).cwd, fs.realpathSync(p.root));
                } finally {
                    process.chdir(before);
                }
            });
        });
        it("reaches Pulumi as a RunError, which the CLI prints without a stack trace", () => {
            inProject({ "index.ts": "export const = 1;\n" }, (p) => {
                assert.throws(() => launch(p.root, "index.ts"), (e: unknown) => pulumi.RunError.isInstance(e) && /cannot compile index\.ts/.test((e as Error).message));
            });
        });
    });

    describe("the compiler", () => {
        it("reads requires of relative paths only, as swc writes them", () => {
            assert.deepEqual(relativeRequires('const a = require("./a");\nconst b = require("@pulumi/pulumi");\n_export_star(require("../c/d"), exports);\nrequire(".");\n'), ["./a", "../c/d", "."]);
        });
        it("uses the swc options ts-node derives from tsconfig.json, so the tests ran the code that deploys", () => {
            // ts-node keeps these internal; the file is read by path, past its package exports.
            const { createSwcOptions } = require(path.join(path.dirname(require.resolve("ts-node")), "transpilers", "swc.js"));
            const ts = require("typescript");
            const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
            const derived = createSwcOptions(parsed.options, undefined, require("@swc/core"), "@swc/core").nonTsxOptions;
            // As swc reads them: an option left undefined is an option not given.
            assert.deepEqual(JSON.parse(JSON.stringify(derived)), SWC_OPTIONS);
        });
    });
});
