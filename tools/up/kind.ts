import { UpError } from "./errors";
import { KIND } from "../../lib/kind";
import type { RunResult, Runner } from "../../lib/runner";

// The local platform the `dev` stack deploys to, as kind's own guides build it: the cluster of KIND
// whose node takes host ports 80/443 for the ingress controller, a registry container at
// `localhost:5001` wired into containerd on every node, and ingress-nginx. Everything here is done with
// the `docker`, `kind` and `kubectl` CLIs, each step observing before it acts, so a second run changes
// nothing (why CLIs and not Pulumi resources: docs/kind.md).

/** ingress-nginx, pinned: the upstream manifest for kind at this controller release is applied. */
export const INGRESS_NGINX = {
    version: "1.14.3",
    namespace: "ingress-nginx",
    deployment: "ingress-nginx-controller",
    admissionJobs: ["ingress-nginx-admission-create", "ingress-nginx-admission-patch"],
    waitTimeout: "300s",
} as const;

export function ingressNginxManifestUrl(version: string = INGRESS_NGINX.version): string {
    return `https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v${version}/deploy/static/provider/kind/deploy.yaml`;
}

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

function kubectl(...args: string[]): string[] {
    return ["--context", KIND.context, ...args];
}

function failed(what: string, result: RunResult, hint?: string): UpError {
    const said = (result.stderr || result.stdout).trim();
    return new UpError(`${what} failed (exit ${result.code})${said ? `:\n${said}` : ""}${hint ? `\n${hint}` : ""}`);
}

class Walk {
    readonly steps: PlatformStep[] = [];
    constructor(
        private readonly runner: Runner,
        private readonly apply: boolean,
        private readonly log: PlatformLog,
    ) {}

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
        if (action === "keep") return this.record({ name, state: "ok", detail: `running at localhost:${KIND.registryPort}` });
        if (action === "start") return this.change(name, "started (it existed but was stopped)", "exists but is stopped", "docker", ["start", KIND.registry]);
        return this.change(
            name,
            `created at localhost:${KIND.registryPort}`,
            "does not exist",
            "docker",
            ["run", "-d", "--restart=always", "-p", `127.0.0.1:${KIND.registryPort}:5000`, "--network", "bridge", "--name", KIND.registry, KIND.registryImage],
            { hint: `If port ${KIND.registryPort} is taken, stop whatever listens there (docker ps) and run again.` },
        );
    }

    /** Returns whether the cluster exists afterwards (in a check it may not). */
    async cluster(): Promise<boolean> {
        const name = `kind cluster ${KIND.cluster}`;
        if (!clusterListed(await this.run("kind", ["get", "clusters"]))) {
            await this.change(name, "created (node labelled ingress-ready, host ports 80/443)", "does not exist", "kind", ["create", "cluster", "--name", KIND.cluster, "--config", "-"], {
                input: kindClusterConfig(),
                stream: true,
                hint: "If ports 80 or 443 are in use on this machine, free them (another cluster, a local web server) and run again.",
            });
            return this.apply;
        }
        this.record({ name, state: "ok", detail: "exists" });
        // After a Docker restart the node containers may be stopped; kind itself does not restart them.
        for (const node of nodeNames(await this.run("kind", ["get", "nodes", "--name", KIND.cluster]))) {
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

    async ingressController(): Promise<void> {
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
}

async function walk(runner: Runner, apply: boolean, log: PlatformLog): Promise<PlatformStep[]> {
    const w = new Walk(runner, apply, log);
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
export function ensureKindPlatform(runner: Runner, log: PlatformLog = quiet): Promise<PlatformStep[]> {
    return walk(runner, true, log);
}

/** The same observations without changing anything: what `npm run up` would still have to do. */
export function inspectKindPlatform(runner: Runner, log: PlatformLog = quiet): Promise<PlatformStep[]> {
    return walk(runner, false, log);
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
