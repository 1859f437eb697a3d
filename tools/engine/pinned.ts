// What the commands that deploy images already in a registry share (rollback, promote): the tiers they
// pin, pinning digests in the stack file, and the deploy itself, `npm run up` as a process with a note
// for the update's message in the history. The database identity they must not change: dataLockOfConfig.

import * as path from "node:path";
import { PROJECT } from "../../components/config";
import { ProcessRunner } from "../../lib/runner";
import { Failure } from "../cli";
import { RELEASE_NOTE_ENV } from "./releases";
import { engineMessage, type OpenWorkspace, openPulumiWorkspace, type Workspace } from "./workspace";

/** The web tiers a rollback or a promotion pins, each by its `launchpad:<tier>Image` key. */
export const PINNED_TIERS = ["frontend", "backend"] as const;

export type PinnedTier = (typeof PINNED_TIERS)[number];

/** The stack-file keys that pin the web tiers, for messages: "launchpad:frontendImage and launchpad:backendImage". */
export const PINNED_KEYS = PINNED_TIERS.map((t) => `${PROJECT}:${t}Image`).join(" and ");

/** Pins each web tier's image in Pulumi.<stack>.yaml (`launchpad:<tier>Image`). */
export async function pinImages(ws: Workspace, stack: string, images: Readonly<Record<PinnedTier, string>>): Promise<void> {
    for (const tier of PINNED_TIERS) {
        const key = `${PROJECT}:${tier}Image`;
        try {
            await ws.setConfig(stack, key, { value: images[tier] });
        } catch (error) {
            throw new Failure(`launchpad: cannot set ${key} in Pulumi.${stack}.yaml: ${engineMessage(error)}`, { cause: error });
        }
    }
}

/**
 * Deploys a stack as `npm run up -- --stack <stack>` does, every check included, its output streamed,
 * with `note` for the update's message; resolves to that command's exit code.
 */
export function deployThroughUp(env: NodeJS.ProcessEnv): (stack: string, note: string) => Promise<number> {
    return async (stack, note) => {
        const runner = new ProcessRunner({ ...env, [RELEASE_NOTE_ENV]: note });
        const result = await runner.run("npm", ["run", "--silent", "up", "--", "--stack", stack], { onOutput: (chunk) => process.stdout.write(chunk) });
        return result.code;
    };
}

/** What a command that deploys pinned images (rollback, promote) takes from outside itself. */
export interface PinnedDeployDeps {
    readonly openWorkspace: OpenWorkspace;
    /** The project: Pulumi.yaml, the stack files and `.launchpad/`. */
    readonly repoRoot: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    /**
     * Deploys the stack as `npm run up -- --stack <stack>` does, every check included, with `note` in the
     * update's message; resolves to that command's exit code.
     */
    deploy(stack: string, note: string): Promise<number>;
    /** launchpad's own lines. */
    info(line: string): void;
}

/** The live ones: the Pulumi engine, this project, `npm run up`, and the command's own lines printed as they come, between them the deploy's output. */
export function livePinnedDeployDeps(env: NodeJS.ProcessEnv): PinnedDeployDeps {
    return {
        openWorkspace: openPulumiWorkspace,
        repoRoot: path.resolve(__dirname, "..", ".."),
        env,
        deploy: deployThroughUp(env),
        info: (line) => process.stdout.write(`${line}\n`),
    };
}
