import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import * as YAML from "yaml";
import { ROOT } from "../../tools/harness";

// Pulumi runs tools/launch/main.js, which compiles without type-checking; these keep the type-check
// where it can fail a build: npm run build, which npm test (and so CI) runs first.

describe("deploying: compiled by tools/launch, type-checked by the build", () => {
    const tsconfig = ts.parseConfigFileTextToJson("tsconfig.json", fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")).config;
    const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const scripts: Record<string, string> = packageJson.scripts;
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

    it("has Pulumi run tools/launch/main.js, with the runtime's own TypeScript support (ts-node) off", () => {
        assert.equal(project.main, "tools/launch/main.js");
        assert.equal(project.runtime.options.typescript, false);
        assert.ok(fs.existsSync(path.join(ROOT, project.main)));
        assert.equal(packageJson.main, project.main, "package.json's main, which Pulumi reads when Pulumi.yaml names none");
    });
    it("type-checks with plain tsc: the tsconfig neither skips checking (noCheck) nor emits", () => {
        assert.equal(tsconfig.compilerOptions.noCheck, undefined);
        assert.equal(tsconfig.compilerOptions.noEmit, true);
        assert.ok(tsconfig.include.includes("tools/launch/*.js"), "the launcher's JavaScript is checked through its JSDoc");
    });
    it("has npm run build, which npm test runs first, check the Node version, type-check and then compile the program to bin/", () => {
        assert.equal(scripts.build, "node tools/launch/nodeVersion.js && tsc && node tools/launch/compile.js");
        assert.match(scripts.test, /^npm run build && /);
    });
    it("lets no script call tsc with --noCheck (it would check nothing)", () => {
        assert.deepEqual(Object.entries(scripts).filter(([, line]) => /--noCheck(?! false)/.test(line)).map(([name]) => name), []);
    });
    it("keeps the compiled program out of git", () => {
        assert.match(fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8"), /^\/?bin\/$/m);
    });
});
