import * as assert from "node:assert/strict";
import { imagesOf, parseReleaseMessage, releaseMessage, releasesOf, whoRuns } from "../../tools/engine/releases";
import type { UpdateRecord } from "../../tools/engine/workspace";
import { historyReport, shownImage } from "../../tools/history/history";
import { runHistory } from "../../tools/history/main";
import { FakeWorkspace, removeTemps, tempProject } from "../up/fakes";

const ref = (tier: string, hex: string) => `localhost:5001/launchpad-${tier}@sha256:${hex.repeat(64)}`;
const images = (f: string, b: string, d = "d") => ({ frontend: ref("frontend", f), backend: ref("backend", b), database: ref("postgres", d) });
const outputs = (i: Record<string, string>) => ({
    frontendImage: { value: i.frontend, secret: false }, backendImage: { value: i.backend, secret: false }, databaseImage: { value: i.database, secret: false },
});
const git = (head: string) => ({ "git.head": head.repeat(40).slice(0, 40), "git.dirty": "false" });

/** An update in Pulumi's history, as launchpad's up writes it. */
function update(version: number, result: string, before: Record<string, string>, extra: Partial<UpdateRecord> = {}): UpdateRecord {
    return {
        version, kind: "update", result, startTime: new Date(Date.UTC(2026, 11, 7, 10, version)), endTime: new Date(Date.UTC(2026, 11, 7, 10, version, 30)),
        message: releaseMessage({ by: "ana@laptop", before }), environment: git(String(version)), config: {}, ...extra,
    };
}

describe("releases: read from Pulumi's update history", () => {
    it("writes who, a note and the images that ran before into the update's message, and reads them back", () => {
        const message = releaseMessage({ by: "ana@laptop", note: "rollback to 4", before: images("a", "b") });
        assert.equal(message, `launchpad release by ana@laptop; rollback to 4; before: frontend=${ref("frontend", "a")} backend=${ref("backend", "b")} database=${ref("postgres", "d")}`);
        assert.deepEqual(parseReleaseMessage(message), { by: "ana@laptop", note: "rollback to 4", before: images("a", "b") });
        assert.deepEqual(parseReleaseMessage(releaseMessage({ by: "CI", before: {} })), { by: "CI", note: undefined, before: {} });
        assert.deepEqual(parseReleaseMessage(releaseMessage({ by: "CI", commit: "5d1e0c2+dirty", note: "a; b", before: {} })), { by: "CI", commit: "5d1e0c2+dirty", note: "a; b", before: {} });
        assert.equal(parseReleaseMessage("fix the thing"), undefined);
        assert.equal(parseReleaseMessage(undefined), undefined);
    });

    it("names who runs a release: the CI system in CI, else user@host", () => {
        assert.equal(whoRuns({}, "ana", "laptop"), "ana@laptop");
        assert.equal(whoRuns({ CI: "true", GITHUB_ACTIONS: "true" }, "runner", "fv-az1"), "GitHub Actions");
        assert.equal(whoRuns({ CI: "1" }, "x", "y"), "CI");
        assert.equal(whoRuns({ CI: "false" }, "ana", "laptop"), "ana@laptop");
    });

    it("gives each release the images the next update found, the newest the stack's outputs, newest first, and marks the live one", () => {
        const history = [
            update(1, "succeeded", {}),
            update(2, "succeeded", images("a", "b")),
            update(3, "failed", images("a", "c")),
            update(4, "succeeded", images("a", "c")),
        ];
        const releases = releasesOf(history, outputs(images("a", "e")));
        assert.deepEqual(releases.map((r) => r.version), [4, 3, 2, 1]);
        assert.deepEqual(releases.map((r) => r.live), [true, false, false, false]);
        assert.deepEqual(releases[0].images, images("a", "e"));
        assert.deepEqual(releases[1].images, {}, "a failed update's images are not known");
        assert.deepEqual(releases[2].images, images("a", "c"));
        assert.deepEqual(releases[3].images, images("a", "b"));
        assert.equal(releases[0].commit, "4444444");
        assert.equal(releases[0].by, "ana@laptop");
    });

    it("numbers the releases oldest first from 1 when the backend gives no number (a file or bucket backend says 0)", () => {
        const history = [update(1, "succeeded", images("a", "b")), update(0, "succeeded", {})].map((u, i) => ({ ...u, version: 0, startTime: new Date(Date.UTC(2026, 11, 7, 10, 1 - i)) }));
        const releases = releasesOf([...history, { ...update(0, "succeeded", {}), kind: "refresh", startTime: new Date(Date.UTC(2026, 11, 7, 9)) }], outputs(images("a", "c")));
        assert.deepEqual(releases.map((r) => [r.version, r.live]), [[3, true], [2, false]], "the refresh before them counts as 1, as in the history");
        assert.deepEqual(releases[1].images, images("a", "b"));
    });

    it("keeps the live release when a newer update failed, and knows no live one after a down", () => {
        const failedLast = releasesOf([update(1, "succeeded", {}), update(2, "failed", images("a", "b"))], outputs(images("a", "b")));
        assert.deepEqual(failedLast.map((r) => [r.version, r.live]), [[2, false], [1, true]]);
        assert.deepEqual(failedLast[1].images, images("a", "b"));
        const down = { ...update(3, "succeeded", images("a", "b")), kind: "destroy" };
        const afterDown = releasesOf([update(2, "succeeded", {}), down], {});
        assert.ok(afterDown.every((r) => !r.live));
        assert.deepEqual(afterDown[1].images, images("a", "b"));
    });

    it("leaves out an update that failed having changed nothing (up's checks said stop at the gate): the stack still runs the release before it", () => {
        const stopped = update(3, "failed", images("a", "b"), { resourceChanges: { same: 1 } });
        const releases = releasesOf([update(1, "succeeded", {}), update(2, "succeeded", images("a", "a")), stopped], outputs(images("a", "b")));
        assert.deepEqual(releases.map((r) => [r.version, r.result, r.live]), [[2, "succeeded", true], [1, "succeeded", false]]);
        assert.deepEqual(releases[0].images, images("a", "b"));
        assert.deepEqual(releases[1].images, images("a", "a"), "the stopped update's message still tells what ran before it");
        // A failed update that changed something, or whose changes Pulumi did not say, stays a release.
        const halfway = update(3, "failed", images("a", "b"), { resourceChanges: { same: 20, update: 1 } });
        assert.deepEqual(releasesOf([update(2, "succeeded", {}), halfway], {}).map((r) => r.version), [3, 2]);
        assert.deepEqual(releasesOf([update(2, "succeeded", {}), update(3, "failed", {})], {}).map((r) => r.version), [3, 2]);
    });

    it("leaves a release's images unknown when the update after it was not launchpad's, and ignores refreshes", () => {
        const foreign = { ...update(2, "succeeded", {}), message: "pulumi up by hand", environment: { "ci.system": "GitLab CI" } };
        const refresh = { ...update(3, "succeeded", {}), kind: "refresh" };
        const releases = releasesOf([update(1, "succeeded", {}), foreign, refresh], outputs(images("a", "b")));
        assert.deepEqual(releases.map((r) => r.version), [2, 1]);
        assert.deepEqual(releases[1].images, {});
        assert.equal(releases[0].by, "GitLab CI", "Pulumi's own record of the CI system");
        assert.equal(releases[0].commit, undefined);
    });

    it("takes the commit Pulumi recorded, and the one launchpad wrote when Pulumi could not read the checkout", () => {
        const written = { ...update(1, "succeeded", {}), environment: {}, message: releaseMessage({ by: "ana@laptop", commit: "abcdef1+dirty", before: {} }) };
        const both = { ...update(2, "succeeded", {}), message: releaseMessage({ by: "ana@laptop", commit: "0000000", before: {} }) };
        const [second, first] = releasesOf([written, both], {});
        assert.equal(first.commit, "abcdef1+dirty");
        assert.equal(second.commit, "2222222", "Pulumi's git.head first");
    });

    it("reads the images of the live release from the outputs the program exports", () => {
        assert.deepEqual(imagesOf(outputs(images("a", "b"))), images("a", "b"));
        assert.deepEqual(imagesOf({ url: { value: "http://x" } }), {});
    });
});

describe("npm run history", () => {
    after(removeTemps);

    it("prints one line per release with when, who, commit, result, each tier's digest, and which is live", () => {
        const releases = releasesOf([update(1, "succeeded", {}), update(2, "succeeded", images("a", "b"), { message: releaseMessage({ by: "CI", note: "rollback to 1", before: images("a", "b") }) })], outputs(images("a", "c")));
        const lines = historyReport("dev", releases).split("\n");
        assert.match(lines[0], /^stack dev: 2 releases, newest first, from Pulumi's update history/);
        assert.match(lines[1], /^ {2}# +started \(UTC\) +by +commit +result +frontend +backend +database$/);
        assert.match(lines[2], /^ {2}2 +2026-12-07 10:02:00 +CI +2222222 +succeeded +a{12} +c{12} +d{12} +← live {2}rollback to 1$/);
        assert.match(lines[3], /^ {2}1 +2026-12-07 10:01:00 +ana@laptop +1111111 +succeeded +a{12} +b{12} +d{12}$/);
        assert.equal(lines[4], "live: release 2, since 2026-12-07 10:02:30 UTC");
        assert.match(historyReport("dev", releases, true), new RegExp(ref("backend", "c").replace(/[.@]/g, "\\$&")));
    });

    it("shortens a digest to 12 hex digits, and shows a dash for an unknown one", () => {
        assert.equal(shownImage(ref("backend", "ab"), false), "abababababab");
        assert.equal(shownImage(undefined, false), "—");
    });

    it("reads the stack's history through the engine, and refuses a stack that was never deployed (exit 1)", async () => {
        const repoRoot = tempProject();
        const ws = new FakeWorkspace([], { repoRoot, backendUrl: "file:///tmp/x", passphrase: "p", color: false });
        ws.stacks.add("prod");
        ws.updates.set("prod", [update(1, "succeeded", {})]);
        ws.stackOutputs = outputs(images("a", "b"));
        const env = { PULUMI_CONFIG_PASSPHRASE: "p", PULUMI_BACKEND_URL: "file:///tmp/x" };
        const shown = await runHistory(["--stack", "prod"], { openWorkspace: async () => ws, repoRoot, env }, env);
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(shown.stdout, /^ {2}1 .* ← live$/m);
        const never = await runHistory(["--stack", "dev"], { openWorkspace: async () => ws, repoRoot, env }, env);
        assert.equal(never.code, 1);
        assert.match(never.stderr, /^launchpad: stack dev has no state in .*: deploy it first: npm run up -- --stack dev; nothing was changed\.\n$/);
        assert.equal((await runHistory(["--stak", "dev"], {}, env)).code, 2);
    });

    it("says in one line that the Pulumi CLI is missing when the engine cannot start without it", async () => {
        const repoRoot = tempProject();
        const env = { PULUMI_CONFIG_PASSPHRASE: "p", PULUMI_BACKEND_URL: "file:///tmp/x", PATH: repoRoot };
        const openWorkspace = async () => {
            throw new Error("spawn pulumi ENOENT");
        };
        const failed = await runHistory(["--stack", "prod"], { openWorkspace, repoRoot, env }, env);
        assert.equal(failed.code, 1);
        assert.equal(failed.stderr, "launchpad: the Pulumi CLI is not on PATH: install it (README, Prerequisites); nothing was changed.\n");
    });
});
