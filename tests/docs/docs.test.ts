import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { configTable, projectConfig, projectConfigBlock, TABLE_BEGIN, TABLE_END, withConfigTable, withProjectConfig } from "../../tools/docs/docs";

const ROOT = path.resolve(__dirname, "..", "..");

/** Fails, naming the first line that differs, unless `file` is what `npm run docs` would write. */
function assertCurrent(file: string, write: (text: string) => string): void {
    const actual = fs.readFileSync(path.join(ROOT, file), "utf8");
    const expected = write(actual);
    if (actual === expected) return;
    const a = actual.split("\n");
    const e = expected.split("\n");
    const line = a.findIndex((text, i) => text !== e[i]);
    const at = line < 0 ? a.length : line;
    assert.fail(`${file} differs from CONFIG_KEYS (components/config.ts) at line ${at + 1}; run \`npm run docs\`.\n`
        + `  file:      ${a[at] ?? "(end of file)"}\n  generated: ${e[at] ?? "(end of file)"}`);
}

describe("npm run docs", () => {
    it("has written the README's config table from CONFIG_KEYS", () => {
        assertCurrent("README.md", withConfigTable);
    });

    it("has written Pulumi.yaml's config block from CONFIG_KEYS", () => {
        assertCurrent("Pulumi.yaml", withProjectConfig);
    });

    it("writes a config block that Pulumi reads back as the declarations, defaults typed", () => {
        assert.deepEqual(YAML.parse(projectConfigBlock()).config, projectConfig());
        assert.strictEqual(projectConfig().dbUid.default, 999);
        assert.strictEqual(projectConfig().dbImage.default, "postgres:17");
    });

    it("shows a default that depends on the platform for kind and for cloud", () => {
        assert.match(configTable(), /^\| `registry` \| string \| kind: `localhost:5001`; cloud: required \|/m);
        assert.match(configTable(), /^\| `registryPassword` \| string \(secret\) \| — \|/m);
    });

    it("replaces only what is between the table's markers", () => {
        const readme = `# App\n\nprose before\n\n${TABLE_BEGIN}\n| old |\n${TABLE_END}\n\nprose after\n`;
        const written = withConfigTable(readme);
        assert.ok(written.startsWith(`# App\n\nprose before\n\n${TABLE_BEGIN}\n\n| Key |`));
        assert.ok(written.endsWith(`|\n\n${TABLE_END}\n\nprose after\n`));
        assert.ok(!written.includes("| old |"));
    });

    it("refuses a README without the markers, naming them", () => {
        assert.throws(() => withConfigTable("# App\n"), (e: Error) => e.message.includes(TABLE_BEGIN));
    });
});

describe("the README, for someone who follows it literally", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const { MIN_NODE_MAJOR } = require("../../tools/launch/nodeVersion") as { MIN_NODE_MAJOR: number };

    it("says right under the two commands what to have before starting: Node, PostgreSQL for the tests, and what up needs", () => {
        const afterCommands = readme.slice(readme.indexOf("npm run up                      #"));
        const block = afterCommands.slice(0, afterCommands.indexOf("\n## "));
        assert.match(block, /\*\*Before you start:\*\*/);
        assert.ok(block.includes(`**Node.js ${MIN_NODE_MAJOR} or newer**`), "the Node version every command checks");
        assert.match(block, /PostgreSQL 15\+ server binaries[\s\S]*apt-get install postgresql[\s\S]*brew install postgresql@/);
        assert.match(block, /DATABASE_URL/);
        assert.match(block, /For `npm run up`[\s\S]*\(#prerequisites\)/);
    });

    it("offers the live doctor to run before deploying only for a stack whose cluster exists before up (never dev's kind cluster)", () => {
        const shown = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join("\n");
        const doctorCommands = [...shown.matchAll(/npm run doctor[^\n#]*/g)].map((m) => m[0].trim());
        assert.ok(doctorCommands.length > 0);
        for (const command of doctorCommands) {
            assert.ok(/--nodes|--stack (?!dev\b)\w/.test(command), `the README offers \`${command}\`, which on dev needs the cluster up creates`);
        }
    });
});
