import { objectApi } from "./cluster";
import { CLUSTER_IPS, PORTS, REAL_NODE, SERVICE_CIDR } from "./layout";
import * as YAML from "yaml";
import { inNode, NODE_IMAGES, nodeImage } from "./node";
import { waitFor } from "./processes";
import { podCause, type PodStatusView } from "../../tools/up/rollout";

/**
 * What a cluster's operator installs beside the kubelet, as pods on the real node: the cluster DNS
 * (CoreDNS, in kube-system, labelled k8s-app=kube-dns as the app's DNS NetworkPolicy expects), the
 * NetworkPolicy enforcer (kube-router's firewall, a DaemonSet as the doctor looks for it), and the
 * ingress controller of the `nginx` class (Traefik's ingress-nginx provider, in the ingress-nginx
 * namespace the app's policies admit). Also the kubernetes Service's endpoint, which pods reach the
 * API server through. Applied by `start` with server-side apply, so a changed manifest updates them.
 */

export interface Obj {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [key: string]: unknown;
}

/** Where the ingress controller runs: the namespace the app's NetworkPolicies admit by default. */
export const INGRESS_NAMESPACE = "ingress-nginx";

const onRealNode = { nodeSelector: { [REAL_NODE.label.key]: REAL_NODE.label.value } };

/** A non-root container that can change nothing: what the restricted Pod Security Standard asks. */
const restricted = {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

function serviceAccount(name: string, namespace: string, rules: object[]): Obj[] {
    return [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: `launchpad-testbed:${name}` }, rules },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name: `launchpad-testbed:${name}` },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `launchpad-testbed:${name}` },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        },
    ];
}

const watch = ["get", "list", "watch"];

/** One pod of an add-on on the real node, as a Deployment under its service account; the container runs restricted. */
function addonDeployment(namespace: string, name: string, labels: Record<string, string>, pod: Record<string, unknown>, container: Record<string, unknown>): Obj {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels },
                spec: { ...onRealNode, serviceAccountName: name, ...pod, containers: [{ name, securityContext: restricted, ...container }] },
            },
        },
    };
}

/** The kubernetes Service's endpoint: the node's address, where the bridge forwards to the API server. */
export function apiEndpoint(): Obj {
    return {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
            name: "kubernetes",
            namespace: "default",
            labels: { "kubernetes.io/service-name": "kubernetes", "endpointslice.kubernetes.io/managed-by": "launchpad-testbed" },
        },
        addressType: "IPv4",
        endpoints: [{ addresses: [REAL_NODE.ip], conditions: { ready: true } }],
        ports: [{ name: "https", port: PORTS.apiserver, protocol: "TCP" }],
    };
}

export const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
}
`;

export function coreDns(): Obj[] {
    const labels = { "k8s-app": "kube-dns" };
    return [
        ...serviceAccount("coredns", "kube-system", [
            { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
            { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
        ]),
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "coredns", namespace: "kube-system" }, data: { Corefile: COREFILE } },
        addonDeployment("kube-system", "coredns", labels, {
            // CoreDNS itself resolves nothing through the cluster DNS.
            dnsPolicy: "Default",
            // Port 53 in the pod, as clusters run it: the app's DNS policy admits port 53 of these pods
            // (a NetworkPolicy sees the port behind the Service). Non-root may bind it in this pod only.
            securityContext: { sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "53" }] },
            volumes: [{ name: "config", configMap: { name: "coredns" } }],
        }, {
            image: nodeImage("coredns"),
            args: ["-conf", "/etc/coredns/Corefile"],
            ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }, { name: "dns-tcp", containerPort: 53, protocol: "TCP" }],
            readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
            livenessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 10 },
            resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
            volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
        }),
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "kube-dns", namespace: "kube-system", labels },
            spec: {
                clusterIP: CLUSTER_IPS.dns,
                selector: labels,
                ports: [
                    { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
                    { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
                ],
            },
        },
    ];
}

/** kube-router's network policy controller alone: the bridge CNI and kube-proxy do the rest. */
export function kubeRouter(): Obj[] {
    const labels = { "k8s-app": "kube-router" };
    return [
        ...serviceAccount("kube-router", "kube-system", [
            { apiGroups: [""], resources: ["namespaces", "pods", "services", "nodes", "endpoints"], verbs: watch },
            { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: watch },
            { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: watch },
        ]),
        {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: "kube-router", namespace: "kube-system", labels },
            spec: {
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        ...onRealNode,
                        serviceAccountName: "kube-router",
                        hostNetwork: true,
                        containers: [{
                            name: "kube-router",
                            image: nodeImage("kubeRouter"),
                            command: ["/usr/local/bin/kube-router"],
                            args: [
                                "--run-firewall=true",
                                "--run-router=false",
                                "--run-service-proxy=false",
                                "--enable-cni=false",
                                `--service-cluster-ip-range=${SERVICE_CIDR}`,
                                "--hostname-override=$(NODE_NAME)",
                                "--health-port=20244",
                            ],
                            env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                            readinessProbe: { httpGet: { path: "/healthz", port: 20244 }, periodSeconds: 3 },
                            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                            // iptables and ipset in the node's network namespace; no privileged container
                            // (this machine's root lacks a capability that one would be given).
                            securityContext: { capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
                            volumeMounts: [{ name: "xtables-lock", mountPath: "/run/xtables.lock" }],
                        }],
                        // kube-proxy (on the node) and kube-router take iptables' lock in turn.
                        volumes: [{ name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } }],
                    },
                },
            },
        },
    ];
}

/** The ingress controller's port inside its pod (non-root) and where the host reaches it (PORTS.ingress). */
export const INGRESS_CONTAINER_PORT = 8080;
const PING_PORT = 8082;

/** What Traefik's ingress-nginx provider reads (pkg/provider/kubernetes/ingress-nginx/client.go), and the status it writes. */
const TRAEFIK_RULES = [
    { apiGroups: [""], resources: ["services", "secrets"], verbs: watch },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: watch },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "ingressclasses"], verbs: watch },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"] },
];

/**
 * Traefik's provider for what ingress-nginx serves: Ingresses of the IngressClass `nginx` whose
 * controller is `k8s.io/ingress-nginx`, their ingress-nginx annotations included. The address it
 * publishes is where the host reaches it: its loopback (through the bridge).
 */
export function traefikArgs(): string[] {
    return [
        `--entryPoints.web.address=:${INGRESS_CONTAINER_PORT}`,
        // Ping answers on Traefik's own entry point, the one no Ingress route attaches to.
        `--entryPoints.traefik.address=:${PING_PORT}`,
        "--ping=true",
        "--providers.kubernetesIngressNGINX=true",
        "--providers.kubernetesIngressNGINX.publishStatusAddress=127.0.0.1",
        "--log.level=INFO",
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
    ];
}

export function ingressController(): Obj[] {
    const labels = { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/component": "controller" };
    const ns = INGRESS_NAMESPACE;
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
        ...serviceAccount("traefik", ns, TRAEFIK_RULES),
        addonDeployment(ns, "traefik", labels, { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } } }, {
            image: nodeImage("traefik"),
            args: traefikArgs(),
            ports: [{ name: "web", containerPort: INGRESS_CONTAINER_PORT }, { name: "ping", containerPort: PING_PORT }],
            readinessProbe: { httpGet: { path: "/ping", port: PING_PORT }, periodSeconds: 2 },
            livenessProbe: { httpGet: { path: "/ping", port: PING_PORT }, periodSeconds: 10 },
            resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        }),
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "traefik", namespace: ns, labels },
            spec: { clusterIP: CLUSTER_IPS.ingress, selector: labels, ports: [{ name: "http", port: 80, targetPort: "web", protocol: "TCP" }] },
        },
    ];
}

/**
 * The same Traefik as the kind stack's ingress controller, as a manifest for `launchpad:ingressManifest`
 * (a mirror's copy, as a user behind one keeps it): the IngressClass `nginx` it serves, and the
 * controller on the node labelled ingress-ready, taking host port 80 as ingress-nginx's kind manifest
 * does (so its namespace enforces no Pod Security level: a hostPort is not "restricted"), from the image
 * the testbed's kind node image holds.
 */
export function kindIngressManifest(): string {
    const labels = { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/component": "controller" };
    const ns = INGRESS_NAMESPACE;
    const objects: Obj[] = [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
        ...serviceAccount("traefik", ns, TRAEFIK_RULES),
        { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "traefik", namespace: ns, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: "traefik",
                        nodeSelector: { "ingress-ready": "true" },
                        tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Equal", effect: "NoSchedule" }],
                        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [
                            {
                                name: "traefik",
                                image: NODE_IMAGES.traefik,
                                imagePullPolicy: "IfNotPresent",
                                args: traefikArgs(),
                                ports: [{ name: "web", containerPort: INGRESS_CONTAINER_PORT, hostPort: 80 }, { name: "ping", containerPort: PING_PORT }],
                                readinessProbe: { httpGet: { path: "/ping", port: PING_PORT }, periodSeconds: 2 },
                                livenessProbe: { httpGet: { path: "/ping", port: PING_PORT }, periodSeconds: 10 },
                                resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                                securityContext: restricted,
                            },
                        ],
                    },
                },
            },
        },
    ];
    return objects.map((o) => YAML.stringify(o)).join("---\n");
}

/** Everything `start` applies, in order. The IngressClass `nginx` itself is part of the cluster's bootstrap. */
export function addons(): Obj[] {
    return [apiEndpoint(), ...coreDns(), ...kubeRouter(), ...ingressController()];
}

/** Applies every add-on (server-side apply, as the testbed's field manager): created, or updated to this manifest. */
export async function applyAddons(kubeconfigFile: string): Promise<void> {
    const { k8s, api } = await objectApi(kubeconfigFile);
    for (const obj of addons()) {
        try {
            await api.patch(obj, undefined, undefined, "launchpad-testbed", true, k8s.PatchStrategy.ServerSideApply);
        } catch (e) {
            throw new Error(`applying ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}: ${String((e as Error).message).split("\n")[0]}`);
        }
    }
}

/** The add-ons' workloads, each with the pods it wants and has ready. */
export async function addonStatus(kubeconfigFile: string): Promise<{ name: string; ready: number; wanted: number }[]> {
    const { k8s, kc } = await objectApi(kubeconfigFile);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const deployment = async (namespace: string, name: string) => {
        const d = await apps.readNamespacedDeployment({ namespace, name });
        return { name: `${namespace}/${name}`, ready: d.status?.readyReplicas ?? 0, wanted: d.spec?.replicas ?? 1 };
    };
    const daemonSet = async (namespace: string, name: string) => {
        const d = await apps.readNamespacedDaemonSet({ namespace, name });
        return { name: `${namespace}/${name}`, ready: d.status?.numberReady ?? 0, wanted: Math.max(1, d.status?.desiredNumberScheduled ?? 1) };
    };
    return Promise.all([deployment("kube-system", "coredns"), daemonSet("kube-system", "kube-router"), deployment(INGRESS_NAMESPACE, "traefik")]);
}

/**
 * Waits until every add-on runs ready on the real node, and kube-router has its chains in the node's
 * iptables (its health check passes before it has read the cluster); fails naming those that do not.
 */
export async function addonsReady(kubeconfigFile: string, netns: string, seconds: number): Promise<void> {
    let last: { name: string; ready: number; wanted: number }[] = [];
    const enforcing = () => {
        try {
            inNode(netns, ["iptables", "-w", "-S", "KUBE-ROUTER-FORWARD"], "reading kube-router's chain");
            return true;
        } catch {
            return false;
        }
    };
    const ok = await waitFor(async () => {
        last = await addonStatus(kubeconfigFile);
        if (!enforcing()) last = last.map((w) => (w.name.endsWith("/kube-router") ? { ...w, ready: 0 } : w));
        return last.every((w) => w.ready >= w.wanted);
    }, seconds, 1000);
    if (!ok) {
        const late = last.filter((w) => w.ready < w.wanted);
        const details: string[] = [];
        for (const w of late) details.push(...(await describeAddon(kubeconfigFile, w.name).catch((e: Error) => [`  ${w.name}: cannot describe it (${e.message})`])));
        if (late.some((w) => w.name.endsWith("/kube-router")) && !enforcing()) details.push("  the node's iptables has no KUBE-ROUTER-FORWARD chain: kube-router enforces no NetworkPolicy yet");
        throw new Error(`not ready within ${seconds} s: ${late.map((w) => `${w.name} (${w.ready}/${w.wanted} ready)`).join(", ")}; see \`kubectl get pods -A -o wide\` and the kubelet's log under run/logs\n${details.join("\n")}`);
    }
}

/**
 * Why an add-on is not ready, from what the cluster knows: each pod's cause as \`up\` words it (podCause),
 * its latest events, and the last lines of its log (and of its last run), so that a run nobody can
 * watch (CI) still says what went wrong.
 */
export async function describeAddon(kubeconfigFile: string, workload: string, logLines = 15): Promise<string[]> {
    const [namespace, name] = workload.split("/");
    const { k8s, kc } = await objectApi(kubeconfigFile);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const labels = addons().find((o) => o.metadata.namespace === namespace && o.metadata.name === name && o.kind !== "ServiceAccount")?.metadata.labels ?? {};
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",") })).items;
    if (pods.length === 0) return [`  ${workload}: no pod (see the controller-manager's log)`];
    const lines: string[] = [];
    for (const pod of pods) {
        const podName = pod.metadata?.name ?? "?";
        const events = (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${podName}` })).items.map((e) => `${e.reason}: ${e.message ?? ""}`);
        const restarts = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
        const cause = podCause({ metadata: { name: podName }, status: pod.status as PodStatusView["status"], warnings: events });
        lines.push(`  ${namespace}/${podName}: ${cause ?? "running and ready"}, ${restarts} restarts`, ...events.slice(-5).map((e) => `    event ${e}`));
        for (const previous of [true, false]) {
            const log = await core.readNamespacedPodLog({ namespace, name: podName, tailLines: logLines, previous }).catch(() => "");
            if (log.trim() !== "") lines.push(`    ${previous ? "log of its last run" : "log"}:`, ...log.trimEnd().split("\n").map((l) => `      ${l}`));
        }
    }
    return lines;
}
