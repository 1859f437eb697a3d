import { podTemplateOf } from "../../lib/podTemplates";
import type { KubeObject } from "../harness";

// What the NetworkPolicies of one namespace let through, read the way the cluster reads them: a pod
// that no policy selects for a direction is open in that direction; once one does, only what some
// rule of those policies allows gets through, and a connection needs both ends to allow it.
// The picture draws its traffic arrows from this, so they show what the cluster would enforce.

interface LabelSelector {
    readonly matchLabels?: Readonly<Record<string, string>>;
    readonly matchExpressions?: readonly { key: string; operator: string; values?: string[] }[];
}

/** A Kubernetes label selector against a set of labels; the empty selector matches everything. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> = {}): boolean {
    const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
        switch (operator) {
            case "In": return key in labels && values.includes(labels[key]);
            case "NotIn": return !(key in labels) || !values.includes(labels[key]);
            case "Exists": return key in labels;
            case "DoesNotExist": return !(key in labels);
            default: return false;
        }
    });
    return byLabel && byExpression;
}

/** One end of a connection: a workload of the namespace, or pods of another namespace. */
export type Peer = { readonly workload: KubeObject } | { readonly namespace: string };

/** What a rule lets in (or out) beyond the namespace's own pods, as people read it. */
export interface OutsidePeer {
    /** "namespace kube-system", "any namespace", "203.0.113.0/24", "anywhere". */
    readonly where: string;
    /** ":53", ":http, :8080", or "" for every port. */
    readonly ports: string;
}

export interface NetworkView {
    /** How many NetworkPolicies the namespace has. */
    readonly policies: number;
    /** Whether some policy selects the workload's pods for incoming (Ingress) or outgoing (Egress) traffic. */
    isolated(workload: KubeObject, direction: "Ingress" | "Egress"): boolean;
    /** Whether a connection from `from` to `to`'s pods is allowed by both ends. */
    allows(from: Peer, to: KubeObject): boolean;
    /** Who outside the namespace may connect to the workload's pods (listed only for ingress-isolated pods). */
    outsideIngress(workload: KubeObject): OutsidePeer[];
    /** Where outside the namespace the workload's pods may connect to (listed only for egress-isolated pods). */
    outsideEgress(workload: KubeObject): OutsidePeer[];
}

const NAMESPACE_NAME = "kubernetes.io/metadata.name";

function podLabels(workload: KubeObject): Record<string, string> {
    return podTemplateOf(workload)?.metadata?.labels ?? {};
}

function typesOf(policy: KubeObject): string[] {
    // Without policyTypes, a policy always isolates Ingress, and Egress when it has egress rules.
    return policy.spec?.policyTypes ?? ["Ingress", ...(policy.spec?.egress ? ["Egress"] : [])];
}

function portsText(ports: any[] | undefined): string {
    return (ports ?? []).map((p) => `:${p.port ?? "*"}`).filter((p, i, all) => all.indexOf(p) === i).join(", ");
}

/** Reads the NetworkPolicies among `objects` for the pods of namespace `namespace`. */
export function readNetworkPolicies(objects: readonly KubeObject[], namespace: string): NetworkView {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy" && (o.metadata.namespace ?? namespace) === namespace);
    const selecting = (workload: KubeObject, direction: "Ingress" | "Egress") =>
        policies.filter((p) => typesOf(p).includes(direction) && matchesSelector(p.spec?.podSelector ?? {}, podLabels(workload)));
    const isolated = (workload: KubeObject, direction: "Ingress" | "Egress") => selecting(workload, direction).length > 0;

    /** Whether one `from`/`to` entry of a rule matches the peer (an ipBlock never names pods by label). */
    const entryMatches = (entry: any, peer: Peer): boolean => {
        if (entry.ipBlock) return false;
        if ("workload" in peer) {
            const sameNamespace = entry.namespaceSelector === undefined || matchesSelector(entry.namespaceSelector, { [NAMESPACE_NAME]: namespace });
            return sameNamespace && matchesSelector(entry.podSelector ?? {}, podLabels(peer.workload));
        }
        // Pods of another namespace: the namespace must match; their labels are unknown, so a podSelector is taken as met.
        return entry.namespaceSelector !== undefined && matchesSelector(entry.namespaceSelector, { [NAMESPACE_NAME]: peer.namespace });
    };
    const ruleMatches = (peers: any[] | undefined, peer: Peer) => peers === undefined || peers.length === 0 || peers.some((e) => entryMatches(e, peer));

    const admits = (to: KubeObject, from: Peer) =>
        !isolated(to, "Ingress") || selecting(to, "Ingress").some((p) => (p.spec?.ingress ?? []).some((r: any) => ruleMatches(r.from, from)));
    const lets = (from: Peer, to: KubeObject) =>
        !("workload" in from) || !isolated(from.workload, "Egress")
        || selecting(from.workload, "Egress").some((p) => (p.spec?.egress ?? []).some((r: any) => ruleMatches(r.to, { workload: to })));

    /** The peers of `direction` rules beyond the namespace's own pods, each with its rule's ports. */
    const outside = (workload: KubeObject, direction: "Ingress" | "Egress"): OutsidePeer[] => {
        const found: OutsidePeer[] = [];
        for (const rule of selecting(workload, direction).flatMap((p) => (direction === "Ingress" ? p.spec?.ingress : p.spec?.egress) ?? [])) {
            const ports = portsText(rule.ports);
            const peers: any[] = (direction === "Ingress" ? rule.from : rule.to) ?? [];
            if (peers.length === 0) found.push({ where: "anywhere", ports });
            for (const entry of peers) {
                if (entry.ipBlock) found.push({ where: entry.ipBlock.cidr, ports });
                else if (entry.namespaceSelector) {
                    const name = entry.namespaceSelector.matchLabels?.[NAMESPACE_NAME];
                    if (name !== namespace) found.push({ where: name ? `namespace ${name}` : "any namespace", ports });
                }
            }
        }
        return found.filter((f, i) => found.findIndex((g) => g.where === f.where && g.ports === f.ports) === i);
    };

    return {
        policies: policies.length,
        isolated,
        allows: (from, to) => admits(to, from) && lets(from, to),
        outsideIngress: (workload) => outside(workload, "Ingress"),
        outsideEgress: (workload) => outside(workload, "Egress"),
    };
}
