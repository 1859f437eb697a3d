import assert from "node:assert/strict";
import * as os from "os";
import { ENGINE_DEBUG, dropDebugLogs, runtimeLog, skipUnreadDebugLogs } from "../../tools/launch/debugLogs";
import { engineEnv } from "../../tools/launch/program";
import { ROOT } from "../../tools/harness";

// The SDK's DEBUG messages are not sent when launchpad's commands started the engine; tests/launch/deploy
// checks it on a real run through Pulumi's runtime entry. Here: what changes, and when nothing does.

describe("the SDK's DEBUG messages (tools/launch/debugLogs.js)", () => {
    it("makes only debug send nothing; info, warnings and errors are untouched", async () => {
        const sent: string[] = [];
        const send = (severity: string) => async (message: string) => void sent.push(`${severity} ${message}`);
        const log = { debug: send("debug"), info: send("info"), warn: send("warn"), error: send("error") };
        const { info, warn, error } = log;
        dropDebugLogs(log);
        await log.debug("Registering resource: t=kubernetes:apps/v1:Deployment");
        assert.deepEqual({ info: log.info, warn: log.warn, error: log.error }, { info, warn, error });
        await Promise.all([log.info("i"), log.warn("w"), log.error("e")]);
        assert.deepEqual(sent, ["info i", "warn w", "error e"]);
    });

    it("changes nothing unless the engine was started with LAUNCHPAD_ENGINE_DEBUG=off, which is what launchpad's commands give it", () => {
        assert.equal(skipUnreadDebugLogs(ROOT, {}), false);
        assert.equal(skipUnreadDebugLogs(ROOT, { [ENGINE_DEBUG]: "on" }), false);
        assert.equal(skipUnreadDebugLogs(os.tmpdir(), { [ENGINE_DEBUG]: "off" }), false, "no SDK to be found from there");
        assert.equal(engineEnv(ROOT, {})[ENGINE_DEBUG], "off");
        // The documented switch: a user's LAUNCHPAD_ENGINE_DEBUG=on keeps the messages; anything else does not.
        assert.equal(engineEnv(ROOT, { [ENGINE_DEBUG]: "on" })[ENGINE_DEBUG], "on");
        assert.equal(engineEnv(ROOT, { [ENGINE_DEBUG]: "yes" })[ENGINE_DEBUG], "off");
    });

    it("finds the SDK's log module only where the runtime loaded it", () => {
        assert.equal(runtimeLog(os.tmpdir()), undefined);
        const loaded = runtimeLog(ROOT);
        assert.ok(loaded === undefined || typeof loaded.debug === "function");
    });
});
