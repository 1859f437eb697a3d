import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageCheck } from "../../lib/registry";
import { releaseMessage } from "../../tools/engine/releases";
import type { Outputs, UpdateRecord } from "../../tools/engine/workspace";
import { runPromote } from "../../tools/promote/main";
import { targetImage } from "../../tools/promote/promote";
import { FakeWorkspace, removeTemps, tempProject } from "../up/fakes";

const hex = (c: string) => c.repeat(64);
const ref = (registry: string, tier: string, c: string) => `${registry}/launchpad-${tier}@sha256:${hex(c)}`;
const STAGING = "localhost:5001";
const PROD = "registry.example.com/team";
const outputs = (registry: string, f: string, b: string, url: string): Outputs => ({
    frontendImage: { value: ref(registry, "frontend", f), secret: false },
    backendImage: { value: ref(registry, "backend", b), secret: false },
    databaseImage: { value: `${registry}/launchpad-postgres@sha256:${hex("d")}`, secret: false },
    url: { value: url, secret: false },
});

function update(version: number, result: string, extra: Partial<UpdateRecord> = {}): UpdateRecord {
    return { version, kind: "update", result, startTime: new Date(Date.UTC(2026, 11, 7, 10, version)), message: releaseMessage({ by: "ana@laptop", before: {} }), config: {}, ...extra };
}

const STACK_FILES = {
    "Pulumi.staging.yaml": `config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: c\n  launchpad:registry: ${STAGING}\n  launchpad:host: staging.example.com\n`,
    "Pulumi.qa.yaml": `config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: c\n  launchpad:registry: ${STAGING}\n  launchpad:host: qa.example.com\n`,
};

/**
 * Stack staging, deployed twice (release 2 live, running frontend a and backend b from localhost:5001),
 * and prod, deployed once from registry.example.com/team; a registry that has in `present` what it has.
 */
function world(opts: { staging?: UpdateRecord[]; prod?: UpdateRecord[] | "none"; present?: string[]; copyAnswers?: (digest: string) => string; deployCode?: number } = {}) {
    const repoRoot = tempProject(STACK_FILES);
    const journal: string[] = [];
    const ws = new FakeWorkspace(journal, { repoRoot, backendUrl: "file:///tmp/x", passphrase: "p", color: false });
    ws.stacks.add("staging");
    ws.updates.set("staging", opts.staging ?? [update(1, "succeeded"), update(2, "succeeded")]);
    if (opts.prod !== "none") {
        ws.stacks.add("prod");
        ws.updates.set("prod", opts.prod ?? [update(1, "succeeded", { config: { "launchpad:platform": "cloud" } })]);
    }
    ws.configOf("prod").set("launchpad:registryUsername", { value: "ci" });
    ws.configOf("prod").set("launchpad:registryPassword", { value: "s3cret", secret: true });
    const byStack: Record<string, Outputs> = {
        staging: outputs(STAGING, "a", "b", "http://staging.example.com"),
        qa: outputs(STAGING, "0", "0", "http://qa.example.com"),
        prod: outputs(PROD, "0", "0", "https://app.example.com"),
    };
    ws.outputs = async (stack: string) => byStack[stack] ?? {};
    const present = new Set(opts.present ?? []);
    const registryCalls: string[] = [];
    const deployed: string[] = [];
    const lines: string[] = [];
    const env = { PULUMI_CONFIG_PASSPHRASE: "p", PULUMI_BACKEND_URL: "file:///tmp/x" };
    const check = (image: string, status: ImageCheck["status"]): ImageCheck => ({ image, registry: "", repository: "", checked: "", status, ok: status === "found", message: `${image}: ${status}` });
    const deps = {
        openWorkspace: async () => ws, repoRoot, env, info: (l: string) => lines.push(l),
        registry: {
            has: async (image: string, credentials: { username: string } | undefined) => {
                registryCalls.push(`has ${image} as ${credentials?.username ?? "nobody"}`);
                return check(image, present.has(image) ? "found" : "missing");
            },
            copy: async (source: string, target: string) => {
                registryCalls.push(`copy ${source} -> ${target}`);
                const digest = source.slice(source.indexOf("@") + 1);
                present.add(`${target}@${digest}`);
                return opts.copyAnswers ? opts.copyAnswers(digest) : digest;
            },
        },
        deploy: async (stack: string, note: string) => {
            deployed.push(`${stack}: ${note} with ${ws.configOf(stack).get("launchpad:frontendImage")?.value} ${ws.configOf(stack).get("launchpad:backendImage")?.value}`);
            byStack[stack] = { ...byStack[stack], frontendImage: { value: ws.configOf(stack).get("launchpad:frontendImage")!.value, secret: false } };
            return opts.deployCode ?? 0;
        },
    };
    const pins = () => journal.filter((j) => j.startsWith("ws: setConfig"));
    return { ws, repoRoot, deployed, lines, registryCalls, pins, run: (argv: string[]) => runPromote(argv, deps, env) };
}

describe("npm run promote", () => {
    after(removeTemps);

    it("copies the source's live digests into the target's registry, pins them and deploys them as npm run up does, with a note for the history", async () => {
        const w = world();
        const done = await w.run(["--from", "staging", "--to", "prod"]);
        assert.equal(done.code, 0, done.stderr);
        const [f, b] = [ref(PROD, "frontend", "a"), ref(PROD, "backend", "b")];
        assert.deepEqual(w.registryCalls, [
            `has ${f} as ci`, `copy ${ref(STAGING, "frontend", "a")} -> ${PROD}/launchpad-frontend`, `has ${f} as ci`,
            `has ${b} as ci`, `copy ${ref(STAGING, "backend", "b")} -> ${PROD}/launchpad-backend`, `has ${b} as ci`,
        ]);
        assert.deepEqual(w.pins(), [`ws: setConfig prod launchpad:frontendImage=${f}`, `ws: setConfig prod launchpad:backendImage=${b}`]);
        assert.deepEqual(w.deployed, [`prod: promote from staging (release 2) with ${f} ${b}`]);
        assert.equal(w.lines[1], `launchpad: copied the backend image ${ref(STAGING, "backend", "b")} into ${PROD}/launchpad-backend, by digest: the registry has sha256:${hex("b")}.`);
        assert.match(w.lines[2], /^launchpad: promoting staging \(release 2\) to prod: frontend .*aaaa, backend .*bbbb, pinned in Pulumi\.prod\.yaml; nothing is built\./);
        assert.equal(done.stdout, [
            'launchpad: prod runs what staging ran in release 2 (it shows in npm run history -- --stack prod as "promote from staging (release 2)"):',
            `  frontend ${f}  (copied from ${ref(STAGING, "frontend", "a")})`,
            `  backend  ${b}  (copied from ${ref(STAGING, "backend", "b")})`,
            "launchpad: prod: https://app.example.com",
            "launchpad: launchpad:frontendImage and launchpad:backendImage stay in Pulumi.prod.yaml, so the next npm run up deploys these digests again; delete those lines to build from source.",
            "",
        ].join("\n"));
    });

    it("copies nothing that the target's registry has already", async () => {
        const w = world({ present: [ref(PROD, "frontend", "a"), ref(PROD, "backend", "b")] });
        assert.equal((await w.run(["--from", "staging", "--to", "prod"])).code, 0);
        assert.ok(!w.registryCalls.some((c) => c.startsWith("copy")), w.registryCalls.join("\n"));
    });

    it("pins the source's own references when both stacks use one registry, and deploys a stack that was never deployed", async () => {
        const w = world();
        const done = await w.run(["--from", "staging", "--to", "qa"]);
        assert.equal(done.code, 0, done.stderr);
        assert.deepEqual(w.registryCalls, []);
        assert.deepEqual(w.pins(), [`ws: setConfig qa launchpad:frontendImage=${ref(STAGING, "frontend", "a")}`, `ws: setConfig qa launchpad:backendImage=${ref(STAGING, "backend", "b")}`]);
        assert.match(done.stdout, /\nlaunchpad: qa: http:\/\/qa\.example\.com\n/);
    });

    it("takes a kind stack's registry from the default when its file names none", async () => {
        const w = world();
        const done = await w.run(["--from", "staging", "--to", "dev"]);
        assert.equal(done.code, 0, done.stderr);
        assert.deepEqual(w.registryCalls, [], "dev's default registry, localhost:5001, is staging's");
    });

    it("refuses a cloud target whose file names no registry", async () => {
        const w = world();
        fs.writeFileSync(path.join(w.repoRoot, "Pulumi.qa.yaml"), "config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: c\n  launchpad:host: qa.example.com\n");
        const r = await w.run(["--from", "staging", "--to", "qa"]);
        assert.equal(r.code, 1);
        assert.equal(r.stderr, "launchpad: Pulumi.qa.yaml names no launchpad:registry, the registry qa's cluster pulls from: set it (npm run doctor -- --stack qa checks the stack); nothing was changed.\n");
        assert.deepEqual(w.pins(), []);
    });

    it("puts an image where the target's own build would push it, by the same digest", () => {
        assert.equal(targetImage(ref(STAGING, "backend", "b"), "backend", "ghcr.io/acme", "shop"), `ghcr.io/acme/shop-backend@sha256:${hex("b")}`);
        assert.equal(targetImage(ref(STAGING, "backend", "b"), "backend", STAGING, "shop"), ref(STAGING, "backend", "b"));
    });

    /** A refusal: exit 1, the message, and nothing pinned, copied or deployed. */
    async function refused(w: ReturnType<typeof world>, argv: string[], message: string) {
        const r = await w.run(argv);
        assert.equal(r.code, 1, r.stdout);
        assert.equal(r.stderr, `${message}\n`);
        assert.deepEqual(w.pins(), []);
        assert.deepEqual(w.deployed, []);
        assert.ok(!w.registryCalls.some((c) => c.startsWith("copy")));
    }

    it("refuses, changing nothing, when the source's last update failed", async () => {
        await refused(world({ staging: [update(1, "succeeded"), update(2, "failed")] }), ["--from", "staging", "--to", "prod"],
            "launchpad: the last update of stack staging (release 2) failed: what it runs is not what was tested. " +
                "Fix it and run npm run up -- --stack staging, or roll it back (npm run rollback -- --stack staging), then promote again; nothing was changed.");
    });

    it("refuses, changing nothing, a source that was never deployed", async () => {
        await refused(world(), ["--from", "qa", "--to", "prod"], "launchpad: stack qa has no state in /tmp/x: deploy it first: npm run up -- --stack qa; nothing was changed.");
        await refused(world({ staging: [] }), ["--from", "staging", "--to", "prod"],
            "launchpad: stack staging was never deployed: there is nothing to promote. Deploy it first: npm run up -- --stack staging; nothing was changed.");
    });

    it("refuses, changing nothing, a source that was taken down", async () => {
        await refused(world({ staging: [update(1, "succeeded"), update(2, "succeeded", { kind: "destroy" })] }), ["--from", "staging", "--to", "prod"],
            "launchpad: stack staging was taken down (release 2, npm run down): it runs nothing to promote. Deploy it first: npm run up -- --stack staging; nothing was changed.");
    });

    it("refuses, changing nothing, when the target's database identity would change", async () => {
        await refused(world({ prod: [update(1, "succeeded", { config: { "launchpad:platform": "cloud", "launchpad:namespace": "shop" } })] }), ["--from", "staging", "--to", "prod"],
            "launchpad: refusing to promote to prod: its database would change (deployed: appName=launchpad namespace=shop storageClass=default storageSize=1Gi; " +
                "Pulumi.prod.yaml now: appName=launchpad namespace=launchpad-prod storageClass=default storageSize=1Gi). " +
                "The update would replace the database and its volume, and the data would be lost. Put those settings back in Pulumi.prod.yaml; nothing was changed.");
    });

    it("refuses to deploy a copy that does not hold the source's digest", async () => {
        const w = world({ copyAnswers: () => `sha256:${hex("e")}` });
        const r = await w.run(["--from", "staging", "--to", "prod"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^launchpad: the copy of the frontend image into registry\.example\.com\/team\/launchpad-frontend does not hold sha256:a{64} \(the registry answered sha256:e{64}; .*\); nothing was deployed\.\n$/);
        assert.deepEqual(w.pins(), []);
        assert.deepEqual(w.deployed, []);
    });

    it("says the pins stay when the target's update fails", async () => {
        const r = await world({ deployCode: 1 }).run(["--from", "staging", "--to", "prod"]);
        assert.equal(r.code, 1);
        assert.equal(r.stderr, "launchpad: the promotion's update of prod failed (above); launchpad:frontendImage and launchpad:backendImage stay pinned in Pulumi.prod.yaml, " +
            "so npm run up -- --stack prod tries the same digests again; delete those lines to build from source.\n");
    });

    it("is wrong usage without both stacks, with one stack twice, or with a stack that has no file", async () => {
        const w = world();
        for (const [argv, message] of [
            [["--from", "staging"], "promote needs both --from <stack> and --to <stack>, e.g. npm run promote -- --from staging --to prod"],
            [["--from", "prod", "--to", "prod"], "--from and --to name the same stack (prod): promote deploys one stack's digests to another"],
        ] as const) {
            const r = await w.run([...argv]);
            assert.equal(r.code, 2);
            assert.match(r.stderr, new RegExp(`^promote: ${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`));
        }
        const r = await w.run(["--from", "staging", "--to", "nope"]);
        assert.equal(r.code, 2, r.stderr);
        assert.deepEqual(w.pins(), []);
    });
});
