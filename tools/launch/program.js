// @ts-check
"use strict";
// How `pulumi up` and `pulumi preview` start launchpad: Pulumi.yaml names `tools/launch/main.js` as the
// program and turns off the runtime's own TypeScript support (`typescript: false`), so Pulumi neither
// type-checks nor loads ts-node. This file compiles the program's TypeScript (the entry and every file
// it imports, found by following relative requires) to JavaScript under `bin/` with swc, exactly as
// ts-node transpiles it for the tests, and loads the JavaScript.
//
// A compiled file ends with the SHA-256 of the source it came from and of the compiler options; it is
// used only while both still match, so a deployment always runs the sources as they are now, and a run
// after an edit recompiles just the edited files. Each output is written to a temporary name and
// renamed into place, so two runs at once never see half a file. Type-checking happens where it can
// fail a build: `npm run build`, `npm test`, CI.
//
// Why not ts-node at deploy time: loading ts-node, TypeScript and its own source-map support, and
// source-mapping the stack trace Pulumi reads for every resource it registers, made the dev program
// 1.6x the floor of loading the two SDKs; from bin/ it is about 1.1-1.2x (bench/RESULTS.md). Error
// stack traces still name the TypeScript lines: Pulumi's runtime installs source-map-support, which
// reads the .js.map written beside each output (elsewhere, NODE_OPTIONS=--enable-source-maps does).

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { ENGINE_DEBUG, skipUnreadDebugLogs } = require("./debugLogs");
const { GATE, passGate } = require("./gate");

/**
 * swc's options: what ts-node derives from tsconfig.json (commonjs, ES2022, esModuleInterop, strict),
 * so the deployed program is the very code the tests ran. tests/launch checks the two stay equal.
 */
/** @type {import("@swc/core").Options} */
const SWC_OPTIONS = {
    sourceMaps: true,
    module: { type: "commonjs", noInterop: false, strictMode: true, ignoreDynamic: false },
    swcrc: false,
    jsc: {
        // importAssertions: ts-node still passes it, though swc's types no longer list it.
        parser: /** @type {import("@swc/core").TsParserConfig} */ ({ syntax: "typescript", tsx: false, dynamicImport: true, importAssertions: true }),
        target: "es2022",
        transform: { legacyDecorator: true, react: { throwIfNamespace: false, useBuiltins: false }, useDefineForClassFields: true },
        keepClassNames: true,
        experimental: { keepImportAttributes: true, emitAssertForImportAttributes: true },
    },
};

/** The last line of every compiled file: what it was compiled from. */
const STAMP = "// launchpad-compiled-from sha256:";

/** A problem with the program's sources: the message says which file and what to do. */
class LaunchError extends Error {
    /** @param {string} message */
    constructor(message) {
        super(message);
        this.name = "LaunchError";
    }
}

/** @type {string | undefined} */
let compilerId;
/** swc's version and options: a change to either recompiles everything. */
function compilerIdentity() {
    if (compilerId === undefined) {
        const manifest = JSON.parse(fs.readFileSync(require.resolve("@swc/core/package.json"), "utf8"));
        // This file's own text too: how it rewrites the compiled code (requires, __dirname) is part of the output.
        const launcher = crypto.createHash("sha256").update(fs.readFileSync(__filename)).digest("hex");
        compilerId = `@swc/core ${manifest.version} ${JSON.stringify(SWC_OPTIONS)} ${launcher}`;
    }
    return compilerId;
}

/**
 * The stamp a file compiled from `source` carries.
 * @param {string} rel the source's path from the project root, with forward slashes
 * @param {Buffer} source
 * @param {boolean} [sourcePaths] compiled with the source's `__dirname` (CompileOptions)
 */
function stampFor(rel, source, sourcePaths = false) {
    const hash = crypto
        .createHash("sha256")
        .update(compilerIdentity())
        .update(sourcePaths ? "\0source-paths\0" : "\0")
        .update(rel)
        .update("\0")
        .update(source)
        .digest("hex");
    return `${STAMP}${hash}`;
}

/**
 * The project file a relative require of compiled code names, relative to root: a file of outDir is
 * compiled from its TypeScript (resolveSource); a JavaScript file of the project is itself.
 * @param {string} root @param {string} outDir @param {string} outFile the requiring compiled file @param {string} specifier
 */
function resolveCompiled(root, outDir, outFile, specifier) {
    const target = path.resolve(path.dirname(outFile), specifier);
    const inOut = path.relative(outDir, target);
    if (inOut.startsWith("..") || path.isAbsolute(inOut)) {
        // A require that requiresOfJavaScript pointed at a JavaScript file of the project.
        const rel = path.relative(root, target).split(path.sep).join("/");
        if (rel.startsWith("..") || path.isAbsolute(rel) || !rel.endsWith(".js")) {
            throw new LaunchError(`${path.relative(root, outFile)} requires "${specifier}", which is neither compiled nor a JavaScript file of the project: delete ${path.relative(root, outDir)}/ and run again`);
        }
        return rel;
    }
    const from = path.relative(outDir, outFile).split(path.sep).join("/").replace(/\.js$/, ".ts");
    return resolveSource(root, from, specifier);
}

/** @param {string} file */
function readIfExists(file) {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (error) {
        const code = /** @type {NodeJS.ErrnoException} */ (error).code;
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw error;
    }
}

/** @param {string} file @param {string} text */
function writeAtomically(file, text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, file);
}

/**
 * Relative requires in compiled code. swc writes every import and re-export of the source as a
 * literal `require("./…")`; type-only imports are gone by then, so these are exactly the files the
 * program loads.
 * @param {string} code
 */
function relativeRequires(code) {
    return [...code.matchAll(/\brequire\("(\.\.?(?:\/[^"]*)?)"\)/g)].map((m) => m[1]);
}

/**
 * The project file a relative require names: `x.ts`, or `x/index.ts` for a folder, compiled; or, where
 * there is no TypeScript of that name, the JavaScript file `x.js` (tools/launch's own), loaded as it is.
 * @param {string} root @param {string} from the requiring file, relative to root @param {string} specifier
 * @returns {string} the file, relative to root
 */
function resolveSource(root, from, specifier) {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    if (base === ".." || base.startsWith("../")) {
        throw new LaunchError(`${from} imports "${specifier}", which is outside the project (${root}); the program may only import its own files and packages`);
    }
    const candidates = [`${base}.ts`, `${base}/index.ts`, ...(base.endsWith(".js") ? [base] : [`${base}.js`])];
    const found = candidates.find((rel) => fs.existsSync(path.join(root, rel)));
    if (found === undefined) {
        throw new LaunchError(`${from} imports "${specifier}", but there is no ${candidates.join(" or ")}: only TypeScript and JavaScript files are loaded`);
    }
    return found;
}

/**
 * The compiled code with each relative require of a JavaScript file pointed at that file where it is
 * in the project: it is loaded from there, not copied, so it finds its own neighbours and is loaded once.
 * @param {string} root @param {string} rel @param {string} code @param {string} outFile
 */
function requiresOfJavaScript(root, rel, code, outFile) {
    return code.replace(/\brequire\("(\.\.?(?:\/[^"]*)?)"\)/g, (call, /** @type {string} */ specifier) => {
        const dependency = resolveSource(root, rel, specifier);
        if (!dependency.endsWith(".js")) return call;
        const target = path.relative(path.dirname(outFile), path.join(root, dependency)).split(path.sep).join("/");
        return `require(${JSON.stringify(target.startsWith(".") ? target : `./${target}`)})`;
    });
}

/**
 * `__dirname` and `__filename` as they are for the source, on the compiled code's first line (so that
 * its lines still match the source map): a command finds the project from its own folder, as it does
 * under ts-node.
 * @param {string} root @param {string} rel @param {string} code @param {string} outFile
 */
function withSourcePaths(root, rel, code, outFile) {
    if (!/\b__(dirname|filename)\b/.test(code)) return code;
    const fromOut = (/** @type {string} */ to) => JSON.stringify(path.relative(path.dirname(outFile), path.join(root, to)).split(path.sep).join("/"));
    const header = `var __filename = require("path").join(__dirname, ${fromOut(rel)}), __dirname = require("path").join(__dirname, ${fromOut(path.posix.dirname(rel))});`;
    // On the line of the "use strict" directive (after any comments swc keeps above it), so that the
    // directive stays first and every line keeps its number for the source map.
    const strict = /^"use strict";[^\n]*/m.exec(code);
    if (strict === null) return `${header} ${code}`;
    const end = strict.index + strict[0].length;
    return `${code.slice(0, end)} ${header}${code.slice(end)}`;
}

/**
 * The compiled code, ending with its source map's reference and its stamp, and the source map.
 * @param {string} root @param {string} rel @param {Buffer} source @param {string} outFile
 * @param {boolean} sourcePaths `__dirname` and `__filename` are the source's (withSourcePaths)
 * @returns {{ code: string, map?: string }}
 */
function compileFile(root, rel, source, outFile, sourcePaths) {
    const swc = require("@swc/core");
    const file = path.join(root, rel);
    /** @type {{ code: string, map?: string }} */
    let output;
    try {
        output = swc.transformSync(source.toString("utf8"), { ...SWC_OPTIONS, filename: file });
    } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new LaunchError(`cannot compile ${rel}:\n${reason.trim()}\n\`npm run build\` type-checks the program and lists every problem`);
    }
    let code = requiresOfJavaScript(root, rel, output.code.endsWith("\n") ? output.code : `${output.code}\n`, outFile);
    if (sourcePaths) code = withSourcePaths(root, rel, code, outFile);
    let map;
    if (output.map) {
        const parsed = JSON.parse(output.map);
        parsed.sources = [path.relative(path.dirname(outFile), file).split(path.sep).join("/")];
        map = JSON.stringify(parsed);
        code += `//# sourceMappingURL=${path.basename(outFile)}.map\n`;
    }
    return { code: `${code}${stampFor(rel, source, sourcePaths)}\n`, map };
}

/**
 * @typedef {object} CompileOptions
 * @property {boolean} [sourcePaths] `__dirname` and `__filename` in the compiled code are the source's,
 *   as under ts-node (launchpad's commands find the project from them); without it (the program) they
 *   are the compiled file's own, in outDir
 * @property {string} [outDir] where the JavaScript goes; inside the project, so that packages resolve
 *   from its node_modules. @default `<root>/bin`
 */

/**
 * @typedef {object} Compiled
 * @property {string} outFile the entry's JavaScript
 * @property {string[]} sources every program file, relative to the root, entry first (JavaScript
 *   files it imports included: they are loaded where they are)
 * @property {string[]} compiled the files compiled by this call (the rest were current)
 */

/**
 * Brings the JavaScript of `entry` and of every file it imports up to date with the sources.
 * @param {string} root the project folder
 * @param {string} entry the program's TypeScript entry, relative to root
 * @param {CompileOptions} [options]
 * @returns {Compiled}
 */
function compileProgram(root, entry, options = {}) {
    const outDir = path.resolve(root, options.outDir ?? "bin");
    const relative = path.relative(root, outDir);
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
        throw new LaunchError(`the compiled program must go in a folder inside the project (${root}), not ${outDir}: packages resolve from the project's node_modules`);
    }
    const outFileOf = (/** @type {string} */ rel) => path.join(outDir, rel.replace(/\.ts$/, ".js"));
    const first = entry.split(path.sep).join("/");
    if (!first.endsWith(".ts") || !fs.existsSync(path.join(root, first))) {
        throw new LaunchError(`the program's entry ${first} is not a TypeScript file in ${root}`);
    }

    /** @type {string[]} */
    const compiled = [];
    const seen = new Set([first]);
    const queue = [first];
    const sourcePaths = options.sourcePaths ?? false;
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const rel = next;
        if (rel.endsWith(".js")) continue; // loaded where it is
        const source = fs.readFileSync(path.join(root, rel));
        const outFile = outFileOf(rel);
        let code = readIfExists(outFile);
        if (code === undefined || !code.endsWith(`${stampFor(rel, source, sourcePaths)}\n`)) {
            const fresh = compileFile(root, rel, source, outFile, sourcePaths);
            try {
                if (fresh.map !== undefined) writeAtomically(`${outFile}.map`, fresh.map);
                writeAtomically(outFile, fresh.code);
            } catch (error) {
                throw new LaunchError(`cannot write the compiled ${rel} to ${outFile}: ${error instanceof Error ? error.message : error}; make ${path.relative(root, outDir)}/ writable, or run \`npm run build\` where it is`);
            }
            code = fresh.code;
            compiled.push(rel);
        }
        for (const specifier of relativeRequires(code)) {
            const dependency = resolveCompiled(root, outDir, outFile, specifier);
            if (!seen.has(dependency)) {
                seen.add(dependency);
                queue.push(dependency);
            }
        }
    }
    return { outFile: outFileOf(first), sources: [...seen], compiled };
}

/**
 * Compiles what changed and loads the program: its exports (or, at a gate, the promise of them) are
 * the stack's outputs. A problem with the sources, or a gate that says stop, becomes a Pulumi RunError,
 * which the CLI shows without a stack trace.
 * @param {string} root @param {string} entry @param {CompileOptions} [options]
 * @returns {unknown}
 */
function launch(root, entry, options) {
    let outFile;
    try {
        outFile = compileProgram(root, entry, options).outFile;
    } catch (error) {
        if (error instanceof LaunchError) {
            const { RunError } = require("@pulumi/pulumi");
            throw new RunError(error.message);
        }
        throw error;
    }
    // Pulumi runs a program in the folder of Pulumi.yaml's `main` (here tools/launch/); the program's
    // paths (build contexts) are the project's, as under ts-node and in the tests.
    process.chdir(root);
    const gate = process.env[GATE];
    if (gate === undefined || gate === "") return require(outFile);
    // Started by `npm run up` or `preview` (./gate.js): everything the entry imports (the SDKs, the
    // components) loads now, while the command's checks run; the entry, which declares the resources,
    // only once they passed. Pulumi awaits the exports, which are then the stack's outputs as before.
    for (const dep of relativeRequires(fs.readFileSync(outFile, "utf8"))) require(path.resolve(path.dirname(outFile), dep));
    return passGate(gate).then(
        () => require(outFile),
        (/** @type {Error} */ stopped) => {
            const { RunError } = require("@pulumi/pulumi");
            throw new RunError(`launchpad stopped this update before it changed anything: ${stopped.message}`);
        },
    );
}

/**
 * Where Node keeps the compiled code of the modules a deployment loads: inside the project's gitignored
 * `.launchpad/`, beside the local state, because it belongs to this machine (and this Node version).
 * @param {string} root
 */
function compileCacheDir(root) {
    return path.join(root, ".launchpad", "compile-cache");
}

/**
 * Turns on Node's on-disk compile cache (`module.enableCompileCache`) for every module loaded from now
 * on: the SDKs' thousand-odd files, which Node would otherwise parse and compile again on every
 * `preview` and `up`, are read back as code V8 already compiled. Node checks each entry against the
 * file's contents, so an upgraded package or an edited file is simply compiled again. When the
 * engine was started with NODE_COMPILE_CACHE (tools/up does), the cache is on already and this does
 * nothing. Older Node versions without the API run as before.
 * @param {string} dir
 */
function enableCompileCache(dir) {
    const nodeModule = require("module");
    if (typeof nodeModule.enableCompileCache === "function") nodeModule.enableCompileCache(dir);
}

/**
 * The environment launchpad's own commands (tools/up) start the engine with, which reaches the program:
 * the compile cache for the whole process (NODE_COMPILE_CACHE, from Pulumi's runtime entry on), and
 * that no DEBUG message will be shown or kept (./debugLogs.js), unless the user's environment has
 * LAUNCHPAD_ENGINE_DEBUG=on: the switch that keeps the SDK's DEBUG messages (docs/performance.md).
 * @param {string} root @param {NodeJS.ProcessEnv} [env] the command's environment
 */
function engineEnv(root, env = process.env) {
    return { NODE_COMPILE_CACHE: compileCacheDir(root), [ENGINE_DEBUG]: env[ENGINE_DEBUG] === "on" ? "on" : "off" };
}

/** The switch that leaves the SDK's stack-trace formatting as it is: LAUNCHPAD_STACK_TRACES=sdk (./stackTraces.js). */
const STACK_TRACES = "LAUNCHPAD_STACK_TRACES";

/**
 * What Pulumi.yaml's `main` does under Pulumi's runtime entry: the compile cache on, stack traces
 * formatted once per distinct frame (./stackTraces.js), the SDK's DEBUG messages not sent when
 * launchpad's commands started the engine (./debugLogs.js), then the program launched.
 * @param {string} root @param {string} entry
 * @param {CompileOptions & { compileCache?: string }} [options] `compileCache`: the cache's folder
 *   @default compileCacheDir(root)
 * @returns {unknown}
 */
function start(root, entry, options = {}) {
    const { compileCache = compileCacheDir(root), ...compile } = options;
    enableCompileCache(compileCache);
    if (process.env[STACK_TRACES] !== "sdk") {
        const { installCachedStackTraces, runtimeStackTraces } = require("./stackTraces");
        const { sourceMapSupport, promiseStacks } = runtimeStackTraces();
        installCachedStackTraces(sourceMapSupport, promiseStacks);
    }
    skipUnreadDebugLogs(root);
    return launch(root, entry, compile);
}

module.exports = { STACK_TRACES, SWC_OPTIONS, STAMP, LaunchError, compileProgram, compileCacheDir, enableCompileCache, engineEnv, launch, relativeRequires, start };
