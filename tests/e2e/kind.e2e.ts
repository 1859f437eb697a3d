import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { KIND } from "../../lib/kind";
import { addNote, CHROMIUM, launchChromium } from "./browser";
import { writeKindFigures } from "./figures";
import { cloneAtHead, ok, run, type Run, useTestbed } from "./support";

// The README's main job, as a user does it on a laptop with Docker, kind and kubectl: in a fresh clone,
// `npm run up` on the dev stack creates the kind cluster, the local registry and the ingress controller,
// builds, pushes and deploys, and prints the URL; the app is used in Chromium; a second `npm run up`
// changes nothing; `npm run down` keeps the data; `npm run down -- --cluster --delete-data` leaves
// nothing. On the testbed's kind platform (dev/testbed/kind.ts): its own Docker Engine in a network
// namespace of its own, where these commands and the browser run. What differs from a laptop with
// internet is only the stack's mirror settings (MIRROR below) and Docker's proxy config.

const URL = "http://launchpad.localhost";
const NOTE = "Written in Chromium, on kind";
/** Where the clone keeps the mirror's copy of the ingress controller's manifest. */
const MANIFEST = "deploy/ingress-controller.yaml";

/**
 * The mirror settings of the README's kind section, as a user without internet adds them to
 * Pulumi.dev.yaml: the node image, the ingress controller's manifest, and the database image the
 * testbed's mirror has (Debian bookworm's PostgreSQL is 15).
 */
function mirrorSettings(env: NodeJS.ProcessEnv): string[] {
    return [`  launchpad:kindNodeImage: ${env.LAUNCHPAD_TESTBED_KIND_NODE_IMAGE}`, `  launchpad:ingressManifest: ${MANIFEST}`, "  launchpad:dbImage: postgres:15"];
}

/**
 * A user's environment on a laptop with Docker: the testbed's tools on PATH (the Pulumi CLI, kubectl,
 * kind), Docker's engine and client config, a kubeconfig of its own, and none of the testbed stack's
 * variables (its backend, passphrase, cluster) nor CI's.
 */
function userEnv(env: NodeJS.ProcessEnv, home: string): NodeJS.ProcessEnv {
    const user: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(env)) {
        if (/^(LAUNCHPAD_TESTBED_|PULUMI_BACKEND_URL$|PULUMI_CONFIG_PASSPHRASE$|KUBECONFIG$|DOCKER_|CI$|GITHUB_|GITLAB_)/.test(k)) continue;
        user[k] = v;
    }
    return {
        ...user,
        DOCKER_HOST: env.LAUNCHPAD_TESTBED_KIND_DOCKER_HOST,
        DOCKER_CONFIG: env.LAUNCHPAD_TESTBED_KIND_DOCKER_CONFIG,
        DOCKER_BUILDKIT: env.DOCKER_BUILDKIT,
        KUBECONFIG: path.join(home, ".kube", "config"),
    };
}

/** Seconds since `t0`, as the figures show them. */
function since(t0: number): string {
    return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** The platform steps `up` reported: `[ok  ] name: detail` lines. */
function platformSteps(output: string): { state: string; line: string }[] {
    return output.split("\n").filter((l) => /^ {2}\[(ok {2}|done|todo|wait)\]/.test(l)).map((l) => ({ state: l.slice(3, 7).trim(), line: l.trim() }));
}

describe("e2e: the README's main job on kind — npm run up from no cluster to a note in Chromium, and back to nothing", function () {
    this.timeout(20 * 60_000);
    let env: NodeJS.ProcessEnv;
    let user: NodeJS.ProcessEnv;
    let dir: string;
    let project: string;
    let netns: string;
    let browser: Browser | undefined;
    let page: Page;
    let finished = false;
    const figures: Record<string, string> = {};

    /** A command in the kind platform's network namespace, in the clone, as the user. */
    const inKind = (command: string, args: readonly string[]): Promise<Run> => run("nsenter", [`--net=${netns}`, command, ...args], user, project);
    const npm = async (args: readonly string[]): Promise<Run> => {
        const r = await inKind("npm", ["run", "--silent", ...args]);
        for (const line of r.output.trimEnd().split("\n").filter((l) => /^(launchpad|  \[)/.test(l))) console.log(`      ${line}`);
        return r;
    };
    const kubectl = (...args: string[]) => inKind("kubectl", ["--context", KIND.context, ...args]);
    const docker = (...args: string[]) => inKind("docker", args);

    before(async () => {
        env = await useTestbed();
        netns = env.LAUNCHPAD_TESTBED_KIND_NETNS as string;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-kind-"));
        project = path.join(dir, "launchpad");
        user = userEnv(env, dir);
        await cloneAtHead(project, env);
        const stackFile = path.join(project, "Pulumi.dev.yaml");
        fs.writeFileSync(stackFile, `${fs.readFileSync(stackFile, "utf8").trimEnd()}\n${mirrorSettings(env).join("\n")}\n`);
        fs.mkdirSync(path.dirname(path.join(project, MANIFEST)), { recursive: true });
        fs.copyFileSync(env.LAUNCHPAD_TESTBED_KIND_INGRESS_MANIFEST as string, path.join(project, MANIFEST));
        // From nothing: what an earlier, interrupted run left in the kind platform goes first.
        if ((await inKind("kind", ["get", "clusters"])).stdout.split("\n").includes(KIND.cluster)) ok(await inKind("kind", ["delete", "cluster", "--name", KIND.cluster]), "kind delete cluster (an earlier run's)");
        await docker("rm", "-f", KIND.registry);
    });

    after(async () => {
        await browser?.close();
        if (!finished && netns) {
            // A failure halfway: the cluster and the registry go, so the next run starts from nothing too.
            await inKind("kind", ["delete", "cluster", "--name", KIND.cluster]);
            await docker("rm", "-f", KIND.registry);
        }
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        if (Object.keys(figures).length > 0) writeKindFigures(figures);
    });

    it("npm run up creates the kind cluster and the local registry, installs the ingress controller, builds, pushes, deploys and prints the URL", async () => {
        const t0 = Date.now();
        const up = ok(await npm(["up"]), "npm run up (the first)");
        figures["`npm run up` from no cluster, registry or state to the printed URL"] = since(t0);
        const steps = platformSteps(up.output);
        for (const step of [`registry ${KIND.registry}: created`, `kind cluster ${KIND.cluster}: created from ${env.LAUNCHPAD_TESTBED_KIND_NODE_IMAGE}`, `ingress controller from ${MANIFEST}: applied`]) {
            assert.ok(steps.some((s) => s.state === "done" && s.line.includes(step)), `up reported [done] ${step}:\n${steps.map((s) => s.line).join("\n")}`);
        }
        assert.match(up.output, /launchpad: generated a passphrase|\.launchpad\/passphrase/, "the dev stack's passphrase was made on this machine");
        assert.match(up.stdout, new RegExp(`dev is up: ${URL.replace(/\./g, "\\.")}`), "up printed the URL");
        const nodes = ok(await kubectl("get", "nodes", "-o", "jsonpath={.items[*].status.nodeInfo.kubeletVersion}"), "kubectl get nodes");
        assert.equal(nodes.stdout.trim(), `v${env.LAUNCHPAD_TESTBED_KIND_NODE_IMAGE!.split(":v")[1]}`, "one kind node, of the node image's Kubernetes");
    });

    it("serves the app at the printed URL in Chromium, and a note written there is still there after a reload", async () => {
        // The browser runs in the kind platform's namespace, where launchpad.localhost is the kind node's host port 80.
        const wrapper = path.join(dir, "chromium");
        fs.writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${netns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
        browser = await launchChromium(wrapper);
        page = await browser.newPage({ viewport: { width: 960, height: 640 } });
        await addNote(page, URL, NOTE);
        await page.reload();
        await page.locator("#notes li", { hasText: NOTE }).waitFor({ timeout: 15_000 });
    });

    it("a second npm run up finds every platform step [ok] and changes nothing", async () => {
        const t0 = Date.now();
        const up = ok(await npm(["up"]), "npm run up (the second)");
        figures["a second `npm run up`: every platform step [ok], nothing changed"] = since(t0);
        const steps = platformSteps(up.output);
        assert.ok(steps.length >= 6, `up reported the platform's steps:\n${up.output}`);
        assert.deepEqual(steps.filter((s) => s.state !== "ok").map((s) => s.line), [], "every platform step was already in place");
        assert.match(up.output, /Resources:\s*\n\s*\d+ unchanged\s*\n/, "the engine changed no resource");
        assert.doesNotMatch(up.output, /^\s*[+~-]\s+\d+ (to )?(create|update|delete|replace)/m);
    });

    it("npm run preview finds the platform in place and the engine with nothing to change", async () => {
        const preview = ok(await npm(["preview"]), "npm run preview");
        assert.ok(platformSteps(preview.output).every((s) => s.state === "ok"), preview.output);
        assert.match(preview.output, /launchpad: preview of dev done; nothing was changed\./);
        assert.match(preview.output, /Resources:\s*\n\s*\d+ unchanged\s*\n/, "the engine would change no resource");
    });

    it("npm run down removes the app and keeps the database with the note", async () => {
        const t0 = Date.now();
        ok(await npm(["down"]), "npm run down");
        figures["`npm run down` (the database kept)"] = since(t0);
        const left = ok(await kubectl("-n", "launchpad-dev", "get", "deployments,statefulsets,pvc", "-o", "name"), "kubectl get").stdout.split("\n").filter(Boolean);
        assert.deepEqual(left.filter((n) => n.startsWith("deployment")), [], "the web tiers are gone");
        assert.ok(left.some((n) => n.startsWith("statefulset")) && left.some((n) => n.startsWith("persistentvolumeclaim")), `the database and its volume claim are kept: ${left.join(", ")}`);
        ok(await kubectl("-n", "launchpad-dev", "wait", "--for=condition=Ready", "pod/db-0", "--timeout=120s"), "the database pod Ready");
        const rows = ok(await kubectl("-n", "launchpad-dev", "exec", "db-0", "--", "sh", "-c", 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "SELECT text FROM notes"'), "psql in the database pod");
        assert.equal(rows.stdout.trim(), NOTE, "the note is in the kept database");
    });

    it("npm run down -- --cluster --delete-data removes the cluster, the registry and the stack's state", async () => {
        const t0 = Date.now();
        ok(await npm(["down", "--", "--cluster", "--delete-data"]), "npm run down -- --cluster --delete-data");
        figures["`npm run down -- --cluster --delete-data`"] = since(t0);
        assert.ok(!(await inKind("kind", ["get", "clusters"])).stdout.split("\n").includes(KIND.cluster), "the kind cluster is gone");
        assert.equal((await docker("inspect", KIND.registry)).code, 1, "the registry container is gone");
        const stacks = path.join(project, ".launchpad", "state", ".pulumi", "stacks");
        const left = fs.existsSync(stacks) ? fs.readdirSync(stacks, { recursive: true }).map(String).filter((f) => f.endsWith(".json")) : [];
        assert.deepEqual(left, [], "no stack state is left");
        finished = true;
    });
});
