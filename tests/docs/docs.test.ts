import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { configTable, homeAsTilde, projectConfig, projectConfigBlock, TABLE_BEGIN, TABLE_END, withConfigTable, withProjectConfig } from "../../dev/docs/docs";
import { COMMAND as BENCH, parseArgs as benchArgs } from "../../dev/bench/main";
import { readCommandLine } from "../../tools/cli";
import { parseArgs as backupArgs } from "../../tools/backup/main";
import { parseArgs as diagramArgs } from "../../tools/diagram/main";
import { COMMAND as DOCS } from "../../dev/docs/main";
import { parseArgs as devArgs } from "../../tools/devloop/main";
import { parseArgs as doctorArgs } from "../../tools/doctor/main";
import { parseArgs as historyArgs } from "../../tools/history/main";
import { parseArgs as logsArgs } from "../../tools/logs/main";
import { parseArgs as renderArgs } from "../../tools/render/main";
import { parseArgs as promoteArgs } from "../../tools/promote/main";
import { parseArgs as rollbackArgs } from "../../tools/rollback/main";
import { listStacks } from "../../tools/stackFile";
import { parseArgs as upArgs } from "../../tools/up/main";

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
    const { MIN_NODE } = require("../../tools/launch/nodeVersion") as { MIN_NODE: string };

    it("says right under the two commands what to have before starting: Node, PostgreSQL for the tests, and what up needs", () => {
        const afterCommands = readme.slice(readme.indexOf("npm run up                      #"));
        const block = afterCommands.slice(0, afterCommands.indexOf("\n## "));
        assert.match(block, /\n### Before you start\n/);
        assert.ok(block.includes(`**Node.js ${MIN_NODE} or newer**`), "the Node version every command checks");
        assert.match(block, /PostgreSQL 15\+ server binaries[\s\S]*apt-get install postgresql[\s\S]*brew install postgresql@/);
        assert.match(block, /DATABASE_URL/);
        assert.match(block, /For `npm run up`[\s\S]*\(#prerequisites\)/);
    });

    it("states the one exit-code rule every command's --help gives", () => {
        const { EXIT_RULE } = require("../../tools/cli") as { EXIT_RULE: string };
        assert.ok(readme.includes(`\n${EXIT_RULE}\n`), "the README quotes tools/cli.ts EXIT_RULE");
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

/** The Markdown files a reader is sent to: the README and everything under docs/. */
function documents(): string[] {
    const under = (dir: string): string[] => fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? under(path.join(dir, e.name)) : e.name.endsWith(".md") ? [path.join(dir, e.name)] : []));
    return ["README.md", "apps/README.md", ...under("docs")];
}

/** The anchors GitHub makes of a Markdown file's headings. */
function anchorsOf(text: string): Set<string> {
    const seen = new Map<string, number>();
    const anchors = new Set<string>();
    for (const [, heading] of text.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm)) {
        const slug = heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
        const n = seen.get(slug) ?? 0;
        seen.set(slug, n + 1);
        anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    return anchors;
}

/** Each `npm run <script> [-- args]` a text shows, in code spans and shell blocks, with its arguments. */
function npmRuns(text: string): { script: string; args: string[]; shown: string }[] {
    const blocks = [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].filter((m) => ["", "sh", "bash"].includes(m[1])).map((m) => m[2]);
    const spans = [...text.replace(/```\w*\n[\s\S]*?```/g, "").matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
    const code = [...blocks, ...spans];
    return code.flatMap((snippet) => [...snippet.matchAll(/npm run ([\w-]+)(?: -- ([^#&|;\n]*))?/g)].map((m) => ({
        script: m[1],
        args: (m[2] ?? "").trim().split(/\s+/).filter(Boolean),
        shown: m[0].trim(),
    })));
}

describe("the README and the docs: every link and every command they show work", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("keeps the README to a newcomer's path: at most 300 lines", () => {
        const lines = readme.trimEnd().split("\n").length;
        assert.ok(lines <= 300, `README.md has ${lines} lines; move maintainers' material to docs/`);
    });

    it("links only to files that exist, and to headings they have", () => {
        const broken: string[] = [];
        for (const doc of documents()) {
            const text = fs.readFileSync(path.join(ROOT, doc), "utf8").replace(/```[\s\S]*?```/g, "");
            for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                if (/^[a-z]+:/.test(target)) continue;
                const [file, anchor] = target.split("#");
                const resolved = file === "" ? path.join(ROOT, doc) : path.resolve(path.dirname(path.join(ROOT, doc)), file);
                if (!fs.existsSync(resolved)) broken.push(`${doc}: ${target} (no such file)`);
                else if (anchor !== undefined && resolved.endsWith(".md") && !anchorsOf(fs.readFileSync(resolved, "utf8")).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
            }
        }
        assert.deepEqual(broken, []);
    });

    it("shows only commands that exist, with options and stacks they take", () => {
        const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts);
        const stacks = listStacks();
        const parsers: Record<string, (args: string[]) => unknown> = {
            up: (args) => upArgs(["up", ...args]),
            preview: (args) => upArgs(["preview", ...args]),
            down: (args) => upArgs(["down", ...args]),
            dev: devArgs,
            doctor: doctorArgs,
            render: (args) => renderArgs(args, () => stacks),
            diagram: diagramArgs,
            backup: (args) => backupArgs(["backup", ...args]),
            restore: (args) => backupArgs(["restore", ...args]),
            logs: logsArgs,
            history: historyArgs,
            rollback: rollbackArgs,
            promote: promoteArgs,
            docs: (args) => readCommandLine(args, DOCS),
            bench: benchArgs,
            testbed: (args) => assert.ok(args.length === 0 || ["build", "start", "stop", "status"].includes(args[0]), `testbed ${args[0]}`),
            e2e: () => undefined,
            ...Object.fromEntries(["build", "lint", "test"].map((script) => [script, (args: string[]) => assert.deepEqual(args, [])])),
        };
        const shown = documents().flatMap((doc) => npmRuns(fs.readFileSync(path.join(ROOT, doc), "utf8")).map((run) => ({ doc, ...run })));
        assert.ok(shown.filter((r) => r.doc === "README.md").length >= 10);
        for (const { doc, script, args, shown: command } of shown) {
            assert.ok(scripts.includes(script), `${doc}: \`${command}\`: package.json has no script ${script}`);
            assert.ok(script in parsers, `${doc}: \`${command}\`: no check for npm run ${script}`);
            // A synopsis (`--load [--services N]`, `--stack <name>`) shows the form, not a command to run.
            if (args.some((a) => /^[[<|]/.test(a))) continue;
            assert.doesNotThrow(() => parsers[script](args), `${doc}: \`${command}\``);
            const stack = args[args.indexOf("--stack") + 1];
            // The docs also show mistakes and what they print (`--stack prd`); the README shows what to run.
            if (doc === "README.md" && args.includes("--stack")) assert.ok(stacks.includes(stack), `${doc}: \`${command}\`: there is no Pulumi.${stack}.yaml`);
        }
        assert.ok(BENCH.options.length > 0);
    });

    it("writes this machine's home folder as ~ in what it generates, and no document shows one", () => {
        assert.equal(homeAsTilde("in /home/ana/.cache/launchpad/state: read-only", "/home/ana"), "in ~/.cache/launchpad/state: read-only");
        assert.equal(homeAsTilde("/home/anastasia/x", "/home/ana"), "/home/anastasia/x", "only the home folder itself");
        const home = /(?:^|[\s(`'"=:])(?:\/root|\/home\/[a-z_][\w-]*|\/Users\/[\w.-]+)\//;
        const showing = [...documents(), "bench/RESULTS.md"].filter((doc) => home.test(fs.readFileSync(path.join(ROOT, doc), "utf8")));
        assert.deepEqual(showing, []);
    });
});
