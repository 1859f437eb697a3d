import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LaunchpadConfig, PROJECT, loadConfig } from "../../components/config";
import { RecordedResource, RecordingMocks, installMocks, isSecretValue } from "./mocks";
import { ROOT, stackConfig, stackSecretKeys } from "../stackFile";

export { RecordedResource, RecordedOptions, placeholderDigest, stableHash } from "./mocks";

// Runs launchpad's own program (index.ts) under Pulumi mocks with a stack file's config, the way
// `pulumi up` would run it but with no engine, cluster or Docker, and returns what it would create.


/** A Kubernetes object as it would be applied. */
export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: any };
    spec?: any;
    [k: string]: any;
}

export interface StackRun {
    readonly stack: string;
    /** The validated config the program ran with. */
    readonly config: LaunchpadConfig;
    /** Every resource registered, in order, with inputs (secrets marked) and options. */
    readonly resources: readonly RecordedResource[];
    /** Every Kubernetes object, with secret values replaced by `redacted`. */
    readonly objects: readonly KubeObject[];
    /** The stack outputs, resolved; secret outputs are `redacted`. */
    readonly outputs: Readonly<Record<string, unknown>>;
}

/** What stands where a secret value was. */
export const REDACTED = "[secret]";

export { ENCRYPTED_STAND_IN, listStacks, ROOT, StackFileError, stackConfig, stackFileOf, stackSecretKeys } from "../stackFile";

/** Keeps the shape of a secret (its keys) and hides every value in it. */
function redact(value: unknown): unknown {
    if (isSecretValue(value)) return redact(value.value);
    if (Array.isArray(value)) return value.map(redact);
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
    return REDACTED;
}

/**
 * Replaces every secret-marked value with `REDACTED`, keeping the keys of secret objects (a Secret's
 * `stringData` stays a map of its key names); with `reveal`, unwraps secrets instead.
 */
export function resolveSecrets(value: unknown, reveal = false): any {
    if (isSecretValue(value)) return reveal ? resolveSecrets(value.value, true) : redact(value.value);
    if (Array.isArray(value)) return value.map((v) => resolveSecrets(v, reveal));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, reveal)]));
    }
    return value;
}

/** Whether a value holds a secret anywhere inside. */
export function containsSecret(value: unknown): boolean {
    if (isSecretValue(value)) return true;
    if (Array.isArray(value)) return value.some(containsSecret);
    if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
    return false;
}

/** Kubernetes resources: the SDK sets apiVersion and kind among the inputs. */
export function isKubernetesObject(resource: RecordedResource): boolean {
    return resource.type.startsWith("kubernetes:") && resource.type !== "pulumi:providers:kubernetes" && typeof resource.state.kind === "string";
}

async function settle(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const [resolved, secret] = await Promise.all([
            new Promise((resolve) => value.apply((v) => { resolve(v); return v; })),
            pulumi.isSecret(value),
        ]);
        return secret ? REDACTED : resolved;
    }
    return value;
}

let running = false;

/**
 * Pulumi reads a stack trace for every promise it makes (runtime/debuggable) and every resource it
 * registers; under ts-node each of those is source-mapped frame by frame, which doubles the cost of a
 * run, and nothing under mocks reads them. The program runs with V8's own formatting; an error it
 * throws is still source-mapped, since V8 formats a stack when it is first read, after the run.
 */
async function withPlainStackTraces<T>(body: () => Promise<T>): Promise<T> {
    const errors = Error as { prepareStackTrace?: unknown };
    const mapped = errors.prepareStackTrace;
    errors.prepareStackTrace = undefined;
    try {
        return await body();
    } finally {
        errors.prepareStackTrace = mapped;
    }
}

export interface RunOptions {
    /** Project folder holding Pulumi.yaml and index.ts. @default the repository */
    readonly root?: string;
    /** Raw config (`launchpad:key` → string) instead of the stack file's. */
    readonly config?: Readonly<Record<string, string>>;
    /** Keys of `config` that count as set with --secret. */
    readonly secretKeys?: readonly string[];
    /** The program module to load: another build of it, such as tools/launch's JavaScript. @default `<root>/index.ts` */
    readonly entry?: string;
}

/** A run that may have failed; `resources` says what was registered before the failure. */
export type Attempt =
    | { readonly ok: true; readonly run: StackRun }
    | { readonly ok: false; readonly error: unknown; readonly resources: readonly RecordedResource[] };

/**
 * What the program threw, as the commands report it: the program hands its ConfigError to the Pulumi
 * CLI inside a RunError (index.ts); the commands want the ConfigError itself, with its problems.
 */
function programError(error: unknown): unknown {
    // By name, as tools/cli.ts knows it: a compiled program (`entry`) has a ConfigError class of its own.
    const cause = (error as Error | undefined)?.cause;
    return pulumi.RunError.isInstance(error) && (cause as Error | undefined)?.name === "ConfigError" ? cause : error;
}

/** Runs the program (index.ts) for `stack` under mocks and reports failure as a value, with what got registered. */
export async function tryRunStack(stack: string, options: RunOptions = {}): Promise<Attempt> {
    if (running) throw new Error("runStack runs one program at a time (the Pulumi runtime is process-global)");
    const root = options.root ?? ROOT;
    const config = { ...(options.config ?? stackConfig(stack, root)) };
    const secretKeys = [...new Set([...(options.secretKeys ?? []), ...stackSecretKeys(stack, root)])];
    running = true;
    let mocks: RecordingMocks | undefined;
    try {
        mocks = await installMocks(PROJECT, stack);
        pulumi.runtime.setAllConfig(config, secretKeys);
        const entry = require.resolve(options.entry ?? path.join(root, "index.ts"));
        delete require.cache[entry];
        const outputs: Record<string, unknown> = {};
        await withPlainStackTraces(async () => {
            const exported: Record<string, unknown> = require(entry);
            for (const [name, value] of Object.entries(exported)) outputs[name] = await settle(value);
            // Let every registration the program started reach the mocks.
            await pulumi.runtime.disconnect();
        });

        const validated = loadConfig(config, { stack, isSecret: (key) => secretKeys.includes(key) });
        const objects = mocks.resources.filter(isKubernetesObject).map((r) => resolveSecrets(r.state) as KubeObject);
        return { ok: true, run: { stack, config: validated, resources: mocks.resources, objects, outputs } };
    } catch (error) {
        await pulumi.runtime.disconnect().catch(() => undefined);
        return { ok: false, error: programError(error), resources: mocks?.resources ?? [] };
    } finally {
        running = false;
    }
}

/**
 * Runs index.ts for `stack` under mocks. Config comes from the stack file unless `config` is given.
 * Throws StackFileError for an unknown stack and the program's ConfigError for invalid config.
 */
export async function runStack(stack: string, options: RunOptions = {}): Promise<StackRun> {
    const attempt = await tryRunStack(stack, options);
    if (!attempt.ok) throw attempt.error;
    return attempt.run;
}
