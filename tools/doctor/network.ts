// Network: whether the cluster enforces the app's NetworkPolicies, and whether its ingress controller runs
// in the namespace those policies admit. The API server accepts a NetworkPolicy whether or not anything
// enforces it, so both are read from what runs: the pods of the network plugin and of the controller.
// Pure.

import { ClusterCheck, finding } from "./checks";
import { configFix } from "./diagnose";
import type { KubeNode, KubePod } from "./schedule";

/** The parts of a pod these checks read, beyond what scheduling needs. */
interface PodFacts {
    metadata: { name: string; namespace?: string; ownerReferences?: { kind?: string; name?: string }[] };
    spec: { containers: { name: string; image?: string; args?: string[]; command?: string[] }[] };
}

/** The DaemonSet that runs a pod: its owner, or the pod's name without the DaemonSet's 5-character suffix. */
function daemonSetOf(pod: PodFacts): string | undefined {
    const owner = pod.metadata.ownerReferences?.find((o) => o.kind === "DaemonSet");
    return owner?.name ?? /^(.+)-[a-z0-9]{5}$/.exec(pod.metadata.name)?.[1];
}

/** Network plugins that enforce NetworkPolicies whenever they run, by the DaemonSet that runs them. */
const ENFORCING: Record<string, string> = {
    "calico-node": "Calico",
    cilium: "Cilium",
    anetd: "GKE Dataplane V2",
    "azure-npm": "Azure Network Policy Manager",
    "kube-router": "kube-router",
    "antrea-agent": "Antrea",
    "weave-net": "Weave Net",
    "kube-network-policies": "kube-network-policies",
};

/** The Amazon VPC CNI's DaemonSet; it enforces only when its node agent runs with --enable-network-policy=true. */
const AWS_NODE = "aws-node";

type Provider = "gke" | "eks" | "aks";

/** The managed Kubernetes the nodes belong to, from the labels each provider puts on its nodes. */
export function providerOf(nodes: readonly KubeNode[]): Provider | undefined {
    const keys = nodes.flatMap((n) => Object.keys(n.metadata.labels ?? {}));
    if (keys.some((k) => k.startsWith("cloud.google.com/gke-"))) return "gke";
    if (keys.some((k) => k.startsWith("eks.amazonaws.com/"))) return "eks";
    if (keys.some((k) => k.startsWith("kubernetes.azure.com/"))) return "aks";
    return undefined;
}

/** How to turn enforcement on, per provider (docs/cloud/<provider>.md has the whole story). */
const TURN_ON: Record<Provider, string> = {
    gke: "GKE: create the cluster with --enable-dataplane-v2, or gcloud container clusters update CLUSTER --update-addons=NetworkPolicy=ENABLED and then --enable-network-policy (docs/cloud/gke.md)",
    eks: `EKS: aws eks update-addon --cluster-name CLUSTER --addon-name vpc-cni --configuration-values '{"enableNetworkPolicy":"true"}' (docs/cloud/eks.md)`,
    aks: "AKS: az aks update --resource-group RG --name CLUSTER --network-policy calico, or create the cluster with --network-dataplane cilium (docs/cloud/aks.md)",
};

const WHY = "so the app's NetworkPolicies are accepted but not enforced: any pod in the cluster can reach the database";

function where(pods: readonly PodFacts[]): string {
    const seen = [...new Set(pods.map((p) => `${daemonSetOf(p)} in ${p.metadata.namespace ?? "default"}`))];
    return seen.join(", ");
}

/**
 * Whether a network plugin that enforces NetworkPolicies runs: a known enforcing DaemonSet's pods (Calico,
 * Cilium, GKE Dataplane V2's anetd, Azure NPM, …), or the Amazon VPC CNI with its policy agent switched on.
 * A known plugin that does not enforce is a warning; nothing recognisable is "cannot tell". Never fails:
 * the app works either way, only less isolated.
 */
export function checkNetworkPolicyEnforcement(pods: readonly KubePod[], nodes: readonly KubeNode[], usedBy: string[]): ClusterCheck {
    const all = pods as unknown as PodFacts[];
    const result = (status: ClusterCheck["status"], message: string) => finding("networkPolicy", "NetworkPolicy enforcement", usedBy, status, message);

    const enforcing = all.filter((p) => (daemonSetOf(p) ?? "") in ENFORCING);
    const awsNode = all.filter((p) => daemonSetOf(p) === AWS_NODE);
    const awsEnforcing = awsNode.filter((p) => p.spec.containers.some((c) => [...(c.command ?? []), ...(c.args ?? [])].includes("--enable-network-policy=true")));
    if (enforcing.length > 0 || awsEnforcing.length > 0) {
        const plugins = [...new Set(enforcing.map((p) => ENFORCING[daemonSetOf(p)!]))];
        if (awsEnforcing.length > 0) plugins.push("the Amazon VPC CNI's network policy agent");
        return result("ok", `NetworkPolicies are enforced by ${plugins.join(" and ")} (${where([...enforcing, ...awsEnforcing])}): only the backend reaches the database`);
    }
    if (awsNode.length > 0) {
        return result("warning", `the Amazon VPC CNI (aws-node) runs without --enable-network-policy=true, ${WHY}; turn it on: ${TURN_ON.eks}`);
    }
    const flannel = all.filter((p) => /flannel/.test(daemonSetOf(p) ?? ""));
    if (flannel.length > 0) {
        return result("warning", `flannel (${where(flannel)}) does not enforce NetworkPolicies and nothing else here does, ${WHY}; add a policy engine such as Calico (canal) or use a plugin that enforces them`);
    }
    const provider = providerOf(nodes);
    if (provider) {
        return result("warning", `no network policy engine runs on this ${provider.toUpperCase()} cluster (no anetd, calico-node, cilium, azure-npm or aws-node policy agent among its pods), ${WHY}; turn it on: ${TURN_ON[provider]}`);
    }
    const kindnet = all.filter((p) => daemonSetOf(p) === "kindnet");
    if (kindnet.length > 0) {
        return result("unknown", "cannot tell whether kind's kindnet enforces NetworkPolicies: kind does from v0.24 on (`kind version`); on an older kind they are accepted but not enforced");
    }
    return result(
        "unknown",
        "cannot tell whether the cluster enforces NetworkPolicies: none of the pods the doctor can see belongs to a network plugin it knows " +
            "(Calico, Cilium, GKE Dataplane V2, Azure NPM, Amazon VPC CNI, kube-router, Antrea, Weave Net). Without one, any pod can reach the database; ask your cluster's operator, or see docs/cloud/",
    );
}

/** Namespaces and images that ingress controllers are usually found by. */
const CONTROLLER_HINT = /ingress|traefik|app-routing|haproxy|contour|kong/i;

/**
 * Whether pods run in `ingressNamespace`, the only namespace the app's NetworkPolicies let reach the web
 * tiers. If none do, but an ingress controller seems to run elsewhere, that namespace is offered. A warning
 * at most: the doctor cannot be sure which pods serve the stack's IngressClass.
 */
export function checkIngressNamespace(
    pods: readonly KubePod[],
    ctx: { stack: string; ingressNamespace: string; appNamespaces: readonly string[]; usedBy: string[] },
): ClusterCheck {
    const all = pods as unknown as PodFacts[];
    const ns = ctx.ingressNamespace;
    const result = (status: ClusterCheck["status"], message: string) => finding("ingressNamespace", ns, ctx.usedBy, status, message);
    const inside = all.filter((p) => (p.metadata.namespace ?? "default") === ns);
    const admits = "the only one the NetworkPolicies let reach the web tiers";
    if (inside.length > 0) {
        const names = inside.slice(0, 3).map((p) => p.metadata.name).join(", ") + (inside.length > 3 ? `, … (${inside.length})` : "");
        return result("ok", `namespace ${ns} (ingressNamespace, ${admits}) runs ${names}`);
    }
    const elsewhere = [...new Set(
        all.filter((p) => {
            const namespace = p.metadata.namespace ?? "default";
            return !ctx.appNamespaces.includes(namespace) && (CONTROLLER_HINT.test(namespace) || p.spec.containers.some((c) => CONTROLLER_HINT.test(c.image ?? "")));
        }).map((p) => p.metadata.namespace ?? "default"),
    )];
    if (elsewhere.length > 0) {
        const fix = configFix({ stack: ctx.stack }, "ingressNamespace", elsewhere[0], "").commands![0];
        return result(
            "warning",
            `no pod runs in namespace ${ns} (ingressNamespace, ${admits}), but an ingress controller seems to run in ${elsewhere.join(", ")}; ` +
                `if it serves the stack's IngressClass, the web tiers would refuse its traffic where NetworkPolicies are enforced: ${fix}`,
        );
    }
    return result(
        "unknown",
        `no pod runs in namespace ${ns} (ingressNamespace, ${admits}) and the doctor cannot tell where the ingress controller runs; ` +
            "set ingressNamespace to its namespace. A controller outside the cluster (a cloud load balancer sending to pods directly) cannot pass those policies: use one that runs in the cluster (docs/cloud/)",
    );
}
