import * as fs from "node:fs";
import * as path from "node:path";
import type { WebTier } from "../../components/app";
import { buildCommand, type DockerRun, IMAGE_TYPE, type ImageBuild, type ImageOutputs, runDocker, withBuildLock } from "../../components/image";
import { PROJECT } from "../../components/project";
import { openCluster, type ClusterRef } from "../../lib/kubernetesClient";
import { Failure } from "../cli";
import { openDeployedStack } from "../engine/open";
import { engineMessage, type OpenWorkspace, type StateResource } from "../engine/workspace";
import { type ReadCommit, releaseMessageNow } from "../engine/releases";
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

/** A tier's image resource in the state: the one whose id is `<registry>/<appName>-<tier>:<stack>`. */
function imageInState(resources: readonly StateResource[], stack: string, appName: string, tier: WebTier): StateResource | undefined {
    return resources.find((r) => r.type === IMAGE_TYPE && (r.id ?? "").endsWith(`/${appName}-${tier}:${stack}`));
}

/** A `docker build` to repeat: the image tag it makes and its argv. */
export interface LastBuild {
    readonly image: string;
    readonly args: readonly string[];
}

/**
 * The `docker build` the engine ran last for a tier, as the state keeps its inputs, in this checkout
 * (the state's `root` is the folder of whoever deployed last); undefined for a tier whose image is not
 * built (a pinned or mirrored one).
 */
export function lastBuild(image: StateResource | undefined, repoRoot: string): LastBuild | undefined {
    const outputs = image?.outputs as Partial<ImageOutputs> | undefined;
    const build = outputs?.build as ImageBuild | undefined;
    if (outputs?.repository === undefined || outputs.tag === undefined || outputs.platform === undefined || build?.context === undefined || build.dockerfile === undefined) return undefined;
    const inputs = { repository: outputs.repository, tag: outputs.tag, platform: outputs.platform, build: { ...build, root: repoRoot } };
    return { image: `${inputs.repository}:${inputs.tag}`, args: buildCommand(inputs) };
}

/**
 * The engine for the stack: refuses a stack that was never deployed (the loop updates what `npm run up`
 * made); each update targets one tier's image and its dependents, with the engine's output kept for the
 * failure's cause, and a release message like `npm run up`'s, noted "dev loop: <tier>". A prebuild runs the tier's last `docker build` again on the new source, beside the
 * engine's start, holding the tag's build lock: the engine's own build of the same thing waits for it and
 * finds every step in Docker's cache.
 */
export async function openTierEngine(opts: {
    readonly repoRoot: string;
    readonly stack: string;
    readonly appName: string;
    readonly tiers: readonly WebTier[];
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly openWorkspace: OpenWorkspace;
    readonly docker?: DockerRun;
    /** Who runs the loop, as `npm run history` shows its updates. @default user@host, or the CI system */
    readonly who?: string;
    /** @default asked of git */
    readonly readCommit?: ReadCommit;
}): Promise<TierEngine> {
    const { stack, appName, repoRoot } = opts;
    const ws = await openDeployedStack(opts);
    const deployFirst = `deploy it first: npm run up -- --stack ${stack}; nothing was changed.`;
    const resources = await ws.resourcesInState(stack);
    const missing = opts.tiers.filter((tier) => imageInState(resources, stack, appName, tier) === undefined);
    if (missing.length > 0) throw new Failure(`launchpad: stack ${stack} has no ${missing.join(" or ")} image in its state: ${deployFirst}`);
    const builds = new Map(opts.tiers.map((tier) => [tier, lastBuild(imageInState(resources, stack, appName, tier), repoRoot)]));
    const docker = opts.docker ?? runDocker;
    return {
        async prebuild(tier) {
            const build = builds.get(tier);
            return build !== undefined && (await withBuildLock(build.image, () => docker(build.args))).code === 0;
        },
        async update(tier) {
            let output = "";
            try {
                const message = await releaseMessageNow(ws, stack, opts, `dev loop: ${tier}`);
                await ws.up(stack, (chunk) => (output += chunk), { target: [imageUrn(stack, appName, tier)], targetDependents: true, message });
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
