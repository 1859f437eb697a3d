import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { POSTGRES_PORT } from "./database";
import { TierIdentity, labelsFor } from "./pod";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** An address range outside the cluster the backend may call, e.g. a payment API. */
export interface EgressRule {
    /** CIDR, e.g. "203.0.113.0/24" or "0.0.0.0/0". */
    readonly cidr: string;
    /** TCP port; every port when absent. */
    readonly port?: number;
}

export interface NetworkPoliciesArgs {
    readonly namespace: pulumi.Input<string>;
    readonly labels: Readonly<Record<string, string>>;
    readonly frontend: TierIdentity;
    readonly backend: TierIdentity;
    readonly database: TierIdentity;
    /** Namespace of the ingress controller, the only source of outside traffic. */
    readonly ingressNamespace: string;
    /** Where else the backend may connect. @default [] */
    readonly backendEgress?: readonly EgressRule[];
}

const namespaceNamed = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
const pods = (identity: TierIdentity) => ({ podSelector: { matchLabels: labelsFor(identity) } });

/** Nothing in, nothing out, for every pod of the namespace: the base every other policy opens holes in. */
export function defaultDenySpec(): NetworkPolicySpec {
    return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

/** Name lookups through the cluster DNS, for the tiers that connect to anything. */
export function dnsEgressSpec(tiers: readonly TierIdentity[]): NetworkPolicySpec {
    return {
        podSelector: { matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: tiers.map((t) => t.component) }] },
        policyTypes: ["Egress"],
        egress: [{
            to: [{ ...namespaceNamed("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        }],
    };
}

/** The ingress controller may reach a web tier on its HTTP port, and nothing else may. */
export function fromIngressControllerSpec(tier: TierIdentity, ingressNamespace: string): NetworkPolicySpec {
    return {
        ...pods(tier),
        policyTypes: ["Ingress"],
        ingress: [{ from: [namespaceNamed(ingressNamespace)], ports: [{ protocol: "TCP", port: "http" }] }],
    };
}

/** The backend may open connections to the database and to the configured outside ranges. */
export function backendEgressSpec(backend: TierIdentity, database: TierIdentity, extra: readonly EgressRule[]): NetworkPolicySpec {
    return {
        ...pods(backend),
        policyTypes: ["Egress"],
        egress: [
            { to: [pods(database)], ports: [{ protocol: "TCP", port: POSTGRES_PORT }] },
            ...extra.map((rule) => ({
                to: [{ ipBlock: { cidr: rule.cidr } }],
                ...(rule.port !== undefined ? { ports: [{ protocol: "TCP", port: rule.port }] } : {}),
            })),
        ],
    };
}

/** The database accepts connections from the backend only, and opens none itself. */
export function databaseIngressSpec(backend: TierIdentity, database: TierIdentity): NetworkPolicySpec {
    return {
        ...pods(database),
        policyTypes: ["Ingress"],
        ingress: [{ from: [pods(backend)], ports: [{ protocol: "TCP", port: POSTGRES_PORT }] }],
    };
}

/** Every policy of the app namespace, by stable name. */
export function networkPolicySpecs(args: Omit<NetworkPoliciesArgs, "namespace" | "labels">): Record<string, NetworkPolicySpec> {
    return {
        "default-deny": defaultDenySpec(),
        "allow-dns": dnsEgressSpec([args.frontend, args.backend]),
        "allow-ingress-to-frontend": fromIngressControllerSpec(args.frontend, args.ingressNamespace),
        "allow-ingress-to-backend": fromIngressControllerSpec(args.backend, args.ingressNamespace),
        "allow-backend-egress": backendEgressSpec(args.backend, args.database, args.backendEgress ?? []),
        "allow-backend-to-database": databaseIngressSpec(args.backend, args.database),
    };
}

/**
 * The app's network rules: deny everything by default, then allow exactly what the three tiers need
 * (the ingress controller to the web tiers, the backend to the database, DNS for the web tiers).
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:NetworkPolicies", name, {}, opts);
        for (const [policy, spec] of Object.entries(networkPolicySpecs(args))) {
            new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, {
                metadata: { name: policy, namespace: args.namespace, labels: { ...args.labels } },
                spec,
            }, { parent: this });
        }
        this.registerOutputs({});
    }
}
