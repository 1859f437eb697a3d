import { type LaunchpadConfig, loadConfig } from "../components/config";
import { instanceLabel, SERVICE_NAMES } from "../components/defaults";
import type { ClusterRef } from "../lib/kubernetesClient";
import { ROOT, stackConfig, stackSecretKeys } from "./stackFile";

/** A tier as the day-two commands name it (`--tier`): the value of its pods' `app.kubernetes.io/name`. */
export type TierName = (typeof SERVICE_NAMES)[keyof typeof SERVICE_NAMES];

export const TIER_NAMES: readonly TierName[] = Object.values(SERVICE_NAMES);

/** Where a stack's app runs, and how its objects are labelled: what the commands that talk to the running app need. */
export interface AppTarget extends ClusterRef {
    readonly stack: string;
    readonly namespace: string;
    /** The value of `app.kubernetes.io/instance` on every object of the stack. */
    readonly instance: string;
    readonly database: { readonly name: string; readonly user: string };
}

/** The label selector of the stack's pods, of one tier or of all. */
export function podSelector(target: AppTarget, tier?: TierName): string {
    return [`app.kubernetes.io/instance=${target.instance}`, ...(tier ? [`app.kubernetes.io/name=${tier}`] : [])].join(",");
}

/**
 * Reads a stack's target from its stack file alone, validated as `up` validates it (a ConfigError lists
 * every problem): no engine, no passphrase, no Pulumi CLI. Secret values are not needed here.
 */
export function appTarget(stack: string, root = ROOT): AppTarget {
    const secretKeys = stackSecretKeys(stack, root);
    return targetOf(loadConfig(stackConfig(stack, root), { stack, isSecret: (key) => secretKeys.includes(key) }));
}

/** The target of a stack whose config is loaded already. */
export function targetOf(config: LaunchpadConfig): AppTarget {
    const { stack } = config;
    return {
        stack,
        context: config.cluster.context,
        kubeconfig: config.cluster.kubeconfig,
        namespace: config.namespace,
        instance: instanceLabel(config.appName, stack),
        database: { name: config.database.name, user: config.database.user },
    };
}
