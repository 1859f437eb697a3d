import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

// A small typed pod builder shared by WebService and Database: the good ideas of kubernetesx (typed
// pod specs, env values that reference Secrets as objects) without depending on it.

export type Tier = "frontend" | "backend" | "database";

export interface Toleration {
    readonly key?: string;
    readonly operator?: "Exists" | "Equal";
    readonly value?: string;
    readonly effect?: "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute";
    readonly tolerationSeconds?: number;
}

/** Kubernetes affinity, as the stack config gives it. */
export type Affinity = k8s.types.input.core.v1.Affinity;

/** Where pods may run. The same for every tier, from the stack config. */
export interface Scheduling {
    /** Node labels every pod requires. @default {} */
    readonly nodeSelector?: Readonly<Record<string, string>>;
    /** Taints the pods tolerate. @default [] */
    readonly tolerations?: readonly Toleration[];
    /** Node and pod (anti-)affinity. @default none */
    readonly affinity?: Affinity;
}

/** Requests and the memory limit of one container. */
export interface Resources {
    /** CPU request, e.g. "100m". */
    readonly cpu: string;
    /** Memory request, e.g. "128Mi". */
    readonly memory: string;
    /** Memory limit, e.g. "256Mi". No CPU limit: throttling hurts latency more than it protects neighbours. */
    readonly memoryLimit: string;
}

/** Identity of a tier within one app instance; the source of every label. */
export interface TierIdentity {
    /** The app the tier belongs to (`app.kubernetes.io/part-of`). */
    readonly partOf: string;
    /** The app's instance, one per stack (`app.kubernetes.io/instance`). */
    readonly instance: string;
    /** The workload's name (`app.kubernetes.io/name`). */
    readonly name: string;
    readonly component: Tier;
}

/** The recommended labels; one result feeds selectors, pod labels and Service selectors alike. */
export function labelsFor(identity: TierIdentity): Record<string, string> {
    return {
        "app.kubernetes.io/name": identity.name,
        "app.kubernetes.io/instance": identity.instance,
        "app.kubernetes.io/component": identity.component,
        "app.kubernetes.io/part-of": identity.partOf,
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

/** A reference to one key of a Kubernetes Secret, for an environment variable. */
export interface SecretKeyRef {
    readonly secretKeyRef: { readonly name: pulumi.Input<string>; readonly key: string };
}

/** An environment value: plain text, or a reference to a Secret's key (never the secret's value itself). */
export type EnvValue = pulumi.Input<string> | SecretKeyRef;

/** Refers to `key` of `secret` by the Secret object, not by a re-typed name. */
export function fromSecret(secret: k8s.core.v1.Secret, key: string): SecretKeyRef {
    return { secretKeyRef: { name: secret.metadata.name, key } };
}

function isSecretKeyRef(value: EnvValue): value is SecretKeyRef {
    return typeof value === "object" && value !== null && !pulumi.Output.isInstance(value) && "secretKeyRef" in value;
}

/** Turns a name → value map into container env entries, in the map's order. */
export function envVars(env: Readonly<Record<string, EnvValue>>): k8s.types.input.core.v1.EnvVar[] {
    return Object.entries(env).map(([name, value]) =>
        isSecretKeyRef(value)
            ? { name, valueFrom: { secretKeyRef: { name: value.secretKeyRef.name, key: value.secretKeyRef.key } } }
            : { name, value },
    );
}

/** Pod-level security that satisfies the "restricted" Pod Security Standard. */
export function restrictedPodSecurity(ids?: { uid: number; gid: number; fsGroup?: number }): k8s.types.input.core.v1.PodSecurityContext {
    return {
        runAsNonRoot: true,
        ...(ids ? { runAsUser: ids.uid, runAsGroup: ids.gid } : {}),
        ...(ids?.fsGroup !== undefined ? { fsGroup: ids.fsGroup, fsGroupChangePolicy: "OnRootMismatch" } : {}),
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** Container-level security: restricted, plus a read-only root filesystem. */
export function restrictedContainerSecurity(): k8s.types.input.core.v1.SecurityContext {
    return {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

export function resourcesSpec(resources: Resources): k8s.types.input.core.v1.ResourceRequirements {
    return {
        requests: { cpu: resources.cpu, memory: resources.memory },
        limits: { memory: resources.memoryLimit },
    };
}

/** The pod's image pull Secrets, by name; nothing when there are none. */
export function pullSecretsSpec(names: readonly pulumi.Input<string>[]): Partial<k8s.types.input.core.v1.PodSpec> {
    return names.length > 0 ? { imagePullSecrets: names.map((name) => ({ name })) } : {};
}

/** Scheduling fields of a pod spec, leaving out what is empty. */
export function schedulingSpec(scheduling: Scheduling | undefined): Partial<k8s.types.input.core.v1.PodSpec> {
    const nodeSelector = scheduling?.nodeSelector ?? {};
    const tolerations = scheduling?.tolerations ?? [];
    return {
        ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector: { ...nodeSelector } } : {}),
        ...(tolerations.length > 0 ? { tolerations: tolerations.map((t) => ({ ...t })) } : {}),
        ...(scheduling?.affinity ? { affinity: scheduling.affinity } : {}),
    };
}

/** Annotations that make `pulumi up` give up on a rollout after `timeoutSeconds`, with its cause. */
export function rolloutAnnotations(timeoutSeconds: number): Record<string, string> {
    return { "pulumi.com/timeoutSeconds": String(timeoutSeconds) };
}

/**
 * For the objects a destroy keeps (namespace, database StatefulSet and Secret): the next `up` applies
 * them again through a new provider, whose Server-Side Apply field manager differs from the one that
 * wrote them, and the API server refuses any changed field (a new password, say) as a conflict. Forcing
 * makes the stack take its fields back, as it owned them before the destroy.
 */
export const ADOPT_KEPT_OBJECT: Readonly<Record<string, string>> = { "pulumi.com/patchForce": "true" };

/**
 * The Deployment's own progress deadline, below Pulumi's timeout, so Kubernetes marks the rollout
 * failed (ProgressDeadlineExceeded) and Pulumi reports that reason instead of a bare timeout.
 */
export function progressDeadlineFor(timeoutSeconds: number): number {
    return Math.floor(timeoutSeconds * 0.8);
}
