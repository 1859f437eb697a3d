import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import * as YAML from "yaml";
import { UpError } from "./errors";
import { INGRESS_NGINX, ingressNginxManifestUrl, isManifestUrl, KIND, type KindSettings } from "../../lib/kind";
import { loadConfig } from "../../components/config";
import type { RunResult, Runner } from "../../lib/runner";

export { INGRESS_NGINX, ingressNginxManifestUrl };

// The local platform the `dev` stack deploys to, as kind's own guides build it: the cluster of KIND
// whose node takes host ports 80/443 for the ingress controller, a registry container at
// `localhost:5001` wired into containerd on every node, and ingress-nginx. Everything here is done with
// the `docker`, `kind` and `kubectl` CLIs, each step observing before it acts, so a second run changes
// nothing (why CLIs and not Pulumi resources: docs/kind.md). Where the node image, the registry image and
// the ingress controller come from is the stack's (KindSettings), for users behind a mirror or offline.

/** Where containerd on each node looks up how to reach `localhost:5001`. */
export const REGISTRY_HOSTS_DIR = `/etc/containerd/certs.d/localhost:${KIND.registryPort}`;

/**
 * The kind cluster: containerd reads per-registry `hosts.toml` files (kind node images before v0.27
 * need the patch), and the single node is labelled `ingress-ready=true` and takes host ports 80/443
 * on 127.0.0.1 only, so the app is reachable from this machine and not from the network.
 */
export function kindClusterConfig(): string {
    return [
        "kind: Cluster",
        "apiVersion: kind.x-k8s.io/v1alpha4",
        `name: ${KIND.cluster}`,
        "containerdConfigPatches:",
        "  - |-",
        '    [plugins."io.containerd.grpc.v1.cri".registry]',
        '      config_path = "/etc/containerd/certs.d"',
        "nodes:",
        "  - role: control-plane",
        "    labels:",
        '      ingress-ready: "true"',
        "    extraPortMappings:",
        "      - containerPort: 80",
        "        hostPort: 80",
        '        listenAddress: "127.0.0.1"',
        "        protocol: TCP",
        "      - containerPort: 443",
        "        hostPort: 443",
        '        listenAddress: "127.0.0.1"',
        "        protocol: TCP",
        "",
    ].join("\n");
}

/** containerd's alias: `localhost:5001` inside a node means the registry container on the kind network. */
export function registryHostsToml(): string {
    return `[host."http://${KIND.registry}:5000"]\n`;
}

/** What `localRegistryHosting.v1` holds (KEP-1755), so tools in the cluster can discover the registry. */
export function localRegistryHostingValue(): string {
    return `host: "localhost:${KIND.registryPort}"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n`;
}

export function localRegistryHostingConfigMap(): string {
    const value = localRegistryHostingValue()
        .trimEnd()
        .split("\n")
        .map((l) => `    ${l}`)
        .join("\n");
    return [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: local-registry-hosting",
        "  namespace: kube-public",
        "data:",
        "  localRegistryHosting.v1: |",
        value,
        "",
    ].join("\n");
}

// ---- decisions: pure functions of what the CLIs reported -------------------------------------------

export type RegistryAction = "keep" | "start" | "create";

/** From `docker inspect -f {{.State.Running}} kind-registry`: absent → create, stopped → start. */
export function registryAction(inspect: RunResult): RegistryAction {
    if (inspect.code !== 0) return "create";
    return inspect.stdout.trim() === "true" ? "keep" : "start";
}

/** Whether `kind get clusters` lists `name` (kind prints "No kind clusters found." on stderr). */
export function clusterListed(getClusters: RunResult, name: string = KIND.cluster): boolean {
    return getClusters.code === 0 && getClusters.stdout.split(/\r?\n/).some((l) => l.trim() === name);
}

/** From `docker inspect -f {{json .NetworkSettings.Networks.kind}} kind-registry`: `null` means not connected. */
export function registryOnNetwork(inspect: RunResult): boolean {
    const out = inspect.stdout.trim();
    return inspect.code === 0 && out !== "" && out !== "null";
}

export type IngressAction = "keep" | "wait" | "install" | "upgrade";

/**
 * From `kubectl get deployment ingress-nginx-controller -o json`: not there → install; another
 * release → upgrade; the pinned release with a ready replica → keep; otherwise wait for its rollout.
 */
export function ingressAction(getDeployment: RunResult, version: string = INGRESS_NGINX.version): IngressAction {
    if (getDeployment.code !== 0) return "install";
    let deployment: { metadata?: { labels?: Record<string, string> }; status?: { readyReplicas?: number } };
    try {
        deployment = JSON.parse(getDeployment.stdout);
    } catch {
        return "install";
    }
    const installed = deployment.metadata?.labels?.["app.kubernetes.io/version"];
    if (installed !== version) return "upgrade";
    return (deployment.status?.readyReplicas ?? 0) >= 1 ? "keep" : "wait";
}

/** The node names `kind get nodes` printed. */
export function nodeNames(getNodes: RunResult): string[] {
    if (getNodes.code !== 0) return [];
    return getNodes.stdout
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("No kind nodes"));
}

/** A controller workload a manifest declares, with the images it pins. */
export interface ManifestWorkload {
    readonly kind: "Deployment" | "DaemonSet";
    readonly namespace: string;
    readonly name: string;
    readonly images: readonly string[];
}

/** What `up` waits for after applying an ingress controller's manifest: what the manifest itself declares. */
export interface ManifestTargets {
    readonly workloads: readonly ManifestWorkload[];
    /** Jobs (ingress-nginx's admission certificate Jobs): waited for, and replaced before another release is applied. */
    readonly jobs: readonly { readonly namespace: string; readonly name: string }[];
    readonly ingressClasses: readonly string[];
}

interface ManifestObject {
    kind?: string;
    metadata?: { name?: string; namespace?: string };
    spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
    items?: ManifestObject[];
}

/** Reads a manifest (YAML documents, or kubectl's JSON/YAML output with `kind: List`) for the objects `up` waits for; throws what is wrong with its YAML. */
export function manifestTargets(text: string): ManifestTargets {
    const objects: ManifestObject[] = [];
    const add = (o: unknown): void => {
        if (typeof o !== "object" || o === null) return;
        const obj = o as ManifestObject;
        if (obj.kind === "List" && Array.isArray(obj.items)) obj.items.forEach(add);
        else objects.push(obj);
    };
    for (const doc of YAML.parseAllDocuments(text)) {
        if (doc.errors.length > 0) throw new UpError(`is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
        add(doc.toJS());
    }
    const where = (o: ManifestObject) => ({ namespace: o.metadata?.namespace ?? "default", name: o.metadata?.name ?? "" });
    return {
        workloads: objects
            .filter((o): o is ManifestObject & { kind: "Deployment" | "DaemonSet" } => o.kind === "Deployment" || o.kind === "DaemonSet")
            .map((o) => ({ kind: o.kind, ...where(o), images: (o.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? "") })),
        jobs: objects.filter((o) => o.kind === "Job").map(where),
        ingressClasses: objects.filter((o) => o.kind === "IngressClass").map((o) => o.metadata?.name ?? ""),
    };
}

/**
 * Why `up` cannot wait for a manifest's controller, or undefined: it must declare a Deployment or
 * DaemonSet, the IngressClass the app's Ingress names, and run where the app's NetworkPolicies let
 * traffic in from (launchpad:ingressNamespace).
 */
export function manifestProblem(targets: ManifestTargets, settings: Pick<KindSettings, "ingressClass" | "ingressNamespace">): string | undefined {
    if (targets.workloads.length === 0) return "declares no Deployment or DaemonSet, so there is no controller to wait for";
    if (!targets.ingressClasses.includes(settings.ingressClass)) {
        const declared = targets.ingressClasses.length === 0 ? "none" : targets.ingressClasses.join(", ");
        return `declares no IngressClass named ${settings.ingressClass} (launchpad:ingressClass); it declares ${declared}: set launchpad:ingressClass to the controller's class`;
    }
    const elsewhere = targets.workloads.find((w) => w.namespace !== settings.ingressNamespace);
    if (elsewhere) {
        return `runs its controller ${elsewhere.kind} ${elsewhere.name} in namespace ${elsewhere.namespace}, but launchpad:ingressNamespace is ${settings.ingressNamespace}, so the app's NetworkPolicies would turn the controller away: set launchpad:ingressNamespace to ${elsewhere.namespace}`;
    }
    return undefined;
}

export type WorkloadState = "absent" | "other" | "unready" | "ready";

/** From `kubectl get <kind> <name> -o json`: not there; running other images than the manifest's; not ready yet; ready. */
export function workloadState(get: RunResult, workload: ManifestWorkload): WorkloadState {
    if (get.code !== 0) return "absent";
    let live: ManifestObject & { status?: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number } };
    try {
        live = JSON.parse(get.stdout);
    } catch {
        return "absent";
    }
    const images = (live.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? "");
    if (images.join("\n") !== workload.images.join("\n")) return "other";
    const ready =
        workload.kind === "Deployment"
            ? (live.status?.readyReplicas ?? 0) >= 1
            : (live.status?.numberReady ?? 0) >= 1 && (live.status?.numberReady ?? 0) >= (live.status?.desiredNumberScheduled ?? 0);
    return ready ? "ready" : "unready";
}

function configMapValue(get: RunResult): string | undefined {
    if (get.code !== 0) return undefined;
    try {
        return (JSON.parse(get.stdout) as { data?: Record<string, string> }).data?.["localRegistryHosting.v1"];
    } catch {
        return undefined;
    }
}

// ---- the walk -----------------------------------------------------------------------------------

/** One platform step as reported to the user: already fine, done now, or (in a check) missing. */
export interface PlatformStep {
    readonly name: string;
    readonly state: "ok" | "done" | "missing";
    readonly detail: string;
}

export interface PlatformLog {
    /** One line per step. */
    readonly info: (line: string) => void;
    /** Progress of long commands (cluster creation, the controller's rollout). */
    readonly progress?: (chunk: string) => void;
}

const quiet: PlatformLog = { info: () => undefined };

/** What the stack chose about the platform, and where its paths are. */
export interface KindPlatformOptions {
    /** @default the dev stack's defaults: kind's node image, registry:3, the pinned ingress-nginx */
    readonly settings?: KindSettings;
    /** The project folder, which a manifest's path is relative to. @default the working directory */
    readonly projectRoot?: string;
    /** Waits between two looks for an IngressClass brought by the user. @default a timer */
    readonly pause?: (ms: number) => Promise<void>;
}

/** The kind platform of a stack that sets none of its keys. */
export function defaultKindSettings(): KindSettings {
    return loadConfig({}, { stack: "dev" }).kind!;
}

/** How long `up` waits for the IngressClass of a controller the user brings, and how often it looks. */
export const BROUGHT_CLASS_WAIT = { seconds: 300, everyMs: 5000 } as const;

function kubectl(...args: string[]): string[] {
    return ["--context", KIND.context, ...args];
}

function failed(what: string, result: RunResult, hint?: string): UpError {
    const said = (result.stderr || result.stdout).trim();
    return new UpError(`${what} failed (exit ${result.code})${said ? `:\n${said}` : ""}${hint ? `\n${hint}` : ""}`);
}

class Walk {
    readonly steps: PlatformStep[] = [];
    private readonly settings: KindSettings;
    constructor(
        private readonly runner: Runner,
        private readonly apply: boolean,
        private readonly log: PlatformLog,
        private readonly options: KindPlatformOptions,
    ) {
        this.settings = options.settings ?? defaultKindSettings();
    }

    record(step: PlatformStep): void {
        this.steps.push(step);
        const mark = step.state === "ok" ? "ok  " : step.state === "done" ? "done" : "todo";
        this.log.info(`  [${mark}] ${step.name}: ${step.detail}`);
    }

    /** Runs a command that changes something; in a check it only records what is missing. */
    async change(name: string, detail: string, missing: string, cmd: string, args: string[], opts: { input?: string; stream?: boolean; hint?: string } = {}): Promise<void> {
        if (!this.apply) {
            this.record({ name, state: "missing", detail: missing });
            return;
        }
        const result = await this.runner.run(cmd, args, { input: opts.input, onOutput: opts.stream ? this.log.progress : undefined });
        if (result.code !== 0) throw failed(`${cmd} ${args.slice(0, 3).join(" ")}`, result, opts.hint);
        this.record({ name, state: "done", detail });
    }

    run(cmd: string, args: string[], input?: string): Promise<RunResult> {
        return this.runner.run(cmd, args, input === undefined ? undefined : { input });
    }

    async registry(): Promise<void> {
        const name = `registry ${KIND.registry}`;
        const action = registryAction(await this.run("docker", ["inspect", "-f", "{{.State.Running}}", KIND.registry]));
        const image = this.settings.registryImage;
        // An existing container keeps the image it was created from: said, never replaced behind the user's back.
        const other = action === "create" ? "" : otherImageNote(await this.run("docker", ["inspect", "-f", "{{.Config.Image}}", KIND.registry]), image, "launchpad:registryImage", "registry");
        if (action === "keep") return this.record({ name, state: "ok", detail: `running at localhost:${KIND.registryPort}${other}` });
        if (action === "start") return this.change(name, `started (it existed but was stopped)${other}`, "exists but is stopped", "docker", ["start", KIND.registry]);
        return this.change(
            name,
            `created at localhost:${KIND.registryPort} from ${image}`,
            "does not exist",
            "docker",
            ["run", "-d", "--restart=always", "-p", `127.0.0.1:${KIND.registryPort}:5000`, "--network", "bridge", "--name", KIND.registry, image],
            { hint: `If port ${KIND.registryPort} is taken, stop whatever listens there (docker ps) and run again.` },
        );
    }

    /** Returns whether the cluster exists afterwards (in a check it may not). */
    async cluster(): Promise<boolean> {
        const name = `kind cluster ${KIND.cluster}`;
        const nodeImage = this.settings.nodeImage;
        if (!clusterListed(await this.run("kind", ["get", "clusters"]))) {
            const created = `created${nodeImage ? ` from ${nodeImage}` : ""} (node labelled ingress-ready, host ports 80/443)`;
            const image = nodeImage ? ["--image", nodeImage] : [];
            await this.change(name, created, "does not exist", "kind", ["create", "cluster", "--name", KIND.cluster, "--config", "-", ...image], {
                input: kindClusterConfig(),
                stream: true,
                hint: "If ports 80 or 443 are in use on this machine, free them (another cluster, a local web server) and run again.",
            });
            return this.apply;
        }
        const nodes = nodeNames(await this.run("kind", ["get", "nodes", "--name", KIND.cluster]));
        // kind's node image is chosen when the cluster is created: a cluster from another one is said, not recreated.
        const other = nodeImage === undefined || nodes.length === 0 ? "" : otherImageNote(await this.run("docker", ["inspect", "-f", "{{.Config.Image}}", nodes[0]]), nodeImage, "launchpad:kindNodeImage", "cluster");
        this.record({ name, state: "ok", detail: `exists${other}` });
        // After a Docker restart the node containers may be stopped; kind itself does not restart them.
        for (const node of nodes) {
            const running = await this.run("docker", ["inspect", "-f", "{{.State.Running}}", node]);
            if (running.code === 0 && running.stdout.trim() !== "true") {
                await this.change(`node ${node}`, "started", "is stopped", "docker", ["start", node]);
            }
        }
        return true;
    }

    async kubeContext(): Promise<void> {
        const name = `kubeconfig context ${KIND.context}`;
        const has = await this.run("kubectl", ["config", "get-contexts", KIND.context]);
        if (has.code === 0) return this.record({ name, state: "ok", detail: "present" });
        return this.change(name, "exported from kind", "is missing from your kubeconfig", "kind", ["export", "kubeconfig", "--name", KIND.cluster]);
    }

    async registryOnNodes(): Promise<void> {
        const nodes = nodeNames(await this.run("kind", ["get", "nodes", "--name", KIND.cluster]));
        const file = `${REGISTRY_HOSTS_DIR}/hosts.toml`;
        for (const node of nodes) {
            const name = `registry config on ${node}`;
            const current = await this.run("docker", ["exec", node, "cat", file]);
            if (current.code === 0 && current.stdout.trim() === registryHostsToml().trim()) {
                this.record({ name, state: "ok", detail: `localhost:${KIND.registryPort} → ${KIND.registry}:5000` });
                continue;
            }
            if (this.apply) {
                const mkdir = await this.run("docker", ["exec", node, "mkdir", "-p", REGISTRY_HOSTS_DIR]);
                if (mkdir.code !== 0) throw failed(`docker exec ${node} mkdir`, mkdir);
            }
            await this.change(name, `localhost:${KIND.registryPort} → ${KIND.registry}:5000 written`, "not written", "docker", ["exec", "-i", node, "cp", "/dev/stdin", file], {
                input: registryHostsToml(),
            });
        }
    }

    async network(): Promise<void> {
        const name = `registry on the ${KIND.network} network`;
        const on = registryOnNetwork(await this.run("docker", ["inspect", "-f", `{{json .NetworkSettings.Networks.${KIND.network}}}`, KIND.registry]));
        if (on) return this.record({ name, state: "ok", detail: "connected" });
        return this.change(name, "connected", "not connected", "docker", ["network", "connect", KIND.network, KIND.registry]);
    }

    async registryConfigMap(): Promise<void> {
        const name = "ConfigMap kube-public/local-registry-hosting";
        const current = configMapValue(await this.run("kubectl", kubectl("-n", "kube-public", "get", "configmap", "local-registry-hosting", "-o", "json")));
        if (current !== undefined && current.trim() === localRegistryHostingValue().trim()) return this.record({ name, state: "ok", detail: "present" });
        return this.change(name, "applied", "missing", "kubectl", kubectl("apply", "-f", "-"), { input: localRegistryHostingConfigMap() });
    }

    /** The ingress controller the stack chose: the pinned ingress-nginx, another manifest, or the user's own. */
    async ingressController(): Promise<void> {
        const ingress = this.settings.ingress;
        if (ingress.controller === "none") return this.broughtController();
        if (ingress.manifest === ingressNginxManifestUrl()) return this.pinnedIngressNginx();
        return this.manifestController(ingress.manifest);
    }

    async pinnedIngressNginx(): Promise<void> {
        const name = `ingress-nginx ${INGRESS_NGINX.version}`;
        const ns = INGRESS_NGINX.namespace;
        const action = ingressAction(await this.run("kubectl", kubectl("-n", ns, "get", "deployment", INGRESS_NGINX.deployment, "-o", "json")));
        if (action === "keep") return this.record({ name, state: "ok", detail: "controller ready" });
        if (!this.apply) {
            const what = { install: "not installed", upgrade: "another release is installed", wait: "controller not ready" }[action];
            return this.record({ name, state: "missing", detail: what });
        }
        if (action === "upgrade") {
            // the admission Jobs' pod templates are immutable: remove the finished ones so apply can recreate them
            const del = await this.run("kubectl", kubectl("-n", ns, "delete", "job", ...INGRESS_NGINX.admissionJobs, "--ignore-not-found"));
            if (del.code !== 0) throw failed("kubectl delete job", del);
        }
        if (action === "install" || action === "upgrade") {
            const url = ingressNginxManifestUrl();
            const applied = await this.runner.run("kubectl", kubectl("apply", "-f", url), { onOutput: this.log.progress });
            if (applied.code !== 0) throw failed(`kubectl apply -f ${url}`, applied, "kubectl downloads this manifest itself: check this machine's internet connection.");
        }
        // The admission webhook rejects Ingresses until its certificate is patched in: wait for that Job
        // (a cluster that already cleaned it up is fine), then for the controller's rollout.
        const patch = await this.run("kubectl", kubectl("-n", ns, "wait", "--for=condition=complete", `job/${INGRESS_NGINX.admissionJobs[1]}`, `--timeout=${INGRESS_NGINX.waitTimeout}`));
        if (patch.code !== 0 && !/not ?found/i.test(patch.stderr)) throw failed("waiting for the ingress-nginx admission webhook", patch);
        const rollout = await this.runner.run("kubectl", kubectl("-n", ns, "rollout", "status", `deployment/${INGRESS_NGINX.deployment}`, `--timeout=${INGRESS_NGINX.waitTimeout}`), {
            onOutput: this.log.progress,
        });
        if (rollout.code !== 0) {
            throw failed("waiting for the ingress-nginx controller", rollout, `Look at: kubectl --context ${KIND.context} -n ${ns} describe pods`);
        }
        this.record({ name, state: "done", detail: action === "wait" ? "controller became ready" : "installed, controller ready" });
    }

    /** The manifest's text: a path is read here, a URL by kubectl (this machine's proxy and certificates, as for the pinned one). */
    async readManifest(source: string): Promise<string> {
        if (!isManifestUrl(source)) {
            const file = path.resolve(this.options.projectRoot ?? process.cwd(), source);
            try {
                return fs.readFileSync(file, "utf8");
            } catch (error) {
                throw new UpError(`launchpad:ingressManifest ${source} cannot be read: ${(error as Error).message}`);
            }
        }
        const read = await this.run("kubectl", kubectl("create", "--dry-run=client", "-o", "yaml", "-f", source));
        if (read.code !== 0) {
            throw failed(`reading launchpad:ingressManifest ${source}`, read, "kubectl downloads it: check that this machine reaches that address, or download the manifest and set launchpad:ingressManifest to its path in the project.");
        }
        return read.stdout;
    }

    /** A controller from launchpad:ingressManifest: applied until what it declares runs with its images, then waited for by its own names. */
    async manifestController(source: string): Promise<void> {
        const name = `ingress controller from ${source}`;
        const text = await this.readManifest(source);
        let targets: ManifestTargets;
        try {
            targets = manifestTargets(text);
        } catch (error) {
            throw new UpError(`launchpad:ingressManifest ${source} ${(error as Error).message}. Nothing was installed.`);
        }
        const problem = manifestProblem(targets, this.settings);
        if (problem) throw new UpError(`launchpad:ingressManifest ${source} ${problem}. Nothing was installed.`);
        const states = await Promise.all(
            targets.workloads.map(async (w) => workloadState(await this.run("kubectl", kubectl("-n", w.namespace, "get", w.kind.toLowerCase(), w.name, "-o", "json")), w)),
        );
        const classThere = await this.hasIngressClass();
        // A controller not ready is applied again before the wait: a manifest fixed since (the
        // namespace's pod security, an image) takes effect; applying an unchanged one changes nothing.
        const apply = states.some((st) => st !== "ready") || !classThere;
        if (!apply) return this.record({ name, state: "ok", detail: `controller ready, IngressClass ${this.settings.ingressClass}` });
        if (!this.apply) {
            const what = states.includes("absent") ? "not installed" : states.includes("other") ? "another version is installed" : !classThere ? `IngressClass ${this.settings.ingressClass} missing` : "controller not ready";
            return this.record({ name, state: "missing", detail: what });
        }
        if (states.includes("other")) {
            // Jobs' pod templates are immutable: the finished ones of the installed version go, so apply can recreate them.
            for (const job of targets.jobs) {
                const del = await this.run("kubectl", kubectl("-n", job.namespace, "delete", "job", job.name, "--ignore-not-found"));
                if (del.code !== 0) throw failed("kubectl delete job", del);
            }
        }
        const applied = await this.runner.run("kubectl", kubectl("apply", "-f", "-"), { input: text, onOutput: this.log.progress });
        if (applied.code !== 0) throw failed(`kubectl apply of ${source}`, applied, "Its images must be pullable by the cluster's node: a mirror's manifest names the mirror's images.");
        for (const job of targets.jobs) {
            const done = await this.run("kubectl", kubectl("-n", job.namespace, "wait", "--for=condition=complete", `job/${job.name}`, `--timeout=${INGRESS_NGINX.waitTimeout}`));
            if (done.code !== 0 && !/not ?found/i.test(done.stderr)) throw failed(`waiting for Job ${job.namespace}/${job.name} of ${source}`, done);
        }
        for (const w of targets.workloads) {
            const rollout = await this.runner.run("kubectl", kubectl("-n", w.namespace, "rollout", "status", `${w.kind.toLowerCase()}/${w.name}`, `--timeout=${INGRESS_NGINX.waitTimeout}`), {
                onOutput: this.log.progress,
            });
            if (rollout.code !== 0) {
                throw failed(`waiting for the ingress controller ${w.kind} ${w.namespace}/${w.name}`, rollout, `Look at: kubectl --context ${KIND.context} -n ${w.namespace} describe pods`);
            }
        }
        this.record({ name, state: "done", detail: `applied, controller ready, IngressClass ${this.settings.ingressClass}` });
    }

    async hasIngressClass(): Promise<boolean> {
        return (await this.run("kubectl", kubectl("get", "ingressclass", this.settings.ingressClass, "-o", "name"))).code === 0;
    }

    /** launchpad:ingressController none: nothing is installed; `up` waits, bounded, for the IngressClass the user's controller provides. */
    async broughtController(): Promise<void> {
        const cls = this.settings.ingressClass;
        const name = `IngressClass ${cls}`;
        if (await this.hasIngressClass()) return this.record({ name, state: "ok", detail: "present (launchpad:ingressController is none: your controller)" });
        if (!this.apply) return this.record({ name, state: "missing", detail: "not in the cluster (launchpad:ingressController is none: install your controller)" });
        this.log.info(`  [wait] ${name}: launchpad:ingressController is none, so launchpad installs no controller; waiting up to ${BROUGHT_CLASS_WAIT.seconds} s for yours`);
        for (let waited = 0; waited < BROUGHT_CLASS_WAIT.seconds * 1000; waited += BROUGHT_CLASS_WAIT.everyMs) {
            await (this.options.pause ?? delay)(BROUGHT_CLASS_WAIT.everyMs);
            if (await this.hasIngressClass()) return this.record({ name, state: "done", detail: "appeared (your controller)" });
        }
        throw new UpError(
            `launchpad: IngressClass ${cls} did not appear in the cluster of context ${KIND.context} within ${BROUGHT_CLASS_WAIT.seconds} s; nothing was deployed. ` +
                `launchpad:ingressController is none, so launchpad installs no controller: install yours (kubectl --context ${KIND.context} apply -f …), ` +
                `with an IngressClass named ${cls} (or set launchpad:ingressClass to its class), or remove launchpad:ingressController to install ingress-nginx; then run npm run up again.`,
        );
    }
}

/** `, but it runs X, not launchpad:<key> Y: …` when a container was made from another image than the config names now. */
function otherImageNote(inspect: RunResult, wanted: string, key: string, what: "registry" | "cluster"): string {
    const running = inspect.stdout.trim();
    if (inspect.code !== 0 || running === "" || running === wanted) return "";
    return (
        `, but from ${running}, not ${key} ${wanted}: the image is chosen when the ${what} is created; to recreate it (the cluster's data goes too): ` +
        "npm run down -- --cluster --delete-data, then npm run up"
    );
}

async function walk(runner: Runner, apply: boolean, log: PlatformLog, options: KindPlatformOptions): Promise<PlatformStep[]> {
    const w = new Walk(runner, apply, log, options);
    await w.registry();
    if (!(await w.cluster())) {
        w.record({ name: "registry wiring and ingress-nginx", state: "missing", detail: "set up together with the cluster" });
        return w.steps;
    }
    await w.kubeContext();
    await w.registryOnNodes();
    await w.network();
    await w.registryConfigMap();
    await w.ingressController();
    return w.steps;
}

/**
 * Makes sure the kind platform exists and is ready, changing only what is missing, in the order kind's
 * guide gives: registry, cluster, containerd registry config on every node, registry on the kind
 * network, the `local-registry-hosting` ConfigMap, then ingress-nginx until its controller is ready.
 */
export function ensureKindPlatform(runner: Runner, log: PlatformLog = quiet, options: KindPlatformOptions = {}): Promise<PlatformStep[]> {
    return walk(runner, true, log, options);
}

/** The same observations without changing anything: what `npm run up` would still have to do. */
export function inspectKindPlatform(runner: Runner, log: PlatformLog = quiet, options: KindPlatformOptions = {}): Promise<PlatformStep[]> {
    return walk(runner, false, log, options);
}

/** Deletes the kind cluster and the registry container (with its storage), whichever exist. */
export async function deleteKindPlatform(runner: Runner, log: PlatformLog = quiet): Promise<void> {
    if (clusterListed(await runner.run("kind", ["get", "clusters"]))) {
        const del = await runner.run("kind", ["delete", "cluster", "--name", KIND.cluster], { onOutput: log.progress });
        if (del.code !== 0) throw failed("kind delete cluster", del);
        log.info(`  [done] kind cluster ${KIND.cluster}: deleted`);
    } else {
        log.info(`  [ok  ] kind cluster ${KIND.cluster}: does not exist`);
    }
    if ((await runner.run("docker", ["inspect", "-f", "{{.State.Running}}", KIND.registry])).code === 0) {
        const rm = await runner.run("docker", ["rm", "-f", "-v", KIND.registry]);
        if (rm.code !== 0) throw failed(`docker rm ${KIND.registry}`, rm);
        log.info(`  [done] registry ${KIND.registry}: removed with its storage`);
    } else {
        log.info(`  [ok  ] registry ${KIND.registry}: does not exist`);
    }
}
