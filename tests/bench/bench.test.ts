import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { EngineRuns, FLEET_SIZES, benchCases, cleanEnvironment, fleetResources, projectEntry, renderCommandLine, runtimeArgv, typeCheckedTsconfig } from "../../dev/bench/cases";
import type { EngineRun } from "../../dev/bench/fakeEngine";
import { compileCacheDir } from "../../tools/launch/program";
import { createFleet } from "../../dev/bench/fleet";
import { type BenchArgs, marginalCost, parseArgs as parse } from "../../dev/bench/main";
import { summarize } from "../../dev/bench/stats";
import { ROOT } from "../../tools/harness";
import { installMocks } from "../../tools/harness/mocks";

/** The arguments of a command line that asks for no help. */
const parseArgs = (argv: string[]) => parse(argv) as BenchArgs;

describe("npm run bench", () => {
    describe("arguments", () => {
        it("runs every command 5 times after a warm-up, the suite once, and writes the results by default", () => {
            assert.deepEqual(parseArgs([]), { runs: 5, suiteRuns: 1, only: undefined, write: true, engine: false, commands: false, patches: false, devloop: false });
        });
        it("takes --runs, --suite-runs, --only (comma-separated) and --no-write", () => {
            const args = parseArgs(["--runs", "7", "--suite-runs=3", "--only", "dev, render", "--only=fleet1", "--no-write"]);
            assert.deepEqual(args, { runs: 7, suiteRuns: 3, only: ["dev", "render", "fleet1"], write: false, engine: false, commands: false, patches: false, devloop: false });
        });
        it("takes --engine for the real engine's rows on the testbed", () => {
            assert.deepEqual(parseArgs(["--engine", "--runs", "3"]), { runs: 3, suiteRuns: 1, only: undefined, write: true, engine: true, commands: false, patches: false, devloop: false });
        });
        it("takes --commands for the whole commands against the plain Pulumi CLI on the testbed", () => {
            assert.deepEqual(parseArgs(["--commands", "--runs", "4"]), { runs: 4, suiteRuns: 1, only: undefined, write: true, engine: false, commands: true, patches: false, devloop: false });
        });
        it("takes --devloop for save → Ready of the dev loop on the testbed, 5 rounds, as every mode, unless --runs says otherwise", () => {
            assert.deepEqual(parseArgs(["--devloop"]), { runs: 5, suiteRuns: 1, only: undefined, write: true, engine: false, commands: false, patches: false, devloop: true });
            assert.equal((parseArgs(["--devloop", "--runs", "2"]) as { runs: number }).runs, 2);
        });
        it("takes --load for the load run on the testbed, of 50 web services unless --services says otherwise", () => {
            assert.equal(parseArgs(["--load"]).load, 50);
            assert.equal(parseArgs(["--load", "--services", "5"]).load, 5);
            assert.equal(parseArgs([]).load, undefined);
            assert.throws(() => parseArgs(["--load", "--services", "0"]), /--services takes a whole number of 1 or more, not "0"/);
        });
        it("rejects --runs 0 and an unknown flag with the usage", () => {
            assert.throws(() => parseArgs(["--runs", "0"]), { name: "UsageError", message: '--runs takes a whole number of 1 or more, not "0"' });
            assert.throws(() => parseArgs(["--fast"]), { name: "UsageError", message: 'unknown option "--fast"' });
        });
        it("accepts --suite-runs 0 to leave the suite out", () => {
            assert.equal(parseArgs(["--suite-runs", "0"]).suiteRuns, 0);
        });
    });

    describe("the commands", () => {
        /** What the fake engine will report for the next run; every run takes it. */
        let next: EngineRun = { resources: 0, errors: [], debugMessages: 0 };
        const engine: EngineRuns = { address: "127.0.0.1:5000", takeRun: () => next };
        const options = { root: ROOT, renderOut: "/tmp/out", typeChecked: "/tmp/tsconfig.typecheck.json", scratch: "/tmp/scratch", engine };
        const cases = benchCases({ ...options, devConfig: { "launchpad:platform": "kind" } });
        const byId = new Map(cases.map((c) => [c.id, c]));
        const runtimeFlags = (id: string) => byId.get(id)!.command.argv.slice(2);

        it("measures the floor with and without the cache, the dev program five ways, a minimal program, render and every fleet size both ways", () => {
            assert.deepEqual(cases.map((c) => c.id), [
                "floor", "floorCache", "dev", "devNpm", "devFresh", "devTsNode", "devTypeChecked", "minimal", "render",
                ...FLEET_SIZES.map((n) => `fleet${n}`), ...FLEET_SIZES.map((n) => `fleet${n}Pulumi`),
            ]);
            assert.deepEqual(cases.filter((c) => c.services !== undefined).map((c) => c.startedBy), [...FLEET_SIZES.map(() => "launchpad"), ...FLEET_SIZES.map(() => "pulumi")]);
        });
        it("starts each program as the language host does for pulumi preview: Pulumi's runtime entry, the engine's addresses, project, stack, folder and entry", () => {
            const argv = byId.get("dev")!.command.argv;
            assert.equal(argv[0], process.execPath);
            assert.equal(argv[1], require.resolve("@pulumi/pulumi/cmd/run", { paths: [ROOT] }));
            assert.deepEqual(runtimeFlags("dev"), [
                "--monitor", "127.0.0.1:5000", "--engine", "127.0.0.1:5000", "--project", "launchpad", "--root-directory", ROOT,
                "--stack", "dev", "--pwd", path.join(ROOT, "tools", "launch"), "--dry-run", "--parallel", "16", "main.js",
            ]);
            // A folder (Pulumi.yaml without main) runs as ".", in that folder.
            assert.deepEqual(runtimeArgv(ROOT, "x", "a:1", "s", ".").slice(-6), ["--pwd", ROOT, "--dry-run", "--parallel", "16", "."]);
        });
        it("starts the dev program as Pulumi.yaml says: its main, with ts-node only if the runtime option typescript is on", () => {
            assert.deepEqual(projectEntry(ROOT), { name: "launchpad", main: "tools/launch/main.js", typescript: false });
            assert.equal(byId.get("dev")!.command.env.PULUMI_NODEJS_TYPESCRIPT, undefined);
            const typescript = benchCases({ ...options, devConfig: {}, entry: { name: "x", main: ".", typescript: true } });
            assert.equal(typescript.find((c) => c.id === "dev")!.command.env.PULUMI_NODEJS_TYPESCRIPT, "true");
        });
        it("gives the npm run preview rows the environment tools/up gives the engine, and the floor's reference row a compile cache of its own", () => {
            for (const id of ["devNpm", "fleet1", "fleet100"]) {
                assert.equal(byId.get(id)!.command.env.NODE_COMPILE_CACHE, compileCacheDir(ROOT), id);
                assert.equal(byId.get(id)!.command.env.LAUNCHPAD_ENGINE_DEBUG, "off", id);
            }
            assert.equal(byId.get("floorCache")!.command.env.NODE_COMPILE_CACHE, path.join("/tmp/scratch", "floor-cache"));
            for (const id of ["floor", "dev", "devFresh", "fleet1Pulumi", "fleet100Pulumi"]) {
                assert.equal(byId.get(id)!.command.env.NODE_COMPILE_CACHE, undefined, id);
                assert.equal(byId.get(id)!.command.env.LAUNCHPAD_ENGINE_DEBUG, undefined, id);
            }
        });
        it("loads the ts-node variants through ts-node, transpile-only or type-checked, and the synthetic programs through dev/bench/launch.js", () => {
            assert.equal(byId.get("devTsNode")!.command.env.PULUMI_NODEJS_TYPESCRIPT, "true");
            assert.equal(byId.get("devTsNode")!.command.env.PULUMI_NODEJS_TRANSPILE_ONLY, "true");
            assert.equal(runtimeFlags("devTsNode").at(-1), "index.ts");
            assert.equal(byId.get("devTypeChecked")!.command.env.PULUMI_NODEJS_TYPESCRIPT, "true");
            assert.equal(byId.get("devTypeChecked")!.command.env.PULUMI_NODEJS_TRANSPILE_ONLY, undefined);
            assert.deepEqual(runtimeFlags("devFresh").slice(-3), ["launch.js", "--fresh", "index.ts"]);
            assert.deepEqual(runtimeFlags("minimal").slice(-2), ["launch.js", path.join("dev", "bench", "minimalProgram.ts")]);
            for (const id of ["fleet1", "fleet100", "fleet1Pulumi"]) assert.deepEqual(runtimeFlags(id).slice(-2), ["launch.js", path.join("dev", "bench", "fleetProgram.ts")], id);
            assert.deepEqual(runtimeFlags("floor").slice(-1), ["floorProgram.js"]);
        });
        it("hands the program its stack config the way the Pulumi CLI does, in PULUMI_CONFIG", () => {
            assert.deepEqual(JSON.parse(byId.get("dev")!.command.env.PULUMI_CONFIG!), { "launchpad:platform": "kind" });
            assert.deepEqual(JSON.parse(byId.get("fleet50")!.command.env.PULUMI_CONFIG!), { "bench:webServices": "50" });
        });
        it("type-checks only the type-checked variant, pointing the runtime at another tsconfig", () => {
            assert.equal(byId.get("devTypeChecked")!.command.env.PULUMI_NODEJS_TSCONFIG_PATH, "/tmp/tsconfig.typecheck.json");
            assert.equal(byId.get("dev")!.command.env.PULUMI_NODEJS_TSCONFIG_PATH, undefined);
        });
        it("writes that tsconfig as the project's with noCheck off and ts-node's swc (transpile-only) dropped", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-"));
            try {
                fs.writeFileSync(path.join(dir, "tsconfig.json"), '{\n  // a comment, as tsconfig allows\n  "compilerOptions": { "strict": true, "noCheck": true },\n  "ts-node": { "swc": true, "pretty": true }\n}\n');
                const written = JSON.parse(fs.readFileSync(typeCheckedTsconfig(dir, dir), "utf8"));
                assert.deepEqual(written, {
                    compilerOptions: { strict: true, noCheck: false, typeRoots: [path.join(dir, "node_modules", "@types")] },
                    "ts-node": { pretty: true },
                });
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
        it("renders into the folder it is given, never the committed rendered/", () => {
            const render = byId.get("render")!.command;
            assert.equal(render.env.BENCH_RENDER_OUT, "/tmp/out");
            assert.match(render.argv[2], /--stack dev --out "\$BENCH_RENDER_OUT"$/);
        });
        it("counts a run as failed when the engine saw the wrong number of resources, an error logged, or the program exited non-zero", () => {
            const fleet = byId.get("fleet10")!;
            const run = { wallMs: 1, code: 0, stdout: "", stderr: "" };
            next = { resources: fleetResources(10), errors: [], debugMessages: 0 };
            assert.equal(fleet.check(run), undefined);
            next = { resources: 3, errors: [], debugMessages: 0 };
            assert.equal(fleet.check(run), "registered 3 resources, expected 55");
            next = { resources: fleetResources(10), errors: ["Running program failed"], debugMessages: 0 };
            assert.equal(fleet.check(run), "logged an error: Running program failed");
            assert.match(fleet.check({ ...run, code: 32, stderr: "TypeError: boom\n" })!, /exited 32: TypeError: boom/);
            next = { resources: 1, errors: [], debugMessages: 0 };
            assert.equal(byId.get("dev")!.check(run), "registered 1 resources, expected more than the Stack");
            assert.equal(byId.get("floor")!.check(run), undefined);
        });
    });

    describe("the environment of measured processes", () => {
        it("drops what changes how Pulumi or ts-node load a program, and puts node_modules/.bin first", () => {
            const env = cleanEnvironment("/repo", { HOME: "/home/me", PATH: "/usr/bin", PULUMI_NODEJS_TRANSPILE_ONLY: "true", TS_NODE_SWC: "true", NODE_OPTIONS: "--inspect", NODE_COMPILE_CACHE: "/tmp/cache", LAUNCHPAD_ENGINE_DEBUG: "off" });
            assert.equal(env.HOME, "/home/me");
            assert.equal(env.PULUMI_NODEJS_TRANSPILE_ONLY, undefined);
            assert.equal(env.TS_NODE_SWC, undefined);
            assert.equal(env.NODE_OPTIONS, undefined);
            assert.equal(env.NODE_COMPILE_CACHE, undefined);
            assert.equal(env.LAUNCHPAD_ENGINE_DEBUG, undefined);
            assert.equal(env.PATH!.split(path.delimiter)[0], path.join("/repo", "node_modules", ".bin"));
        });
        it("runs render as package.json's script says, or as documented when there is none", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-"));
            try {
                fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ scripts: { render: "node render.js" } }));
                assert.equal(renderCommandLine(dir), "node render.js");
                fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({}));
                assert.equal(renderCommandLine(dir), "ts-node --transpile-only tools/render/main.ts");
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("the marginal cost per web service", () => {
        const point = (services: number, ms: number, mib: number) => ({
            services, result: { id: `fleet${services}`, label: "", wallMs: summarize([ms]), rssMiB: summarize([mib]) },
        });
        it("is the slope through the medians, cross-checked by largest minus smallest", () => {
            // 955 ms + 45 ms per service; memory a little off the line.
            const m = marginalCost([point(100, 5455, 300), point(1, 1000, 200), point(50, 3205, 252), point(10, 1405, 210)])!;
            assert.ok(Math.abs(m.time.slope - 45) < 1e-9, `slope ${m.time.slope}`);
            assert.ok(Math.abs(m.time.intercept - 955) < 1e-9);
            assert.ok(Math.abs(m.timeDifferenceMs - 45) < 1e-9);
            assert.ok(Math.abs(m.memoryDifferenceMiB! - 100 / 99) < 1e-9);
            assert.ok(m.memory!.slope > 0.99 && m.memory!.slope < 1.02, `memory slope ${m.memory!.slope}`);
        });
        it("is unknown from fewer than two sizes", () => {
            assert.equal(marginalCost([point(1, 1000, 200)]), undefined);
        });
    });

    describe("the synthetic fleet", () => {
        it("builds each web service through the component API with every extra: Deployment, Service, autoscaler, disruption budget", async () => {
            const mocks = await installMocks("launchpad", "bench");
            createFleet(2);
            await pulumi.runtime.disconnect();
            const kinds = mocks.resources.filter((r) => r.name.startsWith("web-2-")).map((r) => r.type).sort();
            assert.deepEqual(kinds, [
                "kubernetes:apps/v1:Deployment", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
                "kubernetes:core/v1:Service", "kubernetes:policy/v1:PodDisruptionBudget",
            ]);
            // The runtime adds the root Stack resource when it loads the program as a whole.
            assert.equal(mocks.resources.length + 1, fleetResources(2));
        });
        it("refuses a fleet of no services", () => {
            assert.throws(() => createFleet(0), /1 or more, not 0/);
        });
    });
});
