import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TierFiles, tiersOf } from "../../tools/devloop/tiers";

describe("devloop: which tier's image a saved file makes, by Docker's rules", () => {
    let root: string;
    let tiers: TierFiles[];
    const at = (...parts: string[]) => path.join(root, ...parts);

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-devloop-"));
        for (const dir of ["apps/backend/src", "apps/frontend/public", "docker"]) fs.mkdirSync(at(dir), { recursive: true });
        fs.writeFileSync(at("apps/backend/.dockerignore"), "node_modules\ndist\n*.md\n!KEEP.md\n");
        fs.writeFileSync(at("apps/backend/Dockerfile"), "FROM node\n");
        fs.writeFileSync(at("docker/frontend.Dockerfile"), "FROM nginx\n");
        tiers = [
            new TierFiles({ tier: "frontend", context: at("apps/frontend"), dockerfile: at("docker/frontend.Dockerfile") }),
            new TierFiles({ tier: "backend", context: at("apps/backend"), dockerfile: at("apps/backend/Dockerfile") }),
        ];
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("gives a file of a context to its tier, by its path inside the context", () => {
        assert.deepEqual(tiersOf(tiers, at("apps/backend/src/server.ts")), [{ tier: "backend", file: "src/server.ts" }]);
        assert.deepEqual(tiersOf(tiers, at("apps/frontend/public/index.html")), [{ tier: "frontend", file: "public/index.html" }]);
    });

    it("leaves out what .dockerignore leaves out (a folder's whole tree, a pattern), and keeps its exceptions", () => {
        assert.deepEqual(tiersOf(tiers, at("apps/backend/node_modules/pg/index.js")), []);
        assert.deepEqual(tiersOf(tiers, at("apps/backend/dist/main.js")), []);
        assert.deepEqual(tiersOf(tiers, at("apps/backend/NOTES.md")), []);
        assert.deepEqual(tiersOf(tiers, at("apps/backend/KEEP.md")), [{ tier: "backend", file: "KEEP.md" }]);
    });

    it("counts the Dockerfile, also outside its context, and the ignore file itself", () => {
        assert.deepEqual(tiersOf(tiers, at("docker/frontend.Dockerfile")), [{ tier: "frontend", file: "frontend.Dockerfile" }]);
        assert.deepEqual(tiersOf(tiers, at("apps/backend/Dockerfile")), [{ tier: "backend", file: "Dockerfile" }]);
        assert.deepEqual(tiersOf(tiers, at("apps/backend/.dockerignore")), [{ tier: "backend", file: ".dockerignore" }]);
    });

    it("reads .dockerignore again when it changes: a file it no longer ignores counts", () => {
        assert.deepEqual(tiersOf(tiers, at("apps/backend/dist/main.js")), []);
        fs.writeFileSync(at("apps/backend/.dockerignore"), "node_modules\n");
        tiersOf(tiers, at("apps/backend/.dockerignore"));
        assert.deepEqual(tiersOf(tiers, at("apps/backend/dist/main.js")), [{ tier: "backend", file: "dist/main.js" }]);
    });

    it("gives nothing for a file outside every context", () => {
        assert.deepEqual(tiersOf(tiers, at("README.md")), []);
        assert.deepEqual(tiersOf(tiers, at("apps/backendish/x.ts")), []);
    });
});
