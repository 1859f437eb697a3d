import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

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

function withoutTag(imageName: string): string {
    const slash = imageName.lastIndexOf("/");
    const colon = imageName.lastIndexOf(":");
    return colon > slash ? imageName.slice(0, colon) : imageName;
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
        case "docker:index/image:Image": {
            const repository = withoutTag(String(inputs.imageName));
            return { ...inputs, baseImageName: inputs.imageName, repoDigest: `${repository}@${placeholderDigest(String(inputs.imageName))}` };
        }
        case "docker:index/remoteImage:RemoteImage":
            return { ...inputs, imageId: placeholderDigest(`id:${inputs.name}`), repoDigest: `${withoutTag(String(inputs.name))}@${placeholderDigest(String(inputs.name))}` };
        case "docker:index/tag:Tag":
            return { ...inputs, sourceImageId: inputs.sourceImage };
        case "docker:index/registryImage:RegistryImage":
            return { ...inputs, sha256Digest: placeholderDigest(String(inputs.name)) };
        case "random:index/randomPassword:RandomPassword": {
            const result = stableHash(`password:${name}`, Number(inputs.length ?? 16));
            return { ...inputs, result: pulumi.secret(result), bcryptHash: pulumi.secret(`bcrypt-${result}`) };
        }
        default:
            return { ...inputs };
    }
}

/**
 * Pulumi mocks that behave like the providers launchpad uses, deterministically, and remember every
 * resource with its inputs and options.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    private readonly pendingOptions = new Map<string, RecordedOptions>();

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const state = providerState(args.type, args.name, args.inputs);
        const key = `${args.type}::${args.name}`;
        const options = this.pendingOptions.get(key) ?? { protect: false, retainOnDelete: false, parent: "", provider: args.provider ?? "" };
        this.pendingOptions.delete(key);
        this.resources.push({ type: args.type, name: args.name, inputs: args.inputs, state, options });
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        throw new Error(`launchpad's program makes no provider calls under mocks, but called ${args.token}`);
    }

    /** Called by the patched monitor with the options of the resource about to be created. */
    noteOptions(type: string, name: string, options: RecordedOptions): void {
        this.pendingOptions.set(`${type}::${name}`, options);
    }
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getParent(): string;
    getProvider(): string;
}

let active: RecordingMocks | undefined;
let patched = false;

/**
 * The mocks API hands newResource no resource options; the monitor's request has them. Wrap the
 * monitor once so the active RecordingMocks learns protect and retainOnDelete of every resource.
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
        });
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
