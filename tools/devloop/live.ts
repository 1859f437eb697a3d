import * as fs from "node:fs";
import * as path from "node:path";
import type { WebTier } from "../../components/app";
import { IMAGE_TYPE } from "../../components/image";
import { PROJECT } from "../../components/project";
import { openCluster, type ClusterRef } from "../../lib/kubernetesClient";
import { Failure } from "../cli";
import { openDeployedStack } from "../engine/open";
import { engineMessage, type OpenWorkspace } from "../engine/workspace";
import type { Clock } from "./debounce";
import type { TierCluster, TierEngine } from "./loop";

// The loop's boundaries on a real machine: the Pulumi engine (a targeted update), the cluster (the
// tier's Deployment), and the file system's change notifications.

/**
 * The URN of a tier's image resource, as the program names it (App → ContainerImage → Image): the one
 * target of a tier's update. The engine adds what depends on it (the tier's Deployment).
 */
export function imageUrn(stack: string, appName: string, tier: WebTier): string {
    return `urn:pulumi:${stack}::${PROJECT}::launchpad:index:App$launchpad:index:ContainerImage$${IMAGE_TYPE}::${appName}-${tier}-image-build`;
}

/**
 * The engine for the stack: refuses a stack that was never deployed (the loop updates what `npm run up`
 * made); each update targets one tier's image and its dependents, with the engine's output kept for the
 * failure's cause.
 */
export async function openTierEngine(opts: {
    readonly repoRoot: string;
    readonly stack: string;
    readonly appName: string;
    readonly tiers: readonly WebTier[];
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly openWorkspace: OpenWorkspace;
}): Promise<TierEngine> {
    const { stack, appName } = opts;
    const ws = await openDeployedStack(opts);
    const deployFirst = `deploy it first: npm run up -- --stack ${stack}; nothing was changed.`;
    const resources = await ws.resourcesInState(stack);
    const missing = opts.tiers.filter((tier) => !resources.some((r) => r.type === IMAGE_TYPE && (r.id ?? "").endsWith(`/${appName}-${tier}:${stack}`)));
    if (missing.length > 0) throw new Failure(`launchpad: stack ${stack} has no ${missing.join(" or ")} image in its state: ${deployFirst}`);
    return {
        async update(tier) {
            let output = "";
            try {
                await ws.up(stack, (chunk) => (output += chunk), { target: [imageUrn(stack, appName, tier)], targetDependents: true });
            } catch (error) {
                throw new Error(`${output}\n${engineMessage(error)}`);
            }
        },
    };
}

/** The parts of a Deployment that say how its rollout stands. */
export interface DeploymentView {
    readonly metadata?: { readonly generation?: number };
    readonly spec?: { readonly replicas?: number; readonly template?: { readonly spec?: { readonly containers?: readonly { readonly name: string; readonly image?: string }[] } } };
    readonly status?: {
        readonly observedGeneration?: number;
        readonly replicas?: number;
        readonly updatedReplicas?: number;
        readonly availableReplicas?: number;
        readonly conditions?: readonly { readonly type: string; readonly reason?: string; readonly message?: string }[];
    };
}

/**
 * How a Deployment's rollout stands, by kubectl rollout status's rule: done when the controller saw the
 * newest template, every wanted pod runs it, none of an older one is left, and the new ones are
 * available; failed when its progress deadline passed.
 */
export function rolloutState(d: DeploymentView): { done: true } | { done: false; failed?: string } {
    const s = d.status ?? {};
    const deadline = s.conditions?.find((c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded");
    if (deadline) return { done: false, failed: `ProgressDeadlineExceeded: ${deadline.message ?? "the rollout made no progress"}` };
    const want = d.spec?.replicas ?? 1;
    const updated = s.updatedReplicas ?? 0;
    const done = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && updated >= want && (s.replicas ?? 0) <= updated && (s.availableReplicas ?? 0) >= updated;
    return { done } as { done: true } | { done: false };
}

/** The tier's container image in a Deployment's template (its container named after the tier). */
export function templateImage(d: DeploymentView | undefined, tier: WebTier): string | undefined {
    const containers = d?.spec?.template?.spec?.containers ?? [];
    return (containers.find((c) => c.name === tier) ?? containers[0])?.image;
}

/** The stack's Deployments on its cluster, found by their labels. */
export async function openTierCluster(where: ClusterRef & { readonly namespace: string; readonly instance: string }, clock: Clock, timeoutMs: number, pollMs = 200): Promise<TierCluster> {
    const { k8s, kc } = await openCluster(where);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const deployment = async (tier: WebTier): Promise<DeploymentView | undefined> =>
        (await apps.listNamespacedDeployment({ namespace: where.namespace, labelSelector: `app.kubernetes.io/instance=${where.instance},app.kubernetes.io/name=${tier}` })).items[0] as DeploymentView | undefined;
    const pause = (ms: number) => new Promise<void>((resolve) => clock.after(ms, resolve));
    return {
        image: async (tier) => templateImage(await deployment(tier), tier),
        async rolledOut(tier, stopped) {
            const until = clock.now() + timeoutMs;
            for (;;) {
                if (stopped()) return undefined;
                const d = await deployment(tier);
                if (d === undefined) throw new Error(`the ${tier}'s Deployment is not in namespace ${where.namespace}: did not roll out`);
                const state = rolloutState(d);
                if (state.done) return templateImage(d, tier);
                if (state.failed) throw new Error(`the ${tier}'s Deployment did not roll out: ${state.failed}`);
                if (clock.now() > until) throw new Error(`the ${tier}'s Deployment did not roll out within rolloutTimeoutSeconds (${timeoutMs / 1000} s)`);
                await pause(pollMs);
            }
        },
    };
}

/** A folder to watch: its whole tree, or only its own entries. */
export interface Watched {
    readonly dir: string;
    readonly recursive: boolean;
}

/** Watches folders; `onPath` gets each changed file's absolute path; returns what stops watching. */
export type Watch = (folders: readonly Watched[], onPath: (absolutePath: string) => void) => () => void;

export const watchLive: Watch = (folders, onPath) => {
    const watchers = folders.map((f) => fs.watch(f.dir, { recursive: f.recursive }, (_event, name) => {
        if (name) onPath(path.join(f.dir, name.toString()));
    }));
    return () => watchers.forEach((w) => w.close());
};
