import assert from "node:assert/strict";
import { configCache } from "../../tools/up/workspace";

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
