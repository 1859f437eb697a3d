import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { POSTGRES_PORT } from "./defaults";
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
    /**
     * Let the ingress controller reach cert-manager's ACME HTTP-01 solver pods, which answer the
     * certificate authority's challenge in the app's namespace while a certificate is issued. @default false
     */
    readonly acmeHttp01?: boolean;
}

/** The label cert-manager puts on its HTTP-01 solver pods, and the port they answer on (acmesolver). */
export const ACME_SOLVER = { label: { "acme.cert-manager.io/http01-solver": "true" }, port: 8089 } as const;

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

/**
 * The ingress controller may reach cert-manager's HTTP-01 solver pods: the certificate authority (and
 * cert-manager's own self-check) fetch the challenge through the Ingress, and default-deny would refuse it.
 */
export function acmeSolverSpec(ingressNamespace: string): NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { ...ACME_SOLVER.label } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [namespaceNamed(ingressNamespace)], ports: [{ protocol: "TCP", port: ACME_SOLVER.port }] }],
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
        ...(args.acmeHttp01 ? { "allow-ingress-to-acme-solver": acmeSolverSpec(args.ingressNamespace) } : {}),
    };
}

/**
 * The app's network rules: deny everything by default, then allow exactly what the three tiers need
 * (the ingress controller to the web tiers, the backend to the database, DNS for the web tiers), and,
 * when cert-manager issues the certificate, the ingress controller to its HTTP-01 solver.
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
