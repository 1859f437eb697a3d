// The load run (`npm run bench -- --load [--services N] [--no-write]`, and tests/e2e/load.e2e.ts): the
// benchmark's fleet program (dev/bench/fleetProgram.ts: N web services, each a Deployment of two
// replicas, a Service, an autoscaler and a disruption budget) deployed for real on the testbed by the
// real engine, then a no-op `up`, then `destroy`. Each run is one `pulumi` process, timed, with the
// peak memory of every process of the deployment (the engine, the language host, the program, the
// Kubernetes provider) sampled from /proc. Writes its section of bench/RESULTS.md.

import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { nodeObject, objectApi } from "../testbed/cluster";
import { CONTEXT, layout } from "../testbed/layout";
import { ensureRunning, stop } from "../testbed/lifecycle";
import type { Outcome } from "../../tools/cli";
import { lastLines, mustRun } from "./measure";
import { PeakMemory, Role, sampleTree } from "./processTree";
import { RESULTS_FILE, withSections, writtenBy } from "./report";

/** The Pulumi project of the fleet program on the real engine. */
export const FLEET_PROJECT = path.join(__dirname, "fleet");
export const FLEET_STACK = "fleet";
/** The fleet's namespace (dev/bench/fleet.ts). */
export const FLEET_NAMESPACE = "fleet";

/**
 * The simulated node the fleet's pods go to: the fleet selects nodes labelled `pool: apps` and tolerates
 * `dedicated=apps:NoSchedule`, so nothing else lands there. Sized for a hundred services of two replicas.
 */
export function fleetNode() {
    const node = nodeObject({ name: "testbed-fleet-node", cpu: "64", memory: "256Gi", pods: "250" });
    const metadata = node.metadata as { labels: Record<string, string> };
    metadata.labels.pool = "apps";
    return { ...node, spec: { taints: [{ key: "dedicated", value: "apps", effect: "NoSchedule" }] } };
}

export interface LoadRun {
    readonly id: "first-up" | "noop-up" | "destroy";
    readonly label: string;
    readonly wallMs: number;
    readonly memory: PeakMemory;
    readonly code: number;
    /** The run's output, for a failure's message. */
    readonly output: string;
}

export interface LoadResult {
    readonly services: number;
    readonly runs: readonly LoadRun[];
}

/** Runs `pulumi ARGS` on the fleet's stack: wall time from spawn to exit, the tree's peak memory. */
function measuredPulumi(id: LoadRun["id"], label: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<LoadRun> {
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const child = spawn("pulumi", [...args, "--stack", FLEET_STACK, "--non-interactive"], { cwd: FLEET_PROJECT, env, stdio: ["ignore", "pipe", "pipe"] });
        const sampler = sampleTree(child.pid!);
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d));
        child.stderr.on("data", (d: Buffer) => (output += d));
        child.once("error", (error) => {
            sampler.stop();
            reject(error);
        });
        child.once("close", (code) => {
            const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
            resolve({ id, label, wallMs, memory: sampler.stop(), code: code ?? 1, output });
        });
    });
}

function failed(run: LoadRun): Error {
    return new Error(`${run.label} exited ${run.code}:\n${lastLines(run.output)}`);
}

/**
 * Deploys `services` web services of the fleet program on the testbed (`env`: its environment), runs a
 * no-op `up` that must change nothing, then destroys the stack, and removes its node and stack whatever
 * happens. `deployed` runs between the first `up` and the no-op one, to check the cluster.
 */
export async function runLoad(env: NodeJS.ProcessEnv, services: number, log: (line: string) => void, deployed?: () => Promise<void>): Promise<LoadResult> {
    const { api: objects } = await objectApi(env.KUBECONFIG as string);
    const must = (argv: readonly string[], what: string) => mustRun(argv, FLEET_PROJECT, env, what);
    /** Clean-up goes on past a failed step, saying what failed. */
    const cleanUp = (argv: readonly string[], what: string) => {
        try {
            must(argv, what);
        } catch (e) {
            log(`load: clean-up: ${(e as Error).message}`);
        }
    };
    const node = fleetNode();
    const runs: LoadRun[] = [];
    let gone = false;
    await objects.create(node as never).catch((error: { code?: number }) => {
        if (error.code !== 409) throw error; // a node left by an interrupted run is used as it is
    });
    try {
        must(["pulumi", "stack", "select", "--create", FLEET_STACK, "--non-interactive"], "pulumi stack select --create fleet");
        for (const [key, value] of [["bench:webServices", String(services)], ["bench:kubeContext", CONTEXT]]) {
            must(["pulumi", "config", "set", "--stack", FLEET_STACK, key, value], `pulumi config set ${key}`);
        }
        log(`load: deploying ${services} web services`);
        const first = await measuredPulumi("first-up", `first \`pulumi up\` of ${services} web services`, ["up", "--yes", "--skip-preview"], env);
        runs.push(first);
        if (first.code !== 0) throw failed(first);
        await deployed?.();
        log("load: a no-op up");
        const noop = await measuredPulumi("noop-up", "no-op `pulumi up --expect-no-changes`", ["up", "--yes", "--skip-preview", "--expect-no-changes"], env);
        runs.push(noop);
        if (noop.code !== 0) throw failed(noop);
        log("load: destroying");
        const destroy = await measuredPulumi("destroy", "`pulumi destroy`", ["destroy", "--yes", "--skip-preview"], env);
        runs.push(destroy);
        if (destroy.code !== 0) throw failed(destroy);
        gone = true;
    } finally {
        // Whatever failed, nothing of the run is left for the next one: its objects (while their node is
        // still there to let their pods go), then the stack.
        if (!gone) {
            cleanUp(["pulumi", "destroy", "--yes", "--skip-preview", "--stack", FLEET_STACK, "--non-interactive"], "pulumi destroy (clean-up)");
        }
        cleanUp(["pulumi", "stack", "rm", "--yes", FLEET_STACK, "--non-interactive"], "pulumi stack rm fleet");
        await objects.delete(node as never).catch(() => undefined);
    }
    return { services, runs };
}

const ROLES: readonly Role[] = ["engine", "program", "kubernetes provider", "language host"];

const mib = (kib: number | undefined) => (kib === undefined ? "—" : `${(kib / 1024).toFixed(0)} MiB`);

/** The table the command prints and its section of bench/RESULTS.md holds. */
export function formatLoad(result: LoadResult): string {
    return [
        `| run | wall time | ${ROLES.map((r) => `peak RSS: ${r}`).join(" | ")} |`,
        `| --- | --: | ${ROLES.map(() => "--:").join(" | ")} |`,
        ...result.runs.map((r) => `| ${r.label} | ${(r.wallMs / 1000).toFixed(1)} s | ${ROLES.map((role) => mib(r.memory[role])).join(" | ")} |`),
    ].join("\n");
}

/** Writes the load section of bench/RESULTS.md. */
export function writeLoadSection(result: LoadResult): void {
    const section = [
        `## Load on the real engine: ${result.services} web services`,
        "",
        writtenBy("`npm run bench -- --load` or the e2e suite's load test"),
        `The fleet program (dev/bench/fleetProgram.ts) with ${result.services} web services — ${result.services * 4} Kubernetes objects besides the namespace and`,
        "two Secrets, each Deployment two replicas on one simulated node — deployed on the testbed by the real engine",
        "(dev/bench/fleet is its Pulumi project), every Deployment awaited until rolled out. One run each, in this",
        "order; the peak resident memory of each process of the deployment is sampled from /proc every 50 ms.",
        "",
        formatLoad(result),
    ].join("\n");
    fs.writeFileSync(RESULTS_FILE, withSections(fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, "utf8") : "# Benchmark results\n", { load: section }));
}

/** `npm run bench -- --load`: starts the testbed when it is not running, and stops it again. */
export async function runLoadBench(services: number, write: boolean): Promise<Outcome> {
    const l = layout();
    let started = false;
    try {
        const running = await ensureRunning(l, (line) => process.stderr.write(`${line}\n`));
        started = running.started;
        const result = await runLoad(running.env, services, (line) => process.stderr.write(`${line}\n`));
        if (write) writeLoadSection(result);
        return { code: 0, stdout: `\n${formatLoad(result)}\n${write ? `\nwrote its section of ${path.relative(process.cwd(), RESULTS_FILE)}\n` : ""}`, stderr: "" };
    } catch (error) {
        return { code: 1, stdout: "", stderr: `bench: ${(error as Error).message}\n` };
    } finally {
        if (started) await stop(l);
    }
}
