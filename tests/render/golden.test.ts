import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { isKubernetesObject, listStacks, ROOT } from "../../tools/harness";
import { draw } from "../../tools/diagram/main";
import { dotToSvg } from "../../tools/diagram/svg";
import { checkObject } from "../../tools/render/check";
import { ACCEPT, compareWithGolden, GOLDEN_DIR } from "../../tools/render/golden";
import { PLACEHOLDER_DIGEST, renderManifests } from "../../tools/harness/manifests";
import { stackRun } from "../stackRuns";

// The committed renders are what a reviewer reads in a pull request: any change to the manifests a
// stack would apply shows up here as a diff, and is accepted by rendering into tests/golden again.

for (const stack of listStacks()) {
    describe(`the golden render of the ${stack} stack`, () => {
        it(`matches tests/golden/${stack}/ byte for byte (accept an intended change with: ${ACCEPT})`, async () => {
            const problems = compareWithGolden(stack, renderManifests(await stackRun(stack)));
            if (problems.length > 0) assert.fail(`the ${stack} render differs from its golden files; if the change is intended, run\n  ${ACCEPT}\nand commit tests/golden.\n\n${problems.join("\n\n")}`);
        });

        it("has one file per Kubernetes resource of the program, and one resource per file", async () => {
            const run = await stackRun(stack);
            const manifests = renderManifests(run);
            const expected = run.resources.filter(isKubernetesObject).map((r) => `${r.type}::${r.name}`).sort();
            assert.deepEqual(manifests.map((m) => `${m.resource.type}::${m.resource.name}`).sort(), expected);
            assert.equal(new Set(manifests.map((m) => m.file)).size, manifests.length);
            // Each file holds its resource's object: the harness's, with only placeholder digests marked.
            for (const m of manifests) {
                const original = run.objects[run.resources.filter(isKubernetesObject).indexOf(m.resource)];
                const unmarked = JSON.parse(JSON.stringify(m.object).split(PLACEHOLDER_DIGEST).join("<digest>"));
                const masked = JSON.parse(JSON.stringify(original).replace(/sha256:[0-9a-f]{64}/g, "<digest>"));
                assert.deepEqual(unmarked, masked, m.file);
            }
        });

        it("writes only valid objects (render --check passes) and no secret value", async () => {
            for (const m of renderManifests(await stackRun(stack))) {
                assert.deepEqual(checkObject(m.object).errors, [], m.file);
                if (m.object.kind === "Secret") {
                    for (const value of Object.values<string>({ ...m.object.data, ...m.object.stringData })) assert.equal(value, "[secret]", m.file);
                }
            }
        });
    });
}

describe("the golden files", () => {
    it("exist only for stacks that have a stack file", () => {
        const folders = fs.readdirSync(GOLDEN_DIR).filter((f) => fs.statSync(path.join(GOLDEN_DIR, f)).isDirectory());
        assert.deepEqual(folders.sort(), listStacks());
    });
});

describe("the README's picture of dev", () => {
    it("is the diagram of the current program (redraw with: npm run diagram -- --stack dev --out docs)", async () => {
        const { mermaid, dot } = draw(await stackRun("dev"), "`npm run diagram -- --stack dev`");
        assert.equal(fs.readFileSync(path.join(ROOT, "docs", "launchpad-dev.mmd"), "utf8"), mermaid);
        assert.equal(fs.readFileSync(path.join(ROOT, "docs", "launchpad-dev.svg"), "utf8"), await dotToSvg(dot));
    });
});
