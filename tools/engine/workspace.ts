import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GATE } from "../launch/gate";
import { engineEnv } from "../launch/program";
import { findOnPath } from "../../lib/runner";
import { pulumiCli } from "./pulumiCli";
import { stackConfigFromFile } from "./stackConfig";
import type { Credentials } from "../../lib/registry";
import { isLocalBackend, localBackendDir, stackStateFile } from "./backend";

/** The text of the engine's complaint: the CLI's stderr (which the Automation API wrapped in a longer message), its last 20 lines. */
export function engineMessage(err: unknown): string {
    const text = err instanceof Error ? err.message : String(err);
    const m = /\n stderr: ([\s\S]*?)\n err\?:/.exec(text);
    const said = (m ? m[1] : text).trim();
    const lines = said.split("\n");
    return lines.length > 20 ? lines.slice(-20).join("\n") : said;
}

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
 * The boundary over the Pulumi engine (the Pulumi CLI): everything launchpad's deploy commands ask of
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
    /**
     * `refresh` first reads every resource of the state back from the cluster, forgetting those that are
     * gone. `target` updates only the resources of these URNs (and, with `targetDependents`, those that
     * depend on them); every other resource keeps its state as it is.
     */
    up(stack: string, onOutput: EngineOutput, opts?: UpOptions): Promise<Outputs>;
    preview(stack: string, onOutput: EngineOutput, opts?: { readonly gate?: EngineGate }): Promise<void>;
    /**
     * `excludeProtected` leaves protected resources (and what they need) in place instead of failing;
     * `message` is the update's message in the stack's history.
     */
    destroy(stack: string, opts: { readonly excludeProtected: boolean; readonly message?: string }, onOutput: EngineOutput): Promise<void>;
    /** The stack's outputs, as its last update left them. */
    outputs(stack: string): Promise<Outputs>;
    /** Pulumi's history of the stack's updates (`pulumi stack history`), secrets not shown. */
    history(stack: string): Promise<UpdateRecord[]>;
    /** Forgets the stack's state (its resources are gone with the cluster) but keeps Pulumi.<stack>.yaml. */
    removeStack(stack: string): Promise<void>;
    /**
     * Drops the operations a killed run left unfinished from the stack's state (a create, update or
     * delete the engine was waiting for), and says which they were; none: the state is left untouched.
     */
    clearPendingOperations(stack: string): Promise<PendingOperation[]>;
    /** The resources the stack's state lists: their type and id (a Kubernetes object's `name` or `namespace/name`). */
    resourcesInState(stack: string): Promise<StateResource[]>;
}

/** An update as Pulumi's history records it (`pulumi stack history --json`, the parts read here). */
export interface UpdateRecord {
    /** The stack's version after the update: Pulumi's number for it. */
    readonly version: number;
    /** "update", "destroy", "refresh", … */
    readonly kind: string;
    /** "succeeded", "failed", "in-progress", … */
    readonly result: string;
    readonly startTime: Date;
    readonly endTime?: Date;
    readonly message?: string;
    readonly environment?: Readonly<Record<string, string>>;
    /** The stack's config the update ran with (`launchpad:key` → value; secrets as Pulumi shows them). */
    readonly config?: Readonly<Record<string, string>>;
    /** How many resources the update left as they were (`same`), created, updated, deleted, … */
    readonly resourceChanges?: Readonly<Record<string, number>>;
}

/**
 * Where the program waits, before it declares any resource, for the command's checks (tools/launch/gate.js):
 * the engine gets `path`; `verdict` is what the program will hear.
 */
export interface EngineGate {
    readonly path: string;
    readonly verdict: Promise<{ readonly go: true } | { readonly go: false; readonly reason: string }>;
}

/** How an update runs. */
export interface UpOptions {
    /** The program waits here until the command's checks are done. @default no gate */
    readonly gate?: EngineGate;
    /** The update's message in the stack's history (releases.ts releaseMessage). */
    readonly message?: string;
    readonly refresh?: boolean;
    readonly target?: readonly string[];
    readonly targetDependents?: boolean;
}

/** A resource as the stack's state lists it. */
export interface StateResource {
    readonly type: string;
    readonly id?: string;
    /** Its outputs as the state keeps them (a secret stays in its encrypted envelope). */
    readonly outputs?: Readonly<Record<string, unknown>>;
}

/** An operation a killed run left unfinished in the state: "creating", "updating", "deleting", … */
export interface PendingOperation {
    readonly type: string;
    readonly urn: string;
}

/** A stack's registry login as its config holds it: each key as set, and `credentials` when both are. */
export interface StackRegistryLogin {
    readonly username?: string;
    /** The password, decrypted by the engine; `secret` when it is kept as one. */
    readonly password?: ConfigEntry;
    readonly credentials?: Credentials;
}

/** Reads `launchpad:registryUsername` and `launchpad:registryPassword` of a stack (an engine failure is thrown as it is). */
export async function stackRegistryLogin(ws: Workspace, stack: string): Promise<StackRegistryLogin> {
    const username = (await ws.getConfig(stack, "launchpad:registryUsername"))?.value;
    const password = await ws.getConfig(stack, "launchpad:registryPassword");
    return { username, password, credentials: username !== undefined && password !== undefined ? { username, password: password.value } : undefined };
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
 * A stack's whole config, read once: each read is a Pulumi CLI call (most of it decrypting the secrets),
 * and one command asks for several keys. What changes a stack's config forgets it; a read
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
 * Reading the file is much cheaper than `pulumi stack export`, a CLI call.
 */
export function pendingOperationsIn(stateFile: string): boolean | undefined {
    const latest = latestCheckpoint(stateFile);
    if (latest === undefined) return undefined;
    const pending = latest.pending_operations;
    if (pending === undefined) return false;
    return Array.isArray(pending) ? pending.length > 0 : undefined;
}

/**
 * The resources of a stack's state file; undefined when the file cannot tell (as pendingOperationsIn).
 */
export function resourcesIn(stateFile: string): StateResource[] | undefined {
    const latest = latestCheckpoint(stateFile);
    return latest === undefined ? undefined : (latest.resources ?? []).map((r) => ({ type: r.type, id: r.id, outputs: r.outputs }));
}

/** How many updates one `pulumi stack history` call asks for (the CLI gives 10 unless told). */
export const HISTORY_PAGE_SIZE = 500;

/**
 * Every item of a paged listing, pages read from 1 until one comes back short: the stack's whole
 * history, which numbers its releases from the oldest on.
 */
export async function everyPage<T>(read: (page: number, size: number) => Promise<readonly T[]>, size = HISTORY_PAGE_SIZE): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1; ; page++) {
        const items = await read(page, size);
        all.push(...items);
        if (items.length < size) return all;
    }
}

/** Pulumi's mark of a secret value in a state file (its `sig` key). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * The stack's outputs in its state file, as \`pulumi stack output\` gives them; undefined when the file
 * cannot tell (as pendingOperationsIn) or holds a secret one, which only the CLI can decrypt.
 */
export function stackOutputsIn(stateFile: string): Outputs | undefined {
    const latest = latestCheckpoint(stateFile);
    if (latest === undefined) return undefined;
    const root = (latest.resources ?? []).find((r) => r.type === "pulumi:pulumi:Stack");
    const outputs = root?.outputs ?? {};
    if (JSON.stringify(outputs).includes(`"${SECRET_SIG}"`)) return undefined;
    return Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { value, secret: false }]));
}

/** The latest deployment of a version-3 state file; undefined when there is none or the file cannot be read as one. */
function latestCheckpoint(stateFile: string): { pending_operations?: unknown[]; resources?: StateResource[] } | undefined {
    try {
        const state = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { version?: number; checkpoint?: { latest?: { pending_operations?: unknown[]; resources?: StateResource[] } | null } };
        return (state.version === 3 ? state.checkpoint?.latest : undefined) ?? undefined;
    } catch {
        return undefined;
    }
}

/** Update options as the CLI takes them. */
function updateArgs(opts: { readonly message?: string; readonly refresh?: boolean; readonly target?: readonly string[]; readonly targetDependents?: boolean }): string[] {
    const args: string[] = [];
    if (opts.message !== undefined) args.push("--message", opts.message);
    if (opts.refresh) args.push("--refresh");
    for (const urn of opts.target ?? []) args.push("--target", urn);
    if (opts.target !== undefined && opts.targetDependents) args.push("--target-dependents");
    return args;
}

/** The program's environment for a gate (tools/launch/gate.js); none without one. */
function gateEnv(gate: EngineGate | undefined): Record<string, string> | undefined {
    return gate === undefined ? undefined : { [GATE]: gate.path };
}

/** `pulumi stack output --json` twice (masked, then shown), as one map that says which outputs are secret. */
function outputsOf(masked: string, shown: string): Outputs {
    const hidden = JSON.parse(masked) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(JSON.parse(shown) as Record<string, unknown>).map(([key, value]) => [key, { value, secret: hidden[key] === "[secret]" }]));
}

/**
 * The real Workspace: the Pulumi CLI (./pulumiCli.ts) on the project in `repoRoot`. Every call names its
 * stack (`--stack`), so none is selected first; a file backend's state and the stack file answer what they
 * can (stackConfig.ts), without a CLI call.
 */
export const openPulumiWorkspace: OpenWorkspace = async (settings) => {
    if (findOnPath("pulumi", process.env.PATH ?? "") === undefined) throw new Error("pulumi: command not found");
    const pulumi = pulumiCli(settings.repoRoot, {
        PULUMI_BACKEND_URL: settings.backendUrl,
        PULUMI_CONFIG_PASSPHRASE: settings.passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        // Node's compile cache for the program's whole process, from Pulumi's runtime entry on (the
        // program turns it on itself only once it runs), and that the SDK's DEBUG messages go
        // unread: these commands pass the engine no --debug or verbosity and read no event log
        // (tools/launch/program.js, engineEnv; debugLogs.js). Passing --debug would need them again.
        ...engineEnv(settings.repoRoot),
    });
    const color = ["--color", settings.color ? "always" : "never"];
    const local = isLocalBackend(settings.backendUrl);
    const stateFile = (name: string) => stackStateFile(localBackendDir(settings.backendUrl), name);
    const configs = configCache(
        async (name) =>
            (await stackConfigFromFile(settings.repoRoot, name, settings.passphrase)) ??
            (JSON.parse(await pulumi(["config", "--show-secrets", "--json", "--stack", name])) as Record<string, ConfigEntry>),
    );
    const stackExists = async (name: string): Promise<boolean> => {
        // A file backend's state file says so at once (the common case); without one, the CLI is asked.
        if (local && fs.existsSync(stateFile(name))) return true;
        const stacks = JSON.parse(await pulumi(["stack", "ls", "--json"])) as { name: string }[];
        return stacks.some((s) => s.name === name || s.name.endsWith(`/${name}`));
    };
    const outputs = async (name: string): Promise<Outputs> => {
        const fromFile = local ? stackOutputsIn(stateFile(name)) : undefined;
        if (fromFile !== undefined) return fromFile;
        const [masked, shown] = await Promise.all([pulumi(["stack", "output", "--json", "--stack", name]), pulumi(["stack", "output", "--json", "--show-secrets", "--stack", name])]);
        return outputsOf(masked, shown);
    };
    const exportStack = async (name: string) => JSON.parse(await pulumi(["stack", "export", "--show-secrets", "--stack", name])) as { deployment?: Record<string, unknown> };
    return {
        backendUrl: settings.backendUrl,
        stackExists,
        async selectOrCreate(name) {
            // Every call names its stack: only a stack that does not exist yet needs the CLI (`stack init` also selects it).
            if (!(await stackExists(name))) await pulumi(["stack", "init", name, "--secrets-provider", "passphrase"]);
            configs.forget(name);
        },
        async getConfig(name, key) {
            const entry = (await configs.get(name))[key];
            return entry === undefined ? undefined : { value: entry.value, secret: entry.secret };
        },
        async setConfig(name, key, entry) {
            await pulumi(["config", "set", key, "--stack", name, entry.secret ? "--secret" : "--plaintext", "--", entry.value]).finally(() => configs.forget(name));
        },
        async removeConfig(name, key) {
            await pulumi(["config", "rm", key, "--stack", name]).finally(() => configs.forget(name));
        },
        async up(name, onOutput, opts) {
            await pulumi(["up", "--yes", "--skip-preview", "--stack", name, ...color, "--exec-kind", "auto.local", ...updateArgs(opts ?? {})], { onOutput, env: gateEnv(opts?.gate) });
            return outputs(name);
        },
        async preview(name, onOutput, opts) {
            await pulumi(["preview", "--stack", name, ...color, "--exec-kind", "auto.local"], { onOutput, env: gateEnv(opts?.gate) });
        },
        async destroy(name, opts, onOutput) {
            const args = ["destroy", "--yes", "--skip-preview", "--stack", name, ...color, "--exec-kind", "auto.local", ...updateArgs({ message: opts.message })];
            await pulumi(opts.excludeProtected ? [...args, "--exclude-protected"] : args, { onOutput });
        },
        outputs,
        async history(name) {
            const updates = await everyPage(async (page, size) => JSON.parse(await pulumi(["stack", "history", "--json", "--page-size", String(size), "--page", String(page), "--stack", name])) as HistoryEntry[]);
            return updates.map((u) => ({
                version: u.version,
                kind: u.kind,
                result: u.result,
                startTime: new Date(u.startTime),
                endTime: u.endTime === undefined ? undefined : new Date(u.endTime),
                message: u.message,
                environment: u.environment,
                config: Object.fromEntries(Object.entries(u.config ?? {}).map(([key, entry]) => [key, entry.value])),
                resourceChanges: u.resourceChanges,
            }));
        },
        async removeStack(name) {
            await pulumi(["stack", "rm", "--yes", "--force", "--preserve-config", name]);
            configs.forget(name);
        },
        async clearPendingOperations(name) {
            // A file backend's state tells at once that there is nothing to clear (the common case); when
            // it cannot tell, or there is something, the engine exports and imports the state.
            if (local && pendingOperationsIn(stateFile(name)) === false) return [];
            const state = await exportStack(name);
            const pending = (state.deployment?.pending_operations ?? []) as { type: string; resource: { urn: string } }[];
            if (pending.length === 0) return [];
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-state-"));
            try {
                const file = path.join(dir, "state.json");
                fs.writeFileSync(file, JSON.stringify({ ...state, deployment: { ...state.deployment, pending_operations: [] } }), { mode: 0o600 });
                await pulumi(["stack", "import", "--file", file, "--stack", name]);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
            return pending.map((op) => ({ type: op.type, urn: op.resource.urn }));
        },
        async resourcesInState(name) {
            const fromFile = local ? resourcesIn(stateFile(name)) : undefined;
            if (fromFile !== undefined) return fromFile;
            const state = await exportStack(name);
            return ((state.deployment?.resources ?? []) as StateResource[]).map((r) => ({ type: r.type, id: r.id, outputs: r.outputs }));
        },
    };
};

/** An entry of `pulumi stack history --json`, the parts read here. */
interface HistoryEntry {
    readonly version: number;
    readonly kind: string;
    readonly result: string;
    readonly startTime: string;
    readonly endTime?: string;
    readonly message?: string;
    readonly environment?: Record<string, string>;
    readonly config?: Record<string, { value: string }>;
    readonly resourceChanges?: Record<string, number>;
}
