import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { processAlive } from "../../lib/process";

describe("processAlive", () => {
    it("is true for a running process and false for one that has exited", () => {
        assert.equal(processAlive(process.pid), true);
        const exited = spawnSync(process.execPath, ["-e", ""]);
        assert.equal(exited.status, 0);
        assert.equal(processAlive(exited.pid!), false);
    });
});
