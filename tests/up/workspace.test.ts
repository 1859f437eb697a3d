import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stackStateFile } from "../../tools/engine/backend";
import { configCache, everyPage, pendingOperationsIn, resourcesIn, stackOutputsIn } from "../../tools/engine/workspace";

describe("up: a stack's config is read once per command", () => {
    it("asks the CLI once for any number of keys, again after a change, and keeps stacks apart", async () => {
        const reads: string[] = [];
        let value = "a";
        const cache = configCache(async (stack) => {
            reads.push(stack);
            return { key: value };
        });
        assert.deepEqual(await Promise.all([cache.get("dev"), cache.get("dev"), cache.get("prod")]), [{ key: "a" }, { key: "a" }, { key: "a" }]);
        assert.deepEqual(reads, ["dev", "prod"]);
        value = "b";
        cache.forget("dev");
        assert.deepEqual(await cache.get("dev"), { key: "b" });
        assert.deepEqual(await cache.get("prod"), { key: "a" });
        assert.deepEqual(reads, ["dev", "prod", "dev"]);
    });

    it("does not keep a read that failed", async () => {
        let fail = true;
        const cache = configCache(async () => {
            if (fail) throw new Error("passphrase must be set");
            return { key: "a" };
        });
        await assert.rejects(cache.get("dev"), /passphrase must be set/);
        fail = false;
        assert.deepEqual(await cache.get("dev"), { key: "a" });
    });
});

describe("up: operations a killed run left, read from a file backend's state", () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "pending-ops-test-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const state = (latest: unknown, version = 3) => {
        const file = stackStateFile(dir, "dev");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify({ version, checkpoint: { stack: "organization/launchpad/dev", latest } }));
        return file;
    };
    const op = { resource: { urn: "urn:pulumi:dev::launchpad::kubernetes:core/v1:Service::backend" }, type: "updating" };

    it("is the project's stack file in Pulumi's layout", () => {
        assert.equal(stackStateFile("/srv/state", "prod"), path.join("/srv/state", ".pulumi", "stacks", "launchpad", "prod.json"));
    });
    it("says there are none when the state lists none, or has no list", () => {
        assert.equal(pendingOperationsIn(state({ resources: [], pending_operations: [] })), false);
        assert.equal(pendingOperationsIn(state({ resources: [] })), false);
    });
    it("says there are some when it lists any", () => {
        assert.equal(pendingOperationsIn(state({ resources: [], pending_operations: [op] })), true);
    });
    it("cannot tell (the engine is asked) from no file, another version, no deployment yet, or a file that is not JSON", () => {
        assert.equal(pendingOperationsIn(path.join(dir, "missing.json")), undefined);
        assert.equal(pendingOperationsIn(state({ resources: [], pending_operations: [] }, 4)), undefined);
        assert.equal(pendingOperationsIn(state(null)), undefined);
        const file = state({});
        fs.writeFileSync(file, "\u001f\u008b not JSON");
        assert.equal(pendingOperationsIn(file), undefined);
    });
    it("lists the state's resources by type, id and outputs, none for a deployment without resources", () => {
        const urn = "urn:pulumi:dev::launchpad::kubernetes:core/v1:Namespace::launchpad-namespace";
        assert.deepEqual(resourcesIn(state({ resources: [{ urn, type: "kubernetes:core/v1:Namespace", id: "launchpad-dev", outputs: { kind: "Namespace" } }, { urn, type: "pulumi:pulumi:Stack" }] })), [
            { type: "kubernetes:core/v1:Namespace", id: "launchpad-dev", outputs: { kind: "Namespace" } },
            { type: "pulumi:pulumi:Stack", id: undefined, outputs: undefined },
        ]);
        assert.deepEqual(resourcesIn(state({})), []);
        assert.equal(resourcesIn(state(null)), undefined);
        assert.equal(resourcesIn(path.join(dir, "missing.json")), undefined);
    });
    it("gives the stack's outputs as the CLI does, none before the first update; the CLI is asked when one is secret or the file cannot tell", () => {
        const stackUrn = "urn:pulumi:dev::launchpad::pulumi:pulumi:Stack::launchpad-dev";
        const outputs = { url: "http://launchpad.localtest.me:8080", backendImage: "localhost:5001/launchpad-backend@sha256:ab", replicas: { backend: 2 } };
        assert.deepEqual(stackOutputsIn(state({ resources: [{ urn: stackUrn, type: "pulumi:pulumi:Stack", outputs }] })), {
            url: { value: outputs.url, secret: false },
            backendImage: { value: outputs.backendImage, secret: false },
            replicas: { value: { backend: 2 }, secret: false },
        });
        assert.deepEqual(stackOutputsIn(state({ resources: [] })), {});
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
        assert.equal(stackOutputsIn(state({ resources: [{ urn: stackUrn, type: "pulumi:pulumi:Stack", outputs: { password: secret } }] })), undefined);
        assert.equal(stackOutputsIn(state(null)), undefined);
        assert.equal(stackOutputsIn(path.join(dir, "missing.json")), undefined);
    });
});

describe("engine: a paged listing read whole (the stack's history)", () => {
    it("reads pages from 1 until one comes back short, and keeps their order", async () => {
        const items = Array.from({ length: 7 }, (_, i) => i);
        const asked: number[][] = [];
        const all = await everyPage(async (page, size) => {
            asked.push([page, size]);
            return items.slice((page - 1) * size, page * size);
        }, 3);
        assert.deepEqual(all, items);
        assert.deepEqual(asked, [[1, 3], [2, 3], [3, 3]]);
    });
    it("asks once more after a full last page, and stops at the empty one", async () => {
        const asked: number[] = [];
        assert.deepEqual(await everyPage(async (page) => (asked.push(page), page === 1 ? ["a", "b"] : []), 2), ["a", "b"]);
        assert.deepEqual(asked, [1, 2]);
    });
});
