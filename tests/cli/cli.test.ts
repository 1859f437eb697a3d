import * as assert from "node:assert/strict";
import { readArgv } from "../../tools/cli";

describe("readArgv: every command's flags through node:util parseArgs", () => {
    const spec = { values: ["--stack", "--out"], switches: ["--check", "-h"] };

    it("reads values with or without '=', keeps every value of a repeated flag, and switches", () => {
        const read = readArgv(["--stack", "dev", "--stack=prod", "--out=dir", "--check", "-h"], spec);
        assert.ok("flags" in read);
        assert.deepEqual([...read.flags], [["--stack", ["dev", "prod"]], ["--out", ["dir"]], ["--check", []], ["-h", []]]);
    });

    it("takes a value starting with '-' only when written with '='", () => {
        assert.deepEqual(readArgv(["--stack", "--check"], spec), { problem: "no value", flag: "--stack" });
        assert.deepEqual(readArgv(["--stack"], spec), { problem: "no value", flag: "--stack" });
        assert.deepEqual(readArgv(["--stack="], spec), { problem: "no value", flag: "--stack" });
        const read = readArgv(["--out=-"], spec);
        assert.ok("flags" in read);
        assert.deepEqual(read.flags.get("--out"), ["-"]);
    });

    it("names an unknown argument as it was written", () => {
        assert.deepEqual(readArgv(["--stak=dev"], spec), { problem: "unknown", arg: "--stak=dev" });
        assert.deepEqual(readArgv(["--check=yes"], spec), { problem: "unknown", arg: "--check=yes" });
        assert.deepEqual(readArgv(["-hx"], spec), { problem: "unknown", arg: "-hx" });
        assert.deepEqual(readArgv(["dev"], spec), { problem: "unknown", arg: "dev" });
        assert.deepEqual(readArgv(["--", "dev"], spec), { problem: "unknown", arg: "--" });
    });
});
