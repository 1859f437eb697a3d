import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { recycleVolumes } from "../../dev/testbed/cluster";
import { loadKubernetesClient } from "../../lib/kubernetesClient";
import { CONTEXT, layout, PORTS, REGISTRY_PASSWORD, REGISTRY_USER } from "../../dev/testbed/layout";
import { ensureRunning, stop } from "../../dev/testbed/lifecycle";

/** The end-to-end suite runs launchpad's own commands on the testbed's stack. */
export const ROOT = path.resolve(__dirname, "..", "..");
export const STACK = "testbed";
export const NAMESPACE = `launchpad-${STACK}`;

const l = layout();
let startedHere = false;
let failedToStart: Error | undefined;

/**
 * The environment a user has after sourcing the testbed's env file. Starts the testbed when it is not
 * running (and remembers to stop it); an unbuilt testbed is a failure with its cause, never a skip. A
 * testbed that did not start once fails every later file at once, with the first failure's first line,
 * instead of each waiting out the same timeout.
 */
export async function useTestbed(): Promise<NodeJS.ProcessEnv> {
    if (failedToStart) throw new Error(`the testbed did not start earlier in this run, so this file cannot run: ${failedToStart.message.split("\n")[0]}`);
    try {
        const { env, started } = await ensureRunning(l, (line) => console.log(`      ${line}`));
        startedHere ||= started;
        return env;
    } catch (e) {
        failedToStart = e as Error;
        throw e;
    }
}

/** Stops the testbed when this run started it: once, after the whole suite (tests/e2e/hooks.ts). */
export async function releaseTestbed(): Promise<void> {
    if (startedHere) await stop(l);
    startedHere = false;
}

export interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    /** stdout and stderr as they interleaved. */
    readonly output: string;
}

/**
 * Runs a command in the repository with the testbed's environment, its output kept (and shown with
 * E2E_VERBOSE); `watch` sees the output as it comes, and the command's pid, to act in the middle of a run.
 */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd = ROOT, watch?: (output: string, pid: number) => void): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, [...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let output = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d;
            output += d;
            if (process.env.E2E_VERBOSE) process.stdout.write(d);
            watch?.(output, child.pid!);
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d;
            output += d;
            if (process.env.E2E_VERBOSE) process.stderr.write(d);
        });
        child.once("error", reject);
        child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr, output }));
    });
}

/** A clone of the project at HEAD in `dir`, as a user or teammate has it: its own folder and state, the same node_modules. */
export async function cloneAtHead(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
    const head = ok(await run("git", ["rev-parse", "HEAD"], env), "git rev-parse HEAD").stdout.trim();
    ok(await run("git", ["clone", "--quiet", "--shared", "--no-checkout", ROOT, dir], env), "git clone");
    ok(await run("git", ["-C", dir, "checkout", "--quiet", "--detach", head], env), "git checkout");
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules")), path.join(dir, "node_modules"));
}

/** `npm run up|preview|down -- --stack testbed …`: the path a user takes. */
export function launchpad(command: "up" | "preview" | "down" | "render" | "doctor", args: readonly string[], env: NodeJS.ProcessEnv, watch?: (output: string) => void): Promise<Run> {
    return run("npm", ["run", "--silent", command, "--", "--stack", STACK, ...args], env, ROOT, watch);
}

/** Runs `body` with a file of the project changed, and puts it back afterwards, whatever happens. */
export async function withFileChanged<T>(file: string, change: (text: string) => string, body: () => Promise<T>): Promise<T> {
    const full = path.join(ROOT, file);
    const original = fs.readFileSync(full, "utf8");
    fs.writeFileSync(full, change(original));
    try {
        return await body();
    } finally {
        fs.writeFileSync(full, original);
    }
}

/** The Pulumi CLI on the testbed's stack. */
export function pulumi(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
    return run("pulumi", [...args, "--stack", STACK, "--non-interactive"], env);
}

/** Fails with the command's own output when it did not exit 0. */
export function ok(r: Run, what: string): Run {
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.output.split("\n").slice(-40).join("\n")}`);
    return r;
}

/** A clean start: an earlier run's app and data go (their volume made ready again), then `npm run up`. */
export async function deployAfresh(env: NodeJS.ProcessEnv): Promise<Run> {
    ok(await launchpad("down", ["--delete-data"], env), "npm run down -- --delete-data");
    await recycleVolumes(env.KUBECONFIG as string);
    return ok(await launchpad("up", [], env), "npm run up");
}

/** Typed clients for the testbed's API server, with every warning it sends collected. */
export async function kube(env: NodeJS.ProcessEnv) {
    const k8s = await loadKubernetesClient();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(env.KUBECONFIG as string);
    kc.setCurrentContext(CONTEXT);
    return {
        k8s,
        kc,
        core: kc.makeApiClient(k8s.CoreV1Api),
        apps: kc.makeApiClient(k8s.AppsV1Api),
        networking: kc.makeApiClient(k8s.NetworkingV1Api),
        objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    };
}

/** The digest the team registry serves for a tag (HEAD with credentials, as a puller asks). */
export function registryDigest(repository: string, tag: string): Promise<{ status: number; digest?: string }> {
    const accept = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ].join(", ");
    return new Promise((resolve, reject) => {
        const req = http.request(
            {
                host: "127.0.0.1",
                port: PORTS.registry,
                method: "HEAD",
                path: `/v2/${repository}/manifests/${tag}`,
                headers: { Accept: accept, Authorization: `Basic ${Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString("base64")}` },
            },
            (res) => {
                res.resume();
                const digest = res.headers["docker-content-digest"];
                resolve({ status: res.statusCode ?? 0, digest: typeof digest === "string" ? digest : undefined });
            },
        );
        req.once("error", reject);
        req.end();
    });
}
