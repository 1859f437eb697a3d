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

describe("npm run bench -- --patches: each SDK patch's share of a no-op npm run up", () => {
    it("takes each patch's share pair by pair, and keeps a patch worth 5 % or more", async () => {
        const { formatShares, shares } = await import("../../dev/bench/patches");
        const without = new Map([["debugLogs", [4200, 8400, 4000]], ["stackTraces", [4000, 8000, 4400]], ["serializedProviders", [4400, 8800, 4400]]]);
        const s = shares([4000, 8000, 4000], without);
        assert.ok(Math.abs(s.get("debugLogs")! - 0.05) < 1e-9);
        assert.ok(Math.abs(s.get("serializedProviders")! - 0.1) < 1e-9);
        const table = formatShares([4000, 8000, 4000], without, 3);
        assert.match(table, /LAUNCHPAD_ENGINE_DEBUG=on\) \| 4\.20 s \| 5\.0 % \| yes \|/);
        assert.match(table, /LAUNCHPAD_STACK_TRACES=sdk\) \| 4\.40 s \| 0\.0 % \| no \|/);
    });
});
