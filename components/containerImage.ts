import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { parseImageReference } from "./validate";

/** The team's registry and, when it needs a login, its credentials. */
export interface RegistryArgs {
    /** Host, optional port and path, e.g. "localhost:5001" or "ghcr.io/acme". */
    readonly server: string;
    readonly username?: string;
    /** A Pulumi secret. */
    readonly password?: pulumi.Input<string>;
}

/** Build an image from source. */
export interface BuildArgs {
    /** Build context, relative to the project. */
    readonly context: string;
    /** Dockerfile, relative to the context. @default "Dockerfile" */
    readonly dockerfile?: string;
    /** Multi-stage target. @default the last stage */
    readonly target?: string;
    /** Build arguments. @default {} */
    readonly args?: Readonly<Record<string, string>>;
    /** @default "linux/amd64" */
    readonly platform?: string;
}

/** Copy an upstream image, such as the database's, into the team's registry. */
export interface MirrorArgs {
    /** The upstream reference, pinned by tag or digest, e.g. "postgres:17". */
    readonly source: string;
    /** @default "linux/amd64" */
    readonly platform?: string;
}

export interface ContainerImageArgs {
    readonly registry: RegistryArgs;
    /** Repository name inside the registry, e.g. "launchpad-backend". */
    readonly repository: string;
    /** Tag pushed alongside the digest, for people browsing the registry. @default "latest" for builds */
    readonly tag?: string;
    /** Exactly one of build and mirror. */
    readonly build?: BuildArgs;
    readonly mirror?: MirrorArgs;
}

/** The login for a registry: its host and credentials, when both a user and a password are given. */
export function registryLogin(registry: RegistryArgs): { host: string; username: string; password: pulumi.Input<string> } | undefined {
    return registry.username !== undefined && registry.password !== undefined
        ? { host: registryHost(registry.server), username: registry.username, password: registry.password }
        : undefined;
}

/** "ghcr.io/acme" + "app" → "ghcr.io/acme/app". */
export function repositoryFor(registry: string, repository: string): string {
    return `${registry.replace(/\/+$/, "")}/${repository}`;
}

/** The registry host a login is for: "ghcr.io/acme" → "ghcr.io". */
export function registryHost(registry: string): string {
    return registry.split("/")[0];
}

/** The tag a mirror keeps: the upstream's own tag, or "mirror" for a digest-only source. */
export function mirrorTag(source: string): string {
    return parseImageReference(source)?.tag ?? "mirror";
}

/** "repo@sha256:…" from a repository and a digest ("sha256:…"). */
export function digestRef(repository: pulumi.Input<string>, digest: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`${repository}@${digest}`;
}

/**
 * An image in the team's registry, built from a Dockerfile or mirrored from upstream, known by the
 * digest this plan pushed: `ref` is what workloads run, so a stale or mistyped image cannot be.
 */
export class ContainerImage extends pulumi.ComponentResource {
    /** "<registry>/<repository>@sha256:…" */
    public readonly ref: pulumi.Output<string>;
    /** Where the image lives, without tag or digest. */
    public readonly repository: string;

    constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:ContainerImage", name, {}, opts);

        if ((args.build === undefined) === (args.mirror === undefined)) {
            throw new Error(`ContainerImage ${name}: give exactly one of build (from a Dockerfile) or mirror (an upstream image)`);
        }
        this.repository = repositoryFor(args.registry.server, args.repository);
        const login = registryLogin(args.registry);

        if (args.build) {
            const image = new docker.Image(`${name}-build`, {
                imageName: `${this.repository}:${args.tag ?? "latest"}`,
                build: {
                    context: args.build.context,
                    dockerfile: `${args.build.context}/${args.build.dockerfile ?? "Dockerfile"}`,
                    target: args.build.target,
                    args: args.build.args ? { ...args.build.args } : undefined,
                    platform: args.build.platform ?? "linux/amd64",
                },
                registry: login && { server: login.host, username: login.username, password: login.password },
            }, { parent: this });
            // repoDigest is "<repository>@sha256:…" for the image this very build pushed.
            this.ref = image.repoDigest;
        } else {
            const mirror = args.mirror!;
            const upstream = new docker.RemoteImage(`${name}-pull`, {
                name: mirror.source,
                platform: mirror.platform ?? "linux/amd64",
                keepLocally: true,
            }, { parent: this });
            const tagged = new docker.Tag(`${name}-tag`, {
                sourceImage: upstream.imageId,
                targetImage: `${this.repository}:${mirrorTag(mirror.source)}`,
            }, { parent: this });
            const pushed = new docker.RegistryImage(`${name}-push`, {
                name: tagged.targetImage,
                keepRemotely: true,
                triggers: { source: upstream.repoDigest },
            }, { parent: this });
            this.ref = digestRef(this.repository, pushed.sha256Digest);
        }
        this.registerOutputs({ ref: this.ref });
    }
}
