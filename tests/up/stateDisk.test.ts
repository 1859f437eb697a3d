import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { down, preview, up } from "../../tools/up/commands";
import { UpError } from "../../tools/up/errors";
import { localPaths } from "../../tools/engine/backend";
import { neededBytes, repairStateAttributes, stateDiskLine, stateDiskLive, stateWriteFailureLine } from "../../tools/up/stateDisk";
import { entries, harness, removeTemps, tempDir } from "./fakes";

const prodEnv = { PULUMI_CONFIG_PASSPHRASE: "team-secret" };
const MiB = 1024 * 1024;

describe("up and down: the disk under a file backend's state", () => {
    afterEach(removeTemps);

    it("stop before the update, in one line naming the folder, when the state cannot be written there", async () => {
        const h = harness({ env: prodEnv });
        const seen: string[] = [];
        const deps = { ...h.deps, checkStateDisk: (dir: string, stack: string) => (seen.push(`${dir} ${stack}`), { unwritable: "read-only file system", freeBytes: 10 * 1024 * MiB, stateBytes: 0 }) };
        const state = localPaths(h.deps.repoRoot).state;
        await assert.rejects(up(deps, { stack: "prod" }), (e: UpError) => {
            assert.equal(
                e.message,
                `launchpad: the state of stack prod cannot be written in ${state}: read-only file system; nothing was changed. Make that folder writable ` +
                    "(remount its disk read-write, or fix its owner and permissions), or set PULUMI_BACKEND_URL to one that is, then run npm run up -- --stack prod again.",
            );
            return true;
        });
        assert.deepEqual(seen, [`${state} prod`]);
        assert.ok(!entries(h.journal, "ws").some((e) => e.startsWith("up ") || e.startsWith("select")), "nothing ran");
    });

    it("stop before the update when the disk has less room than the state needs, and say how much", async () => {
        const h = harness({ env: prodEnv });
        const deps = { ...h.deps, checkStateDisk: () => ({ freeBytes: 204 * 1024, stateBytes: 240 * 1024 }) };
        await assert.rejects(down(deps, { stack: "prod", deleteData: false, cluster: false }), (e: UpError) => {
            assert.match(e.message, /^launchpad: only 204 KiB is free on the disk that holds the state of stack prod \(\/\S+\), and an update needs about 17\.0 MiB there to save it after each step; nothing was changed\. Free space on that disk, or set PULUMI_BACKEND_URL to a folder elsewhere, then run npm run down -- --stack prod again\.$/);
            return true;
        });
        assert.ok(!entries(h.journal, "ws").some((e) => e.startsWith("destroy")));
    });

    it("go ahead on a disk with room, and preview (which writes no state) does not look", async () => {
        const h = harness({ env: prodEnv });
        let looked = 0;
        const deps = { ...h.deps, checkStateDisk: () => (looked++, { freeBytes: neededBytes(240 * 1024), stateBytes: 240 * 1024 }) };
        await up(deps, { stack: "prod" });
        assert.equal(looked, 1);
        await preview(deps, { stack: "prod" });
        assert.equal(looked, 1);
    });

    it("do not look at a remote backend's disk", async () => {
        const h = harness({ env: { ...prodEnv, PULUMI_BACKEND_URL: "s3://team-state" } });
        await up({ ...h.deps, checkStateDisk: () => assert.fail("a bucket has no disk of ours") }, { stack: "prod" });
    });

    it("say in one line that an update stopped because the disk filled, where, and that the state saved before is whole", async () => {
        const h = harness({ env: prodEnv });
        h.onOpen((ws) => {
            ws.failing.add("up");
            ws.failureText.set(
                "up",
                "update failed\n  pulumi-nodejs:dynamic/launchpad:Image (launchpad-backend-image-build):\n    error: pre-step event returned an error: failed to save snapshot: An IO error occurred while writing the new snapshot file: " +
                    'blob (key ".pulumi/stacks/launchpad/prod.json") (code=Unknown): write /srv/state/.pulumi/stacks/launchpad/prod.json.18ee886cb8d151d8.tmp: no space left on device',
            );
        });
        await assert.rejects(up(h.deps, { stack: "prod" }), (e: UpError) => {
            assert.equal(
                e.message,
                "launchpad: the update of stack prod stopped: its state could not be saved in /srv/state (no space left on device). The state saved before is whole, " +
                    "and the next run applies what this one left unfinished: free space on that disk or make it writable, then run the command again.",
            );
            return true;
        });
    });
});

describe("the state disk's words", () => {
    afterEach(removeTemps);

    it("tell a state that could not be locked (nothing changed) from one that could not be saved mid-way", () => {
        const lock = "open /srv/state/.pulumi/locks/organization/launchpad/prod/303f.json.18ee.tmp: read-only file system";
        assert.equal(
            stateWriteFailureLine(lock, "the update", "prod"),
            "launchpad: the update of stack prod could not start: its state cannot be written in /srv/state (read-only file system); nothing was changed. Free space on that disk or make it writable, then run the command again.",
        );
        assert.match(stateWriteFailureLine("rename /s/.pulumi/stacks/launchpad/prod.json.tmp /s/.pulumi/stacks/launchpad/prod.json: Disk quota exceeded", "the destroy", "prod") ?? "", /^launchpad: the destroy of stack prod stopped: its state could not be saved in \/s \(disk quota exceeded\)\./);
        assert.equal(stateWriteFailureLine("connection refused", "the update", "prod"), undefined);
        assert.equal(stateWriteFailureLine("write /tmp/x: no space left on device", "the update", "prod"), undefined, "only the state's own files");
    });

    it("need 16 MiB and four times the state beside it, and accept a disk with exactly that", () => {
        assert.equal(neededBytes(0), 16 * MiB);
        assert.equal(neededBytes(MiB), 20 * MiB);
        assert.equal(stateDiskLine({ freeBytes: 20 * MiB, stateBytes: MiB }, "/s", "prod", "up"), undefined);
        assert.match(stateDiskLine({ freeBytes: 20 * MiB - 1, stateBytes: MiB }, "/s", "prod", "up") ?? "", /^launchpad: only 19\.9 MiB is free/);
    });

    it("reads a real folder: writable, its free space, the stack's state size, and leaves no file behind", () => {
        const dir = tempDir();
        const stacks = path.join(dir, ".pulumi", "stacks", "launchpad");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(stacks, "prod.json"), "x".repeat(1234));
        const disk = stateDiskLive(dir, "prod");
        assert.equal(disk.unwritable, undefined);
        assert.equal(disk.stateBytes, 1234);
        assert.ok(disk.freeBytes > 0);
        assert.equal(stateDiskLive(dir, "dev").stateBytes, 0, "no state yet");
        assert.deepEqual(fs.readdirSync(dir), [".pulumi"]);
        assert.match(stateDiskLive(path.join(dir, "missing"), "prod").unwritable ?? "", /no such file or directory/);
    });
});

describe("up, preview and down: an attributes file a killed run left empty beside the state", () => {
    afterEach(removeTemps);

    /** A file backend's folder with the project's files as Pulumi writes them, and broken .attrs files where a kill leaves them. */
    function backend(dir: string): void {
        const write = (file: string, text: string) => {
            fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            fs.writeFileSync(path.join(dir, file), text);
        };
        const attrs = '{"user.content_type":"text/plain; charset=utf-8","md5":"u2TL05T0zGv9aAJkTyOaog=="}\n';
        write(".pulumi/stacks/launchpad/prod.json", "{}");
        write(".pulumi/stacks/launchpad/prod.json.attrs", "");
        write(".pulumi/stacks/launchpad/prod.json.bak.attrs", attrs);
        write(".pulumi/stacks/launchpad/dev.json.attrs", '{"user.content_type":');
        write(".pulumi/locks/organization/launchpad/prod/6c8a.json.attrs", "");
        write(".pulumi/stacks/other-project/a.json.attrs", "");
        write(".pulumi/history/launchpad/prod/prod-1.history.json.attrs", "");
    }

    it("removes the project's empty or unreadable .attrs files of stacks and locks, and nothing else", () => {
        const dir = tempDir();
        backend(dir);
        assert.deepEqual(repairStateAttributes(dir), [
            path.join(".pulumi", "stacks", "launchpad", "dev.json.attrs"),
            path.join(".pulumi", "stacks", "launchpad", "prod.json.attrs"),
            path.join(".pulumi", "locks", "organization", "launchpad", "prod", "6c8a.json.attrs"),
        ]);
        assert.ok(fs.existsSync(path.join(dir, ".pulumi/stacks/launchpad/prod.json")), "the state itself stays");
        assert.ok(fs.existsSync(path.join(dir, ".pulumi/stacks/launchpad/prod.json.bak.attrs")), "a whole .attrs stays");
        assert.ok(fs.existsSync(path.join(dir, ".pulumi/stacks/other-project/a.json.attrs")), "another project's stays");
        assert.deepEqual(repairStateAttributes(dir), [], "once");
        assert.deepEqual(repairStateAttributes(path.join(dir, "no-state-yet")), []);
    });

    for (const [command, run] of [["up", up], ["preview", preview]] as const) {
        it(`${command} says so in one line before it asks Pulumi anything`, async () => {
            const h = harness({ env: prodEnv });
            const state = localPaths(h.deps.repoRoot).state;
            backend(state);
            await run(h.deps, { stack: "prod" });
            const said = h.lines.filter((l) => l.includes("recovered"));
            assert.equal(said.length, 3, said.join("\n"));
            assert.equal(said.find((l) => l.includes("prod.json.attrs")), `launchpad: recovered: removed ${path.join(".pulumi", "stacks", "launchpad", "prod.json.attrs")} in ${state}, an empty attributes file a killed run left beside the state (with it there, every Pulumi command on the project failed with "EOF"); the state itself is whole.`);
            assert.ok(h.journal.indexOf(`info: ${said[0]}`) < h.journal.indexOf("ws: open"));
        });
    }
});
