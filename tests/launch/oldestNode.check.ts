import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { MIN_NODE } from "../../tools/launch/nodeVersion";
import { ROOT } from "../../tools/harness";

// Run by .ci/run, not by `npm test` (a newcomer's machine has no second Node): launchpad's packages on
// exactly the oldest Node it allows. LAUNCHPAD_OLDEST_NODE names that Node's official binary, cached;
// this check never downloads it.

const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

describe(`launch: on the oldest Node the check allows (${MIN_NODE})`, function () {
    this.timeout(60_000);
    const binary = process.env.LAUNCHPAD_OLDEST_NODE ?? "";

    before(() => {
        assert.ok(binary && fs.existsSync(binary), `LAUNCHPAD_OLDEST_NODE must name Node ${MIN_NODE}'s binary (it names "${binary}"); .ci/run installs it`);
    });

    it("is that version", () => {
        const version = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout.trim();
        assert.equal(version, `v${MIN_NODE}`, `${binary} is Node ${version}`);
    });

    it("loads every package launchpad depends on, as the commands do (undici in @kubernetes/client-node failed on 22.12)", () => {
        const packages = Object.keys({ ...packageJson.dependencies, ...packageJson.devDependencies }).filter((name) => !name.startsWith("@types/"));
        const script = `Promise.all(${JSON.stringify(packages)}.map((name) => import(name).catch((e) => { throw new Error(name + ": " + e.message); })))` +
            `.then(() => console.log("loaded"), (e) => { console.error(e.message); process.exit(1); })`;
        const result = spawnSync(binary, ["-r", "./tools/launch/nodeVersion.js", "-e", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
        assert.equal(result.status, 0, `on Node ${MIN_NODE}: ${result.stderr}`);
        assert.equal(result.stdout.trim(), "loaded");
    });
});
