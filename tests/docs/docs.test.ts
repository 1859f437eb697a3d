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
