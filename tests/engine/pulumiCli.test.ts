import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diagnostics, PulumiCliError, pulumiCli } from "../../tools/engine/pulumiCli";

describe("engine: the Pulumi CLI, started by launchpad's commands", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-cli-test-"));
        // A stand-in `pulumi` on PATH: prints its arguments (one per line) and its environment's passphrase,
        // says something on stderr, and exits with $EXIT_WITH.
        fs.writeFileSync(path.join(dir, "pulumi"), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\necho "passphrase=$PULUMI_CONFIG_PASSPHRASE"\necho "said on stderr" >&2\nexit "${EXIT_WITH:-0}"\n', { mode: 0o755 });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const env = (extra: Record<string, string> = {}) => ({ PATH: `${dir}:${process.env.PATH}`, PULUMI_CONFIG_PASSPHRASE: "p", ...extra });

    it("never lets it prompt, and keeps a value after `--` as it is", async () => {
        const out = await pulumiCli(dir, env())(["config", "set", "k", "--stack", "s", "--secret", "--", "--non-interactive-looking value"]);
        assert.deepEqual(out.trim().split("\n"), ["config", "set", "k", "--stack", "s", "--secret", "--non-interactive", "--", "--non-interactive-looking value", "passphrase=p"]);
        const up = await pulumiCli(dir, env())(["up", "--yes"]);
        assert.deepEqual(up.trim().split("\n").slice(0, 3), ["up", "--yes", "--non-interactive"]);
    });

    it("streams stdout and stderr as they come", async () => {
        const chunks: string[] = [];
        await pulumiCli(dir, env())(["preview"], { onOutput: (c) => chunks.push(c) });
        assert.match(chunks.join(""), /preview\n--non-interactive\npassphrase=p\n/);
        assert.match(chunks.join(""), /said on stderr/);
    });

    it("fails with what the CLI said on stderr, its exit code and stdout", async () => {
        const failed = await pulumiCli(dir, env({ EXIT_WITH: "3" }))(["up"]).then(
            () => assert.fail("resolved"),
            (e: unknown) => e,
        );
        assert.ok(failed instanceof PulumiCliError);
        assert.equal(failed.message, "said on stderr");
        assert.equal(failed.code, 3);
        assert.match(failed.stdout, /^up\n/);
    });

    it("says so when there is no CLI to start", async () => {
        await assert.rejects(pulumiCli(dir, { PATH: path.join(dir, "nothing-here") })(["version"]), (e: unknown) => e instanceof PulumiCliError && e.code === 127 && /pulumi: command not found/.test(e.message));
    });
});

describe("engine: what a failed update says, from its output's diagnostics", () => {
    it("is the Diagnostics section of `pulumi up`'s output (its stderr is empty then), without the lines around it", () => {
        const out = [
            "Updating (testbed):",
            " ~  kubernetes:apps/v1:Deployment backend **updating failed** [diff: ~spec]; error: connection refused",
            "Diagnostics:",
            "  pulumi:pulumi:Stack (launchpad-testbed):",
            "    error: update failed",
            "",
            "  kubernetes:apps/v1:Deployment (backend):",
            '    error: update failed: Get "https://127.0.0.1:26443/api": dial tcp 127.0.0.1:26443: connect: connection refused',
            "",
            "Outputs:",
            '    url: "http://x"',
            "Resources:",
            "    2 errored",
        ].join("\n");
        assert.equal(
            diagnostics(out),
            ["pulumi:pulumi:Stack (launchpad-testbed):", "    error: update failed", "", "  kubernetes:apps/v1:Deployment (backend):", '    error: update failed: Get "https://127.0.0.1:26443/api": dial tcp 127.0.0.1:26443: connect: connection refused'].join("\n"),
        );
        assert.equal(diagnostics("Updating (testbed):\nResources:\n    1 unchanged\n"), "");
    });
});
