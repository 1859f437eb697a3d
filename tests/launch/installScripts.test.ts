import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../tools/harness";

// npm 12 runs only the install scripts package.json's allowScripts approves (npm 11 warns about the rest,
// and with --strict-allow-scripts, which .ci/run uses, refuses them). Each is decided here, and none is
// needed: .ci/run installs with the policy enforced before it runs the tests.

describe("install scripts: each one decided in package.json's allowScripts", () => {
    const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    const allowScripts: Record<string, boolean> = packageJson.allowScripts ?? {};
    /** The packages the lock file installs that have an install script, as name@version. */
    const withScripts = Object.entries<{ version: string; hasInstallScript?: boolean }>(lock.packages)
        .filter(([where, p]) => where !== "" && p.hasInstallScript)
        .map(([where, p]) => `${where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length)}@${p.version}`);

    it("covers every package the lock file installs with an install script, so npm neither warns nor blocks unreviewed ones", () => {
        assert.ok(withScripts.length > 0);
        const decided = (pkg: string) => pkg in allowScripts || pkg.slice(0, pkg.lastIndexOf("@")) in allowScripts;
        assert.deepEqual(withScripts.filter((pkg) => !decided(pkg)), [], "decide them with npm deny-scripts (or approve-scripts), after reading what they do");
    });

    it("denies the three there are: none is needed to build, test or deploy (docs/testing.md says why)", () => {
        // @pulumi/kubernetes: `pulumi plugin install` of the provider, which the engine fetches itself when an update first needs it.
        // @swc/core: checks its native binding (an optional dependency) and else `npm install`s @swc/wasm, outside the lock file.
        // protobufjs: warns about a version scheme its dependents do not use; does nothing.
        assert.deepEqual(allowScripts, { "@pulumi/kubernetes": false, "@swc/core": false, protobufjs: false });
    });
});
