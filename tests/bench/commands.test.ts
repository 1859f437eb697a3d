import assert from "node:assert/strict";
import { formatPairs, formatTrace, MEMORY_LIMIT, summarizePair, WALL_LIMIT } from "../../dev/bench/commands";

describe("npm run bench -- --commands: the whole commands against the plain CLI", () => {
    const sample = (wallMs: number, peakMiB: number) => ({ wallMs, peakKiB: peakMiB * 1024 });

    it("takes the median of the pair-by-pair ratios, not the ratio of the medians", () => {
        // A slow moment hits both sides of a pair: the ratios stay near 1.1 while the medians drift.
        const r = summarizePair({ id: "no-op up", launchpad: [sample(3300, 600), sample(9900, 600), sample(4400, 600)], plain: [sample(3000, 550), sample(9000, 550), sample(4000, 550)] });
        assert.ok(Math.abs(r.wallRatio - 1.1) < 1e-9);
        assert.equal(r.launchpadMs, 4400);
        assert.equal(r.plainMs, 4000);
        assert.ok(r.memoryRatio < MEMORY_LIMIT && r.wallRatio < WALL_LIMIT && r.ok);
    });
    it("fails a pair over either budget", () => {
        assert.equal(summarizePair({ id: "preview", launchpad: [sample(3600, 500)], plain: [sample(3000, 500)] }).ok, false);
        assert.equal(summarizePair({ id: "preview", launchpad: [sample(3000, 700)], plain: [sample(3000, 500)] }).ok, false);
    });
    it("shows each command as typed, the ratios and the verdict", () => {
        const table = formatPairs([{ id: "preview", launchpad: [sample(3300, 600)], plain: [sample(3000, 500)] }], 1);
        assert.match(table, /\| `npm run preview -- --stack testbed` \| 3\.30 s \| 600 MiB \|/);
        assert.match(table, /\| `pulumi preview --stack testbed` \| 3\.00 s \| 500 MiB \|/);
        assert.match(table, /\*\*1\.10x\*\* \| \*\*1\.20x\*\* \| PASS/);
    });
    it("lists the traced steps in the order they started, with their share of the whole", () => {
        const text = formatTrace([{ step: "b", startMs: 200, ms: 100 }, { step: "a", startMs: 0, ms: 200 }], 1000);
        assert.ok(text.indexOf("| a | 0 | 200 | 20 % |") < text.indexOf("| b | 200 | 100 | 10 % |"), text);
    });
});
