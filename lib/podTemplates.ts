/**
 * The kinds of Kubernetes object that carry pods, and where each keeps its pod spec: the one list that
 * the policy pack, the doctor and the diagram read. It works on plain objects (manifests, props, what
 * `kubectl get -o json` prints), so it needs no SDK.
 */

const POD_SPEC_PATHS = {
    Deployment: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    DaemonSet: ["spec", "template", "spec"],
    ReplicaSet: ["spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
    // A bare Pod is its own template.
    Pod: ["spec"],
} as const;

/** A kind whose objects carry pods. */
export type WorkloadKindName = keyof typeof POD_SPEC_PATHS;

/** Every kind whose objects carry pods, controllers first. */
export const WORKLOAD_KIND_NAMES = Object.keys(POD_SPEC_PATHS) as readonly WorkloadKindName[];

export function isWorkloadKind(kind: string): kind is WorkloadKindName {
    return Object.hasOwn(POD_SPEC_PATHS, kind);
}

/** Field path of the pod spec inside an object of `kind`, e.g. `spec.template.spec`; a Pod's is `spec`. */
export function podSpecPath(kind: WorkloadKindName): string {
    return POD_SPEC_PATHS[kind].join(".");
}

/** The pod spec inside `object` (an object of `kind`), reading one field at a time; undefined if absent. */
export function podSpecIn(kind: WorkloadKindName, object: unknown): any {
    let at: any = object;
    for (const field of POD_SPEC_PATHS[kind]) at = at?.[field];
    return at;
}

/** The pod template (`metadata` and `spec`) of a workload object; undefined for kinds that carry no pods. */
export function podTemplateOf(object: { readonly kind: string; readonly metadata?: unknown; readonly spec?: unknown }): { metadata?: any; spec?: any } | undefined {
    if (!isWorkloadKind(object.kind)) return undefined;
    if (object.kind === "Pod") return { metadata: object.metadata, spec: object.spec };
    let at: any = object;
    for (const field of POD_SPEC_PATHS[object.kind].slice(0, -1)) at = at?.[field];
    return at;
}
