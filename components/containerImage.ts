import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { buildContextDigest } from "./buildContext";
import { defaultDockerfile, defaultImagePlatform } from "./defaults";
import { Image, ImageArgs, registryHost } from "./image";
import { parseImageReference } from "../lib/imageRef";
import { checkPinnedImage } from "./validate";

/** The team's registry and, when it needs a login, its credentials. */
export interface RegistryArgs {
    /** Host, optional port and path, e.g. "localhost:5001" or "ghcr.io/acme". */
    readonly server: string;
    readonly username?: string;
    /** Made a Pulumi secret wherever it is handed on (registryLogin), whether or not it is one. */
    readonly password?: pulumi.Input<string>;
}

/** Build an image from source. */
export interface BuildArgs {
    /** Build context, relative to the project. */
    readonly context: string;
    /** Dockerfile, relative to the context. @default defaultDockerfile */
    readonly dockerfile?: string;
    /** Multi-stage target. @default the last stage */
    readonly target?: string;
    /** Build arguments. @default {} */
    readonly args?: Readonly<Record<string, string>>;
    /** @default defaultImagePlatform */
    readonly platform?: string;
    /** Network of the RUN steps (`docker build --network`), e.g. "host". @default Docker's default */
    readonly network?: string;
    /** The project's folder, which `context` is relative to. @default the working directory */
    readonly root?: string;
}

/** Copy an upstream image, such as the database's, into the team's registry. */
export interface MirrorArgs {
    /** The upstream reference, pinned by tag or digest, e.g. "postgres:17". */
    readonly source: string;
    /** @default defaultImagePlatform */
    readonly platform?: string;
}

export interface ContainerImageArgs {
    readonly registry: RegistryArgs;
    /** Repository name inside the registry, e.g. "launchpad-backend". */
    readonly repository: string;
    /** Tag pushed alongside the digest, for people browsing the registry. @default "latest" for builds */
    readonly tag?: string;
    /** Exactly one of build, mirror and pinned. */
    readonly build?: BuildArgs;
    readonly mirror?: MirrorArgs;
    /**
     * An image already in a registry, by digest (`registry/repository@sha256:…`): nothing is built, pulled
     * or pushed, and `ref` is this reference.
     */
    readonly pinned?: string;
}

/**
 * The login for a registry: its host and credentials, when both a user and a password are given. The
 * password is a Pulumi secret here whatever the caller passed, so no push's inputs or pull Secret shows it.
 */
export function registryLogin(registry: RegistryArgs): ImageArgs["login"] {
    return registry.username !== undefined && registry.password !== undefined
        ? { host: registryHost(registry.server), username: registry.username, password: pulumi.secret(registry.password) }
        : undefined;
}

/** "ghcr.io/acme" + "app" → "ghcr.io/acme/app". */
export function repositoryFor(registry: string, repository: string): string {
    return `${registry.replace(/\/+$/, "")}/${repository}`;
}

/** The tag a mirror keeps: the upstream's own tag, or "mirror" for a digest-only source. */
export function mirrorTag(source: string): string {
    const parsed = parseImageReference(source);
    return (parsed.ok ? parsed.reference.tag : undefined) ?? "mirror";
}

/**
 * An image in the team's registry, built from a Dockerfile or mirrored from upstream, known by the
 * digest this plan pushed: `ref` is what workloads run, so a stale or mistyped image cannot be. Or one
 * an earlier plan pushed, pinned by its digest (a rollback, a promotion), which this plan only runs.
 */
export class ContainerImage extends pulumi.ComponentResource {
    /** "<registry>/<repository>@sha256:…" */
    public readonly ref: pulumi.Output<string>;
    /** Where the image lives, without tag or digest. */
    public readonly repository: string;

    constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:ContainerImage", name, {}, opts);

        if ([args.build, args.mirror, args.pinned].filter((a) => a !== undefined).length !== 1) {
            throw new Error(`ContainerImage ${name}: give exactly one of build (from a Dockerfile), mirror (an upstream image) or pinned (an image by digest)`);
        }
        if (args.pinned !== undefined) {
            const problem = checkPinnedImage(args.pinned);
            if (problem) throw new Error(`ContainerImage ${name}: pinned ${problem}`);
            this.repository = args.pinned.slice(0, args.pinned.indexOf("@"));
            this.ref = pulumi.output(args.pinned);
            this.registerOutputs({ ref: this.ref });
            return;
        }
        this.repository = repositoryFor(args.registry.server, args.repository);
        const login = registryLogin(args.registry);

        let image: Image;
        if (args.build) {
            const { context, target, network, root } = args.build;
            const dockerfile = `${context}/${args.build.dockerfile ?? defaultDockerfile}`;
            const inProject = (relative: string) => path.resolve(root ?? ".", relative);
            let contextDigest: string;
            try {
                contextDigest = buildContextDigest(inProject(context), inProject(dockerfile));
            } catch (error) {
                throw new Error(`ContainerImage ${name}: cannot read the build context ${context} or its Dockerfile ${dockerfile}: ${(error as Error).message}`);
            }
            image = new Image(`${name}-build`, {
                repository: this.repository,
                tag: args.tag ?? "latest",
                platform: args.build.platform ?? defaultImagePlatform,
                build: { context, dockerfile, target, args: { ...args.build.args }, network, contextDigest, root },
                login,
            }, { parent: this });
        } else {
            const { source, platform } = args.mirror!;
            image = new Image(`${name}-mirror`, {
                repository: this.repository,
                tag: mirrorTag(source),
                platform: platform ?? defaultImagePlatform,
                mirror: { source },
                login,
            }, { parent: this });
        }
        // "<repository>@sha256:…" of the image this very plan pushed.
        this.ref = image.ref;
        this.registerOutputs({ ref: this.ref });
    }
}
