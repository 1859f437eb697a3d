import * as fs from "node:fs";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { engineEnv } from "../launch/program";
import { isLocalBackend, localBackendDir, stackStateFile } from "./state";

/** A config value as Pulumi stores it; `secret` values are encrypted with the stack's passphrase. */
export interface ConfigEntry {
    readonly value: string;
    readonly secret?: boolean;
}

/** A stack output as the engine reports it. */
export interface OutputEntry {
    readonly value: unknown;
    readonly secret: boolean;
}

export type Outputs = Readonly<Record<string, OutputEntry>>;

/** Receives the engine's progress text as it is produced. */
export type EngineOutput = (chunk: string) => void;

/**
 * The boundary over the Pulumi engine (Automation API): everything launchpad's deploy commands ask of
 * Pulumi goes through here, so tests replace it with a fake that records the calls. Config keys are
 * full (`launchpad:retainData`).
 */
export interface Workspace {
    /** Where the stacks' state lives (a `file://` URL inside the project by default). */
    readonly backendUrl: string;
    stackExists(stack: string): Promise<boolean>;
    /** Selects the stack, creating it (with the passphrase secrets provider) when it does not exist. */
    selectOrCreate(stack: string): Promise<void>;
    getConfig(stack: string, key: string): Promise<ConfigEntry | undefined>;
    setConfig(stack: string, key: string, entry: ConfigEntry): Promise<void>;
    removeConfig(stack: string, key: string): Promise<void>;
    up(stack: string, onOutput: EngineOutput): Promise<Outputs>;
    preview(stack: string, onOutput: EngineOutput): Promise<void>;
    /** `excludeProtected` leaves protected resources (and what they need) in place instead of failing. */
    destroy(stack: string, opts: { readonly excludeProtected: boolean }, onOutput: EngineOutput): Promise<void>;
    /** Forgets the stack's state (its resources are gone with the cluster) but keeps Pulumi.<stack>.yaml. */
    removeStack(stack: string): Promise<void>;
    /**
     * Drops the operations a killed run left unfinished from the stack's state (a create, update or
     * delete the engine was waiting for), and says which they were; none: the state is left untouched.
     */
    clearPendingOperations(stack: string): Promise<PendingOperation[]>;
}

/** An operation a killed run left unfinished in the state: "creating", "updating", "deleting", … */
export interface PendingOperation {
    readonly type: string;
    readonly urn: string;
}

/** What the engine needs to know, resolved by the caller. */
export interface WorkspaceSettings {
    readonly repoRoot: string;
    readonly backendUrl: string;
    readonly passphrase: string;
    /** Colour in the engine's output: on for a terminal, off for logs. */
    readonly color: boolean;
}

export type OpenWorkspace = (settings: WorkspaceSettings) => Promise<Workspace>;

/**
 * A stack's whole config, read once: each read is a Pulumi CLI call (about 0.3 s, most of it decrypting
 * the secrets), and one command asks for several keys. What changes a stack's config forgets it; a read
 * that failed is not kept.
 */
export function configCache<T>(read: (stack: string) => Promise<T>): { get(stack: string): Promise<T>; forget(stack: string): void } {
    const known = new Map<string, Promise<T>>();
    return {
        get(stack) {
            let config = known.get(stack);
            if (config === undefined) {
                config = read(stack);
                known.set(stack, config);
                config.catch(() => known.delete(stack));
            }
            return config;
        },
        forget: (stack) => void known.delete(stack),
    };
}

/**
 * Whether a stack's state file holds operations a killed run left unfinished: false when it holds none,
 * undefined when the file cannot tell (none yet, compressed, another layout or version, unreadable).
 * Reading it is a few milliseconds; `pulumi stack export` is a CLI call of about 0.35 s.
 */
export function pendingOperationsIn(stateFile: string): boolean | undefined {
    try {
        const state = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { version?: number; checkpoint?: { latest?: { pending_operations?: unknown[] } } };
        const latest = state.version === 3 ? state.checkpoint?.latest : undefined;
        if (latest === undefined || latest === null) return undefined;
        const pending = latest.pending_operations;
        if (pending === undefined) return false;
        return Array.isArray(pending) ? pending.length > 0 : undefined;
    } catch {
        return undefined;
    }
}

/** The real Workspace: the Pulumi CLI driven through `LocalWorkspace`, on the project in `repoRoot`. */
export const openPulumiWorkspace: OpenWorkspace = async (settings) => {
    const ws = await LocalWorkspace.create({
        workDir: settings.repoRoot,
        secretsProvider: "passphrase",
        envVars: {
            PULUMI_BACKEND_URL: settings.backendUrl,
            PULUMI_CONFIG_PASSPHRASE: settings.passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            // Node's compile cache for the program's whole process, from Pulumi's runtime entry on (the
            // program turns it on itself only once it runs), and that the SDK's DEBUG messages go
            // unread: these commands pass the engine no --debug or verbosity and read no event log
            // (tools/launch/program.js, engineEnv; debugLogs.js). Passing --debug would need them again.
            ...engineEnv(settings.repoRoot),
        },
    });
    const color = settings.color ? "always" : "never";
    const stacks = new Map<string, Stack>();
    const stack = async (name: string): Promise<Stack> => {
        const known = stacks.get(name) ?? (await Stack.select(name, ws));
        stacks.set(name, known);
        return known;
    };
    const configs = configCache(async (name) => {
        await stack(name);
        return ws.getAllConfig(name);
    });
    return {
        backendUrl: settings.backendUrl,
        async stackExists(name) {
            return (await ws.listStacks()).some((s) => s.name === name || s.name.endsWith(`/${name}`));
        },
        async selectOrCreate(name) {
            stacks.set(name, await Stack.createOrSelect(name, ws));
            configs.forget(name);
        },
        async getConfig(name, key) {
            const entry = (await configs.get(name))[key];
            return entry === undefined ? undefined : { value: entry.value, secret: entry.secret };
        },
        async setConfig(name, key, entry) {
            await (await stack(name)).setConfig(key, { value: entry.value, secret: entry.secret ?? false }).finally(() => configs.forget(name));
        },
        async removeConfig(name, key) {
            await (await stack(name)).removeConfig(key).finally(() => configs.forget(name));
        },
        async up(name, onOutput) {
            const result = await (await stack(name)).up({ onOutput, onError: onOutput, color });
            return result.outputs;
        },
        async preview(name, onOutput) {
            await (await stack(name)).preview({ onOutput, onError: onOutput, color });
        },
        async destroy(name, opts, onOutput) {
            await (await stack(name)).destroy({ onOutput, onError: onOutput, color, excludeProtected: opts.excludeProtected });
        },
        async removeStack(name) {
            await ws.removeStack(name, { force: true, preserveConfig: true });
            configs.forget(name);
            stacks.delete(name);
        },
        async clearPendingOperations(name) {
            // A file backend's state tells at once that there is nothing to clear (the common case); when
            // it cannot tell, or there is something, the engine exports and imports the state.
            if (isLocalBackend(settings.backendUrl) && pendingOperationsIn(stackStateFile(localBackendDir(settings.backendUrl), name)) === false) return [];
            const state = await ws.exportStack(name);
            const pending = (state.deployment?.pending_operations ?? []) as { type: string; resource: { urn: string } }[];
            if (pending.length === 0) return [];
            await ws.importStack(name, { ...state, deployment: { ...state.deployment, pending_operations: [] } });
            return pending.map((op) => ({ type: op.type, urn: op.resource.urn }));
        },
    };
};
