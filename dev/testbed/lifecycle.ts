import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { addonsReady, applyAddons } from "./addons";
import { bootstrapCluster, nodeLeasesHeld, objectApi, releaseNodeLeases } from "./cluster";
import { mountsUnder, NODE_DAEMONS, nodeDaemons, nodeFiles, nodeReady, prepareNode, sweepNode } from "./node";
import { bins, CONTEXT, HOST, type Layout, NODES, REAL_NODE, PASSPHRASE, PORTS, REGISTRY, REGISTRY_PASSWORD, REGISTRY_USER, s3BackendUrl } from "./layout";
import { ensurePki, kubeconfig } from "./pki";
import { type Daemon, livePid, logFileOf, pidFileOf, portFree, startDaemon, stopByPidFile, stopPid, TestbedError } from "./processes";
import { daemons, runFiles, s3Credentials } from "./servers";
import { KIND_DAEMONS, KIND_NODE_IMAGE, kindDaemons, kindFiles, prepareKind, sweepKind } from "./kind";
import { missingParts, onPath } from "./parts";

/** What `status` reports of each server. */
export interface ServerState {
    readonly name: string;
    readonly pid?: number;
    readonly log: string;
}

/** The servers of the control plane and the registries, known by their pid files, in stop order. */
const HOST_STOP_ORDER = ["s3", "dockerd", "registry", "hub-mirror", "kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"] as const;

/** Every process a stop must end: the kind platform's and the real node's first (sweepKind and sweepNode end them), then the host's. */
const STOP_ORDER = [...KIND_DAEMONS, ...NODE_DAEMONS, ...HOST_STOP_ORDER] as const;

export function serverStates(l: Layout): ServerState[] {
    return STOP_ORDER.slice()
        .reverse()
        .map((name) => ({ name, pid: livePid(pidFileOf(l.run, name)), log: logFileOf(l.run, name) }));
}

/** The environment a shell (or a test) sources to use the testbed. */
export function envFileText(l: Layout): string {
    const f = runFiles(l);
    const b = bins(l);
    const vars: [string, string][] = [
        ["KUBECONFIG", f.kubeconfig],
        ["DOCKER_HOST", `unix://${f.dockerSocket}`],
        // The Pulumi CLI and its bundled plugins, and the Node the testbed was started with.
        ["PATH", `${b.pulumiDir}:${path.dirname(process.execPath)}:$PATH`],
        ["PULUMI_HOME", l.pulumiHome],
        ["PULUMI_BACKEND_URL", `file://${l.state}`],
        ["PULUMI_CONFIG_PASSPHRASE", PASSPHRASE],
        ["PULUMI_SKIP_UPDATE_CHECK", "true"],
        ["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true"],
        ["DOCKER_BUILDKIT", "0"],
        ["LAUNCHPAD_TESTBED_REGISTRY", REGISTRY],
        ["LAUNCHPAD_TESTBED_REGISTRY_USER", REGISTRY_USER],
        ["LAUNCHPAD_TESTBED_REGISTRY_PASSWORD", REGISTRY_PASSWORD],
        ["LAUNCHPAD_TESTBED_CONTEXT", CONTEXT],
        // A team's shared state: what a user would set as PULUMI_BACKEND_URL and AWS_ACCESS_KEY_ID/
        // AWS_SECRET_ACCESS_KEY to use the testbed's bucket. Kept under names of their own, so that
        // the other stacks stay on the file backend and no AWS tool of the shell sees this key.
        ["LAUNCHPAD_TESTBED_S3_BACKEND", s3BackendUrl()],
        ...s3CredentialVars(l),
        // The kind stack's platform (dev/testbed/kind.ts): kind, kubectl, `npm run up` and a browser run
        // in its network namespace (nsenter --net=…) with its Docker Engine and Docker client config.
        ["LAUNCHPAD_TESTBED_KIND_NETNS", kindFiles(l).netns],
        ["LAUNCHPAD_TESTBED_KIND_DOCKER_HOST", `unix://${kindFiles(l).dockerSocket}`],
        ["LAUNCHPAD_TESTBED_KIND_DOCKER_CONFIG", kindFiles(l).clientConfig],
        ["LAUNCHPAD_TESTBED_KIND_NODE_IMAGE", KIND_NODE_IMAGE],
        ["LAUNCHPAD_TESTBED_KIND_INGRESS_MANIFEST", kindFiles(l).ingressManifest],
    ];
    const quote = (v: string) => (v.includes("$PATH") ? `"${v}"` : `'${v.replace(/'/g, "'\\''")}'`);
    return ["# launchpad testbed: source this file (. FILE) to use it; written by `npm run testbed -- start`.", ...vars.map(([k, v]) => `export ${k}=${quote(v)}`)].join("\n") + "\n";
}

function s3CredentialVars(l: Layout): [string, string][] {
    const c = s3Credentials(l);
    return c === undefined ? [] : [["LAUNCHPAD_TESTBED_S3_ACCESS_KEY_ID", c.accessKeyId], ["LAUNCHPAD_TESTBED_S3_SECRET_ACCESS_KEY", c.secretAccessKey]];
}

/** The same environment as a map, for a process that starts the testbed and then runs commands in it. */
export function testbedEnv(l: Layout, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base };
    for (const line of envFileText(l).split("\n")) {
        const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
        if (!m) continue;
        const raw = m[2].startsWith('"') ? m[2].slice(1, -1).replace("$PATH", base.PATH ?? "") : m[2].slice(1, -1).replace(/'\\''/g, "'");
        env[m[1]] = raw;
    }
    return env;
}

async function checkPorts(servers: readonly Daemon[]): Promise<void> {
    const taken: string[] = [];
    for (const d of servers) for (const port of d.ports) if (!(await portFree(port, HOST))) taken.push(`${HOST}:${port} (${d.name})`);
    if (taken.length > 0) {
        throw new TestbedError(
            `cannot start the testbed: ${taken.join(", ")} ${taken.length === 1 ? "is" : "are"} taken by another program; ` +
                "stop it (`ss -ltnp` shows which), then run `npm run testbed -- start` again. Nothing was started.",
        );
    }
}

/**
 * Starts every server, bootstraps the cluster and writes the env file. Refuses (changing nothing) when
 * parts are not built, when a port is taken, or when some servers of an earlier start still run.
 */
export async function start(l: Layout, log: (line: string) => void): Promise<{ envFile: string; seconds: number; alreadyRunning: boolean }> {
    const t0 = Date.now();
    assertBuilt(l);
    const states = serverStates(l);
    const running = states.filter((s) => s.pid !== undefined);
    if (running.length === states.length) {
        fs.writeFileSync(l.envFile, envFileText(l));
        return { envFile: l.envFile, seconds: 0, alreadyRunning: true };
    }
    if (running.length > 0) {
        throw new TestbedError(
            `the testbed is half-started: ${running.map((s) => s.name).join(", ")} ${running.length === 1 ? "runs" : "run"} but ` +
                `${states.filter((s) => s.pid === undefined).map((s) => s.name).join(", ")} not; run \`npm run testbed -- stop\`, then start again.`,
        );
    }
    for (const tool of ["dockerd", "docker-registry", "openssl"]) {
        if (!onPath(tool)) throw new TestbedError(`${tool} is not installed: run \`npm run testbed -- build\`, which says which Debian packages to install.`);
    }

    fs.mkdirSync(l.run, { recursive: true });
    for (const d of ["etcd", "registry", "hub-mirror", "docker", "s3"]) fs.mkdirSync(path.join(l.data, d), { recursive: true, mode: 0o700 });
    s3Credentials(l, true);
    const pki = ensurePki(runFiles(l).pki);
    const f = runFiles(l);
    fs.writeFileSync(f.kubeconfig, kubeconfig(pki, "admin"), { mode: 0o600 });
    for (const user of ["controller-manager", "scheduler", "kwok"] as const) fs.writeFileSync(f.clientKubeconfig(user), kubeconfig(pki, user), { mode: 0o600 });
    fs.writeFileSync(f.htpasswd, execFileSync("htpasswd", ["-nbB", REGISTRY_USER, REGISTRY_PASSWORD], { encoding: "utf8" }));

    const servers = daemons(l, pki);
    const node = nodeDaemons(l);
    const kind = kindDaemons(l);
    await checkPorts([...servers, ...node, ...kind]);
    const started: { name: string; pid: number }[] = [];
    const timed = async (name: string, step: () => Promise<unknown>) => {
        const s0 = Date.now();
        await step();
        log(`testbed: ${name} ready (${((Date.now() - s0) / 1000).toFixed(1)} s)`);
    };
    try {
        for (const d of servers) {
            if (d.name === "kwok") await releaseNodeLeases(f.kubeconfig);
            await timed(d.name, async () => started.push({ name: d.name, pid: await startDaemon(l.run, d, d.name === "kube-apiserver" ? 120 : 60) }));
        }
        await bootstrapCluster(f.kubeconfig, l.volumes);
        if (!(await nodeLeasesHeld(f.kubeconfig, NODES.map((n) => n.name), 60))) {
            throw new TestbedError("kwok took no lease of its nodes within 60 s, so no pod on them would run; see its log under run/logs, then start again.");
        }
        await prepareNode(l, pki, log);
        const nodeStarted = new Date();
        for (const d of node) await timed(d.name, async () => started.push({ name: d.name, pid: await startDaemon(l.run, d, 60) }));
        await timed(`node ${REAL_NODE.name}`, async () => {
            const { k8s, kc } = await objectApi(f.kubeconfig);
            const core = kc.makeApiClient(k8s.CoreV1Api);
            if (!(await nodeReady(() => core.readNode({ name: REAL_NODE.name }), nodeStarted, 60))) {
                throw new TestbedError(`the real node ${REAL_NODE.name} did not report Ready within 60 s; see the kubelet's and containerd's logs under run/logs`);
            }
        });
        await applyAddons(f.kubeconfig);
        await timed("cluster DNS, NetworkPolicy enforcer and ingress controller", () => addonsReady(f.kubeconfig, nodeFiles(l).netns, 180));
        await prepareKind(l, log);
        for (const d of kind) await timed(d.name, async () => started.push({ name: d.name, pid: await startDaemon(l.run, d, 60) }));
    } catch (err) {
        // Leave nothing half-started behind.
        await sweepKind(l);
        await sweepNode(l);
        for (const s of started.reverse()) await stopPid(s.pid);
        if (err instanceof TestbedError) throw err;
        const [first, ...details] = (err as Error).message.split("\n");
        throw new TestbedError([`the testbed did not start: ${first}; everything it started was stopped.`, ...details].join("\n"));
    }
    fs.writeFileSync(l.envFile, envFileText(l));
    return { envFile: l.envFile, seconds: (Date.now() - t0) / 1000, alreadyRunning: false };
}

/** Refuses a testbed whose parts are not (all) built for the pinned versions, naming them. */
function assertBuilt(l: Layout): void {
    const missing = missingParts(l);
    if (missing.length > 0) {
        throw new TestbedError(`the testbed is not built (missing: ${missing.join(", ")}): run \`npm run testbed -- build\` first.`);
    }
}

/**
 * For a command that needs the testbed (the e2e suite, the engine benchmark): starts it unless every
 * server already runs, and says whether it did, so the caller stops only what it started.
 */
export async function ensureRunning(l: Layout, log: (line: string) => void): Promise<{ env: NodeJS.ProcessEnv; started: boolean }> {
    assertBuilt(l);
    const started = serverStates(l).some((s) => s.pid === undefined);
    if (started) await start(l, log);
    return { env: testbedEnv(l), started };
}

/**
 * Ends every server the testbed started, by pid, newest first, the kind platform's and the real
 * node's first with everything they made (sweepKind, sweepNode); reports what it stopped.
 */
export async function stop(l: Layout): Promise<string[]> {
    const stopped: string[] = [...(await sweepKind(l)), ...(await sweepNode(l))];
    for (const name of HOST_STOP_ORDER) {
        if (await stopByPidFile(l.run, name, name === "etcd" || name === "dockerd" ? 30 : 15)) stopped.push(name);
    }
    fs.rmSync(runFiles(l).dockerSocket, { force: true });
    // What a server mounted under the run folder and left (dockerd its network namespace's file).
    for (const point of mountsUnder([l.run])) spawnSync("umount", ["-l", point]);
    return stopped;
}

/** The real node as the API server knows it: its Ready condition and container runtime, or why that cannot be read. */
export async function realNodeState(l: Layout): Promise<string> {
    try {
        const { k8s, kc } = await objectApi(runFiles(l).kubeconfig);
        const node = await kc.makeApiClient(k8s.CoreV1Api).readNode({ name: REAL_NODE.name });
        const ready = node.status?.conditions?.find((c) => c.type === "Ready");
        return `${ready?.status === "True" ? "Ready" : `not Ready (${ready?.reason ?? "no Ready condition"})`}, ${node.status?.nodeInfo?.containerRuntimeVersion ?? "no runtime reported"}`;
    } catch (e) {
        return `unknown: the API server did not answer (${String((e as Error).message ?? e).split("\n")[0]})`;
    }
}

/** One server of a running testbed, by name: what the fault tests stop and start again. */
export type ServerName = (typeof STOP_ORDER)[number];

/** Stops one server of the testbed (a fault for the e2e suite to inject); the others keep running. */
export async function stopServer(l: Layout, name: ServerName): Promise<void> {
    const pidFile = pidFileOf(l.run, name);
    const pid = livePid(pidFile);
    if (pid === undefined) throw new TestbedError(`${name} is not running`);
    await stopPid(pid, 30);
    fs.rmSync(pidFile, { force: true });
}

/** Starts one stopped server of the testbed again, as \`start\` would, and waits until it is ready. */
export async function startServer(l: Layout, name: ServerName): Promise<void> {
    const server = [...daemons(l, ensurePki(runFiles(l).pki)), ...nodeDaemons(l), ...kindDaemons(l)].find((d) => d.name === name);
    if (!server) throw new TestbedError(`the testbed has no server named ${name}`);
    if (livePid(server.pidFile ?? pidFileOf(l.run, name)) !== undefined) throw new TestbedError(`${name} is already running`);
    await checkPorts([server]);
    await startDaemon(l.run, server, name === "kube-apiserver" ? 120 : 60);
}

/** The ports the testbed uses that something still listens on (after a stop there should be none). */
export async function listening(): Promise<number[]> {
    const busy: number[] = [];
    for (const port of Object.values(PORTS)) if (!(await portFree(port, HOST))) busy.push(port);
    return busy;
}
