import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ResourceValidation, ResourceValidationArgs, ReportViolation, UnknownValueError } from "@pulumi/policy";
import { podSpecIn, podSpecPath, WORKLOAD_KIND_NAMES, WorkloadKindName } from "../lib/podTemplates";

export type PodSpec = pulumi.Unwrap<k8s.types.input.core.v1.PodSpec>;
export type Container = pulumi.Unwrap<k8s.types.input.core.v1.Container>;
type ObjectMeta = pulumi.Unwrap<k8s.types.input.meta.v1.ObjectMeta>;

/** A resource that carries a pod template (or is a pod), seen through the parts the rules read. */
export interface Workload {
    /** "Deployment", "StatefulSet", "Pod", ... */
    readonly kind: string;
    /** `Deployment "backend"` — how messages name the resource. */
    readonly label: string;
    readonly podSpec: PodSpec;
    /** Field path of the pod spec inside the resource, e.g. `spec.template.spec`. */
    readonly podSpecPath: string;
    /** False for run-to-completion pods (Jobs, CronJobs, Pods with restartPolicy Never/OnFailure). */
    readonly longRunning: boolean;
}

/** One container of a pod spec with the field path and words a message needs. */
export interface ContainerRef {
    readonly container: Container;
    /** `spec.template.spec.initContainers[0]` */
    readonly path: string;
    /** `Deployment "backend": init container "migrate"` — how messages name the container. */
    readonly label: string;
    readonly init: boolean;
}

/** Marks a value that is computed by another resource and so not known during `pulumi preview`. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

/**
 * Reads a value that may be unknown during preview (the engine's proxy throws on touching one), so a
 * rule can skip just that check; `pulumi up` validates again once the value is known.
 */
export function known<T>(read: () => T): T | typeof UNKNOWN {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) {
            return UNKNOWN;
        }
        throw e;
    }
}

/** `Deployment "backend"`: the Kubernetes name when it is known, else the Pulumi resource name. */
export function resourceLabel(kind: string, metadata: ObjectMeta | undefined, pulumiName: string): string {
    const name = known(() => metadata?.name);
    return `${kind} "${typeof name === "string" && name !== "" ? name : pulumiName}"`;
}

const RUN_TO_COMPLETION = new Set(["Never", "OnFailure"]);

/** A resource class that carries pods: where its pod spec is, and whether those pods run for good. */
export interface WorkloadKind {
    readonly kind: string;
    readonly resourceClass: new (...rest: any[]) => pulumi.Resource;
    /** The workload if `args` is of this kind and has a pod spec. */
    read(args: ResourceValidationArgs): Workload | undefined;
}

const RESOURCE_CLASSES: Record<WorkloadKindName, new (...rest: any[]) => pulumi.Resource> = {
    Deployment: k8s.apps.v1.Deployment,
    StatefulSet: k8s.apps.v1.StatefulSet,
    DaemonSet: k8s.apps.v1.DaemonSet,
    ReplicaSet: k8s.apps.v1.ReplicaSet,
    Job: k8s.batch.v1.Job,
    CronJob: k8s.batch.v1.CronJob,
    Pod: k8s.core.v1.Pod,
};

/** False for run-to-completion pods: Jobs, CronJobs, and Pods with restartPolicy Never/OnFailure. */
function runsForGood(kind: WorkloadKindName, podSpec: PodSpec): boolean {
    if (kind === "Job" || kind === "CronJob") return false;
    return kind !== "Pod" || podSpec.restartPolicy === undefined || !RUN_TO_COMPLETION.has(podSpec.restartPolicy);
}

function workloadKind(kind: WorkloadKindName): WorkloadKind {
    const resourceClass = RESOURCE_CLASSES[kind];
    return {
        kind,
        resourceClass,
        read: (args) => {
            const props = args.asType(resourceClass);
            const podSpec: PodSpec | undefined = props === undefined ? undefined : podSpecIn(kind, props);
            if (props === undefined || podSpec === undefined) {
                return undefined;
            }
            const metadata = (props as { metadata?: ObjectMeta }).metadata;
            return { kind, label: resourceLabel(kind, metadata, args.name), podSpec, podSpecPath: podSpecPath(kind),
                longRunning: runsForGood(kind, podSpec) };
        },
    };
}

/** Every resource kind whose pods the rules look at. */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = WORKLOAD_KIND_NAMES.map(workloadKind);

/** The workload behind `args`, or `undefined` for resources that carry no pod template. */
export function workloadOf(args: ResourceValidationArgs): Workload | undefined {
    for (const kind of WORKLOAD_KINDS) {
        const workload = kind.read(args);
        if (workload !== undefined) {
            return workload;
        }
    }
    return undefined;
}

/** Init containers first (they run first), then the app containers, each with its field path. */
export function containersOf(workload: Workload): ContainerRef[] {
    const refs = (list: Container[] | undefined, field: string, init: boolean): ContainerRef[] =>
        (list ?? []).map((container, i) => ({
            container,
            path: `${workload.podSpecPath}.${field}[${i}]`,
            label: `${workload.label}: ${init ? "init container" : "container"} "${container.name}"`,
            init,
        }));
    return [
        ...refs(workload.podSpec.initContainers, "initContainers", true),
        ...refs(workload.podSpec.containers, "containers", false),
    ];
}

/**
 * A resource validation for every kind that carries a pod template; other resources are reported
 * as not applicable.
 */
export function validateWorkload(
    check: (workload: Workload, args: ResourceValidationArgs, reportViolation: ReportViolation) => void,
): ResourceValidation {
    return (args, reportViolation) => {
        const workload = workloadOf(args);
        if (workload === undefined) {
            return args.notApplicable("Policy only applies to resources with a pod template ("
                + WORKLOAD_KINDS.map((w) => w.kind).join(", ") + ")");
        }
        return check(workload, args, reportViolation);
    };
}
