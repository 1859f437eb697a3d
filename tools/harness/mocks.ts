import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { IMAGE_TYPE, digestRef } from "../../components/image";
import { PASSWORD_TYPE } from "../../components/password";

/** Resource options the engine would see, as far as tests care. */
export interface RecordedOptions {
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly parent: string;
    readonly provider: string;
}

/** One resource the program registered, with the inputs it gave (secrets still marked). */
export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    /** What the fake provider answered: the inputs plus generated names, ids and digests. */
    readonly state: Record<string, any>;
    readonly options: RecordedOptions;
}

/** A short, stable hash: the same name always gets the same fake suffix, digest or password. */
export function stableHash(text: string, length = 64): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Where a digest only a real build can know is shown; the hash keeps refs unique per image. */
export function placeholderDigest(seed: string): string {
    return `sha256:${stableHash(`launchpad-mock:${seed}`)}`;
}

/** What each provider fills in that the program does not: names, digests, generated secrets. */
function providerState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    if (type.startsWith("kubernetes:") && type !== "kubernetes:index:Provider") {
        const metadata = { ...(inputs.metadata ?? {}) };
        // Pulumi auto-names Kubernetes objects "<name>-<8 random characters>"; ours are stable.
        metadata.name ??= `${name}-${stableHash(name, 8)}`;
        return { ...inputs, metadata };
    }
    switch (type) {
        case IMAGE_TYPE: {
            // As the image provider keeps it: the inputs without the login, and the pushed digest.
            const { login: _login, ...kept } = inputs;
            const digest = placeholderDigest(`${inputs.repository}:${inputs.tag}`);
            return { ...kept, digest, ref: digestRef(String(inputs.repository), digest) };
        }
        case PASSWORD_TYPE:
            return { ...inputs, result: stableHash(`password:${name}`, Number(inputs.length)) };
        default:
            return { ...inputs };
    }
}

/** A value as the engine hands a secret over: marked, not wrapped in an Output. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** Marks the outputs a resource lists in additionalSecretOutputs secret, as the engine does. */
function withSecretOutputs(state: Record<string, any>, secretOutputs: readonly string[]): Record<string, any> {
    const secret = (value: unknown) => (isSecretValue(value) ? value : { [specialSigKey]: specialSecretSig, value });
    return Object.fromEntries(Object.entries(state).map(([key, value]) => [key, secretOutputs.includes(key) ? secret(value) : value]));
}

/**
 * Pulumi mocks that behave like the providers launchpad uses, deterministically, and remember every
 * resource with its inputs and options.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    private readonly pendingOptions = new Map<string, RecordedOptions>();
    private readonly pendingSecretOutputs = new Map<string, readonly string[]>();

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const key = `${args.type}::${args.name}`;
        const state = withSecretOutputs(providerState(args.type, args.name, args.inputs), this.pendingSecretOutputs.get(key) ?? []);
        const options = this.pendingOptions.get(key) ?? { protect: false, retainOnDelete: false, parent: "", provider: args.provider ?? "" };
        this.pendingOptions.delete(key);
        this.pendingSecretOutputs.delete(key);
        this.resources.push({ type: args.type, name: args.name, inputs: args.inputs, state, options });
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        throw new Error(`launchpad's program makes no provider calls under mocks, but called ${args.token}`);
    }

    /** Called by the patched monitor with the options of the resource about to be created. */
    noteOptions(type: string, name: string, options: RecordedOptions, secretOutputs: readonly string[]): void {
        this.pendingOptions.set(`${type}::${name}`, options);
        this.pendingSecretOutputs.set(`${type}::${name}`, secretOutputs);
    }
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getParent(): string;
    getProvider(): string;
    getAdditionalsecretoutputsList(): string[];
}

let active: RecordingMocks | undefined;
let patched = false;

/**
 * The mocks API hands newResource no resource options; the monitor's request has them. Wrap the
 * monitor once so the active RecordingMocks learns protect, retainOnDelete and the secret outputs of
 * every resource.
 */
function patchMonitor(): void {
    if (patched) return;
    patched = true;
    const original = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (this: MockMonitor, req: RegisterRequest, callback: (err: unknown, response: unknown) => void) {
        active?.noteOptions(req.getType(), req.getName(), {
            protect: req.getProtect() ?? false,
            retainOnDelete: req.getRetainondelete() ?? false,
            parent: req.getParent(),
            provider: req.getProvider(),
        }, req.getAdditionalsecretoutputsList());
        return original.call(this, req, callback);
    };
}

/** Installs fresh recording mocks for one run of a program. */
export async function installMocks(project: string, stack: string, preview = false): Promise<RecordingMocks> {
    patchMonitor();
    const mocks = new RecordingMocks();
    active = mocks;
    await pulumi.runtime.setMocks(mocks, project, stack, preview);
    return mocks;
}
