import { dataLockOfConfig } from "../../components/config";
import { Failure } from "../cli";
import { openDeployedStack } from "../engine/open";
import { PINNED_KEYS, PINNED_TIERS, type PinnedDeployDeps, pinImages } from "../engine/pinned";
import { type Release, readReleases } from "../engine/releases";

/** What `npm run rollback` needs outside itself; tests replace the engine and the deploy. */
export type RollbackDeps = PinnedDeployDeps;

export interface RollbackOptions {
    readonly stack: string;
    /** The release to go back to (`--to`, Pulumi's number for it); the one before the live one when absent. */
    readonly to?: number;
}

/** What a rollback did. */
export interface RollbackResult {
    readonly from: Release;
    readonly to: Release;
    /** The database image the stack keeps, when the release rolled back to ran another one. */
    readonly databaseKept?: string;
}

/** The release to roll back to: `--to`, or the newest update that succeeded before the live one. Refuses, changing nothing, any other. */
export function chooseTarget(stack: string, releases: readonly Release[], to: number | undefined): { live: Release; target: Release } {
    const live = releases.find((r) => r.live);
    if (live === undefined) throw new Failure(`launchpad: stack ${stack} has no live release to roll back from (see npm run history -- --stack ${stack}); nothing was changed.`);
    const history = `npm run history -- --stack ${stack}`;
    let target: Release | undefined;
    if (to === undefined) {
        target = releases.find((r) => r.version < live.version && r.kind === "update" && r.result === "succeeded");
        if (target === undefined) throw new Failure(`launchpad: stack ${stack} has no successful release before the live one (${live.version}); nothing was changed.`);
    } else {
        target = releases.find((r) => r.version === to);
        if (target === undefined) throw new Failure(`launchpad: stack ${stack} has no release ${to} (${history} lists them); nothing was changed.`);
        if (target.live) throw new Failure(`launchpad: release ${to} is live already; nothing was changed.`);
        if (target.kind !== "update" || target.result !== "succeeded") {
            throw new Failure(`launchpad: release ${to} is ${target.kind === "update" ? `an update that ${target.result === "failed" ? "failed" : `is ${target.result}`}` : "a down"}: only a release that succeeded can be rolled back to (${history}); nothing was changed.`);
        }
    }
    const unknown = PINNED_TIERS.filter((tier) => target!.images[tier] === undefined);
    if (unknown.length > 0) {
        throw new Failure(
            `launchpad: the ${unknown.join(" and ")} image${unknown.length > 1 ? "s" : ""} of release ${target.version} ${unknown.length > 1 ? "are" : "is"} not known: ` +
                `the update after it was not made by launchpad (a plain pulumi up, or npm run dev), so it recorded no digests. Choose another release with --to (${history}); nothing was changed.`,
        );
    }
    return { live, target };
}

/**
 * `npm run rollback`: redeploys the frontend and backend digests of an earlier release that succeeded,
 * building nothing: each is pinned in the stack file (`launchpad:<tier>Image`) and the stack deployed as
 * `npm run up` deploys it, every check included, so the rollback is a release in the history like any
 * other. The database is never rolled back; a release that ran on another database (its identity, the
 * settings `dataLock` records) is refused, since going back to it would replace the database and lose its data.
 */
export async function rollback(deps: RollbackDeps, opts: RollbackOptions): Promise<RollbackResult> {
    const { stack } = opts;
    const ws = await openDeployedStack({ ...deps, stack });
    const { live, target } = chooseTarget(stack, await readReleases(ws, stack), opts.to);
    const was = dataLockOfConfig(stack, target.config);
    const now = dataLockOfConfig(stack, live.config);
    if (was !== now) {
        throw new Failure(
            `launchpad: refusing to roll back to release ${target.version}: it ran on another database (${was}; the live one is ${now}). ` +
                "Going back to it would replace the database and its volume, and the data would be lost; launchpad never rolls the database back. Nothing was changed.",
        );
    }
    await pinImages(ws, stack, { frontend: target.images.frontend!, backend: target.images.backend! });
    deps.info(
        `launchpad: rolling ${stack} back from release ${live.version} to release ${target.version}: ` +
            PINNED_TIERS.map((tier) => `${tier} ${target.images[tier]}`).join(", ") + `, pinned in Pulumi.${stack}.yaml; nothing is built.`,
    );
    const databaseKept = target.images.database !== live.images.database ? live.images.database : undefined;
    deps.info(`launchpad: the database is not rolled back: it keeps its data${databaseKept ? ` and its image ${databaseKept} (release ${target.version} ran ${target.images.database ?? "another"})` : ""}.`);
    const code = await deps.deploy(stack, `rollback to ${target.version}`);
    if (code !== 0) {
        throw new Failure(
            `launchpad: the rollback's update of ${stack} failed (above); ${PINNED_KEYS} stay pinned in Pulumi.${stack}.yaml, ` +
                `so npm run up -- --stack ${stack} tries the same release again; delete those lines to build from source.`,
        );
    }
    return { from: live, to: target, databaseKept };
}

/** What rollback prints when it is done. */
export function rollbackReport(stack: string, result: RollbackResult): string {
    return [
        `launchpad: ${stack} runs release ${result.to.version} again (it shows in npm run history -- --stack ${stack} as "rollback to ${result.to.version}").`,
        `launchpad: ${PINNED_KEYS} stay in Pulumi.${stack}.yaml, so the next npm run up deploys these digests again; ` +
            "delete those lines to build from source.",
    ].join("\n") + "\n";
}
