import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { V1Container, V1Ingress, V1PodSpec, V1Probe, V1Secret, V1Service } from "@kubernetes/client-node";
import { waitFor } from "../../dev/testbed/processes";

/**
 * The stack's workloads as Docker containers on the testbed's Docker Engine, wired as the API server's
 * pod templates say, for the one thing the simulated cluster cannot do: run them. What a kubelet and
 * kube-proxy would do is done here by hand, and anything in a pod spec this file cannot reproduce
 * faithfully is an error, never silently dropped.
 *
 * All containers share one private network namespace (a "pause" container's, as a pod's do), so
 * nothing binds on the host's network: each Service name resolves to that namespace's loopback, and a
 * Service reaches its pods only when its port equals the container port (there is no kube-proxy).
 */

/** A workload as the API server holds it: its pod template's spec and labels. */
export interface Workload {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly spec: V1PodSpec;
    /** A StatefulSet's claims by volume name (the template's volumeClaimTemplates). */
    readonly claims?: readonly string[];
}

/** Docker on the testbed; a failure is an error with docker's own words. */
export function docker(env: NodeJS.ProcessEnv, args: readonly string[], extraEnv: Record<string, string> = {}): string {
    const r = spawnSync("docker", [...args], { env: { ...env, ...extraEnv }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`docker ${args.slice(0, 2).join(" ")} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout.trim();
}

/** "64Mi" → "64m" as docker's size options read it. */
function dockerSize(quantity: string): string {
    const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
    if (!m) throw new Error(`cannot express the quantity ${quantity} for docker`);
    return `${m[1]}${{ Ki: "k", Mi: "m", Gi: "g", "": "" }[m[2] ?? ""]}`;
}

/** What `docker run` needs for one container: its arguments, and the secret values it reads from its environment. */
export interface RunSpec {
    readonly args: string[];
    /** Secret values, passed through docker's environment (`-e NAME`), never on its command line. */
    readonly secretEnv: Record<string, string>;
}

/**
 * `docker run` for one container of a pod spec: environment (values and Secret keys), user and groups,
 * read-only root filesystem, capabilities, privilege escalation, memory and CPU limits, emptyDir
 * volumes as sized tmpfs, claims as named volumes, command and args, grace period.
 */
export function runSpec(
    w: Workload,
    container: V1Container,
    opts: { name: string; network: string; image: string; secrets: readonly V1Secret[]; volumeOf: (claim: string) => string; imageUser: string },
): RunSpec {
    const pod = w.spec.securityContext ?? {};
    const sc = container.securityContext ?? {};
    const args = ["run", "--detach", "--name", opts.name, "--network", `container:${opts.network}`];
    const secretEnv: Record<string, string> = {};
    for (const e of container.env ?? []) {
        if (e.value !== undefined) args.push("--env", `${e.name}=${e.value}`);
        else if (e.valueFrom?.secretKeyRef) {
            const ref = e.valueFrom.secretKeyRef;
            const secret = opts.secrets.find((s) => s.metadata?.name === ref.name);
            const data = secret?.data?.[ref.key];
            if (data === undefined) throw new Error(`${w.name}: env ${e.name} reads ${ref.name}.${ref.key}, which the namespace does not hold`);
            secretEnv[e.name] = Buffer.from(data, "base64").toString("utf8");
            args.push("--env", e.name);
        } else throw new Error(`${w.name}: env ${e.name} uses a source this harness cannot reproduce: ${JSON.stringify(e.valueFrom)}`);
    }
    if ((container.envFrom ?? []).length > 0) throw new Error(`${w.name}: envFrom is not reproduced here`);

    const user = sc.runAsUser ?? pod.runAsUser;
    const group = sc.runAsGroup ?? pod.runAsGroup;
    if (user !== undefined) args.push("--user", group !== undefined ? `${user}:${group}` : `${user}`);
    if (sc.runAsNonRoot ?? pod.runAsNonRoot) {
        // The kubelet refuses a container that would run as root, or as a user it cannot check by number.
        const effective = user !== undefined ? String(user) : opts.imageUser.split(":")[0];
        if (!/^\d+$/.test(effective) || effective === "0") {
            throw new Error(`${w.name}/${container.name}: runAsNonRoot, but the image runs as "${opts.imageUser || "root"}": the kubelet would refuse it`);
        }
    }
    if (pod.fsGroup !== undefined) args.push("--group-add", String(pod.fsGroup));
    for (const g of pod.supplementalGroups ?? []) args.push("--group-add", String(g));
    if (sc.readOnlyRootFilesystem) args.push("--read-only");
    if (sc.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
    if (sc.privileged) args.push("--privileged");
    for (const cap of sc.capabilities?.drop ?? []) args.push("--cap-drop", cap);
    for (const cap of sc.capabilities?.add ?? []) args.push("--cap-add", cap);
    const limits = container.resources?.limits ?? {};
    if (limits.memory) args.push("--memory", dockerSize(limits.memory));
    if (limits.cpu) args.push("--cpus", String(limits.cpu.endsWith("m") ? Number.parseInt(limits.cpu, 10) / 1000 : Number(limits.cpu)));
    if (w.spec.terminationGracePeriodSeconds !== undefined) args.push("--stop-timeout", String(w.spec.terminationGracePeriodSeconds));

    for (const mount of container.volumeMounts ?? []) {
        const volume = (w.spec.volumes ?? []).find((v) => v.name === mount.name);
        const ro = mount.readOnly ? ",readonly" : "";
        if (volume?.emptyDir) {
            if (volume.emptyDir.medium && volume.emptyDir.medium !== "Memory") throw new Error(`${w.name}: emptyDir medium ${volume.emptyDir.medium}`);
            // An emptyDir is world-writable (0777), sized by its limit.
            const size = volume.emptyDir.sizeLimit ? `,tmpfs-size=${dockerSize(volume.emptyDir.sizeLimit)}` : "";
            args.push("--mount", `type=tmpfs,destination=${mount.mountPath},tmpfs-mode=1777${size}${ro}`);
        } else if (volume === undefined && (w.claims ?? []).includes(mount.name)) {
            args.push("--mount", `type=volume,source=${opts.volumeOf(mount.name)},destination=${mount.mountPath}${ro}`);
        } else {
            throw new Error(`${w.name}: volume ${mount.name} is of a kind this harness cannot reproduce: ${JSON.stringify(volume)}`);
        }
    }

    if (container.command && container.command.length > 0) args.push("--entrypoint", container.command[0]);
    args.push(opts.image);
    if (container.command && container.command.length > 1) args.push(...container.command.slice(1));
    args.push(...(container.args ?? []));
    return { args, secretEnv };
}

/** The container port a Service port leads to, for a workload its selector picks. */
function targetPort(service: V1Service, port: number | string, workloads: readonly Workload[]): { workload: Workload; port: number } {
    const sp = (service.spec?.ports ?? []).find((p) => p.port === port || p.name === port);
    if (!sp) throw new Error(`Service ${service.metadata?.name} has no port ${port}`);
    const selector = service.spec?.selector ?? {};
    const workload = workloads.find((w) => Object.entries(selector).every(([k, v]) => w.labels[k] === v));
    if (!workload) throw new Error(`Service ${service.metadata?.name} selects no workload (${JSON.stringify(selector)})`);
    const target = sp.targetPort ?? sp.port;
    const ports = workload.spec.containers.flatMap((c) => c.ports ?? []);
    const found = typeof target === "number" || /^\d+$/.test(String(target)) ? ports.find((p) => p.containerPort === Number(target)) : ports.find((p) => p.name === target);
    if (!found) throw new Error(`Service ${service.metadata?.name} targets port ${target}, which ${workload.name} does not declare`);
    return { workload, port: found.containerPort };
}

/**
 * An nginx configuration that routes as the Ingress says: each rule's host, its paths longest first,
 * `Prefix` matching whole path segments and `Exact` the path alone, each to the container port behind
 * the named Service port (what the ingress controller and kube-proxy do together).
 */
export function ingressRouterConfig(ingress: V1Ingress, services: readonly V1Service[], workloads: readonly Workload[], listen: number): string {
    const servers = (ingress.spec?.rules ?? []).map((rule) => {
        const paths = [...(rule.http?.paths ?? [])].sort((a, b) => (b.path ?? "/").length - (a.path ?? "/").length);
        const locations = paths.flatMap((p) => {
            const svc = p.backend.service;
            if (!svc) throw new Error(`Ingress path ${p.path} has no Service backend`);
            const service = services.find((s) => s.metadata?.name === svc.name);
            if (!service) throw new Error(`Ingress path ${p.path} names Service ${svc.name}, which the namespace does not hold`);
            const { port } = targetPort(service, svc.port?.number ?? (svc.port?.name as string), workloads);
            const to = `proxy_pass http://127.0.0.1:${port};`;
            const at = p.path ?? "/";
            if (p.pathType === "Exact") return [`    location = ${at} { ${to} }`];
            if (p.pathType !== "Prefix") throw new Error(`Ingress path ${at} has pathType ${p.pathType}, which this router does not reproduce`);
            if (at === "/") return [`    location / { ${to} }`];
            const bare = at.replace(/\/+$/, "");
            return [`    location = ${bare} { ${to} }`, `    location ${bare}/ { ${to} }`];
        });
        return [`  server {`, `    listen ${listen};`, `    server_name ${rule.host ?? "_"};`, ...locations, `  }`].join("\n");
    });
    return [
        "# Generated by tests/e2e/pods.ts from the Ingress the API server holds.",
        "worker_processes 1;",
        "pid /tmp/router.pid;",
        "error_log stderr warn;",
        "events { worker_connections 256; }",
        "http {",
        "  access_log off;",
        "  client_body_temp_path /tmp/client_temp;",
        "  proxy_temp_path /tmp/proxy_temp;",
        "  fastcgi_temp_path /tmp/fastcgi_temp;",
        "  uwsgi_temp_path /tmp/uwsgi_temp;",
        "  scgi_temp_path /tmp/scgi_temp;",
        "  proxy_set_header Host $host;",
        ...servers,
        "}",
        "",
    ].join("\n");
}

/**
 * The Services' names, each to resolve to the shared loopback. A Service a container reaches by name
 * (an env value naming it, like the database's host) must map its port to the same container port:
 * there is no kube-proxy here to translate it.
 */
export function serviceHosts(services: readonly V1Service[], workloads: readonly Workload[]): string[] {
    const named = new Set(workloads.flatMap((w) => w.spec.containers.flatMap((c) => (c.env ?? []).map((e) => e.value))));
    for (const s of services.filter((svc) => named.has(svc.metadata?.name))) {
        for (const p of s.spec?.ports ?? []) {
            const { port } = targetPort(s, p.port, workloads);
            if (port !== p.port) throw new Error(`Service ${s.metadata!.name} maps port ${p.port} to ${port}; without kube-proxy a container cannot reach it by name`);
        }
    }
    return services.map((s) => s.metadata!.name!);
}

/** The stack's app as containers in one network namespace, with the Ingress's router in front. */
export class PodRunner {
    private readonly prefix = "launchpad-e2e";
    private readonly dockerConfig = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-e2e-docker-"));
    private readonly started = new Map<string, { workload: Workload; container: V1Container; spec: RunSpec }>();

    constructor(private readonly env: NodeJS.ProcessEnv) {}

    get network(): string {
        return `${this.prefix}-pause`;
    }

    containerName(workload: string, container: string): string {
        return `${this.prefix}-${workload}-${container}`;
    }

    volumeName(claim: string, workload: string): string {
        return `${this.prefix}-${claim}-${workload}-0`;
    }

    /** Removes every container and volume an earlier run of this harness left. */
    clean(): void {
        const ids = docker(this.env, ["ps", "--all", "--quiet", "--filter", `name=^${this.prefix}-`]).split("\n").filter(Boolean);
        if (ids.length > 0) docker(this.env, ["rm", "--force", "--volumes", ...ids]);
        const volumes = docker(this.env, ["volume", "ls", "--quiet", "--filter", `name=^${this.prefix}-`]).split("\n").filter(Boolean);
        if (volumes.length > 0) docker(this.env, ["volume", "rm", "--force", ...volumes]);
    }

    /** The namespace every container joins: only loopback, and the Services' names on it. */
    startNetwork(hosts: readonly string[], image: string): number {
        docker(this.env, [
            "run", "--detach", "--name", this.network, "--network", "none", "--read-only", "--cap-drop", "ALL", "--user", "65534",
            ...hosts.flatMap((h) => ["--add-host", `${h}:127.0.0.1`]),
            "--entrypoint", "sleep", image, "infinity",
        ]);
        return Number(docker(this.env, ["inspect", "--format", "{{.State.Pid}}", this.network]));
    }

    /** Pulls an image by digest with the workload's pull secret, as the kubelet does. */
    pull(image: string, pullSecret: V1Secret | undefined): string {
        const config = pullSecret?.data?.[".dockerconfigjson"];
        if (config === undefined) throw new Error(`no pull secret for ${image}`);
        fs.writeFileSync(path.join(this.dockerConfig, "config.json"), Buffer.from(config, "base64"), { mode: 0o600 });
        docker(this.env, ["pull", "--quiet", image], { DOCKER_CONFIG: this.dockerConfig });
        return docker(this.env, ["image", "inspect", "--format", "{{.Config.User}}", image]);
    }

    /** Makes a claim's volume, owned as the kubelet leaves a volume for a pod with an fsGroup. */
    makeVolume(name: string, fsGroup: number | undefined, image: string): void {
        docker(this.env, ["volume", "create", name]);
        if (fsGroup === undefined) return;
        docker(this.env, ["run", "--rm", "--network", "none", "--user", "0", "--mount", `type=volume,source=${name},destination=/volume`, "--entrypoint", "sh", image, "-c", `chgrp ${fsGroup} /volume && chmod 2775 /volume`]);
    }

    /** Starts one container of a workload and runs its postStart hook. */
    start(w: Workload, container: V1Container, secrets: readonly V1Secret[]): void {
        const name = this.containerName(w.name, container.name);
        const pullSecret = secrets.find((s) => s.metadata?.name === w.spec.imagePullSecrets?.[0]?.name);
        const imageUser = this.pull(container.image!, pullSecret);
        for (const claim of w.claims ?? []) {
            const volume = this.volumeName(claim, w.name);
            if (docker(this.env, ["volume", "ls", "--quiet", "--filter", `name=^${volume}$`]) === "") this.makeVolume(volume, w.spec.securityContext?.fsGroup, container.image!);
        }
        const spec = runSpec(w, container, { name, network: this.network, image: container.image!, secrets, volumeOf: (claim) => this.volumeName(claim, w.name), imageUser });
        docker(this.env, spec.args, spec.secretEnv);
        this.started.set(name, { workload: w, container, spec });
        this.postStart(name);
    }

    /** A container's postStart exec hook, run as the kubelet runs it after every start. */
    private postStart(name: string): void {
        const { container } = this.started.get(name)!;
        const hook = container.lifecycle?.postStart;
        if (!hook) return;
        if (!hook.exec?.command) throw new Error(`${name}: only exec postStart hooks are reproduced`);
        docker(this.env, ["exec", name, ...hook.exec.command]);
    }

    /** Starts the Ingress's router (an nginx) in the namespace, from the given nginx image. */
    startRouter(config: string, image: string): void {
        const file = path.join(this.dockerConfig, "router.conf");
        fs.writeFileSync(file, config, { mode: 0o644 });
        docker(this.env, [
            "run", "--detach", "--name", `${this.prefix}-router`, "--network", `container:${this.network}`, "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--mount", "type=tmpfs,destination=/tmp,tmpfs-mode=1777",
            "--mount", `type=bind,source=${file},destination=/etc/nginx/router.conf,readonly`,
            "--entrypoint", "nginx", image, "-c", "/etc/nginx/router.conf", "-g", "daemon off;",
        ]);
    }

    stop(name: string): void {
        docker(this.env, ["stop", name]);
    }

    /** Starts a stopped container again (its volumes and Secret values kept), hooks and all. */
    restart(name: string): void {
        docker(this.env, ["restart", name]);
        this.postStart(name);
    }

    logs(name: string): string {
        const r = spawnSync("docker", ["logs", "--tail", "20", name], { env: this.env, encoding: "utf8" });
        return `${r.stdout}${r.stderr}`.trim();
    }

    /**
     * Runs one of a container's probes once, as the kubelet would: an exec probe inside the container,
     * an httpGet probe from outside it, on the pod's network. True when it passes.
     */
    probe(name: string, probe: V1Probe, pid: number): boolean {
        const { container } = this.started.get(name)!;
        const timeout = (probe.timeoutSeconds ?? 1) * 1000;
        if (probe.exec?.command) {
            return spawnSync("docker", ["exec", name, ...probe.exec.command], { env: this.env, timeout, stdio: "ignore" }).status === 0;
        }
        if (probe.httpGet) {
            const p = probe.httpGet.port;
            const port = typeof p === "number" || /^\d+$/.test(String(p)) ? Number(p) : (container.ports ?? []).find((cp) => cp.name === p)?.containerPort;
            if (port === undefined) throw new Error(`${name}: probe port ${p} is not a port of the container`);
            const { status } = httpInNamespace(pid, `http://127.0.0.1:${port}${probe.httpGet.path ?? "/"}`, timeout);
            return status >= 200 && status < 400;
        }
        throw new Error(`${name}: a probe of a kind this harness does not run: ${JSON.stringify(probe)}`);
    }

    /** Waits until a container's readiness probe passes, as long as its startup probe would allow. */
    async waitReady(name: string, pid: number): Promise<void> {
        const { container } = this.started.get(name)!;
        const ready = container.readinessProbe;
        if (!ready) return;
        const startup = container.startupProbe;
        const seconds = startup ? (startup.failureThreshold ?? 3) * (startup.periodSeconds ?? 10) : 60;
        let exited = "";
        const passes = async () => {
            // A container that exited is not restarted here (the kubelet would, into CrashLoopBackOff): say so now.
            const state = docker(this.env, ["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name]);
            if (state.startsWith("exited")) exited = `exited with code ${state.split(" ")[1]}`;
            return exited !== "" || this.probe(name, ready, pid);
        };
        if (!(await waitFor(passes, seconds, 500)) || exited) {
            throw new Error(`${name} ${exited || `did not become ready within ${seconds} s`}; the end of its log:\n${this.logs(name)}`);
        }
    }

    names(): string[] {
        return [...this.started.keys()];
    }

    containerOf(name: string): V1Container {
        return this.started.get(name)!.container;
    }

    dispose(): void {
        this.clean();
        fs.rmSync(this.dockerConfig, { recursive: true, force: true });
    }
}

/** One HTTP GET from inside the pods' network namespace (the host cannot reach it otherwise). */
export function httpInNamespace(pid: number, url: string, timeoutMs = 2000): { status: number; body: string } {
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(${timeoutMs}) }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() }))).catch(() => console.log('{"status":0,"body":""}'))`;
    const out = execFileSync("nsenter", ["--target", String(pid), "--net", "--", process.execPath, "-e", script], { encoding: "utf8", timeout: timeoutMs + 5000 });
    return JSON.parse(out.trim()) as { status: number; body: string };
}

/** A Chromium launcher that runs the browser inside the pods' network namespace, for playwright's executablePath. */
export function browserInNamespace(pid: number, chromium: string, dir: string): string {
    const file = path.join(dir, "chromium-in-namespace");
    fs.writeFileSync(file, `#!/bin/sh\nexec nsenter --target ${pid} --net -- ${chromium} "$@"\n`, { mode: 0o755 });
    return file;
}
