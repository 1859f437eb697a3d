import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    Policies,
    PolicyResource,
    ResourceValidation,
    ResourceValidationPolicy,
    StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import { imagePin } from "../lib/imageRef";
import { parseQuantity } from "../lib/quantity";
import {
    containersOf,
    known,
    resourceLabel,
    UNKNOWN,
    validateWorkload,
    Workload,
    WORKLOAD_KINDS,
} from "./workloads";

/** A resource policy with exactly one validation, so tests (and readers) can call it directly. */
export type ResourceRule = ResourceValidationPolicy & { readonly validateResource: ResourceValidation };

/** Label whose value names a workload's tier; launchpad's `labelsFor` sets it on selectors and pods. */
export const COMPONENT_LABEL = "app.kubernetes.io/component";
/** Tiers that must only be reachable from inside the cluster. */
export const INTERNAL_TIERS: ReadonlySet<string> = new Set(["backend", "database"]);

// ---------------------------------------------------------------------------------------------------
// Restricted Pod Security Standard
// ---------------------------------------------------------------------------------------------------

/** Volume sources the restricted standard allows; everything else (hostPath above all) is refused. */
const RESTRICTED_VOLUME_SOURCES = new Set([
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
]);
const ALLOWED_SECCOMP_PROFILES = new Set(["RuntimeDefault", "Localhost"]);
const HOST_NAMESPACES = [
    { field: "hostNetwork", what: "the node's network" },
    { field: "hostPID", what: "the node's process table" },
    { field: "hostIPC", what: "the node's shared memory" },
] as const;

/** Every way `workload`'s pod breaks the restricted Pod Security Standard, as messages. */
export function restrictedPodSecurityViolations(workload: Workload): string[] {
    const { podSpec: pod, podSpecPath: p, label } = workload;
    const podSc = pod.securityContext;
    const out: string[] = [];

    for (const { field, what } of HOST_NAMESPACES) {
        if (pod[field] === true) {
            out.push(`${label}: ${p}.${field} is true, which gives the pod ${what}: remove it (or set it to false).`);
        }
    }
    if (podSc?.runAsUser === 0) {
        out.push(`${label}: ${p}.securityContext.runAsUser is 0 (root): set a non-zero UID, e.g. 10001, `
            + "that the image can run as.");
    }
    (pod.volumes ?? []).forEach((volume, i) => {
        for (const source of Object.keys(volume).filter((k) => k !== "name" && !RESTRICTED_VOLUME_SOURCES.has(k))) {
            out.push(source === "hostPath"
                ? `${label}: volume "${volume.name}" mounts a directory of the node (${p}.volumes[${i}].hostPath): `
                    + "use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead."
                : `${label}: volume "${volume.name}" uses ${p}.volumes[${i}].${source}, which the restricted Pod `
                    + "Security Standard refuses: use configMap, csi, downwardAPI, emptyDir, ephemeral, "
                    + "persistentVolumeClaim, projected or secret.");
        }
    });

    for (const { container, path, label: prefix } of containersOf(workload)) {
        const sc = container.securityContext;
        const at = `${path}.securityContext`;

        if (sc?.privileged === true) {
            out.push(`${prefix} is privileged (${at}.privileged is true): remove it (or set it to false).`);
        }
        if (sc?.allowPrivilegeEscalation !== false) {
            out.push(`${prefix} may gain more privileges than its parent process: `
                + `set ${at}.allowPrivilegeEscalation to false.`);
        }

        if (sc?.runAsNonRoot === false) {
            out.push(`${prefix} may run as root (${at}.runAsNonRoot is false, overriding the pod): `
                + "set it to true, or remove it and set it on the pod.");
        } else if (sc?.runAsNonRoot === undefined && podSc?.runAsNonRoot !== true) {
            out.push(`${prefix} may run as root: set ${p}.securityContext.runAsNonRoot to true `
                + `(or ${at}.runAsNonRoot on every container).`);
        }
        if (sc?.runAsUser === 0) {
            out.push(`${prefix} runs as root (${at}.runAsUser is 0): set a non-zero UID, e.g. 10001.`);
        }

        const capabilities = sc?.capabilities;
        if (!(capabilities?.drop ?? []).includes("ALL")) {
            out.push(`${prefix} keeps the runtime's default Linux capabilities: set ${at}.capabilities.drop to ["ALL"].`);
        }
        const added = (capabilities?.add ?? []).filter((c) => c !== "NET_BIND_SERVICE");
        if (added.length > 0) {
            out.push(`${prefix} adds ${added.join(", ")} in ${at}.capabilities.add: only NET_BIND_SERVICE may be `
                + "added; remove the others.");
        }

        const containerSeccomp = sc?.seccompProfile?.type;
        const podSeccomp = podSc?.seccompProfile?.type;
        const seccomp = containerSeccomp ?? podSeccomp;
        if (seccomp === undefined) {
            out.push(`${prefix} has no seccomp profile: set ${p}.securityContext.seccompProfile.type to `
                + `"RuntimeDefault" (or ${at}.seccompProfile.type on every container).`);
        } else if (!ALLOWED_SECCOMP_PROFILES.has(seccomp)) {
            const field = containerSeccomp !== undefined ? `${at}.seccompProfile.type` : `${p}.securityContext.seccompProfile.type`;
            out.push(`${prefix} runs with seccomp profile "${seccomp}" (${field}): set it to "RuntimeDefault" `
                + `(or "Localhost" with a profile on the node).`);
        }

        (container.ports ?? []).forEach((port, i) => {
            if (port.hostPort !== undefined && port.hostPort !== 0) {
                out.push(`${prefix} binds port ${port.hostPort} on the node (${path}.ports[${i}].hostPort): `
                    + "remove hostPort and reach the container through a Service.");
            }
        });
    }
    return out;
}

export const podSecurityRestricted: ResourceRule = {
    name: "pod-security-restricted",
    description: "Every pod meets the restricted Pod Security Standard: non-root, no privilege escalation, "
        + "all capabilities dropped, a RuntimeDefault/Localhost seccomp profile, nothing from the host.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateWorkload((workload, _args, reportViolation) => {
        restrictedPodSecurityViolations(workload).forEach((message) => reportViolation(message));
    }),
};

// ---------------------------------------------------------------------------------------------------
// Requests and limits
// ---------------------------------------------------------------------------------------------------

export const containerResources: ResourceRule = {
    name: "container-resources",
    description: "Every container requests cpu and memory and limits memory, and no request exceeds its limit.",
    enforcementLevel: "mandatory",
    severity: "medium",
    validateResource: validateWorkload((workload, _args, reportViolation) => {
        for (const { container, path, label: prefix } of containersOf(workload)) {
            const at = `${path}.resources`;
            const requests: Record<string, string | number> = container.resources?.requests ?? {};
            const limits: Record<string, string | number> = container.resources?.limits ?? {};

            const missing = [
                ...["cpu", "memory"].filter((r) => requests[r] === undefined).map((r) => `${at}.requests.${r}`),
                ...(limits.memory === undefined ? [`${at}.limits.memory`] : []),
            ];
            if (missing.length > 0) {
                reportViolation(`${prefix} has no ${missing.join(", ")}: set ${missing.length > 1 ? "them" : "it"} `
                    + `(e.g. requests cpu "100m" and memory "128Mi", limits memory "256Mi") so the scheduler `
                    + "knows what the pod needs and the container cannot take the node's memory.");
            }

            const parsed = (kind: "requests" | "limits", values: Record<string, string | number>) =>
                new Map(Object.entries(values).map(([resource, value]) => {
                    const quantity = parseQuantity(value);
                    if (quantity === undefined) {
                        reportViolation(`${prefix}: ${at}.${kind}.${resource} "${value}" is not a Kubernetes `
                            + `quantity: write it like "250m", "0.5", "512Mi" or "1Gi".`);
                    }
                    return [resource, quantity] as const;
                }));
            const requested = parsed("requests", requests);
            const limited = parsed("limits", limits);
            for (const [resource, request] of requested) {
                const limit = limited.get(resource);
                if (request !== undefined && limit !== undefined && request > limit) {
                    reportViolation(`${prefix} requests more ${resource} than its limit (${at}.requests.${resource} `
                        + `"${requests[resource]}" > ${at}.limits.${resource} "${limits[resource]}"), which Kubernetes `
                        + "rejects: lower the request or raise the limit.");
                }
            }
        }
    }),
};

// ---------------------------------------------------------------------------------------------------
// Probes
// ---------------------------------------------------------------------------------------------------

const PROBES = [
    { field: "readinessProbe", why: "Services send traffic only to ready pods and rolling updates wait for them" },
    { field: "livenessProbe", why: "Kubernetes restarts the container when it hangs" },
] as const;

export const containerProbes: ResourceRule = {
    name: "container-probes",
    description: "Every container of a long-running pod has a readiness and a liveness probe.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateResource: validateWorkload((workload, args, reportViolation) => {
        if (!workload.longRunning) {
            return args.notApplicable(`${workload.label} runs to completion; probes apply to long-running pods`);
        }
        // Init containers (native sidecars included) are exempt: they gate start-up rather than serve.
        for (const { container, path, label } of containersOf(workload).filter((c) => !c.init)) {
            for (const { field, why } of PROBES) {
                if (container[field] === undefined) {
                    reportViolation(`${label} has no ${field}: set ${path}.${field} (an httpGet on `
                        + `the app's health endpoint, or a tcpSocket/exec check) so ${why}.`);
                }
            }
        }
    }),
};

// ---------------------------------------------------------------------------------------------------
// Pinned images
// ---------------------------------------------------------------------------------------------------

export const imagePinned: ResourceRule = {
    name: "image-pinned",
    description: "Every image is pinned by digest (@sha256:...) or an explicit tag other than latest.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateWorkload((workload, _args, reportViolation) => {
        for (const { container, path, label: prefix } of containersOf(workload)) {
            const image = known(() => container.image);
            if (image === UNKNOWN) {
                continue; // computed by this plan (e.g. the pushed image's repoDigest): checked by `pulumi up`
            }
            if (image === undefined || image === "") {
                reportViolation(`${prefix} has no image: set ${path}.image to a reference pinned by digest.`);
                continue;
            }
            const pin = imagePin(image);
            if (pin.kind === "latest") {
                const means = pin.reason === "no tag" ? "has no tag, so it means :latest" : "uses the latest tag";
                reportViolation(`${prefix} image "${image}" (${path}.image) ${means}, which moves under you: `
                    + "pin it by digest (image@sha256:...), e.g. the repoDigest of the image this plan pushed, "
                    + "or by an explicit version tag.");
            } else if (pin.kind === "invalid") {
                reportViolation(`${prefix} image "${image}" (${path}.image) is not a valid reference: ${pin.reason}.`);
            }
        }
    }),
};

// ---------------------------------------------------------------------------------------------------
// Services of internal tiers
// ---------------------------------------------------------------------------------------------------

const EXTERNAL_SERVICE_TYPES = new Set(["NodePort", "LoadBalancer"]);

export const internalTiersNotExposed: ResourceRule = {
    name: "internal-tiers-not-exposed",
    description: "No Service of the backend or database tier is of type NodePort or LoadBalancer.",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: validateResourceOfType(k8s.core.v1.Service, (service, args, reportViolation) => {
        const type = service.spec?.type;
        if (type === undefined || !EXTERNAL_SERVICE_TYPES.has(type)) {
            return;
        }
        const tiers = [
            { field: "spec.selector", value: service.spec?.selector?.[COMPONENT_LABEL] },
            { field: "metadata.labels", value: service.metadata?.labels?.[COMPONENT_LABEL] },
        ];
        const internal = tiers.find((t) => t.value !== undefined && INTERNAL_TIERS.has(t.value));
        if (internal !== undefined) {
            reportViolation(`${resourceLabel("Service", service.metadata, args.name)}: spec.type is "${type}", which `
                + `exposes the ${internal.value} tier (${internal.field}["${COMPONENT_LABEL}"]) outside the cluster: `
                + "remove spec.type so it is a ClusterIP Service; outside traffic enters through the Ingress.");
        }
    }),
};

// ---------------------------------------------------------------------------------------------------
// Ingress
// ---------------------------------------------------------------------------------------------------

const LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

export const ingressClassRequired: ResourceRule = {
    name: "ingress-class-required",
    description: "Every Ingress names its controller in spec.ingressClassName.",
    enforcementLevel: "mandatory",
    severity: "medium",
    validateResource: validateResourceOfType(k8s.networking.v1.Ingress, (ingress, args, reportViolation) => {
        const ingressClass = known(() => ingress.spec?.ingressClassName);
        if (ingressClass === UNKNOWN || (ingressClass !== undefined && ingressClass !== "")) {
            return;
        }
        const legacy = ingress.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
        reportViolation(`${resourceLabel("Ingress", ingress.metadata, args.name)}: spec.ingressClassName is not set, `
            + "so no controller may serve it, or the wrong one"
            + (legacy !== undefined ? ` (the ${LEGACY_CLASS_ANNOTATION} annotation "${legacy}" is deprecated)` : "")
            + ": set spec.ingressClassName to your controller's IngressClass, e.g. \"nginx\" "
            + "(`kubectl get ingressclass` lists them).");
    }),
};

/** How the TLS rule is switched on; `launchpadPolicies` derives it from the stack name. */
export interface IngressTlsOptions {
    /** Whether every Ingress must serve TLS. Policy config `requireTls` overrides it. */
    readonly requireTls: boolean;
}

/** Configuration the TLS rule accepts from `--policy-pack-config` (or Pulumi Cloud). */
export interface IngressTlsConfig {
    readonly requireTls?: boolean;
}

function hostCovered(tlsHost: string, host: string): boolean {
    if (tlsHost === host) {
        return true;
    }
    // "*.example.com" covers exactly one more label: "a.example.com", not "a.b.example.com".
    const suffix = tlsHost.slice(1);
    const label = host.slice(0, host.length - suffix.length);
    return tlsHost.startsWith("*.") && host.endsWith(suffix) && label !== "" && !label.includes(".");
}

/** Every Ingress serves TLS for each of its hosts — in the prod stack, or wherever `requireTls` says. */
export function ingressTls(options: IngressTlsOptions): ResourceRule {
    return {
        name: "ingress-tls",
        description: "Every Ingress serves TLS for each of its hosts (in the prod stack, or wherever requireTls is set).",
        enforcementLevel: "mandatory",
        severity: "high",
        configSchema: {
            properties: {
                requireTls: {
                    type: "boolean",
                    description: "Require TLS on every Ingress; when unset, required only in the stack named prod.",
                },
            },
        },
        validateResource: validateResourceOfType(k8s.networking.v1.Ingress, (ingress, args, reportViolation) => {
            if (!(args.getConfig<IngressTlsConfig>().requireTls ?? options.requireTls)) {
                return args.notApplicable("TLS is required only in the prod stack (or with requireTls: true)");
            }
            const label = resourceLabel("Ingress", ingress.metadata, args.name);
            const tls = ingress.spec?.tls ?? [];
            if (tls.length === 0) {
                reportViolation(`${label}: spec.tls is empty, so the app is served over plain HTTP: add `
                    + "spec.tls with the hosts and the Secret holding their certificate (e.g. one cert-manager issues).");
                return;
            }
            // An entry without hosts takes the controller's default certificate for every host.
            if (tls.some((entry) => (entry.hosts ?? []).length === 0)) {
                return;
            }
            const tlsHosts = tls.flatMap((entry) => entry.hosts ?? []);
            (ingress.spec?.rules ?? []).forEach((rule, i) => {
                const host = rule.host;
                if (host !== undefined && host !== "" && !tlsHosts.some((tlsHost) => hostCovered(tlsHost, host))) {
                    reportViolation(`${label}: spec.rules[${i}].host "${host}" is in no spec.tls[].hosts, so it is `
                        + "served without TLS: add it to the hosts of a spec.tls entry whose secret covers it.");
                }
            });
        }),
    };
}

// ---------------------------------------------------------------------------------------------------
// Default-deny NetworkPolicy (stack-level)
// ---------------------------------------------------------------------------------------------------

type NetworkPolicySpec = pulumi.Unwrap<k8s.types.input.networking.v1.NetworkPolicySpec>;
type PeerRule = { from?: unknown[]; to?: unknown[]; ports?: unknown[] };

const isEmpty = (list: unknown[] | undefined) => list === undefined || list.length === 0;

/** Selects every pod, isolates both directions, and has no rule that lets everything back in. */
export function isDefaultDeny(spec: NetworkPolicySpec | undefined): boolean {
    const selector = spec?.podSelector;
    const selectsAll = Object.keys(selector?.matchLabels ?? {}).length === 0 && isEmpty(selector?.matchExpressions);
    const types = spec?.policyTypes ?? [];
    const allowsAll = (rules: PeerRule[] | undefined) =>
        (rules ?? []).some((r) => isEmpty(r.from) && isEmpty(r.to) && isEmpty(r.ports));
    return selectsAll && types.includes("Ingress") && types.includes("Egress")
        && !allowsAll(spec?.ingress) && !allowsAll(spec?.egress);
}

/** The namespace a resource lands in: its own, else its provider's default, else "default". */
function namespaceOf(resource: PolicyResource): string | typeof UNKNOWN {
    const own = known(() => (resource.props as { metadata?: { namespace?: string } }).metadata?.namespace);
    if (own !== undefined && own !== "") {
        return own;
    }
    const fromProvider = known(() => resource.provider?.props.namespace as string | undefined);
    return fromProvider !== undefined && fromProvider !== "" ? fromProvider : "default";
}

export const defaultDenyNetworkPolicy: StackValidationPolicy = {
    name: "default-deny-network-policy",
    description: "Every namespace that runs pods has a NetworkPolicy that selects all pods and denies "
        + "Ingress and Egress by default.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args, reportViolation) => {
        const workloadsByNamespace = new Map<string, string[]>();
        const protectedNamespaces = new Set<string>();
        let someNetworkPolicyNamespaceUnknown = false;

        for (const resource of args.resources) {
            const networkPolicy = resource.asType(k8s.networking.v1.NetworkPolicy);
            const workload = WORKLOAD_KINDS.find((w) => resource.isType(w.resourceClass));
            if (networkPolicy === undefined && workload === undefined) {
                continue;
            }
            const namespace = namespaceOf(resource);
            if (networkPolicy !== undefined) {
                if (namespace === UNKNOWN) {
                    someNetworkPolicyNamespaceUnknown = true;
                } else if (isDefaultDeny(networkPolicy.spec as NetworkPolicySpec)) {
                    protectedNamespaces.add(namespace);
                }
            } else if (workload !== undefined && namespace !== UNKNOWN) {
                const metadata = (resource.props as { metadata?: { name?: string } }).metadata;
                const workloads = workloadsByNamespace.get(namespace) ?? [];
                workloads.push(resourceLabel(workload.kind, metadata, resource.name));
                workloadsByNamespace.set(namespace, workloads);
            }
        }
        if (someNetworkPolicyNamespaceUnknown) {
            return; // preview cannot tell which namespace it protects; `pulumi up` checks with real values
        }
        for (const [namespace, workloads] of workloadsByNamespace) {
            if (!protectedNamespaces.has(namespace)) {
                reportViolation(`Namespace "${namespace}" runs ${workloads.join(", ")} but has no default-deny `
                    + "NetworkPolicy, so every pod accepts traffic from anywhere and can reach anything: add a "
                    + `NetworkPolicy in namespace "${namespace}" with spec.podSelector {} and spec.policyTypes `
                    + `["Ingress", "Egress"], then allow each tier's traffic in narrower policies.`);
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------------
// The pack
// ---------------------------------------------------------------------------------------------------

/** What differs between stacks. */
export type PackOptions = IngressTlsOptions;

/** The stack the CLI runs the pack for (it sets PULUMI_STACK; older CLIs only PULUMI_NODEJS_STACK). */
export function stackNameFrom(env: Readonly<Record<string, string | undefined>>): string | undefined {
    const stack = env.PULUMI_STACK ?? env.PULUMI_NODEJS_STACK;
    // Accept "org/project/prod" too, should a wrapper pass the fully qualified name.
    return stack?.split("/").pop();
}

/** Pack options for the environment the CLI starts the pack in: TLS is required in the stack named prod. */
export function packOptionsFrom(env: Readonly<Record<string, string | undefined>>): PackOptions {
    return { requireTls: stackNameFrom(env) === "prod" };
}

/** Every launchpad policy, in the order the README's table lists them. */
export function launchpadPolicies(options: PackOptions): Policies {
    return [
        podSecurityRestricted,
        containerResources,
        containerProbes,
        imagePinned,
        internalTiersNotExposed,
        ingressClassRequired,
        ingressTls(options),
        defaultDenyNetworkPolicy,
    ];
}
