import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Deps } from "../../tools/up/commands";
import { KIND } from "../../lib/kind";
import { INGRESS_NGINX, manifestTargets, type ManifestWorkload } from "../../tools/up/kind";
import type { RunOptions, RunResult, Runner } from "../../lib/runner";
import type { ConfigEntry, EngineGate, Outputs, PendingOperation, StateResource, UpdateRecord, UpOptions, Workspace, WorkspaceSettings } from "../../tools/engine/workspace";

/** One ordered record of everything the fakes were asked to do, so tests can check the order of steps. */
export type Journal = string[];

/** The machine as the CLIs would see it: what is installed and what exists. */
export interface MachineState {
    installed: Set<string>;
    daemonRunning: boolean;
    registry: "absent" | "stopped" | "running";
    registryOnKindNetwork: boolean;
    cluster: boolean;
    nodeRunning: boolean;
    hostsToml: Map<string, string>;
    context: boolean;
    configMapValue?: string;
    ingress?: { version: string; ready: boolean };
    /** Whether the admission patch Job is still there (clusters may have cleaned it up). */
    admissionJob: boolean;
    manifestReachable: boolean;
    loginAccepts: boolean;
    /** The image the registry container was created from. */
    registryImage: string;
    /** The image the cluster's node was created from (kind's default when not given). */
    nodeImage: string;
    /** IngressClasses in the cluster (a controller from a manifest, or one the user brought). */
    ingressClasses: Set<string>;
    /** Controllers applied from a manifest other than the pinned one: `<kind>/<namespace>/<name>` → what runs. */
    workloads: Map<string, { images: readonly string[]; ready: boolean }>;
    /** What `kubectl create --dry-run=client -o yaml -f <url>` prints for a manifest URL (absent: unreachable). */
    urlManifests: Map<string, string>;
    /** Each time `kubectl get ingressclass` is asked, the user's controller may have made it: how many asks until it does. */
    ingressClassAppearsAfter?: { name: string; asks: number };
}

export const NODE = `${KIND.cluster}-control-plane`;

export function freshMachine(over: Partial<MachineState> = {}): MachineState {
    return {
        installed: new Set(["pulumi", "docker", "kind", "kubectl"]),
        daemonRunning: true,
        registry: "absent",
        registryOnKindNetwork: false,
        cluster: false,
        nodeRunning: true,
        hostsToml: new Map(),
        context: false,
        admissionJob: false,
        manifestReachable: true,
        loginAccepts: true,
        registryImage: KIND.registryImage,
        nodeImage: KIND_DEFAULT_NODE_IMAGE,
        ingressClasses: new Set(),
        workloads: new Map(),
        urlManifests: new Map(),
        ...over,
    };
}

/** The node image kind uses when `--image` is not given, as `docker inspect` shows it. */
export const KIND_DEFAULT_NODE_IMAGE = "kindest/node:v1.35.0@sha256:0000000000000000000000000000000000000000000000000000000000000000";

const workloadKey = (w: Pick<ManifestWorkload, "kind" | "namespace" | "name">) => `${w.kind}/${w.namespace}/${w.name}`;

/** A machine where a previous `npm run up` already built everything. */
export function readyMachine(over: Partial<MachineState> = {}): MachineState {
    return freshMachine({
        registry: "running",
        registryOnKindNetwork: true,
        cluster: true,
        hostsToml: new Map([[NODE, `[host."http://kind-registry:5000"]\n`]]),
        context: true,
        configMapValue: `host: "localhost:5001"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n`,
        ingress: { version: INGRESS_NGINX.version, ready: true },
        ...over,
    });
}

const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
const fail = (stderr: string, code = 1): RunResult => ({ code, stdout: "", stderr });

/** Read-only commands: everything else changes the machine. */
const READ_ONLY = [/^docker info/, /^docker inspect/, /^kind get/, /^docker exec \S+ cat /, /^kubectl config get-contexts/, / get (deployment|daemonset|configmap|ingressclass) /, / create --dry-run=client /, / wait /, / rollout status /];

/**
 * A fake Runner that answers `docker`, `kind` and `kubectl` from a MachineState and updates it the way
 * the real commands would, so a second run sees what the first one made.
 */
export class FakeMachine implements Runner {
    readonly calls: string[] = [];
    readonly inputs = new Map<string, string>();

    constructor(
        readonly state: MachineState,
        private readonly journal: Journal = [],
    ) {}

    /** The calls that would have changed something. */
    mutations(): string[] {
        return this.calls.filter((c) => !READ_ONLY.some((r) => r.test(c)));
    }

    async which(cmd: string): Promise<string | undefined> {
        return this.state.installed.has(cmd) ? `/usr/local/bin/${cmd}` : undefined;
    }

    async run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
        const line = [cmd, ...args].join(" ");
        this.calls.push(line);
        this.journal.push(`run: ${line}`);
        if (opts.input !== undefined) this.inputs.set(line, opts.input);
        if (!this.state.installed.has(cmd)) return fail(`${cmd}: command not found`, 127);
        if (cmd === "docker") return this.docker(args, opts);
        if (cmd === "kind") return this.kind(args);
        if (cmd === "kubectl") return this.kubectl(args, opts);
        return fail(`unexpected command ${line}`);
    }

    private docker(a: readonly string[], opts: RunOptions): RunResult {
        const s = this.state;
        if (a[0] === "info") return s.daemonRunning ? ok("27.3.1\n") : fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?");
        if (!s.daemonRunning) return fail("Cannot connect to the Docker daemon");
        const name = a[a.length - 1];
        if (a[0] === "inspect" && a[2] === "{{.State.Running}}") {
            if (name === KIND.registry) return s.registry === "absent" ? fail(`Error: No such object: ${name}`) : ok(`${s.registry === "running"}\n`);
            if (name === NODE) return s.cluster ? ok(`${s.nodeRunning}\n`) : fail(`Error: No such object: ${name}`);
        }
        if (a[0] === "inspect" && a[2] === "{{.Config.Image}}") {
            if (name === KIND.registry) return s.registry === "absent" ? fail(`Error: No such object: ${name}`) : ok(`${s.registryImage}\n`);
            if (name === NODE) return s.cluster ? ok(`${s.nodeImage}\n`) : fail(`Error: No such object: ${name}`);
        }
        if (a[0] === "inspect" && a[2] === "{{json .NetworkSettings.Networks.kind}}") {
            return s.registry === "absent" ? fail("No such object") : ok(s.registryOnKindNetwork ? '{"NetworkID":"abc"}\n' : "null\n");
        }
        if (a[0] === "run" && a.includes(KIND.registry)) {
            s.registry = "running";
            s.registryImage = name;
            return ok("f00d\n");
        }
        if (a[0] === "start" && name === KIND.registry) {
            s.registry = "running";
            return ok(name);
        }
        if (a[0] === "start" && name === NODE) {
            s.nodeRunning = true;
            return ok(name);
        }
        if (a[0] === "exec" && a[2] === "cat") {
            const content = s.hostsToml.get(a[1]);
            return content === undefined ? fail(`cat: ${a[3]}: No such file or directory`) : ok(content);
        }
        if (a[0] === "exec" && a[2] === "mkdir") return ok();
        if (a[0] === "exec" && a[1] === "-i" && a[3] === "cp") {
            s.hostsToml.set(a[2], opts.input ?? "");
            return ok();
        }
        if (a[0] === "network" && a[1] === "connect") {
            if (!s.cluster) return fail("Error response from daemon: network kind not found");
            s.registryOnKindNetwork = true;
            return ok();
        }
        if (a[0] === "rm") {
            s.registry = "absent";
            s.registryOnKindNetwork = false;
            return ok(name);
        }
        if (a[0] === "login") return s.loginAccepts ? ok("Login Succeeded\n") : fail("Error response from daemon: unauthorized: incorrect username or password");
        return fail(`fake docker does not know: ${a.join(" ")}`);
    }

    private kind(a: readonly string[]): RunResult {
        const s = this.state;
        const line = a.join(" ");
        if (line === "get clusters") return s.cluster ? ok(`${KIND.cluster}\n`) : { code: 0, stdout: "", stderr: "No kind clusters found.\n" };
        if (line === `get nodes --name ${KIND.cluster}`) return s.cluster ? ok(`${NODE}\n`) : { code: 0, stdout: "", stderr: `No kind nodes found for cluster "${KIND.cluster}".\n` };
        if (line.startsWith(`create cluster --name ${KIND.cluster} --config -`)) {
            const image = a.indexOf("--image");
            s.nodeImage = image < 0 ? KIND_DEFAULT_NODE_IMAGE : a[image + 1];
            s.cluster = true;
            s.context = true;
            s.nodeRunning = true;
            return ok();
        }
        if (line === `export kubeconfig --name ${KIND.cluster}`) {
            s.context = true;
            return ok();
        }
        if (line === `delete cluster --name ${KIND.cluster}`) {
            Object.assign(s, { cluster: false, context: false, configMapValue: undefined, ingress: undefined, registryOnKindNetwork: false });
            s.hostsToml.clear();
            s.workloads.clear();
            s.ingressClasses.clear();
            return ok();
        }
        return fail(`fake kind does not know: ${line}`);
    }

    private kubectl(a: readonly string[], opts: RunOptions = {}): RunResult {
        const s = this.state;
        if (a[0] === "config" && a[1] === "get-contexts") return s.context ? ok(`*  ${KIND.context}\n`) : fail(`error: context ${a[2]} not found`);
        if (a[0] !== "--context" || a[1] !== KIND.context) return fail(`fake kubectl expects --context ${KIND.context}`);
        if (!s.cluster || !s.context) return fail("The connection to the server 127.0.0.1:6443 was refused");
        const rest = a.slice(2).join(" ");
        if (rest.startsWith("-n kube-public get configmap local-registry-hosting")) {
            return s.configMapValue === undefined ? fail('Error from server (NotFound): configmaps "local-registry-hosting" not found') : ok(JSON.stringify({ data: { "localRegistryHosting.v1": s.configMapValue } }));
        }
        const generic = this.manifestControllers(a.slice(2), opts);
        if (generic !== undefined) return generic;
        if (rest === "apply -f -") {
            s.configMapValue = `host: "localhost:5001"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n`;
            return ok("configmap/local-registry-hosting created\n");
        }
        if (rest.startsWith(`-n ${INGRESS_NGINX.namespace} get deployment`)) {
            if (!s.ingress) return fail(`Error from server (NotFound): deployments.apps "${INGRESS_NGINX.deployment}" not found`);
            return ok(JSON.stringify({ metadata: { labels: { "app.kubernetes.io/version": s.ingress.version } }, status: s.ingress.ready ? { readyReplicas: 1 } : {} }));
        }
        if (rest.startsWith("apply -f https://")) {
            if (!s.manifestReachable) return fail('error: unable to read URL "https://raw.githubusercontent.com/...", server reported 404 Not Found');
            const version = /controller-v([^/]+)\//.exec(rest)?.[1] ?? "?";
            s.ingress = { version, ready: false };
            s.admissionJob = true;
            return ok("deployment.apps/ingress-nginx-controller created\n");
        }
        if (rest.startsWith(`-n ${INGRESS_NGINX.namespace} delete job`)) {
            s.admissionJob = false;
            return ok();
        }
        if (rest.startsWith(`-n ${INGRESS_NGINX.namespace} wait --for=condition=complete`)) {
            return s.admissionJob ? ok("job.batch/ingress-nginx-admission-patch condition met\n") : fail('Error from server (NotFound): jobs.batch "ingress-nginx-admission-patch" not found');
        }
        if (rest.startsWith(`-n ${INGRESS_NGINX.namespace} rollout status`)) {
            if (!s.ingress) return fail("not found");
            s.ingress.ready = true;
            return ok('deployment "ingress-nginx-controller" successfully rolled out\n');
        }
        return fail(`fake kubectl does not know: ${rest}`);
    }

/** What a cluster does with a manifest other than the pinned one, and with IngressClasses; undefined: not such a call. */
    private manifestControllers(a: readonly string[], opts: RunOptions): RunResult | undefined {
        const s = this.state;
        const rest = a.join(" ");
        if (rest.startsWith("create --dry-run=client -o yaml -f ")) {
            const text = s.urlManifests.get(a[a.length - 1]);
            return text === undefined ? fail(`error: unable to read URL "${a[a.length - 1]}", server reported 404 Not Found, status code=404`) : ok(text);
        }
        if (rest === "apply -f -" && !(opts.input ?? "").includes("local-registry-hosting")) {
            const targets = manifestTargets(opts.input ?? "");
            for (const w of targets.workloads) s.workloads.set(workloadKey(w), { images: w.images, ready: false });
            for (const c of targets.ingressClasses) s.ingressClasses.add(c);
            return ok(targets.workloads.map((w) => `${w.kind.toLowerCase()}.apps/${w.name} configured\n`).join(""));
        }
        if (a[0] === "get" && a[1] === "ingressclass") {
            const appears = s.ingressClassAppearsAfter;
            if (appears?.name === a[2] && --appears.asks <= 0) s.ingressClasses.add(a[2]);
            return s.ingressClasses.has(a[2]) ? ok(`ingressclass.networking.k8s.io/${a[2]}\n`) : fail(`Error from server (NotFound): ingressclasses.networking.k8s.io "${a[2]}" not found`);
        }
        const kindOf = (word: string) => (word === "deployment" ? "Deployment" : word === "daemonset" ? "DaemonSet" : undefined);
        if (a[0] === "-n" && a[2] === "get" && kindOf(a[3])) {
            const live = s.workloads.get(workloadKey({ kind: kindOf(a[3])!, namespace: a[1], name: a[4] }));
            if (!live) return s.workloads.size > 0 || a[1] !== INGRESS_NGINX.namespace ? fail(`Error from server (NotFound): ${a[3]}s.apps "${a[4]}" not found`) : undefined;
            const status = live.ready ? { readyReplicas: 1, numberReady: 1, desiredNumberScheduled: 1 } : { desiredNumberScheduled: 1 };
            return ok(JSON.stringify({ spec: { template: { spec: { containers: live.images.map((image) => ({ image })) } } }, status }));
        }
        if (a[0] === "-n" && a[2] === "rollout" && a[3] === "status") {
            const [word, name] = a[4].split("/");
            const live = s.workloads.get(workloadKey({ kind: kindOf(word)!, namespace: a[1], name }));
            if (!live) return undefined;
            live.ready = true;
            return ok(`${word} "${name}" successfully rolled out\n`);
        }
        return undefined;
    }
}

/** A fake Pulumi engine: stacks and their config in memory, every call journaled. */
export class FakeWorkspace implements Workspace {
    readonly backendUrl: string;
    readonly stacks = new Set<string>();
    readonly config = new Map<string, Map<string, ConfigEntry>>();
    /** The outputs the last update left, which the next one returns. */
    stackOutputs: Outputs = { url: { value: "http://launchpad.localhost", secret: false }, namespace: { value: "launchpad-dev", secret: false } };
    /** The message of each update and destroy, in order. */
    readonly messages: string[] = [];
    /** Pulumi's history of each stack. */
    readonly updates = new Map<string, UpdateRecord[]>();
    /** Operation names (`up`, `destroy`, …) that throw like a failed engine run. */
    readonly failing = new Set<string>();
    /** What the engine's stderr says when an operation in `failing` fails. @default "<op> went wrong" */
    readonly failureText = new Map<string, string>();

    constructor(
        private readonly journal: Journal,
        readonly settings: WorkspaceSettings,
    ) {
        this.backendUrl = settings.backendUrl;
    }

    private note(op: string, stack: string, extra = ""): void {
        this.journal.push(`ws: ${op} ${stack}${extra}`);
        if (this.failing.has(op)) throw new Error(`code: 255\n stdout: \n stderr: error: ${this.failureText.get(op) ?? `${op} went wrong`}\n err?: \n`);
    }

    configOf(stack: string): Map<string, ConfigEntry> {
        let c = this.config.get(stack);
        if (!c) this.config.set(stack, (c = new Map()));
        return c;
    }

    async stackExists(stack: string) {
        return this.stacks.has(stack);
    }
    async selectOrCreate(stack: string) {
        this.note("selectOrCreate", stack);
        this.stacks.add(stack);
    }
    async getConfig(stack: string, key: string) {
        return this.configOf(stack).get(key);
    }
    async setConfig(stack: string, key: string, entry: ConfigEntry) {
        this.note("setConfig", stack, ` ${key}=${entry.secret ? "[secret]" : entry.value}`);
        this.configOf(stack).set(key, entry);
    }
    async removeConfig(stack: string, key: string) {
        this.note("removeConfig", stack, ` ${key}`);
        this.configOf(stack).delete(key);
    }
    /** Each gated run's verdict as the program heard it ("go", or "stop: <reason>"), in order. */
    readonly gates: string[] = [];
    /** A gated run's program waits at the gate before it declares anything; stopped, it fails like the real one, having changed nothing. */
    private async atGate(onOutput: (s: string) => void, gate: EngineGate | undefined): Promise<void> {
        if (gate === undefined) return;
        onOutput("(engine starting)\n");
        const verdict = await gate.verdict;
        this.gates.push(verdict.go ? "go" : `stop: ${verdict.reason}`);
        if (!verdict.go) throw new Error(`code: 255\n stdout: \n stderr: error: launchpad stopped this update before it changed anything: ${verdict.reason}\n err?: \n`);
    }
    async up(stack: string, onOutput: (s: string) => void, opts?: UpOptions) {
        await this.atGate(onOutput, opts?.gate);
        this.note("up", stack, opts?.refresh ? " refresh" : "");
        if (opts?.message !== undefined) this.messages.push(opts.message);
        onOutput("Updating (engine output)\n");
        return this.stackOutputs;
    }
    async outputs(_stack: string) {
        return this.stackOutputs;
    }
    async history(stack: string) {
        return this.updates.get(stack) ?? [];
    }
    async preview(stack: string, onOutput: (s: string) => void, opts?: { gate?: EngineGate }) {
        await this.atGate(onOutput, opts?.gate);
        this.note("preview", stack);
        onOutput("Previewing (engine output)\n");
    }
    async destroy(stack: string, opts: { excludeProtected: boolean; message?: string }, onOutput: (s: string) => void) {
        this.note("destroy", stack, ` excludeProtected=${opts.excludeProtected}`);
        if (opts.message !== undefined) this.messages.push(opts.message);
        onOutput("Destroying (engine output)\n");
    }
    async removeStack(stack: string) {
        this.note("removeStack", stack);
        this.stacks.delete(stack);
    }
    /** Operations a killed run left in the state, by stack. */
    readonly pending = new Map<string, PendingOperation[]>();
    async clearPendingOperations(stack: string) {
        const ops = this.pending.get(stack) ?? [];
        if (ops.length > 0) this.note("clearPendingOperations", stack, ` ${ops.length}`);
        this.pending.delete(stack);
        return ops;
    }
    /** The resources each stack's state lists. */
    readonly resources = new Map<string, StateResource[]>();
    async resourcesInState(stack: string) {
        this.note("resourcesInState", stack);
        return this.resources.get(stack) ?? [];
    }
}

const temps: string[] = [];

/** A temporary directory, removed by `removeTemps` (call it from an `after` hook). */
export function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-up-"));
    temps.push(dir);
    return dir;
}

export function removeTemps(): void {
    for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A temporary project directory with its own stack files, standing in for the repo root. */
export function tempProject(files: Record<string, string> = {}): string {
    const root = tempDir();
    const defaults: Record<string, string> = {
        "Pulumi.yaml": "name: launchpad\nruntime: nodejs\n",
        "Pulumi.dev.yaml": 'config:\n  launchpad:platform: kind\n  launchpad:registry: localhost:5001\n  launchpad:host: launchpad.localhost\n',
        "Pulumi.prod.yaml": 'config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: prod-cluster\n  launchpad:registry: registry.example.com/team\n  launchpad:host: app.example.com\n',
        // The build contexts the config names, which up checks before it starts.
        "apps/frontend/Dockerfile": "FROM scratch\n",
        "apps/backend/Dockerfile": "FROM scratch\n",
    };
    for (const [name, text] of Object.entries({ ...defaults, ...files })) {
        fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
        fs.writeFileSync(path.join(root, name), text);
    }
    return root;
}

/** Everything a command needs, faked, with what it printed and did collected. */
export interface Harness {
    readonly deps: Deps;
    readonly journal: Journal;
    readonly machine: FakeMachine;
    readonly lines: string[];
    readonly engineText: string[];
    /** The pauses the command waited between two tries, in ms (it waits none: the harness answers at once). */
    readonly pauses: number[];
    /** The workspace the command opened (after it opened one). */
    ws(): FakeWorkspace;
    /** Prepares the workspace before the command opens it (existing stacks, config). */
    onOpen(fn: (ws: FakeWorkspace) => void): void;
}

export function harness(opts: { machine?: MachineState; env?: Record<string, string | undefined>; root?: string; nodeVersion?: string } = {}): Harness {
    const journal: Journal = [];
    const machine = new FakeMachine(opts.machine ?? freshMachine(), journal);
    const lines: string[] = [];
    const engineText: string[] = [];
    const pauses: number[] = [];
    let opened: FakeWorkspace | undefined;
    const setups: ((ws: FakeWorkspace) => void)[] = [];
    const deps: Deps = {
        runner: machine,
        openWorkspace: async (settings) => {
            journal.push("ws: open");
            opened = new FakeWorkspace(journal, settings);
            for (const s of setups) s(opened);
            return opened;
        },
        repoRoot: opts.root ?? tempProject(),
        env: opts.env ?? {},
        nodeVersion: opts.nodeVersion ?? "22.19.0",
        checkCluster: async () => undefined,
        namespaceExists: async () => true,
        // Every rollout complete, as the cluster would say once the update is done.
        readWorkloads: async () => [],
        processes: { list: () => [], answers: async () => true, end: () => undefined },
        pause: async (ms) => {
            pauses.push(ms);
        },
        checkStateDisk: () => ({ freeBytes: 64 * 1024 ** 3, stateBytes: 200 * 1024 }),
        readCommit: async () => "5d1e0c2",
        checkRegistry: async (registry, credentials) => {
            journal.push(`registry: check ${registry} as ${credentials?.username ?? "(docker's login)"}`);
            return { status: "accepted", message: `${registry} accepted` };
        },
        io: {
            info: (l) => {
                lines.push(l);
                journal.push(`info: ${l}`);
            },
            engine: (t) => engineText.push(t),
        },
    };
    return {
        deps,
        journal,
        machine,
        lines,
        engineText,
        pauses,
        ws: () => {
            if (!opened) throw new Error("the command opened no workspace");
            return opened;
        },
        onOpen: (fn) => setups.push(fn),
    };
}

/** The journal entries of one kind (`run:`, `ws:`), prefix removed. */
export function entries(journal: Journal, kind: "run" | "ws"): string[] {
    return journal.filter((e) => e.startsWith(`${kind}: `)).map((e) => e.slice(kind.length + 2));
}

/** The index of the first journal entry that starts with `prefix` (fails the test when there is none). */
export function indexOf(journal: Journal, prefix: string): number {
    const i = journal.findIndex((e) => e.startsWith(prefix));
    if (i < 0) throw new Error(`no journal entry starts with "${prefix}":\n${journal.join("\n")}`);
    return i;
}

