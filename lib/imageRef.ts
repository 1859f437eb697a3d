/**
 * Container image references: the one parser that the program's config validation, the policy pack,
 * the registry client and the diagram share.
 *
 * The grammar is the distribution reference grammar (github.com/distribution/reference, what Docker and
 * containerd parse): `[domain[:port]/]path[:tag][@digest]`, path components in lower case, and a first
 * component that is a registry only if it has a "." or a ":" or is "localhost" ("team/app" is on Docker
 * Hub). Digests are `sha256:` and 64 lower-case hex digits, the digest every registry and launchpad's own
 * `repoDigest` use.
 */

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const imagePath = `${pathComponent}(?:/${pathComponent})*`;
const tag = "[\\w][\\w.-]{0,127}";
const REFERENCE = new RegExp(`^(?:(${domain})/)?(${imagePath})(?::(${tag}))?(?:@(.*))?$`, "i");
const REGISTRY_ADDRESS = new RegExp(`^${domain}(?:/${imagePath})?$`);
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const NAME_MAX_LENGTH = 255;

export interface ImageReference {
    /** Registry host (and port), when the reference names one. */
    readonly domain?: string;
    /** Repository path inside the registry. */
    readonly path: string;
    readonly tag?: string;
    readonly digest?: string;
}

/** A reference split into its parts, or the reason it is not one. */
export type ParsedImageReference =
    | { readonly ok: true; readonly reference: ImageReference }
    | { readonly ok: false; readonly reason: string };

/** Splits an image reference, or says why it is not one. */
export function parseImageReference(value: string): ParsedImageReference {
    const match = REFERENCE.exec(value);
    if (!match) {
        return { ok: false, reason: "it does not have the form [registry[:port]/]path[:tag][@sha256:digest]" };
    }
    const [, matchedDomain, matchedPath, matchedTag, digest] = match;
    let host: string | undefined = matchedDomain;
    let path = matchedPath;
    if (host !== undefined && !/[.:]/.test(host) && host !== "localhost") {
        // "team/app": "team" is a path component on Docker Hub, not a registry host.
        path = `${host}/${path}`;
        host = undefined;
    }
    if (path !== path.toLowerCase()) {
        return { ok: false, reason: "the repository name must be lower case" };
    }
    if ((host === undefined ? 0 : host.length + 1) + path.length > NAME_MAX_LENGTH) {
        return { ok: false, reason: `the name is longer than ${NAME_MAX_LENGTH} characters` };
    }
    if (digest !== undefined && !SHA256_DIGEST.test(digest)) {
        return { ok: false, reason: `"${digest}" is not a sha256 digest (sha256: followed by 64 hex digits)` };
    }
    return { ok: true, reference: { domain: host, path, tag: matchedTag, digest } };
}

/** True for a registry to push to: a host with an optional port and path, no tag or scheme. */
export function isRegistryAddress(value: string): boolean {
    return REGISTRY_ADDRESS.test(value);
}

/**
 * How a container image reference is pinned: by digest, by an explicit tag, or not at all (which the
 * container runtime resolves to `:latest`, whatever that means on the day a node pulls it).
 */
export type ImagePin =
    | { readonly kind: "digest"; readonly digest: string }
    | { readonly kind: "tag"; readonly tag: string }
    | { readonly kind: "latest"; readonly reason: "no tag" | "latest tag" }
    | { readonly kind: "invalid"; readonly reason: string };

/** Classifies `image`; the registry port in `localhost:5001/app` is not mistaken for a tag. */
export function imagePin(image: string): ImagePin {
    const parsed = parseImageReference(image);
    if (!parsed.ok) {
        return { kind: "invalid", reason: parsed.reason };
    }
    const { tag: imageTag, digest } = parsed.reference;
    if (digest !== undefined) {
        return { kind: "digest", digest };
    }
    if (imageTag === undefined) {
        return { kind: "latest", reason: "no tag" };
    }
    return imageTag === "latest" ? { kind: "latest", reason: "latest tag" } : { kind: "tag", tag: imageTag };
}
