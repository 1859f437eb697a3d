import * as assert from "node:assert/strict";
import { type Change, Debouncer } from "../../tools/devloop/debounce";
import { FakeClock } from "./fakes";

describe("devloop: a tier's saves gathered until quiet", () => {
    function setUp(quietMs = 300) {
        const clock = new FakeClock();
        const changes: Change[] = [];
        return { clock, changes, debouncer: new Debouncer(quietMs, clock, (c) => changes.push(c)) };
    }

    it("hands on a burst of saves as one change, each file once, timed from the first save", () => {
        const { clock, changes, debouncer } = setUp();
        const first = clock.now();
        debouncer.add("backend", "src/server.ts");
        clock.advance(100);
        debouncer.add("backend", "src/notes.ts");
        clock.advance(100);
        debouncer.add("backend", "src/server.ts");
        clock.advance(299);
        assert.deepEqual(changes, [], "nothing before the tier has been quiet for 300 ms");
        clock.advance(1);
        assert.deepEqual(changes, [{ tier: "backend", files: ["src/server.ts", "src/notes.ts"], savedAt: first }]);
    });

    it("keeps the tiers apart: a frontend save neither delays nor joins the backend's change", () => {
        const { clock, changes, debouncer } = setUp();
        debouncer.add("backend", "src/server.ts");
        clock.advance(200);
        debouncer.add("frontend", "public/index.html");
        clock.advance(100);
        assert.deepEqual(changes.map((c) => [c.tier, c.files]), [["backend", ["src/server.ts"]]]);
        clock.advance(200);
        assert.deepEqual(changes.map((c) => [c.tier, c.files]), [["backend", ["src/server.ts"]], ["frontend", ["public/index.html"]]]);
    });

    it("drops what is gathered when cancelled (Ctrl-C)", () => {
        const { clock, changes, debouncer } = setUp();
        debouncer.add("backend", "src/server.ts");
        debouncer.cancel();
        clock.advance(10_000);
        assert.deepEqual(changes, []);
    });
});
