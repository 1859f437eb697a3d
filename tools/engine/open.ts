import * as fs from "node:fs";
import * as path from "node:path";
import { DEV_STACK, Failure } from "../cli";
import { backendUrl, describeBackend, localPaths } from "./backend";
import { findOnPath } from "../../lib/runner";
import { engineMessage, type OpenWorkspace, type Workspace } from "./workspace";

// How the commands that work on a deployed stack (dev, history, rollback, promote) open its engine: the
// stack's passphrase, and a refusal, changing nothing, when the stack was never deployed.

/** The passphrase of the stack's secrets: PULUMI_CONFIG_PASSPHRASE, or for the dev stack the one `npm run up` generated. */
export function passphraseOf(stack: string, repoRoot: string, env: Readonly<Record<string, string | undefined>>): string {
    const fromEnv = env.PULUMI_CONFIG_PASSPHRASE;
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    const file = localPaths(repoRoot).passphrase;
    if (stack === DEV_STACK && fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
    throw new Failure(
        stack === DEV_STACK
            ? `launchpad: the dev stack has no passphrase yet (${path.relative(repoRoot, file)}): deploy it first with npm run up; nothing was changed.`
            : `launchpad: PULUMI_CONFIG_PASSPHRASE is not set: it opens stack ${stack}'s secrets; nothing was changed.`,
    );
}

/** The engine for a stack, and whether the stack has state yet; nothing is selected or created. */
export async function openStack(opts: {
    readonly repoRoot: string;
    readonly stack: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly openWorkspace: OpenWorkspace;
}): Promise<{ ws: Workspace; exists: boolean; where: string }> {
    const { repoRoot, stack, env } = opts;
    const url = backendUrl(repoRoot, env);
    const passphrase = passphraseOf(stack, repoRoot, env);
    try {
        const ws = await opts.openWorkspace({ repoRoot, backendUrl: url, passphrase, color: false });
        return { ws, exists: await ws.stackExists(stack), where: describeBackend(repoRoot, url) };
    } catch (error) {
        if (findOnPath("pulumi", env.PATH ?? "") === undefined) {
            throw new Failure("launchpad: the Pulumi CLI is not on PATH: install it (README, Prerequisites); nothing was changed.", { cause: error });
        }
        throw new Failure(`launchpad: the Pulumi engine cannot read the stacks in ${describeBackend(repoRoot, url)}: ${engineMessage(error)}`, { cause: error });
    }
}

/** The engine on a stack `npm run up` deployed, selected; refuses a stack without state, saying how to deploy it. */
export async function openDeployedStack(opts: Parameters<typeof openStack>[0]): Promise<Workspace> {
    const { ws, exists, where } = await openStack(opts);
    if (!exists) {
        throw new Failure(`launchpad: stack ${opts.stack} has no state in ${where}: deploy it first: npm run up -- --stack ${opts.stack}; nothing was changed.`);
    }
    await ws.selectOrCreate(opts.stack);
    return ws;
}
