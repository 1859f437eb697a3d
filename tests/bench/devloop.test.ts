import * as assert from "node:assert/strict";
import { formatDevloop, type Round } from "../../dev/bench/devloop";

describe("npm run bench -- --devloop: the table", () => {
    const round = (floor: number, dev: number, up: number, prebuild: number | null = 3000): Round => ({
        floor: { build: floor - 4000, push: 1000, apply: 500, rollout: 2500, total: floor },
        dev: { ...(prebuild === null ? {} : { prebuild }), update: dev - 1000, rollout: 500, total: dev },
        up: { total: up },
    });

    it("shows the medians of each way and its split, dev and up against the floor, and the goal's verdict", () => {
        const table = formatDevloop([round(20_000, 24_000, 40_000, 2000), round(22_000, 25_000, 41_000), round(30_000, 40_000, 60_000, 4000)]);
        assert.match(table, /^\| floor by hand: .* \| 22\.0 s \| 18\.0 s \| 1\.0 s \| 0\.5 s \| 2\.5 s \| 1\.00x \|$/m);
        assert.match(table, /^\| `npm run dev` .* \| 25\.0 s \| prebuild 3\.0 s \| \| update 24\.0 s \| 0\.5 s \| 1\.14x \|$/m);
        assert.match(table, /^\| `npm run up` .* \| 41\.0 s \| \| \| \| \| 1\.86x \|$/m);
        assert.match(table, /Goal: `npm run dev` at most 1\.3x the floor: PASS \(1\.14x\)/);
        assert.match(formatDevloop([round(20_000, 30_000, 40_000)]), /FAIL \(1\.50x\)/);
        assert.match(formatDevloop([round(20_000, 24_000, 40_000, null), round(20_000, 24_000, 40_000)]), /\| prebuild in 1 of 2 rounds \|/, "a round without a prebuild is said");
    });
});
