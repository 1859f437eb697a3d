import * as assert from "node:assert/strict";
import { releaseMessage } from "../../tools/engine/releases";
import type { UpdateRecord } from "../../tools/engine/workspace";
import { parseArgs, runRollback } from "../../tools/rollback/main";
import { dataLockOfConfig } from "../../components/config";
import { FakeWorkspace, removeTemps, tempProject } from "../up/fakes";

const ref = (tier: string, hex: string) => `localhost:5001/launchpad-${tier}@sha256:${hex.repeat(64)}`;
const images = (f: string, b: string, d = "d") => ({ frontend: ref("frontend", f), backend: ref("backend", b), database: ref("postgres", d) });
const outputs = (i: Record<string, string>) => ({
    frontendImage: { value: i.frontend, secret: false }, backendImage: { value: i.backend, secret: false }, databaseImage: { value: i.database, secret: false },
});

function update(version: number, result: string, before: Record<string, string>, extra: Partial<UpdateRecord> = {}): UpdateRecord {
    return { version, kind: "update", result, startTime: new Date(Date.UTC(2026, 11, 7, 10, version)), message: releaseMessage({ by: "ana@laptop", before }), config: {}, ...extra };
}

/** A deployed dev stack whose history is `updates`, and what a rollback did to it. */
function world(updates: UpdateRecord[], live: Record<string, string>, deployCode = 0) {
    const repoRoot = tempProject();
    const journal: string[] = [];
    const ws = new FakeWorkspace(journal, { repoRoot, backendUrl: "file:///tmp/x", passphrase: "p", color: false });
    ws.stacks.add("dev");
    ws.updates.set("dev", updates);
    ws.stackOutputs = outputs(live);
    const deployed: string[] = [];
    const lines: string[] = [];
    const env = { PULUMI_CONFIG_PASSPHRASE: "p", PULUMI_BACKEND_URL: "file:///tmp/x" };
    const deps = {
        openWorkspace: async () => ws, repoRoot, env, info: (l: string) => lines.push(l),
        deploy: async (stack: string, note: string) => {
            deployed.push(`${stack}: ${note} with ${ws.configOf(stack).get("launchpad:backendImage")?.value}`);
            return deployCode;
        },
    };
    return { ws, journal, deployed, lines, run: (argv: string[]) => runRollback(argv, deps, env) };
}

/** Three releases: 1 built backend b, 2 built c (live now, the outputs say c). */
const twoReleases = () => [update(1, "succeeded", {}), update(2, "succeeded", images("a", "b"))];

describe("npm run rollback", () => {
    after(removeTemps);

    it("pins the digests of the release before the live one and deploys them as npm run up does, with a note for the history", async () => {
        const w = world(twoReleases(), images("a", "c"));
        const done = await w.run([]);
        assert.equal(done.code, 0, done.stderr);
        assert.deepEqual(w.journal.filter((j) => j.startsWith("ws: setConfig")), [
            `ws: setConfig dev launchpad:frontendImage=${ref("frontend", "a")}`,
            `ws: setConfig dev launchpad:backendImage=${ref("backend", "b")}`,
        ]);
        assert.deepEqual(w.deployed, [`dev: rollback to 1 with ${ref("backend", "b")}`]);
        assert.match(w.lines[0], /^launchpad: rolling dev back from release 2 to release 1: frontend .*, backend .*bbbb, pinned in Pulumi\.dev\.yaml; nothing is built\.$/);
        assert.equal(w.lines[1], "launchpad: the database is not rolled back: it keeps its data.");
        assert.match(done.stdout, /^launchpad: dev runs release 1 again \(it shows in npm run history -- --stack dev as "rollback to 1"\)\.\n/);
    });

    it("goes back to the release --to names, and says which database image it keeps", async () => {
        const history = [update(1, "succeeded", {}), update(2, "succeeded", images("a", "b", "0")), update(3, "succeeded", images("a", "c"))];
        const w = world(history, images("a", "e"));
        assert.equal((await w.run(["--to", "1"])).code, 0);
        assert.deepEqual(w.deployed, [`dev: rollback to 1 with ${ref("backend", "b")}`]);
        assert.equal(w.lines[1], `launchpad: the database is not rolled back: it keeps its data and its image ${ref("postgres", "d")} (release 1 ran ${ref("postgres", "0")}).`);
    });

    for (const [what, history, argv, expected] of [
        ["a release that failed", [update(1, "succeeded", {}), update(2, "failed", images("a", "b")), update(3, "succeeded", images("a", "b"))], ["--to", "2"], /release 2 is an update that failed: only a release that succeeded can be rolled back to/],
        ["the live release", twoReleases(), ["--to", "2"], /release 2 is live already; nothing was changed\./],
        ["a release that does not exist", twoReleases(), ["--to", "9"], /stack dev has no release 9 \(npm run history -- --stack dev lists them\); nothing was changed\./],
        ["a stack with one release", [update(1, "succeeded", {})], [], /has no successful release before the live one \(1\); nothing was changed\./],
        ["a release whose digests were not recorded", [update(1, "succeeded", {}), { ...update(2, "succeeded", {}), message: "by hand" }], [], /the frontend and backend images of release 1 are not known: the update after it was not made by launchpad/],
        ["a release on another database", [update(1, "succeeded", {}, { config: { "launchpad:dbStorageSize": "5Gi" } }), update(2, "succeeded", images("a", "b"), { config: { "launchpad:dbStorageSize": "10Gi" } })], [], /refusing to roll back to release 1: it ran on another database \(.*storageSize=5Gi; the live one is .*storageSize=10Gi\)\. .*launchpad never rolls the database back\. Nothing was changed\./],
    ] as const) {
        it(`refuses ${what}, changing nothing (exit 1)`, async () => {
            const w = world([...history], images("a", "c"));
            const refused = await w.run([...argv]);
            assert.equal(refused.code, 1);
            assert.match(refused.stderr, expected);
            assert.deepEqual(w.journal.filter((j) => j.startsWith("ws: setConfig")), [], "nothing pinned");
            assert.deepEqual(w.deployed, [], "nothing deployed");
        });
    }

    it("says the pins stay when the rollback's update fails", async () => {
        const w = world(twoReleases(), images("a", "c"), 1);
        const failed = await w.run([]);
        assert.equal(failed.code, 1);
        assert.match(failed.stderr, /the rollback's update of dev failed \(above\); launchpad:frontendImage and launchpad:backendImage stay pinned in Pulumi\.dev\.yaml/);
    });

    it("takes --to as a release's number, and nothing else", () => {
        assert.deepEqual(parseArgs(["--stack", "prod", "--to", "4"]), { stack: "prod", to: 4 });
        assert.deepEqual(parseArgs([]), { stack: "dev" });
        assert.throws(() => parseArgs(["--to", "last"]), /--to takes a release's number/);
    });

    it("reads the database's identity from a release's config, with the defaults launchpad fills", () => {
        assert.equal(dataLockOfConfig("dev", {}), "appName=launchpad namespace=launchpad-dev storageClass=standard storageSize=1Gi");
        assert.equal(dataLockOfConfig("prod", { "launchpad:platform": "cloud", "launchpad:appName": "shop" }), "appName=shop namespace=shop-prod storageClass=default storageSize=1Gi");
    });
});
