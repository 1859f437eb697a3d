// `npm run doctor`: see COMMAND.
//
// Says before deploying what will not schedule, pull or route, and what to change. The workloads come
// from the program itself, run under Pulumi mocks with the stack's config (tools/harness); the cluster
// either live through the stack's kubeconfig context or from `kubectl get nodes/pods -o json` files.
// Exit 0: everything would work. 1: something would not, the stack's config is invalid, or the cluster
// cannot be read. 2: wrong usage, including a --nodes or --pods file that cannot be read (tools/cli.ts
// EXIT_RULE).

import { type CommandSpec, exitWith, Failure, firstLine, helpOutcome, type Outcome, readCommandLine, runCommand, single, stackFailure, stackOf, STACK_OPTION, UsageError } from "../cli";
import { checkArchitecture } from "./architecture";
import { checkIngressClasses, checkStorageClasses, ClusterCheck } from "./checks";
import { ClusterSource, FileClusterSource, LiveClusterSource } from "./cluster";
import { diagnose } from "./diagnose";
import { KIND } from "../../lib/kind";
import { checkIngressNamespace, checkNetworkPolicyEnforcement } from "./network";
import { checkImage, credentialsFor, Credentials, helperCredentials, ImageCheck, parseImageRef, readDockerConfig } from "../../lib/registry";
import { ProcessRunner } from "../../lib/runner";
import { buildReport, DoctorReport, formatJson, formatText, ImageReport, nodeReport, workloadReport } from "./report";
import { ManifestLike, nodeStates, scheduleWorkloads, schedulerWording, Workload, workloadsOf } from "./schedule";

/** The part of the stack's LaunchpadConfig (components/config.ts) the doctor reads. */
export interface StackConfig {
    readonly platform?: string;
    readonly cluster?: { readonly context: string; readonly kubeconfig?: string };
    readonly registry?: { readonly server: string; readonly username?: string };
    readonly ingress?: { readonly className?: string };
    readonly database?: { readonly image?: string; readonly storage?: { readonly className?: string } };
    readonly scheduling?: { readonly tolerations?: readonly unknown[] };
    readonly imagePlatform?: string;
    readonly network?: { readonly ingressNamespace?: string };
}

/** What tools/harness runStack returns, as far as the doctor reads it. */
export interface StackRun { readonly stack: string; readonly config: StackConfig; readonly objects: readonly ManifestLike[] }

export interface DoctorArgs { stack: string; nodes?: string; pods?: string; json: boolean }

export interface DoctorDeps {
    /** Runs the program under mocks for a stack; throws for an unknown stack or bad config. */
    loadStack(stack: string): Promise<StackRun>;
    /** Where the cluster's state comes from. */
    clusterSource(args: DoctorArgs, config: StackConfig): ClusterSource;
    /** Asks a registry about one image. */
    checkImage(image: string, credentials: Credentials | undefined): Promise<ImageCheck>;
    /** Registry credentials for a registry host. */
    credentials(registry: string, config: StackConfig): Promise<Credentials | undefined>;
}

export const COMMAND: CommandSpec = {
    name: "doctor",
    synopsis: "[--stack <name>] [--nodes <file> [--pods <file>]] [--json]",
    about:
        "Says before deploying what will not schedule, pull or route, and what to change. The workloads come from the program\n" +
        "run under Pulumi mocks with the stack's config; the cluster is read live through the stack's launchpad:kubeContext\n" +
        "(and launchpad:kubeconfig) in Pulumi.<stack>.yaml, or offline from kubectl's JSON: --nodes (and --pods) let you check\n" +
        "a cluster you cannot reach from here, or before you have a kubeconfig for it, from files someone took where it is reachable.",
    options: [
        STACK_OPTION,
        { flag: "--nodes", value: "<file>", doc: "read the nodes from this file (kubectl get nodes -o json) instead of the live cluster; no registry is asked" },
        { flag: "--pods", value: "<file>", doc: "with --nodes: the pods that run (kubectl get pods -A -o json), for capacity, NetworkPolicy and the ingress controller" },
        { flag: "--json", doc: "print the report as JSON" },
    ],
};

/** Parses the command line; "help" for --help; throws UsageError. */
export function parseArgs(argv: readonly string[]): DoctorArgs | "help" {
    const flags = readCommandLine(argv, COMMAND);
    if (flags === "help") return "help";
    const nodes = single(flags, "--nodes"), pods = single(flags, "--pods");
    if (pods && !nodes) throw new UsageError("--pods needs --nodes (without --nodes the doctor reads nodes and pods from the live cluster)");
    return { stack: stackOf(flags), json: flags.has("--json"), ...(nodes && { nodes }), ...(pods && { pods }) };
}

function defaultDeps(env: NodeJS.ProcessEnv): DoctorDeps {
    return {
        loadStack: async (stack) => {
            // Loaded on first use: the harness brings the Pulumi runtime, which tests that inject a StackRun skip.
            const harness = await import("../harness");
            return harness.runStack(stack);
        },
        clusterSource: (args, config) => {
            if (args.nodes) return new FileClusterSource(args.nodes, args.pods);
            if (!config.cluster?.context) throw new Failure(`stack ${args.stack} names no cluster context: set launchpad:kubeContext in Pulumi.${args.stack}.yaml, or pass --nodes`);
            const kind = config.platform === "kind" && config.cluster.context === KIND.context;
            return new LiveClusterSource({ ...config.cluster, stack: args.stack, ...(kind && { kindCluster: KIND.cluster }) }, undefined, env);
        },
        checkImage: (image, credentials) => checkImage(image, { credentials }),
        credentials: async (registry, config) => {
            const dockerConfig = await readDockerConfig(env);
            return credentialsFor(registry, { env, dockerConfig, stackRegistry: config.registry?.server, stackUsername: config.registry?.username })
                ?? helperCredentials(registry, dockerConfig, new ProcessRunner(env));
        },
    };
}

function imagesOf(workloads: Workload[]): Map<string, string[]> {
    const used = new Map<string, string[]>();
    for (const w of workloads) {
        for (const c of [...(w.spec.initContainers ?? []), ...w.spec.containers]) {
            if (!c.image) continue;
            const by = `${w.kind}/${w.name}`;
            const list = used.get(c.image) ?? [];
            if (!list.includes(by)) list.push(by);
            used.set(c.image, list);
        }
    }
    return used;
}

function registryHost(server: string | undefined): string | undefined {
    return server?.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

async function checkImages(workloads: Workload[], config: StackConfig, deps: DoctorDeps): Promise<ImageReport[]> {
    const stackRegistry = registryHost(config.registry?.server);
    return Promise.all(
        [...imagesOf(workloads)].map(async ([image, usedBy]) => {
            let registry = "";
            try {
                registry = parseImageRef(image).registry;
            } catch {
                // checkImage reports the malformed reference itself.
            }
            const result = await deps.checkImage(image, registry ? await deps.credentials(registry, config) : undefined);
            const pushedByStack = registry !== "" && registry === stackRegistry;
            // A missing image the plan itself pushes is expected before the first `pulumi up`; a refused or
            // unreachable registry, or a missing image nobody pushes, would fail the pull.
            const blocking = !result.ok && !(pushedByStack && result.status === "missing");
            return { ...result, usedBy, pushedByStack, blocking };
        }),
    );
}

/** Everything the doctor finds for a stack and a cluster; the command only prints it. */
export async function examine(args: DoctorArgs, deps: DoctorDeps): Promise<DoctorReport> {
    // Files are read before the program runs, so a mistyped path fails in a moment, not after the mocks.
    let source = args.nodes ? deps.clusterSource(args, {}) : undefined;
    let snapshot = source ? await source.read() : undefined;
    let run: StackRun;
    try {
        run = await deps.loadStack(args.stack);
    } catch (e) {
        throw stackFailure(e);
    }
    const config = run.config;
    if (!source || !snapshot) {
        source = deps.clusterSource(args, config);
        snapshot = await source.read();
    }

    let nodes, workloads: Workload[], verdicts;
    try {
        nodes = nodeStates(snapshot.nodes, snapshot.pods);
        workloads = workloadsOf(run.objects);
        verdicts = scheduleWorkloads(workloads, nodes, schedulerWording(snapshot.serverVersion));
    } catch (e) {
        // Files named on the command line are the user's input; a live cluster's odd answer is a failure.
        const message = `cannot evaluate ${source.description} against stack ${args.stack}: ${firstLine(e)}`;
        throw source.live ? new Failure(message, { cause: e }) : new UsageError(message);
    }
    const ctx = { stack: args.stack, platform: config.platform, existingTolerations: config.scheduling?.tolerations?.length ?? 0 };
    const skipped: string[] = [];

    let images: ImageReport[] = [];
    if (source.live) images = await checkImages(workloads, config, deps);
    else skipped.push("images: the cluster came from files, so the doctor stays offline; run it without --nodes to ask the registry");

    let routingAndStorage: ClusterCheck[] = [];
    if (snapshot.ingressClasses && snapshot.storageClasses) {
        routingAndStorage = [
            ...checkIngressClasses(run.objects, snapshot.ingressClasses, config.ingress?.className),
            ...checkStorageClasses(run.objects, snapshot.storageClasses, config.database?.storage?.className),
        ];
    } else {
        skipped.push("IngressClass and StorageClass: not in kubectl's node and pod dumps; run without --nodes to check them");
    }

    // The stack's config carries every default (tools/harness), so a key is missing only from a hand-made StackRun.
    const networkAndNodes: ClusterCheck[] = config.imagePlatform ? checkArchitecture(snapshot.nodes, verdicts, { stack: args.stack, imagePlatform: config.imagePlatform }) : [];
    // Offline without --pods the doctor sees no pod at all, so it cannot tell what runs where.
    if (source.live || args.pods) {
        const byKind = (kind: string) => run.objects.filter((o) => o.kind === kind).map((o) => `${o.kind}/${o.metadata.name}`);
        const policies = byKind("NetworkPolicy");
        if (policies.length > 0) networkAndNodes.push(checkNetworkPolicyEnforcement(snapshot.pods, snapshot.nodes, policies));
        const ingressNamespace = config.network?.ingressNamespace;
        if (ingressNamespace) {
            const appNamespaces = [...new Set(workloads.map((w) => w.namespace))];
            networkAndNodes.push(checkIngressNamespace(snapshot.pods, { stack: args.stack, ingressNamespace, appNamespaces, usedBy: byKind("Ingress") }));
        }
    } else {
        skipped.push("NetworkPolicy enforcement and the ingress controller's namespace: read from the pods that run; pass --pods, or run without --nodes");
    }

    return buildReport({
        stack: args.stack,
        source: source.description,
        nodes: nodes.map(nodeReport),
        workloads: verdicts.map((v) => workloadReport(v, diagnose(v, nodes, ctx))),
        images,
        routingAndStorage,
        networkAndNodes,
        skipped,
    });
}

/** The command: argv in, exit code and output out. `deps` replaces the boundaries (tests). */
export async function runDoctor(argv: readonly string[], deps: Partial<DoctorDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    return runCommand(COMMAND, async () => {
        const args = parseArgs(argv);
        if (args === "help") return helpOutcome(COMMAND);
        const report = await examine(args, { ...defaultDeps(env), ...deps });
        return { code: report.ok ? 0 : 1, stdout: args.json ? formatJson(report) : formatText(report), stderr: "" };
    }, env);
}

if (require.main === module) exitWith(runDoctor(process.argv.slice(2)));
