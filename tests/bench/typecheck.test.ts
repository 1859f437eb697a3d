import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { ROOT } from "../../tools/harness";

// tsconfig.json sets noCheck so that Pulumi's runtime only transpiles at deploy time; plain `tsc`
// would then check nothing. These keep the build (and so npm test and CI) type-checking everything.

describe("type-checking: skipped at deploy time, kept everywhere else", () => {
    const tsconfig = ts.parseConfigFileTextToJson("tsconfig.json", fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")).config;
    const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;

    it("tells Pulumi's runtime not to type-check (noCheck: ts-node then only transpiles)", () => {
        assert.equal(tsconfig.compilerOptions.noCheck, true);
    });
    it("has npm run build, which npm test runs first, type-check strictly despite noCheck", () => {
        assert.match(scripts.build, /\btsc\b.*--noCheck false/, `build is "${scripts.build}"`);
        assert.match(scripts.test, /^npm run build && /);
    });
    it("lets no other script call tsc without --noCheck false (it would check nothing)", () => {
        const silent = Object.entries(scripts).filter(([, line]) => /\btsc\b/.test(line) && !/--noCheck false/.test(line)).map(([name]) => name);
        assert.deepEqual(silent, []);
    });
});
