import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { engineMessage } from "../../tools/engine/workspace";
import { down, engineHint, lockedLine, preview, PROTECT_KEY, RETAIN_KEY, registryHost, up } from "../../tools/up/commands";
import { UpError } from "../../tools/up/errors";
import type { AppPods, PodStatusView, WorkloadStatusView } from "../../tools/up/rollout";
import { entries, type FakeWorkspace, freshMachine, harness, indexOf, readyMachine, removeTemps, tempProject } from "./fakes";

after(removeTemps);

const isKindCall = (c: string) => c.startsWith("kind ") || c.includes("kind-registry") || c.includes("kind-launchpad") || c.includes("launchpad-control-plane") || c.includes("network connect");

describe("up: npm run up on the dev stack", () => {
    it("checks prerequisites, then opens the stack, then builds the kind platform, then updates, then prints the URL", async () => {
        const h = harness();
        await up(h.deps, { stack: "dev" });
        const j = h.journal;
        const order = [
            indexOf(j, "run: docker info"),
            indexOf(j, "ws: open"),
            indexOf(j, "ws: selectOrCreate dev"),
            indexOf(j, "run: docker inspect -f {{.State.Running}} kind-registry"),
            indexOf(j, "run: kind create cluster"),
            indexOf(j, "run: kubectl --context kind-launchpad -n ingress-nginx rollout status"),
            indexOf(j, "ws: up dev"),
            indexOf(j, "info: launchpad: dev is up: http://launchpad.localhost"),
        ];
        assert.deepEqual(
            order,
            [...order].sort((a, b) => a - b),
            j.join("\n"),
        );
    });

    it("prints the stack's url output as its last line", async () => {
        const h = harness({ machine: readyMachine() });
        const result = await up(h.deps, { stack: "dev" });
        assert.equal(result.url, "http://launchpad.localhost");
        assert.equal(h.lines[h.lines.length - 1], "launchpad: dev is up: http://launchpad.localhost");
    });

    it("says so when the stack exports no url", async () => {
        const h = harness({ machine: readyMachine() });
        h.onOpen((ws) => (ws.stackOutputs = {}));
        await up(h.deps, { stack: "dev" });
        assert.equal(h.lines[h.lines.length - 1], "launchpad: dev is up (the stack exports no url).");
    });

    it("streams the engine's output to the terminal", async () => {
        const h = harness({ machine: readyMachine() });
        await up(h.deps, { stack: "dev" });
        assert.ok(h.engineText.includes("Updating (engine output)\n"));
    });

    it("is fast and changes nothing on the platform the second time", async () => {
        const h = harness();
        await up(h.deps, { stack: "dev" });
        const again = harness({ machine: h.machine.state, root: h.deps.repoRoot });
        await up(again.deps, { stack: "dev" });
        assert.deepEqual(again.machine.mutations(), []);
        assert.ok(!again.machine.calls.some((c) => / wait | rollout status /.test(c)));
    });

    it("keeps the state in .launchpad/state inside the project and hands the engine that backend and the passphrase", async () => {
        const h = harness({ machine: readyMachine() });
        await up(h.deps, { stack: "dev" });
        const root = h.deps.repoRoot;
        assert.equal(h.ws().settings.backendUrl, `file://${path.join(root, ".launchpad", "state")}`);
        assert.ok(fs.statSync(path.join(root, ".launchpad", "state")).isDirectory());
        assert.equal(h.ws().settings.passphrase, fs.readFileSync(path.join(root, ".launchpad", "passphrase"), "utf8").trim());
        assert.equal(h.ws().settings.repoRoot, root);
    });

    it("tells the user once that it generated the dev passphrase", async () => {
        const h = harness({ machine: readyMachine() });
        await up(h.deps, { stack: "dev" });
        assert.equal(h.lines.filter((l) => l.includes("generated a passphrase")).length, 1);
        const again = harness({ machine: readyMachine(), root: h.deps.repoRoot });
        await up(again.deps, { stack: "dev" });
        assert.equal(again.lines.filter((l) => l.includes("generated a passphrase")).length, 0);
    });

    it("drops a teammate's encryptionsalt from Pulumi.dev.yaml before creating a fresh dev stack", async () => {
        const root = tempProject({ "Pulumi.dev.yaml": "encryptionsalt: v1:abc:def\nconfig:\n  launchpad:platform: kind\n" });
        const h = harness({ machine: readyMachine(), root });
        await up(h.deps, { stack: "dev" });
        assert.equal(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8"), "config:\n  launchpad:platform: kind\n");
        assert.ok(h.lines.some((l) => l.includes("removed another machine's encryptionsalt")));
    });

    it("keeps the encryptionsalt of a dev stack that already exists here", async () => {
        const root = tempProject({ "Pulumi.dev.yaml": "encryptionsalt: v1:mine:xyz\nconfig:\n  launchpad:platform: kind\n" });
        const h = harness({ machine: readyMachine(), root });
        h.onOpen((ws) => ws.stacks.add("dev"));
        await up(h.deps, { stack: "dev" });
        assert.match(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8"), /^encryptionsalt: v1:mine:xyz$/m);
    });

    it("stops before the platform and the engine when a prerequisite is missing", async () => {
        const h = harness({ machine: freshMachine({ installed: new Set(["docker", "kubectl"]) }) });
        await assert.rejects(up(h.deps, { stack: "dev" }), (e: UpError) => e.exitCode === 1 && /pulumi is not installed/.test(e.message) && /kind is not installed/.test(e.message));
        assert.deepEqual(entries(h.journal, "ws"), []);
        assert.deepEqual(h.machine.mutations(), []);
        assert.ok(!fs.existsSync(path.join(h.deps.repoRoot, ".launchpad")), "no passphrase or state is created");
    });

    it("reports an engine failure with the engine's words and a hint, as an UpError", async () => {
        const h = harness({ machine: readyMachine() });
        h.onOpen((ws) => ws.failing.add("up"));
        await assert.rejects(up(h.deps, { stack: "dev" }), (e: unknown) => e instanceof UpError && /the update failed for stack dev:\nerror: up went wrong/.test(e.message));
    });

    it("after a rollout timed out, says why the pods did not start, as the cluster reports them", async () => {
        const h = harness({ machine: readyMachine() });
        h.onOpen((ws) => {
            ws.failing.add("up");
            ws.failureText.set("up", "'launchpad-frontend-deployment-babaee00' timed out waiting to be Ready");
            ws.configOf("dev").set("launchpad:appName", { value: "shop", secret: false });
        });
        const asked: AppPods[] = [];
        const pending: PodStatusView = {
            metadata: { name: "frontend-1", labels: { "app.kubernetes.io/component": "frontend" } },
            status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector." }] },
        };
        const readPods = async (where: AppPods) => (asked.push(where), [pending]);
        await assert.rejects(up({ ...h.deps, readPods }, { stack: "dev" }), (e: unknown) => {
            assert.ok(e instanceof UpError);
            assert.match(e.message, /timed out waiting to be Ready\nlaunchpad: the pods that did not start, as the cluster reports them:\n  frontend: 1 pod not scheduled: 0\/2 nodes are available: 2 node\(s\) didn't match Pod's node affinity\/selector\.\nA workload could not start; the cause is above/);
            return true;
        });
        assert.deepEqual(asked, [{ context: "kind-launchpad", kubeconfig: undefined, namespace: "shop-dev", instance: "shop-dev" }]);
    });

    it("after the engine reports the update done, waits for the rollouts and fails naming what did not roll out and why, within rolloutTimeoutSeconds", async () => {
        const h = harness({ machine: readyMachine() });
        h.onOpen((ws) => ws.configOf("dev").set("launchpad:rolloutTimeoutSeconds", { value: "60", secret: false }));
        const crashing: WorkloadStatusView = {
            kind: "Deployment",
            metadata: { name: "backend-1", generation: 4, labels: { "app.kubernetes.io/component": "backend" } },
            spec: { replicas: 1 },
            status: { observedGeneration: 4, replicas: 2, updatedReplicas: 1, availableReplicas: 1 },
        };
        const looping: PodStatusView = {
            metadata: { name: "backend-1-new", labels: { "app.kubernetes.io/component": "backend" } },
            status: { phase: "Running", containerStatuses: [{ name: "backend", state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } }, lastState: { terminated: { exitCode: 3 } } }] },
        };
        await assert.rejects(up({ ...h.deps, readWorkloads: async () => [crashing], readPods: async () => [looping] }, { stack: "dev" }), (e: unknown) => {
            assert.ok(e instanceof UpError);
            assert.match(e.message, /^launchpad: the update of stack dev finished, but the rollout did not complete within rolloutTimeoutSeconds \(60 s\): backend: 1 old pods still running\.\nlaunchpad: the pods that did not start, as the cluster reports them:\n  backend: 1 pod container backend: CrashLoopBackOff: back-off 40s \(exit code 3\) → the image built from launchpad:backendContext exits at start/);
            return true;
        });
        assert.equal(h.pauses.length, 30, "it looked every 2 s for 60 s");
        assert.ok(!h.lines.some((l) => / is up/.test(l)), "and never said the stack is up");
    });

    it("says the stack is up once its rollouts complete after the engine is done", async () => {
        const h = harness({ machine: readyMachine() });
        const views: WorkloadStatusView[][] = [
            [{ kind: "Deployment", metadata: { name: "frontend-1", generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 1 } }],
            [{ kind: "Deployment", metadata: { name: "frontend-1", generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } }],
        ];
        await up({ ...h.deps, readWorkloads: async () => views.shift() ?? [] }, { stack: "dev" });
        assert.equal(h.pauses.length, 1);
        assert.ok(h.lines.some((l) => /^launchpad: dev is up/.test(l)));
    });

    it("says so in one line when the cluster cannot be asked about the pods, and still fails with the engine's words", async () => {
        const h = harness({ machine: readyMachine() });
        h.onOpen((ws) => {
            ws.failing.add("up");
            ws.failureText.set("up", "[ProgressDeadlineExceeded] ReplicaSet \"backend-1\" has timed out progressing.");
        });
        const readPods = async () => {
            throw new Error("connect ECONNREFUSED 127.0.0.1:6443\n  at …");
        };
        await assert.rejects(up({ ...h.deps, readPods }, { stack: "dev" }), (e: unknown) =>
            e instanceof UpError && /has timed out progressing\.\nlaunchpad: the pods that did not start, as the cluster reports them:\n  \(the cluster could not be asked: connect ECONNREFUSED 127\.0\.0\.1:6443\)\n/.test(e.message));
    });
});

describe("up: npm run up on the prod stack", () => {
    const prodEnv = { PULUMI_CONFIG_PASSPHRASE: "team-secret" };

    it("never runs kind or touches the kind registry, network or context", async () => {
        const h = harness({ machine: freshMachine({ installed: new Set(["pulumi", "docker"]) }), env: prodEnv });
        await up(h.deps, { stack: "prod" });
        assert.deepEqual(h.machine.calls.filter(isKindCall), []);
        assert.deepEqual(h.machine.calls, ["docker info --format {{.ServerVersion}}"]);
        assert.deepEqual(entries(h.journal, "ws"), ["open", "selectOrCreate prod", "up prod"]);
    });

    it("names the kubeconfig context from the stack file and skips the kind bootstrap", async () => {
        const h = harness({ env: prodEnv });
        await up(h.deps, { stack: "prod" });
        assert.ok(h.lines.includes("launchpad: deploying to kubeconfig context prod-cluster; the kind bootstrap is skipped"), h.lines.join("\n"));
    });

    it("refuses without PULUMI_CONFIG_PASSPHRASE and writes no passphrase file", async () => {
        const h = harness({ env: {} });
        await assert.rejects(up(h.deps, { stack: "prod" }), /\n {2}- PULUMI_CONFIG_PASSPHRASE is not set: it encrypts stack prod's secrets/);
        assert.ok(!fs.existsSync(path.join(h.deps.repoRoot, ".launchpad", "passphrase")));
        assert.deepEqual(entries(h.journal, "ws"), []);
    });

    it("sets registry credentials from LAUNCHPAD_REGISTRY_* variables, the password as a secret, before the update", async () => {
        const h = harness({ env: { ...prodEnv, LAUNCHPAD_REGISTRY_USERNAME: "ci-bot", LAUNCHPAD_REGISTRY_PASSWORD: "tok3n" } });
        h.onOpen((ws) => ws.configOf("prod").set("launchpad:registry", { value: "ghcr.io/acme" }));
        await up(h.deps, { stack: "prod" });
        assert.deepEqual(entries(h.journal, "ws"), ["open", "selectOrCreate prod", "setConfig prod launchpad:registryUsername=ci-bot", "setConfig prod launchpad:registryPassword=[secret]", "up prod"]);
        assert.deepEqual(h.ws().configOf("prod").get("launchpad:registryPassword"), { value: "tok3n", secret: true });
        assert.ok(!h.lines.join("\n").includes("tok3n"), "the password is never printed");
        assert.ok(h.lines.includes("launchpad: the update logs in to ghcr.io as ci-bot with launchpad:registryPassword (secret)"), h.lines.join("\n"));
    });

    it("notes that pushing relies on Docker's own login when the stack has no registry credentials", async () => {
        const h = harness({ env: prodEnv });
        h.onOpen((ws) => ws.configOf("prod").set("launchpad:registry", { value: "registry.example.com/team" }));
        await up(h.deps, { stack: "prod" });
        assert.ok(h.lines.some((l) => l.includes("pushing to registry.example.com relies on Docker's own login")), h.lines.join("\n"));
    });

    it("asks the registry, with the stack's login, before the update", async () => {
        const h = harness({ env: { ...prodEnv, LAUNCHPAD_REGISTRY_USERNAME: "ci-bot", LAUNCHPAD_REGISTRY_PASSWORD: "tok3n" } });
        h.onOpen((ws) => ws.configOf("prod").set("launchpad:registry", { value: "ghcr.io/acme" }));
        await up(h.deps, { stack: "prod" });
        const order = h.journal.filter((j) => j.startsWith("registry:") || j === "ws: up prod");
        assert.deepEqual(order, ["registry: check ghcr.io as ci-bot", "ws: up prod"]);
    });

    for (const [what, status, message, expected] of [
        ["does not answer", "unreachable", "cannot reach ghcr.io (ECONNREFUSED)", /^launchpad: the registry does not answer: cannot reach ghcr\.io \(ECONNREFUSED\); nothing was changed\. Start it, or point launchpad:registry at the right one \(pulumi config set --stack prod launchpad:registry HOST\/PATH\), then run npm run up -- --stack prod again\.$/],
        ["refuses the stack's login", "refused", "ghcr.io refused the login of ci-bot (HTTP 401)", /^launchpad: ghcr\.io refused the login of ci-bot \(HTTP 401\); nothing was changed\. Set the right login: pulumi config set --stack prod launchpad:registryUsername NAME and pulumi config set --stack prod --secret launchpad:registryPassword .*again\.$/],
    ] as const) {
        it(`stops before the update, in one line naming the registry and the keys, when the registry ${what}`, async () => {
            const h = harness({ env: { ...prodEnv, LAUNCHPAD_REGISTRY_USERNAME: "ci-bot", LAUNCHPAD_REGISTRY_PASSWORD: "tok3n" } });
            h.onOpen((ws) => ws.configOf("prod").set("launchpad:registry", { value: "ghcr.io/acme" }));
            await assert.rejects(up({ ...h.deps, checkRegistry: async () => ({ status, message }) }, { stack: "prod" }), (e: UpError) => {
                assert.match(e.message, expected);
                assert.equal(e.message.split("\n").length, 1);
                return true;
            });
            assert.ok(!entries(h.journal, "ws").includes("up prod"), "no update ran");
        });
    }

    it("goes on when the registry refuses anonymous access and the stack has no login: Docker's credential helper may hold one", async () => {
        const h = harness({ env: prodEnv });
        h.onOpen((ws) => ws.configOf("prod").set("launchpad:registry", { value: "registry.example.com/team" }));
        await up({ ...h.deps, checkRegistry: async () => ({ status: "refused", message: "registry.example.com refused anonymous access (HTTP 401)" }) }, { stack: "prod" });
        assert.ok(entries(h.journal, "ws").includes("up prod"));
    });

    it("writes who runs it and the images that ran before into the update's message, for npm run history", async () => {
        const h = harness({ env: { ...prodEnv, LAUNCHPAD_RELEASE_NOTE: "rollback to 4" } });
        const before = `registry.example.com/team/launchpad-backend@sha256:${"b".repeat(64)}`;
        h.onOpen((ws) => (ws.stackOutputs = { ...ws.stackOutputs, backendImage: { value: before, secret: false } }));
        await up({ ...h.deps, who: "ana@laptop" }, { stack: "prod" });
        assert.deepEqual(h.ws().messages, [`launchpad release by ana@laptop; commit 5d1e0c2; rollback to 4; before: backend=${before}`]);
    });

    describe("a tier pinned by digest", () => {
        const pinned = (tier: string, hex: string) => `registry.example.com/team/launchpad-${tier}@sha256:${hex.repeat(64)}`;
        const pinBoth = (ws: FakeWorkspace) => {
            ws.configOf("prod").set("launchpad:registry", { value: "registry.example.com/team" });
            ws.configOf("prod").set("launchpad:frontendImage", { value: pinned("frontend", "a") });
            ws.configOf("prod").set("launchpad:backendImage", { value: pinned("backend", "b") });
        };

        it("asks the registry for each pinned image, with the stack's login, before the update, and says it is not built", async () => {
            const h = harness({ env: { ...prodEnv, LAUNCHPAD_REGISTRY_USERNAME: "ci-bot", LAUNCHPAD_REGISTRY_PASSWORD: "tok3n" } });
            h.onOpen(pinBoth);
            const asked: string[] = [];
            const checkPinnedImage = async (image: string, credentials?: { username: string }) => {
                asked.push(`${image} as ${credentials?.username}`);
                h.journal.push(`registry: has ${image}`);
                return { image, registry: "", repository: "", checked: "", status: "found" as const, ok: true, message: "found" };
            };
            await up({ ...h.deps, checkPinnedImage }, { stack: "prod" });
            assert.deepEqual(asked, [`${pinned("frontend", "a")} as ci-bot`, `${pinned("backend", "b")} as ci-bot`]);
            assert.ok(indexOf(h.journal, "registry: has") < indexOf(h.journal, "ws: up prod"));
            assert.ok(h.lines.includes(`launchpad: the backend runs ${pinned("backend", "b")}, pinned by launchpad:backendImage; it is not built`), h.lines.join("\n"));
        });

        it("refuses, changing nothing, a digest the registry does not have, naming the tier, the key and the fix", async () => {
            const h = harness({ env: prodEnv });
            h.onOpen(pinBoth);
            const checkPinnedImage = async (image: string) => image.includes("backend")
                ? { image, registry: "", repository: "", checked: "", status: "missing" as const, ok: false, message: "registry.example.com/team/launchpad-backend@sha256:bbb…: not in the registry (404)" }
                : { image, registry: "", repository: "", checked: "", status: "found" as const, ok: true, message: "found" };
            await assert.rejects(up({ ...h.deps, checkPinnedImage }, { stack: "prod" }), (e: UpError) => {
                const lines = e.message.split("\n");
                assert.equal(lines[0], "launchpad: the registry cannot give the cluster a pinned image of stack prod; nothing was changed.");
                assert.equal(lines[1], `  - backend: launchpad:backendImage = ${pinned("backend", "b")}: registry.example.com/team/launchpad-backend@sha256:bbb…: not in the registry (404)`);
                assert.equal(lines[2], "  fix: pin a digest the registry has, or delete the line from Pulumi.prod.yaml to build that tier from source; each release's digests: npm run history -- --stack prod --full");
                assert.equal(lines.length, 3);
                return true;
            });
            assert.ok(!entries(h.journal, "ws").includes("up prod"), "no update ran");
        });

        it("refuses in preview too, before the engine's preview, what up would refuse", async () => {
            const h = harness({ env: prodEnv });
            h.onOpen(pinBoth);
            const checkPinnedImage = async (image: string) => ({ image, registry: "", repository: "", checked: "", status: "missing" as const, ok: false, message: "not in the registry (404)" });
            await assert.rejects(preview({ ...h.deps, checkPinnedImage }, { stack: "prod" }), /the registry cannot give the cluster the pinned images of stack prod; nothing was changed/);
            assert.ok(!entries(h.journal, "ws").includes("preview prod"), "no preview ran");
        });

        it("asks nothing when no tier is pinned", async () => {
            const h = harness({ env: prodEnv });
            let asked = 0;
            await up({ ...h.deps, checkPinnedImage: async () => { asked++; throw new Error("not asked"); } }, { stack: "prod" });
            assert.equal(asked, 0);
        });
    });

    it("in CI refuses state that would die with the checkout", async () => {
        const h = harness({ env: { ...prodEnv, CI: "true" } });
        await assert.rejects(up(h.deps, { stack: "prod" }), /\n {2}- PULUMI_BACKEND_URL is not set: stack prod in CI keeps its state inside the checkout/);
        const ok = harness({ env: { ...prodEnv, CI: "true", PULUMI_BACKEND_URL: "s3://bucket/launchpad" } });
        await up(ok.deps, { stack: "prod" });
        assert.equal(ok.ws().settings.backendUrl, "s3://bucket/launchpad");
    });

    it("rejects a stack that has no Pulumi.<stack>.yaml as a usage error", async () => {
        const h = harness({ env: prodEnv });
        await assert.rejects(up(h.deps, { stack: "staging" }), (e: Error & { exitCode: number }) => e.exitCode === 2 && /no Pulumi\.staging\.yaml/.test(e.message));
    });
});

describe("up: npm run preview", () => {
    it("on kind changes nothing and lists what up would still create when the platform is missing", async () => {
        const h = harness();
        await assert.rejects(preview(h.deps, { stack: "dev" }), /the kind platform is not ready \(registry kind-registry; kind cluster launchpad; registry wiring and ingress-nginx\)/);
        assert.deepEqual(h.machine.mutations(), []);
        assert.ok(!entries(h.journal, "ws").includes("preview dev"));
    });

    it("on kind with ingressController none names the user's controller, not up, as what makes a missing IngressClass", async () => {
        const dev = 'config:\n  launchpad:platform: kind\n  launchpad:registry: localhost:5001\n  launchpad:host: launchpad.localhost\n  launchpad:ingressController: none\n';
        const h = harness({ machine: readyMachine({ ingress: undefined }), root: tempProject({ "Pulumi.dev.yaml": dev }) });
        await assert.rejects(preview(h.deps, { stack: "dev" }), (e: Error) => {
            assert.match(e.message, /not ready \(IngressClass nginx\)/);
            assert.match(e.message, /Install your ingress controller, which makes IngressClass nginx \(launchpad:ingressController is none, so `npm run up` installs none and only waits for it\)/);
            assert.doesNotMatch(e.message, /npm run up` creates it/);
            return true;
        });
        assert.deepEqual(h.machine.mutations(), []);
    });

    it("on a ready kind platform runs the engine's preview and changes nothing", async () => {
        const h = harness({ machine: readyMachine() });
        await preview(h.deps, { stack: "dev" });
        assert.deepEqual(h.machine.mutations(), []);
        assert.deepEqual(entries(h.journal, "ws"), ["open", "selectOrCreate dev", "preview dev"]);
        assert.equal(h.lines[h.lines.length - 1], "launchpad: preview of dev done; nothing was changed.");
    });

    it("on prod never touches kind", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        await preview(h.deps, { stack: "prod" });
        assert.deepEqual(h.machine.calls.filter(isKindCall), []);
    });

    for (const command of ["preview", "up"] as const) {
        it(`${command} stops in one line, before the engine runs, when the stack's cluster does not answer`, async () => {
            const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
            const asked: unknown[] = [];
            const checkCluster = async (where: unknown) => (asked.push(where), "https://10.0.0.1:6443 (ECONNREFUSED)");
            await assert.rejects((command === "up" ? up : preview)({ ...h.deps, checkCluster }, { stack: "prod" }), (e: UpError) => {
                assert.equal(
                    e.message,
                    "launchpad: the cluster of context prod-cluster does not answer: https://10.0.0.1:6443 (ECONNREFUSED); nothing was changed. " +
                        `Start it, or check that \`kubectl --context prod-cluster get nodes\` works, then run npm run ${command} -- --stack prod again.`,
                );
                return true;
            });
            assert.deepEqual(asked, [{ context: "prod-cluster", kubeconfig: undefined }]);
            assert.ok(!entries(h.journal, "ws").includes(`${command} prod`), "the engine never ran");
            // The engine was started beside the checks; its program heard stop at the gate, and its output is not shown.
            assert.deepEqual(h.ws().gates, ["stop: launchpad: the cluster of context prod-cluster does not answer: https://10.0.0.1:6443 (ECONNREFUSED); nothing was changed. Start it, or check that `kubectl --context prod-cluster get nodes` works, then run npm run " + command + " -- --stack prod again."]);
            assert.deepEqual(h.engineText, []);
        });
    }
});

describe("up: the engine starts while the checks run, and its program waits at the gate", () => {
    for (const command of ["up", "preview"] as const) {
        it(`${command}: once every check passed the gate opens, and the engine's output held meanwhile is shown in order`, async () => {
            const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
            let answer: (why: string | undefined) => void = () => undefined;
            const checkCluster = () => new Promise<string | undefined>((resolve) => (answer = resolve));
            const done = (command === "up" ? up : preview)({ ...h.deps, checkCluster }, { stack: "prod" });
            await new Promise((r) => setTimeout(r, 20));
            assert.deepEqual(h.ws().gates, [], "no verdict before the cluster answered");
            assert.deepEqual(h.engineText, [], "the engine's output is held");
            answer(undefined);
            await done;
            assert.deepEqual(h.ws().gates, ["go"]);
            assert.deepEqual(h.engineText, ["(engine starting)\n", command === "up" ? "Updating (engine output)\n" : "Previewing (engine output)\n"]);
        });
    }

    it("a check's failure is the one reported when the engine fails too, as when the checks ran first", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        h.onOpen((ws) => ws.failing.add("up"));
        await assert.rejects(up({ ...h.deps, checkCluster: async () => "https://10.0.0.1:6443 (ECONNREFUSED)" }, { stack: "prod" }), /UpError: launchpad: the cluster of context prod-cluster does not answer/);
    });

    it("the engine's own failure, once every check passed, with its output shown", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        h.onOpen((ws) => ws.failing.add("up"));
        await assert.rejects(up(h.deps, { stack: "prod" }), /UpError: launchpad: the update failed for stack prod:\nerror: up went wrong/);
        assert.deepEqual(h.ws().gates, ["go"]);
        assert.deepEqual(h.engineText, ["(engine starting)\n"]);
    });
});

describe("up: npm run down", () => {
    function existing(h: ReturnType<typeof harness>, stack = "dev", config: Record<string, string> = {}) {
        h.onOpen((ws) => {
            ws.stacks.add(stack);
            for (const [k, v] of Object.entries(config)) ws.configOf(stack).set(k, { value: v });
        });
    }

    it("destroys the app but keeps protected and retained data, and says how to delete it", async () => {
        const h = harness({ machine: readyMachine() });
        existing(h);
        await down(h.deps, { stack: "dev", deleteData: false, cluster: false });
        assert.deepEqual(entries(h.journal, "ws"), ["open", "selectOrCreate dev", "destroy dev excludeProtected=true"]);
        assert.ok(h.lines.some((l) => l.includes("The database (its namespace, StatefulSet, Secret and volume claims) was kept")));
        assert.ok(h.lines.some((l) => l.includes("To delete the data too: npm run down -- --delete-data")));
    });

    it("needs only the Pulumi CLI, and runs no other tool", async () => {
        const h = harness({ machine: freshMachine({ installed: new Set(["pulumi"]) }) });
        existing(h);
        await down(h.deps, { stack: "dev", deleteData: false, cluster: false });
        assert.deepEqual(entries(h.journal, "ws"), ["open", "selectOrCreate dev", "destroy dev excludeProtected=true"]);
        assert.deepEqual(h.machine.calls, []);
    });

    it("refuses to destroy a stack whose config no longer retains data, without --delete-data", async () => {
        const h = harness({ machine: readyMachine() });
        existing(h, "dev", { [RETAIN_KEY]: "false" });
        await assert.rejects(down(h.deps, { stack: "dev", deleteData: false, cluster: false }), (e: UpError) => {
            assert.equal(e.exitCode, 1);
            assert.match(e.message, /refusing to destroy dev: launchpad:retainData is false/);
            assert.match(e.message, /npm run down -- --delete-data/);
            return true;
        });
        assert.ok(!entries(h.journal, "ws").some((e) => e.startsWith("destroy")));
    });

    it("refuses to delete the kind cluster without --delete-data, before checking anything", async () => {
        const h = harness({ machine: readyMachine() });
        await assert.rejects(down(h.deps, { stack: "dev", deleteData: false, cluster: true }), (e: UpError) => {
            assert.equal(e.exitCode, 1);
            assert.match(e.message, /refusing to delete the kind cluster: the database's volume lives inside it/);
            assert.match(e.message, /npm run down -- --cluster --delete-data/);
            return true;
        });
        assert.deepEqual(h.machine.calls, []);
        assert.deepEqual(h.journal, []);
    });

    it("with --delete-data lifts retention with an update, destroys everything, then restores the config", async () => {
        const h = harness({ machine: readyMachine() });
        existing(h);
        await down(h.deps, { stack: "dev", deleteData: true, cluster: false });
        assert.deepEqual(entries(h.journal, "ws"), ["open", "selectOrCreate dev", `setConfig dev ${RETAIN_KEY}=false`, "up dev", "destroy dev excludeProtected=false", `removeConfig dev ${RETAIN_KEY}`]);
        assert.equal(h.ws().configOf("dev").has(RETAIN_KEY), false);
    });

    it("with --delete-data removes again what only Pulumi.yaml's defaults set, not writing them into the stack file", async () => {
        const h = harness({ machine: readyMachine() });
        // The CLI answers `config get` with Pulumi.yaml's declared defaults.
        existing(h, "dev", { [RETAIN_KEY]: "true", [PROTECT_KEY]: "false" });
        await down(h.deps, { stack: "dev", deleteData: true, cluster: false });
        assert.deepEqual(entries(h.journal, "ws").slice(-2), [`removeConfig dev ${RETAIN_KEY}`, `removeConfig dev ${PROTECT_KEY}`]);
    });

    it("with --delete-data also lifts protect when the stack sets it, and puts both back", async () => {
        const root = tempProject({ "Pulumi.prod.yaml": `config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: prod-cluster\n  ${PROTECT_KEY}: true\n  ${RETAIN_KEY}: "true"\n` });
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" }, root });
        existing(h, "prod", { [PROTECT_KEY]: "true", [RETAIN_KEY]: "true" });
        await down(h.deps, { stack: "prod", deleteData: true, cluster: false });
        assert.deepEqual(entries(h.journal, "ws"), [
            "open",
            "selectOrCreate prod",
            `setConfig prod ${RETAIN_KEY}=false`,
            `setConfig prod ${PROTECT_KEY}=false`,
            "up prod",
            "destroy prod excludeProtected=false",
            `setConfig prod ${RETAIN_KEY}=true`,
            `setConfig prod ${PROTECT_KEY}=true`,
        ]);
        assert.deepEqual(h.machine.calls.filter(isKindCall), []);
    });

    it("leaves retainData false when the destroy fails, and says how to finish", async () => {
        const h = harness({ machine: readyMachine() });
        existing(h);
        h.onOpen((ws) => ws.failing.add("destroy"));
        await assert.rejects(down(h.deps, { stack: "dev", deleteData: true, cluster: false }), /stay false in Pulumi\.dev\.yaml so that `npm run down -- --delete-data` can finish/);
        assert.deepEqual(h.ws().configOf("dev").get(RETAIN_KEY), { value: "false" });
    });

    it("has nothing to destroy for a stack without state", async () => {
        const h = harness({ machine: readyMachine() });
        await down(h.deps, { stack: "dev", deleteData: false, cluster: false });
        assert.deepEqual(entries(h.journal, "ws"), ["open"]);
        assert.ok(h.lines.some((l) => l.includes("nothing to destroy")));
    });

    it("with --cluster --delete-data deletes the cluster and the registry, then forgets the stack's state", async () => {
        const h = harness({ machine: readyMachine() });
        existing(h);
        await down(h.deps, { stack: "dev", deleteData: true, cluster: true });
        assert.deepEqual(h.machine.mutations(), ["kind delete cluster --name launchpad", "docker rm -f -v kind-registry"]);
        assert.ok(indexOf(h.journal, "ws: removeStack dev") > indexOf(h.journal, "run: docker rm"));
        assert.equal(h.machine.state.cluster, false);
        assert.equal(h.machine.state.registry, "absent");
    });

    it("rejects --cluster for a cloud stack as a usage error", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        await assert.rejects(down(h.deps, { stack: "prod", deleteData: true, cluster: true }), (e: Error & { exitCode: number }) => e.exitCode === 2 && /never deletes a cloud cluster/.test(e.message));
        assert.deepEqual(h.machine.calls, []);
    });
});

describe("up: engine failures", () => {
    it("extracts the CLI's stderr from an Automation API error", () => {
        const err = new Error("code: 255\n stdout: lots of progress\n stderr: error: could not decrypt configuration value\n err?: Error: exit 255\n");
        assert.equal(engineMessage(err), "error: could not decrypt configuration value");
    });

    it("explains a wrong passphrase, an unreachable cluster and a locked stack", () => {
        assert.match(engineHint("error: failed to decrypt: incorrect passphrase", "dev") ?? "", /\.launchpad\/passphrase/);
        assert.match(engineHint("error: failed to decrypt: incorrect passphrase", "prod") ?? "", /PULUMI_CONFIG_PASSPHRASE is not the passphrase prod's secrets/);
        assert.match(engineHint('error: context "kind-launchpad" does not exist', "dev") ?? "", /npm run up` \(re\)creates the kind platform/);
        assert.match(engineHint("dial tcp 10.0.0.1:443: i/o timeout", "prod") ?? "", /launchpad:kubeContext/);
        // A docker pull that cannot reach Docker Hub is not the cluster's fault (met on kind without internet).
        const offlinePull = 'docker pull of postgres:17 failed (exit 1)\n  Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: network is unreachable';
        assert.equal(engineHint(offlinePull, "dev"), undefined);
        assert.equal(
            engineHint("dial tcp 10.0.0.1:443: connect: connection refused", "prod", "gke_acme_prod"),
            "The cluster of context gke_acme_prod is not reachable: check that `kubectl --context gke_acme_prod get nodes` works, or launchpad:kubeContext (and launchpad:kubeconfig) in Pulumi.prod.yaml; then run the command again.",
        );
        assert.match(engineHint("the stack is currently locked by 1 lock(s)", "dev") ?? "", /remove the lock/);
        const engineSaid = [
            "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
            "  file:///srv/state/.pulumi/locks/organization/launchpad/prod/6c8a.json?no_tmp_dir=true: created by ana@laptop (pid 21205) at 2026-12-06T00:08:04Z",
        ].join("\n");
        assert.equal(
            lockedLine(engineSaid, "prod"),
            "launchpad: stack prod is locked by another update, run by ana@laptop (pid 21205) since 2026-12-06T00:08:04Z; nothing was changed. " +
                "Wait for it to end; if that process is gone (a run was killed), delete the lock /srv/state/.pulumi/locks/organization/launchpad/prod/6c8a.json, then run the command again.",
        );
        assert.equal(lockedLine("error: the stack is currently locked by 1 lock(s).", "prod"), undefined, "no owner named: the engine's words and the hint stand");
        // A bucket's lock, as Pulumi names it: the lock's key in the URL's path, the backend's query after it.
        const inBucket = [
            "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
            "  s3://acme-state/.pulumi/locks/organization/launchpad/prod/6c8a.json?endpoint=http%3A%2F%2F127.0.0.1%3A26502&region=us-east-1&request_checksum_calculation=when_required&use_path_style=true: created by ben@ci-runner-7 (pid 88) at 2026-12-06T10:00:00Z",
        ].join("\n");
        assert.equal(
            lockedLine(inBucket, "prod"),
            "launchpad: stack prod is locked by another update, run by ben@ci-runner-7 (pid 88) since 2026-12-06T10:00:00Z; nothing was changed. " +
                "Wait for it to end; if that run is gone (killed, or its machine lost), remove its lock with `pulumi cancel --stack prod --yes` " +
                "(in the project's folder, with the same PULUMI_BACKEND_URL), then run the command again.",
        );
        const pull = "* [Pod launchpad-dev/backend-7c9d-x2k]: containers with unready status: [backend] -- [ImagePullBackOff] Back-off pulling image";
        const pending = "* [Pod launchpad-dev/frontend-775f-2ksjd]: Pod unschedulable: 0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }.";
        const stuck = "'db' timed out waiting to be Ready";
        for (const message of [pull, pending, stuck]) assert.match(engineHint(message, "prod") ?? "", /npm run doctor -- --stack prod/, message);
        assert.equal(engineHint("something else", "dev"), undefined);
    });

    it("uses the registry's host for its login", () => {
        assert.equal(registryHost("ghcr.io/acme"), "ghcr.io");
        assert.equal(registryHost("localhost:5001"), "localhost:5001");
    });
});

/** The engine's update fails once with `text` (what its stderr says), then succeeds. */
function failsOnce(h: ReturnType<typeof harness>, text: string): void {
    h.onOpen((ws) => {
        ws.failing.add("up");
        ws.failureText.set("up", text);
        const up = ws.up.bind(ws);
        ws.up = async (stack, onOutput) => {
            try {
                return await up(stack, onOutput);
            } finally {
                ws.failing.delete("up");
            }
        };
    });
}

describe("up: two runs taking the stack's lock at the same moment", () => {
    const race = "2 errors occurred:\n    1) open /srv/state/.pulumi/locks/organization/launchpad/prod/a1ca.json: no such file or directory\n    2) NotFound";

    it("tries once more after a random pause of 0.5 to 2 s, and goes on when the lock is free then", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        failsOnce(h, race);
        await up(h.deps, { stack: "prod" });
        assert.deepEqual(entries(h.journal, "ws").filter((e) => e === "up prod"), ["up prod", "up prod"]);
        assert.equal(h.pauses.length, 1);
        assert.ok(h.pauses[0] >= 500 && h.pauses[0] <= 2000, `paused ${h.pauses[0]} ms`);
    });

    it("tries once more, too, when a bucket's lock object vanished while the engine read it", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        failsOnce(h, 'error: blob (key ".pulumi/locks/organization/launchpad/prod/a1ca.json") (code=NotFound): operation error S3: GetObject, https response error StatusCode: 404, api error NoSuchKey');
        await up(h.deps, { stack: "prod" });
        assert.deepEqual(entries(h.journal, "ws").filter((e) => e === "up prod"), ["up prod", "up prod"]);
        assert.equal(h.pauses.length, 1);
    });

    it("says so in one line when the race happens twice", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        h.onOpen((ws) => {
            ws.failing.add("up");
            ws.failureText.set("up", race);
        });
        await assert.rejects(up(h.deps, { stack: "prod" }), (e: UpError) =>
            e.message === "launchpad: another update of stack prod took its lock at the same moment as this one, twice; nothing was changed. Run the command again.");
    });
});

describe("up: a lock that a killed run left behind", () => {
    const locked = [
        "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
        "  file:///srv/state/.pulumi/locks/organization/launchpad/prod/6c8a.json?no_tmp_dir=true: created by ana@laptop (pid 4242) at 2026-12-06T00:29:28Z",
    ].join("\n");
    const refusedOnce = (h: ReturnType<typeof harness>) => failsOnce(h, locked);

    it("removes the lock of a process of this machine that is gone, says so, and updates", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        refusedOnce(h);
        const removed: string[] = [];
        await up({ ...h.deps, lockHost: { owner: "ana@laptop", alive: () => false, remove: (f) => removed.push(f) } }, { stack: "prod" });
        assert.deepEqual(removed, ["/srv/state/.pulumi/locks/organization/launchpad/prod/6c8a.json"]);
        assert.ok(h.lines.includes("launchpad: recovered: removed the lock of stack prod that a killed run left (pid 4242, since 2026-12-06T00:29:28Z; no such process now)."), h.lines.join("\n"));
        assert.deepEqual(entries(h.journal, "ws").filter((e) => e === "up prod"), ["up prod", "up prod"]);
    });

    for (const [whose, lockHost] of [
        ["a live process", { owner: "ana@laptop", alive: () => true }],
        ["another machine", { owner: "bo@ci-runner", alive: () => false }],
    ] as const) {
        it(`leaves the lock of ${whose} alone, and refuses in one line naming it`, async () => {
            const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
            refusedOnce(h);
            const removed: string[] = [];
            await assert.rejects(up({ ...h.deps, lockHost: { ...lockHost, remove: (f) => removed.push(f) } }, { stack: "prod" }), (e: UpError) =>
                /^launchpad: stack prod is locked by another update, run by ana@laptop \(pid 4242\)/.test(e.message));
            assert.deepEqual(removed, []);
        });
    }

    it("never removes a lock in a bucket, even one of this user@host whose pid is gone here (another machine may carry that name)", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        failsOnce(h, locked.replace("file:///srv/state/", "s3://acme-state/").replace("?no_tmp_dir=true", "?region=eu-west-1"));
        const removed: string[] = [];
        await assert.rejects(up({ ...h.deps, lockHost: { owner: "ana@laptop", alive: () => false, remove: (f) => removed.push(f) } }, { stack: "prod" }), (e: UpError) =>
            /^launchpad: stack prod is locked by another update, run by ana@laptop \(pid 4242\) since 2026-12-06T00:29:28Z; nothing was changed\. .*`pulumi cancel --stack prod --yes`/.test(e.message));
        assert.deepEqual(removed, []);
        assert.deepEqual(entries(h.journal, "ws").filter((e) => e === "up prod"), ["up prod"], "and the update is not tried again");
    });
});

describe("up: operations a killed run left unfinished in the state", () => {
    it("clears them before the update, in one line naming each, and updates", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        h.onOpen((ws) =>
            ws.pending.set("prod", [
                { type: "creating", urn: "urn:pulumi:prod::launchpad::launchpad:index:App$launchpad:index:WebService$kubernetes:core/v1:Service::launchpad-backend-service" },
                { type: "updating", urn: "urn:pulumi:prod::launchpad::launchpad:index:App$launchpad:index:Database$kubernetes:apps/v1:StatefulSet::launchpad-database-statefulset" },
            ]),
        );
        await up(h.deps, { stack: "prod" });
        assert.deepEqual(entries(h.journal, "ws").slice(-2), ["clearPendingOperations prod 2", "up prod"]);
        assert.ok(
            h.lines.includes(
                "launchpad: recovered: an interrupted run left 2 operations unfinished (creating launchpad-backend-service, updating launchpad-database-statefulset); cleared from the state, this update applies them again.",
            ),
            h.lines.join("\n"),
        );
    });

    it("says nothing and touches nothing when there are none", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        await up(h.deps, { stack: "prod" });
        assert.ok(!entries(h.journal, "ws").some((e) => e.startsWith("clearPendingOperations")));
        assert.ok(!h.lines.some((l) => l.includes("recovered")));
    });
});

describe("up: a namespace the state lists but the cluster no longer has", () => {
    const STATE = [
        { type: "pulumi:pulumi:Stack", id: undefined },
        { type: "kubernetes:core/v1:Namespace", id: "launchpad-prod" },
        { type: "kubernetes:core/v1:Service", id: "launchpad-prod/backend" },
    ];
    const gone = (h: ReturnType<typeof harness>, asked: string[] = []) => {
        h.onOpen((ws) => ws.resources.set("prod", STATE));
        return { ...h.deps, namespaceExists: async (where: { context: string }, namespace: string) => (asked.push(`${where.context} ${namespace}`), false) };
    };

    it("refreshes the state from the cluster in the same update, saying why in one line", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        const asked: string[] = [];
        await up(gone(h, asked), { stack: "prod" });
        assert.deepEqual(asked, ["prod-cluster launchpad-prod"]);
        assert.deepEqual(entries(h.journal, "ws").slice(-2), ["resourcesInState prod", "up prod refresh"]);
        // The run started beside the checks was stopped at the gate, before it declared anything.
        assert.deepEqual(h.ws().gates, ["stop: the state lists objects the cluster does not have, so the update runs again, reading the state back first"]);
        assert.ok(
            h.lines.includes(
                "launchpad: the state of prod lists namespace launchpad-prod, but the cluster of context prod-cluster has none (deleted outside launchpad, or by a down that was stopped); " +
                    "this update reads the state back from the cluster first, then creates what is missing.",
            ),
            h.lines.join("\n"),
        );
    });

    it("refreshes before lifting retention in down --delete-data, which would fail the same way", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        h.onOpen((ws) => ws.stacks.add("prod"));
        await down(gone(h), { stack: "prod", deleteData: true, cluster: false });
        assert.deepEqual(entries(h.journal, "ws").filter((e) => e.startsWith("up") || e.startsWith("destroy")), ["up prod refresh", "destroy prod excludeProtected=false"]);
    });

    it("does not refresh a first deploy: the namespace is missing, and the state does not list it", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        await up({ ...h.deps, namespaceExists: async () => false }, { stack: "prod" });
        assert.equal(entries(h.journal, "ws").pop(), "up prod");
        assert.ok(!h.lines.some((l) => l.includes("reads the state back")));
    });

    for (const [what, answer] of [["there", true], ["unknown (the cluster would not say)", undefined]] as const) {
        it(`neither reads the state nor refreshes when the namespace is ${what}`, async () => {
            const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
            h.onOpen((ws) => ws.resources.set("prod", STATE));
            await up({ ...h.deps, namespaceExists: async () => answer }, { stack: "prod" });
            assert.deepEqual(entries(h.journal, "ws").slice(-1), ["up prod"]);
            assert.ok(!entries(h.journal, "ws").includes("resourcesInState prod"));
        });
    }
});

describe("up: the Pulumi CLI itself failing", () => {
    it("reports a CLI that cannot start the workspace (e.g. too old) as a failure with its words", async () => {
        const h = harness({ machine: readyMachine() });
        const deps = {
            ...h.deps,
            openWorkspace: async () => {
                throw new Error("Minimum version requirement failed. The minimum CLI version requirement is 3.200.0, your current CLI version is 3.100.0. Please update the Pulumi CLI.");
            },
        };
        await assert.rejects(up(deps, { stack: "dev" }), (e: unknown) => e instanceof UpError && e.exitCode === 1 && /starting the Pulumi CLI failed for stack dev:\nMinimum version requirement failed/.test(e.message));
    });
});
