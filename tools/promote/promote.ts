import { CONFIG_KEYS, dataLockOfConfig, PROJECT } from "../../components/config";
import type { Credentials, ImageCheck } from "../../lib/registry";
import { Failure } from "../cli";
import { openDeployedStack, openStack } from "../engine/open";
import { PINNED_KEYS, PINNED_TIERS, type PinnedDeployDeps, type PinnedTier, pinImages } from "../engine/pinned";
import { type Release, readReleases } from "../engine/releases";
import { engineMessage, stackRegistryLogin, type Workspace } from "../engine/workspace";
import { stackConfig } from "../stackFile";

/** The registries a promotion reads and writes; tests replace them. */
export interface PromoteRegistry {
    /** Whether the registry has this very image, asked by its digest. */
    has(image: string, credentials: Credentials | undefined): Promise<ImageCheck>;
    /** Copies `source` (by digest) into the repository `target` byte for byte; the digest the target registry answers with. */
    copy(source: string, target: string, from: Credentials | undefined, to: Credentials | undefined): Promise<string>;
}

/** What `npm run promote` needs outside itself; tests replace the engine, the registries and the deploy. */
export interface PromoteDeps extends PinnedDeployDeps {
    readonly registry: PromoteRegistry;
}

export interface PromoteOptions {
    readonly from: string;
    readonly to: string;
}

/** What a promotion did. */
export interface PromoteResult {
    /** The release of the source stack whose digests were promoted. */
    readonly source: Release;
    /** Each web tier's image as the target stack now pins it, in its own registry. */
    readonly images: Readonly<Record<PinnedTier, string>>;
    /** The tiers whose image was copied into the target's registry. */
    readonly copied: readonly PinnedTier[];
    /** The target's URL, as its outputs say. */
    readonly url?: string;
}

/** The release a promotion takes its digests from: the live one, when the source's last update succeeded. Refuses, changing nothing, any other. */
export function chooseSource(stack: string, releases: readonly Release[]): Release {
    const newest = releases[0];
    if (newest === undefined) throw new Failure(`launchpad: stack ${stack} was never deployed: there is nothing to promote. Deploy it first: npm run up -- --stack ${stack}; nothing was changed.`);
    if (newest.result !== "succeeded") {
        throw new Failure(
            `launchpad: the last update of stack ${stack} (release ${newest.version}) ${newest.result === "failed" ? "failed" : `is ${newest.result}`}: what it runs is not what was tested. ` +
                `Fix it and run npm run up -- --stack ${stack}, or roll it back (npm run rollback -- --stack ${stack}), then promote again; nothing was changed.`,
        );
    }
    if (newest.kind !== "update" || !newest.live) {
        throw new Failure(`launchpad: stack ${stack} was taken down (release ${newest.version}, npm run down): it runs nothing to promote. Deploy it first: npm run up -- --stack ${stack}; nothing was changed.`);
    }
    const unknown = PINNED_TIERS.filter((tier) => newest.images[tier] === undefined);
    if (unknown.length > 0) {
        throw new Failure(`launchpad: stack ${stack}'s outputs name no ${unknown.join(" or ")} image: its last update was not made by launchpad. Deploy it with npm run up -- --stack ${stack} first; nothing was changed.`);
    }
    return newest;
}

/** Where a tier's image goes in the target stack's registry: where the target's own build would push it, by the same digest. */
export function targetImage(source: string, tier: PinnedTier, registry: string, appName: string): string {
    if (source.startsWith(`${registry}/`)) return source;
    return `${registry}/${appName}-${tier}${source.slice(source.indexOf("@"))}`;
}

/** The stack's registry login, as its config holds it (the password decrypted by the engine). */
async function registryLogin(ws: Workspace, stack: string): Promise<Credentials | undefined> {
    try {
        return (await stackRegistryLogin(ws, stack)).credentials;
    } catch (error) {
        throw new Failure(`launchpad: cannot read the registry login of stack ${stack}: ${engineMessage(error)}; nothing was changed.`, { cause: error });
    }
}

/**
 * Puts each image into the target's registry unless it is there: copied by digest from the source's
 * registry, then asked for by that digest, so the target holds exactly what the source ran.
 */
async function bringImages(deps: PromoteDeps, sources: Record<PinnedTier, string>, targets: Record<PinnedTier, string>, from?: Credentials, to?: Credentials): Promise<PinnedTier[]> {
    const copied: PinnedTier[] = [];
    for (const tier of PINNED_TIERS) {
        if (sources[tier] === targets[tier]) continue;
        const digest = targets[tier].slice(targets[tier].indexOf("@") + 1);
        const before = await deps.registry.has(targets[tier], to);
        if (before.status === "found") continue;
        if (before.status !== "missing") throw new Failure(`launchpad: cannot ask the target's registry for the ${tier} image: ${before.message}; nothing was changed.`);
        const repository = targets[tier].slice(0, targets[tier].indexOf("@"));
        let answered: string;
        try {
            answered = await deps.registry.copy(sources[tier], repository, from, to);
        } catch (error) {
            throw new Failure(`launchpad: cannot copy the ${tier} image into ${repository}: ${(error as Error).message}; nothing was deployed.`, { cause: error });
        }
        const after = await deps.registry.has(targets[tier], to);
        if (answered !== digest || after.status !== "found") {
            throw new Failure(`launchpad: the copy of the ${tier} image into ${repository} does not hold ${digest} (the registry answered ${answered}; ${after.message}); nothing was deployed.`);
        }
        deps.info(`launchpad: copied the ${tier} image ${sources[tier]} into ${repository}, by digest: the registry has ${digest}.`);
        copied.push(tier);
    }
    return copied;
}

/**
 * `npm run promote`: deploys to stack `to` exactly the frontend and backend digests live in stack
 * `from`, building nothing, with `to`'s own config: each image is copied by digest into `to`'s registry
 * when it is not there, pinned in `to`'s stack file and deployed as `npm run up` deploys it, so the
 * promotion is a release in `to`'s history like any other. Refused, changing nothing, when `from`'s last
 * update did not succeed or it runs nothing, and when `to`'s stack file would change its database's
 * identity (the settings `dataLock` records), which would replace the database and lose its data.
 */
export async function promote(deps: PromoteDeps, opts: PromoteOptions): Promise<PromoteResult> {
    const { from, to } = opts;
    stackConfig(from, deps.repoRoot); // an unknown stack is wrong usage, before any engine runs
    const config = stackConfig(to, deps.repoRoot);
    const fromWs = await openDeployedStack({ ...deps, stack: from });
    const source = chooseSource(from, await readReleases(fromWs, from));
    const target = await openStack({ ...deps, stack: to });
    if (target.exists) {
        await target.ws.selectOrCreate(to);
        const live = (await readReleases(target.ws, to)).find((r) => r.live);
        const was = live && dataLockOfConfig(to, live.config);
        const now = dataLockOfConfig(to, config);
        if (was !== undefined && was !== now) {
            throw new Failure(
                `launchpad: refusing to promote to ${to}: its database would change (deployed: ${was}; Pulumi.${to}.yaml now: ${now}). ` +
                    `The update would replace the database and its volume, and the data would be lost. Put those settings back in Pulumi.${to}.yaml; nothing was changed.`,
            );
        }
    }
    const appName = config[`${PROJECT}:appName`] ?? String(CONFIG_KEYS.appName.default);
    const platform = config[`${PROJECT}:platform`] ?? String(CONFIG_KEYS.platform.default);
    const registry = (config[`${PROJECT}:registry`] ?? CONFIG_KEYS.registry.default({ stack: to, platform, appName }))?.replace(/\/+$/, "");
    if (registry === undefined) {
        throw new Failure(`launchpad: Pulumi.${to}.yaml names no ${PROJECT}:registry, the registry ${to}'s cluster pulls from: set it (npm run doctor -- --stack ${to} checks the stack); nothing was changed.`);
    }
    const sources = { frontend: source.images.frontend!, backend: source.images.backend! };
    const images = { frontend: targetImage(sources.frontend, "frontend", registry, appName), backend: targetImage(sources.backend, "backend", registry, appName) };
    await target.ws.selectOrCreate(to);
    const copied = await bringImages(deps, sources, images, await registryLogin(fromWs, from), await registryLogin(target.ws, to));
    await pinImages(target.ws, to, images);
    deps.info(
        `launchpad: promoting ${from} (release ${source.version}) to ${to}: ` + PINNED_TIERS.map((tier) => `${tier} ${images[tier]}`).join(", ") +
            `, pinned in Pulumi.${to}.yaml; nothing is built. The database keeps ${to}'s own image and data.`,
    );
    const code = await deps.deploy(to, `promote from ${from} (release ${source.version})`);
    if (code !== 0) {
        throw new Failure(
            `launchpad: the promotion's update of ${to} failed (above); ${PINNED_KEYS} stay pinned in Pulumi.${to}.yaml, ` +
                `so npm run up -- --stack ${to} tries the same digests again; delete those lines to build from source.`,
        );
    }
    const url = (await target.ws.outputs(to)).url?.value;
    return { source, images, copied, url: typeof url === "string" ? url : undefined };
}

/** What promote prints when it is done: the digests promoted and the target's URL. */
export function promoteReport(opts: PromoteOptions, result: PromoteResult): string {
    return [
        `launchpad: ${opts.to} runs what ${opts.from} ran in release ${result.source.version} (it shows in npm run history -- --stack ${opts.to} as "promote from ${opts.from} (release ${result.source.version})"):`,
        ...PINNED_TIERS.map((tier) => `  ${tier.padEnd(9)}${result.images[tier]}${result.copied.includes(tier) ? `  (copied from ${result.source.images[tier]})` : ""}`),
        `launchpad: ${opts.to}: ${result.url ?? "no URL in its outputs"}`,
        `launchpad: ${PINNED_KEYS} stay in Pulumi.${opts.to}.yaml, so the next npm run up deploys these digests again; delete those lines to build from source.`,
    ].join("\n") + "\n";
}
