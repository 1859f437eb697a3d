import assert from "node:assert/strict";
import { passwordProvider, randomAlphanumeric } from "../../components/password";

describe("password provider", () => {
    it("draws the requested number of letters and digits, a new draw each time", () => {
        const [a, b] = [randomAlphanumeric(32), randomAlphanumeric(32)];
        assert.match(a, /^[A-Za-z0-9]{32}$/);
        assert.notEqual(a, b);
    });

    it("uses all 62 letters and digits", () => {
        assert.equal(new Set(randomAlphanumeric(62 * 200)).size, 62);
    });

    it("creates a 32-character password and keeps its length", async () => {
        const { id, outs } = await passwordProvider.create({ length: 32 });
        assert.ok(id.length > 0 && outs);
        assert.equal(outs.length, 32);
        assert.match(outs.result, /^[A-Za-z0-9]{32}$/);
    });

    it("never changes once created, whatever the inputs say", async () => {
        const olds = { length: 32, result: "x".repeat(32) };
        assert.deepEqual(await passwordProvider.diff!("id", olds, { length: 32 }), { changes: false });
        assert.deepEqual(await passwordProvider.diff!("id", olds, { length: 40 }), { changes: false });
    });
});
