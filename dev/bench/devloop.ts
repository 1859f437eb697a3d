// `npm run bench -- --devloop [--runs N] [--no-write]`: save → Ready for a one-line backend change on the
// testbed's real node, three ways paired in every round: the floor (the same work by hand: docker build,
// docker push, kubectl set image, kubectl rollout status, each timed), `npm run dev` (the line it prints,
// with its update and rollout split) and `npm run up`. Each way makes its own one-line change of
// apps/backend/src/server.ts (put back afterwards), so each builds a new image from the same Docker cache
// state. Writes its section of bench/RESULTS.md. Starts the testbed when it is not running, and stops it again.

import { type ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { layout, REGISTRY, REGISTRY_PASSWORD, REGISTRY_USER } from "../testbed/layout";
import { ensureRunning, stop } from "../testbed/lifecycle";
import { mustRun } from "./measure";
import { summarize } from "./stats";
import type { Outcome } from "../../tools/cli";
import { RESULTS_FILE, withSections, writtenBy } from "./report";

const ROOT = path.resolve(__dirname, "..", "..");
const STACK = "testbed";
const NAMESPACE = `launchpad-${STACK}`;
const BACKEND = path.join(ROOT, "apps", "backend");
const SOURCE = path.join(BACKEND, "src", "server.ts");
/** The goal: npm run dev at most this many times the floor. */
const GOAL = 1.3;

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** One round's figures, in ms. */
export interface Round {
    readonly floor: { readonly build: number; readonly push: number; readonly apply: number; readonly rollout: number; readonly total: number };
    readonly dev: { readonly prebuild?: number; readonly update: number; readonly rollout: number; readonly total: number };
    readonly up: { readonly total: number };
}

/** The one-line change of a round and way: a comment with its name, so every build makes a new image. */
function change(source: string, way: string, round: number): void {
    fs.writeFileSync(SOURCE, `${source}\n// bench: devloop ${way} round ${round} ${Date.now()}\n`);
}

function timed<T>(f: () => T): [T, number] {
    const t0 = performance.now();
    const value = f();
    return [value, performance.now() - t0];
}

/** The floor: what `npm run dev` does, done by hand with the CLIs, each step timed. */
function floorRound(env: NodeJS.ProcessEnv, dockerConfig: string, deployment: string, source: string, round: number): Round["floor"] {
    const repository = `${REGISTRY}/launchpad-backend`;
    const tag = "bench-floor";
    change(source, "floor", round);
    const t0 = performance.now();
    const [, build] = timed(() => mustRun(["docker", "build", "--platform", "linux/amd64", "-f", path.join(BACKEND, "Dockerfile"), "--network", "host", "-t", `${repository}:${tag}`, BACKEND], ROOT, env, "docker build"));
    const [pushed, push] = timed(() => mustRun(["docker", "push", `${repository}:${tag}`], ROOT, { ...env, DOCKER_CONFIG: dockerConfig }, "docker push"));
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    if (!digest) throw new Error(`docker push printed no digest:\n${pushed}`);
    const [, apply] = timed(() => mustRun(["kubectl", "--context", "launchpad-testbed", "-n", NAMESPACE, "set", "image", deployment, `backend=${repository}@${digest}`], ROOT, env, "kubectl set image"));
    const [, rollout] = timed(() => mustRun(["kubectl", "--context", "launchpad-testbed", "-n", NAMESPACE, "rollout", "status", deployment, "--timeout=300s"], ROOT, env, "kubectl rollout status"));
    return { build, push, apply, rollout, total: performance.now() - t0 };
}

const FLOOR = "bench-floor-backend";
const FLOOR_LABEL = "launchpad.bench/floor";

/**
 * A copy of the backend's Deployment for the floor to set images on (its pods wear one more label): the
 * stack's own is left to the engine, whose server-side apply would conflict with kubectl's field manager.
 */
function floorDeployment(env: NodeJS.ProcessEnv, backend: string, dir: string): string {
    const kubectl = (...args: string[]) => mustRun(["kubectl", "--context", "launchpad-testbed", "-n", NAMESPACE, ...args], ROOT, env, `kubectl ${args[0]}`);
    const d = JSON.parse(kubectl("get", backend, "-o", "json")) as { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } } };
    const labels = (l: Record<string, string>) => ({ ...l, [FLOOR_LABEL]: "true" });
    const copy = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: FLOOR, namespace: NAMESPACE, labels: { [FLOOR_LABEL]: "true" } },
        spec: { ...d.spec, replicas: 1, selector: { matchLabels: labels(d.spec.selector.matchLabels) }, template: { ...d.spec.template, metadata: { ...d.spec.template.metadata, labels: labels(d.spec.template.metadata.labels) } } },
    };
    const file = path.join(dir, "floor.json");
    fs.writeFileSync(file, JSON.stringify(copy));
    kubectl("apply", "-f", file);
    kubectl("rollout", "status", `deployment/${FLOOR}`, "--timeout=300s");
    return `deployment/${FLOOR}`;
}

/** `npm run dev`, started (not measured) and stopped each round, so that nothing else's edits reach it. */
async function devRound(env: NodeJS.ProcessEnv, source: string, round: number): Promise<Round["dev"]> {
    const child: ChildProcess = spawn("npm", ["run", "--silent", "dev", "--", "--stack", STACK], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
    const line = async (pattern: RegExp, from: number, seconds: number): Promise<{ m: RegExpExecArray; at: number }> => {
        const until = Date.now() + seconds * 1000;
        for (;;) {
            const m = pattern.exec(output.slice(from));
            if (m) return { m, at: performance.now() };
            if (Date.now() > until || child.exitCode !== null) throw new Error(`npm run dev printed no line matching ${pattern}:\n${output}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
    };
    try {
        await line(/^launchpad: dev: watching /m, 0, 120);
        const from = output.length;
        const t0 = performance.now();
        change(source, "dev", round);
        const { m, at } = await line(/^launchpad: dev: backend: .* new pod Ready \d+\.\d s after the save \((?:prebuild (\d+\.\d) s, )?update (\d+\.\d) s, rollout (\d+\.\d) s\)$/m, from, 600);
        return { ...(m[1] === undefined ? {} : { prebuild: Number(m[1]) * 1000 }), update: Number(m[2]) * 1000, rollout: Number(m[3]) * 1000, total: at - t0 };
    } finally {
        process.kill(-child.pid!, "SIGINT");
        await closed;
    }
}

function upRound(env: NodeJS.ProcessEnv, source: string, round: number): Round["up"] {
    change(source, "up", round);
    const [, total] = timed(() => mustRun(["npm", "run", "--silent", "up", "--", "--stack", STACK], ROOT, env, "npm run up"));
    return { total };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The table the command prints and its section of bench/RESULTS.md holds: medians of each column. */
export function formatDevloop(rounds: readonly Round[]): string {
    const med = (f: (r: Round) => number) => summarize(rounds.map(f)).median;
    const floor = med((r) => r.floor.total);
    const dev = med((r) => r.dev.total);
    const up = med((r) => r.up.total);
    const ratio = (x: number) => `${(x / floor).toFixed(2)}x`;
    const prebuilt = rounds.flatMap((r) => (r.dev.prebuild === undefined ? [] : [r.dev.prebuild]));
    return [
        `| one-line backend change, save → new pod Ready (median of ${rounds.length}) | total | build | push | engine / apply | rollout | vs. floor |`,
        "| --- | --: | --: | --: | --: | --: | --: |",
        `| floor by hand: \`docker build\`, \`docker push\`, \`kubectl set image\`, \`kubectl rollout status\` | ${s(floor)} | ${s(med((r) => r.floor.build))} | ${s(med((r) => r.floor.push))} | ${s(med((r) => r.floor.apply))} | ${s(med((r) => r.floor.rollout))} | 1.00x |`,
        `| \`npm run dev\` (the image prebuilt beside the engine's start; the engine's targeted update: its build from Docker's cache, push, the Deployment applied and awaited; then the rollout seen complete) | ${s(dev)} | ${prebuilt.length === rounds.length ? `prebuild ${s(summarize(prebuilt).median)}` : `prebuild in ${prebuilt.length} of ${rounds.length} rounds`} | | update ${s(med((r) => r.dev.update))} | ${s(med((r) => r.dev.rollout))} | ${ratio(dev)} |`,
        `| \`npm run up\` (a whole process: preflights, the engine, the rollout confirmed) | ${s(up)} | | | | | ${ratio(up)} |`,
        "",
        `Goal: \`npm run dev\` at most ${GOAL}x the floor: ${dev / floor <= GOAL ? "PASS" : "FAIL"} (${ratio(dev)}). Each round: ${rounds.map((r) => `${s(r.floor.total)} / ${s(r.dev.total)} / ${s(r.up.total)}`).join("; ")} (floor / dev / up).`,
    ].join("\n");
}

function devloopSection(table: string): string {
    return [
        "## The dev loop on the real node: save → Ready",
        "",
        writtenBy("`npm run bench -- --devloop`"),
        "On the testbed, the three ways take turns in every round, each with its own one-line change of",
        "apps/backend/src/server.ts, so each builds a new image from the same Docker cache. Floor and up are timed from",
        "the save to the command's exit; dev from the save to its line (its watcher, debounce and rollout watch included).",
        "",
        table,
    ].join("\n");
}

export async function runDevloopBench(runs: number, write: boolean): Promise<Outcome> {
    const l = layout();
    let started = false;
    const source = fs.readFileSync(SOURCE, "utf8");
    const dockerConfig = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-bench-docker-"));
    let env: NodeJS.ProcessEnv | undefined;
    try {
        const running = await ensureRunning(l, progress);
        started = running.started;
        env = running.env;
        fs.writeFileSync(path.join(dockerConfig, "config.json"), JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString("base64") } } }), { mode: 0o600 });
        progress("bench: deploying the testbed stack");
        mustRun(["npm", "run", "--silent", "up", "--", "--stack", STACK], ROOT, env, "npm run up -- --stack testbed");
        const backend = mustRun(["kubectl", "--context", "launchpad-testbed", "-n", NAMESPACE, "get", "deployment", "-l", `app.kubernetes.io/name=backend,!${FLOOR_LABEL}`, "-o", "name"], ROOT, env, "kubectl get deployment").trim();
        const deployment = floorDeployment(env, backend, dockerConfig);
        const rounds: Round[] = [];
        for (let round = 0; round <= runs; round++) {
            const r: Round = { floor: floorRound(env, dockerConfig, deployment, source, round), dev: await devRound(env, source, round), up: upRound(env, source, round) };
            progress(`${round === 0 ? "warm-up" : `round ${round}/${runs}`}: floor ${s(r.floor.total)}, dev ${s(r.dev.total)}, up ${s(r.up.total)}`);
            if (round > 0) rounds.push(r);
        }
        fs.writeFileSync(SOURCE, source);
        mustRun(["npm", "run", "--silent", "up", "--", "--stack", STACK], ROOT, env, "npm run up with the committed source");
        const table = formatDevloop(rounds);
        const out = ["", table];
        if (write) {
            fs.writeFileSync(RESULTS_FILE, withSections(fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, "utf8") : "# Benchmark results\n", { devloop: devloopSection(table) }));
            out.push("", `wrote its section of ${path.relative(process.cwd(), RESULTS_FILE)}`);
        }
        const ratio = summarize(rounds.map((r) => r.dev.total)).median / summarize(rounds.map((r) => r.floor.total)).median;
        return { code: ratio <= GOAL ? 0 : 1, stdout: `${out.join("\n")}\n`, stderr: "" };
    } catch (error) {
        return { code: 1, stdout: "", stderr: `bench: ${(error as Error).message}\n` };
    } finally {
        fs.writeFileSync(SOURCE, source);
        if (env) spawnSync("kubectl", ["--context", "launchpad-testbed", "-n", NAMESPACE, "delete", "deployment", FLOOR, "--ignore-not-found", "--wait=false"], { env });
        fs.rmSync(dockerConfig, { recursive: true, force: true });
        if (started) await stop(l);
    }
}
