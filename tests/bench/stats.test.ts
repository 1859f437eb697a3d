import assert from "node:assert/strict";
import { linearFit, median, quantile, summarize } from "../../dev/bench/stats";

describe("bench statistics", () => {
    describe("median", () => {
        it("takes the middle run of an odd count, whatever the order", () => {
            assert.equal(median([900, 100, 500, 300, 700]), 500);
        });
        it("averages the two middle runs of an even count", () => {
            assert.equal(median([4, 1, 3, 2]), 2.5);
        });
        it("is the only run of one", () => {
            assert.equal(median([42]), 42);
        });
        it("ignores one wild outlier, as a noisy machine needs", () => {
            assert.equal(median([810, 820, 830, 840, 9000]), 830);
        });
        it("refuses no runs and non-numbers with a message", () => {
            assert.throws(() => median([]), /no measurements/);
            assert.throws(() => median([1, Number.NaN]), /finite/);
        });
        it("does not reorder the caller's array", () => {
            const runs = [3, 1, 2];
            median(runs);
            assert.deepEqual(runs, [3, 1, 2]);
        });
    });

    describe("quantile and summary", () => {
        it("interpolates between closest ranks", () => {
            assert.equal(quantile([10, 20, 30, 40, 50], 0.25), 20);
            assert.equal(quantile([10, 20, 30, 40], 0.25), 17.5);
            assert.equal(quantile([10, 20, 30, 40], 0), 10);
            assert.equal(quantile([10, 20, 30, 40], 1), 40);
        });
        it("rejects a quantile outside 0..1", () => {
            assert.throws(() => quantile([1, 2], 1.5), /between 0 and 1/);
        });
        it("summarises runs with median, extremes and quartiles", () => {
            assert.deepEqual(summarize([5, 1, 4, 2, 3]), { runs: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4 });
        });
    });

    describe("linear fit", () => {
        it("recovers the slope and intercept of points on a line", () => {
            const fit = linearFit([1, 10, 50, 100].map((x) => ({ x, y: 900 + 45 * x })));
            assert.ok(Math.abs(fit.slope - 45) < 1e-9);
            assert.ok(Math.abs(fit.intercept - 900) < 1e-9);
            assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
        });
        it("fits noisy points by least squares", () => {
            const fit = linearFit([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 2 }, { x: 3, y: 5 }]);
            assert.ok(Math.abs(fit.slope - 1.1) < 1e-9);
            assert.ok(Math.abs(fit.intercept - 1.1) < 1e-9);
            assert.ok(fit.r2 > 0 && fit.r2 < 1);
        });
        it("gives a flat line an r² of 1", () => {
            assert.deepEqual(linearFit([{ x: 1, y: 7 }, { x: 2, y: 7 }]), { slope: 0, intercept: 7, r2: 1 });
        });
        it("needs two different sizes", () => {
            assert.throws(() => linearFit([{ x: 1, y: 1 }]), /at least 2 points/);
            assert.throws(() => linearFit([{ x: 5, y: 1 }, { x: 5, y: 2 }]), /two different x/);
        });
    });
});
