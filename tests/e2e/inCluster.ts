import * as assert from "node:assert/strict";
import * as http from "node:http";
import { PORTS, REAL_NODE } from "../../dev/testbed/layout";
import { nodeImage } from "../../dev/testbed/node";
import { waitFor } from "../../dev/testbed/processes";
import { kube, ok, run, type Run } from "./support";

/**
 * What the e2e suite does to the app in the cluster, as a user or an operator would: requests through
 * the Ingress controller, `kubectl exec` into containers, and throw-away pods that try a connection.
 */

type Kube = Awaited<ReturnType<typeof kube>>;

/** The app's Ingress host in Pulumi.testbed.yaml. */
export const APP_HOST = "launchpad.testbed.localhost";

/** The app as a browser on this machine reaches it: the host name, on the port the testbed's ingress controller is reached at. */
export const APP_URL = `http://${APP_HOST}:${PORTS.ingress}/`;

/** A note of the sample app, as its API lists it. */
export interface Note {
    readonly id: number;
    readonly text: string;
    readonly createdAt: string;
}

/** The notes the API lists, once it answers 200 through the Ingress (a fresh backend may take a moment). */
export async function listedNotes(): Promise<Note[]> {
    let body = "";
    const answered = await waitFor(async () => {
        const r = await throughIngress("/api/notes");
        body = r.body;
        return r.status === 200;
    }, 90, 1000);
    assert.ok(answered, `GET /api/notes through the Ingress did not answer 200 within 90 s: ${body}`);
    return JSON.parse(body) as Note[];
}

/** One request through the Ingress controller, with the app's host name (or `host`, another stack's); status 0 when no answer came. */
export function throughIngress(path: string, opts: { method?: string; body?: string; timeoutMs?: number; host?: string } = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve) => {
        const req = http.request(
            {
                host: "127.0.0.1",
                port: PORTS.ingress,
                path,
                method: opts.method ?? "GET",
                headers: { Host: opts.host ?? APP_HOST, ...(opts.body ? { "Content-Type": "application/json" } : {}) },
                timeout: opts.timeoutMs ?? 5000,
                agent: false,
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d: string) => (body += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                res.on("error", () => resolve({ status: 0, body }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve({ status: 0, body: "" }));
        req.end(opts.body);
    });
}

export function kubectl(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
    return run("kubectl", args, env);
}

/** A command in a running container, as `kubectl exec` runs it. */
export async function execIn(env: NodeJS.ProcessEnv, namespace: string, pod: string, container: string, command: readonly string[]): Promise<Run> {
    return kubectl(["exec", "-n", namespace, pod, "-c", container, "--", ...command], env);
}

/** The app's pods by tier (app.kubernetes.io/component), each with its containers' names. */
export async function appPods(k: Kube, namespace: string) {
    const pods = (await k.core.listNamespacedPod({ namespace })).items.filter((p) => !p.metadata?.deletionTimestamp);
    return pods.map((p) => ({
        name: p.metadata!.name!,
        uid: p.metadata!.uid!,
        tier: p.metadata!.labels?.["app.kubernetes.io/component"] ?? "",
        node: p.spec?.nodeName,
        labels: p.metadata!.labels ?? {},
        containers: p.spec!.containers.map((c) => c.name),
        ready: p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
        restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
        ip: p.status?.podIP,
    }));
}

/**
 * A pod that only waits (or, with `serve`, accepts TCP connections on that port), running the testbed's
 * netcat image as a restricted pod (so it may run in the app's
 * namespace), never Ready (so no Service sends it traffic even when it wears a tier's labels), on the
 * real node. Resolves with its name once it runs.
 */
export async function throwAwayPod(k: Kube, where: { namespace: string; name: string; labels?: Record<string, string>; serve?: number }): Promise<string> {
    const command = where.serve ? ["nc", "-lk", String(where.serve)] : ["sleep", "3600"];
    await k.core.createNamespacedPod({
        namespace: where.namespace,
        body: {
            metadata: { name: where.name, labels: { "launchpad.e2e/throw-away": "true", ...where.labels } },
            spec: {
                nodeSelector: { [REAL_NODE.label.key]: REAL_NODE.label.value },
                terminationGracePeriodSeconds: 0,
                securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                containers: [{
                    name: "probe",
                    image: nodeImage("probe"),
                    command,
                    ...(where.serve ? { ports: [{ containerPort: where.serve }] } : { readinessProbe: { exec: { command: ["false"] }, periodSeconds: 60 } }),
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                }],
                volumes: [{ name: "tmp", emptyDir: {} }],
            },
        },
    });
    const running = await waitFor(async () => (await k.core.readNamespacedPod({ namespace: where.namespace, name: where.name })).status?.phase === "Running", 60, 500);
    if (!running) throw new Error(`the throw-away pod ${where.namespace}/${where.name} did not run within 60 s`);
    return where.name;
}

/** Whether a TCP connection from a throw-away pod to host:port is accepted within 3 s (`nc -z`, as an operator would try it). */
export async function connects(env: NodeJS.ProcessEnv, from: { namespace: string; pod: string }, host: string, port: number): Promise<boolean> {
    const r = await execIn(env, from.namespace, from.pod, "probe", ["nc", "-z", "-w", "3", host, String(port)]);
    return r.code === 0;
}

/** Deletes the throw-away pods of a namespace, and waits until they are gone. */
export async function deleteThrowAwayPods(k: Kube, namespace: string): Promise<void> {
    const selector = { namespace, labelSelector: "launchpad.e2e/throw-away=true" };
    await k.core.deleteCollectionNamespacedPod({ ...selector, gracePeriodSeconds: 0 }).catch(() => undefined);
    await waitFor(async () => (await k.core.listNamespacedPod(selector)).items.length === 0, 60, 500);
}

/** What /proc/1/status says of the container's main process: its uids, effective capabilities, no_new_privs and seccomp mode. */
export async function processFacts(env: NodeJS.ProcessEnv, namespace: string, pod: string, container: string) {
    const status = ok(await execIn(env, namespace, pod, container, ["cat", "/proc/1/status"]), `kubectl exec ${pod} -c ${container} -- cat /proc/1/status`).stdout;
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim() ?? "";
    const write = await execIn(env, namespace, pod, container, ["sh", "-c", "echo x > /launchpad-e2e-write-test"]);
    return {
        uids: field("Uid").split(/\s+/).map(Number),
        capEff: field("CapEff"),
        noNewPrivs: field("NoNewPrivs"),
        seccomp: field("Seccomp"),
        rootWritable: write.code === 0,
        writeError: write.stderr.trim(),
    };
}
