import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runDiagram } from "../../tools/diagram/main";
import { runDoctor } from "../../tools/doctor/main";
import { runStack } from "../../tools/harness";
import { runRender } from "../../tools/render/main";
import { parseStackFile, stackConfig, StackFileError } from "../../tools/stackFile";

const temps: string[] = [];
after(() => temps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A project folder with Pulumi.yaml and one stack file. */
function project(stackFile: string): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-stackfile-"));
    temps.push(root);
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: launchpad\nruntime: nodejs\n");
    fs.writeFileSync(path.join(root, "Pulumi.dev.yaml"), stackFile);
    return root;
}

const duplicate = "config:\n  launchpad:platform: kind\n  launchpad:backendReplicas: 2\n  launchpad:host: launchpad.localhost\n  launchpad:backendReplicas: 3\n";
const duplicateReport = [
    'Pulumi.dev.yaml:5:3: the key "launchpad:backendReplicas" is given twice (first on line 3); keep one of the lines in Pulumi.dev.yaml',
    "  3 |   launchpad:backendReplicas: 2",
    "  5 |   launchpad:backendReplicas: 3",
    "    |   ^",
].join("\n");

describe("stack files: one parser, and YAML errors that say where and what", () => {
    const parse = (text: string) => {
        try {
            parseStackFile(path.join(project(text), "Pulumi.dev.yaml"));
        } catch (error) {
            assert.ok(error instanceof StackFileError);
            return error.message;
        }
        assert.fail("the file parsed");
    };

    it("names a duplicate key, both of its lines and the column", () => {
        assert.equal(parse(duplicate), duplicateReport);
    });

    it("names the file, line and column of a syntax error and shows the lines up to it", () => {
        assert.equal(
            parse("config:\n  launchpad:platform: kind\n  launchpad:tolerations: [1\n  launchpad:host: x\n"),
            [
                "Pulumi.dev.yaml:4:3: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the YAML in Pulumi.dev.yaml (under config:, each key on its own line, indented alike)",
                "  2 |   launchpad:platform: kind",
                "  3 |   launchpad:tolerations: [1",
                "  4 |   launchpad:host: x",
                "    |   ^",
            ].join("\n"),
        );
    });

    it("points at a key indented unlike its neighbours", () => {
        const message = parse("config:\n launchpad:platform: kind\n  launchpad:host: x\n");
        assert.match(message, /^Pulumi\.dev\.yaml:2:\d+: .*; fix the YAML in Pulumi\.dev\.yaml/);
        assert.match(message, /\n {2}2 \| {2}launchpad:platform: kind\n/);
    });

    it("refuses a file that is not a map", () => {
        assert.equal(parse("- a\n- b\n"), 'Pulumi.dev.yaml is not a stack file: it holds no "config:" map; see Pulumi.dev.yaml');
    });

    it("reads a valid file", () => {
        assert.deepEqual(stackConfig("dev", project("config:\n  launchpad:backendReplicas: 2\n")), { "launchpad:backendReplicas": "2" });
    });

    describe("render, diagram and doctor print it, exit 1 and write nothing", () => {
        const root = () => project(duplicate);
        const load = (dir: string) => (stack: string) => runStack(stack, { config: stackConfig(stack, dir) });
        it("render", async () => {
            const out = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-stackfile-out-"));
            temps.push(out);
            const result = await runRender(["--out", out], { loadStack: load(root()) });
            assert.deepEqual([result.code, result.stdout, result.stderr], [1, "", `render: ${duplicateReport}\n`]);
            assert.deepEqual(fs.readdirSync(out), []);
        });
        it("diagram", async () => {
            const result = await runDiagram(["--print"], { loadStack: load(root()) });
            assert.deepEqual([result.code, result.stdout, result.stderr], [1, "", `diagram: ${duplicateReport}\n`]);
        });
        it("doctor", async () => {
            const result = await runDoctor([], { loadStack: load(root()) });
            assert.deepEqual([result.code, result.stdout, result.stderr], [1, "", `doctor: ${duplicateReport}\n`]);
        });
    });
});
