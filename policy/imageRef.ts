/**
 * How a container image reference is pinned: by digest, by an explicit tag, or not at all (which the
 * container runtime resolves to `:latest`, whatever that means on the day a node pulls it).
 */
export type ImagePin =
    | { readonly kind: "digest"; readonly digest: string }
    | { readonly kind: "tag"; readonly tag: string }
    | { readonly kind: "latest"; readonly reason: "no tag" | "latest tag" }
    | { readonly kind: "invalid"; readonly reason: string };

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Classifies `image` (`[registry[:port]/]path[:tag][@digest]`). The tag is whatever follows the last
 * ":" after the last "/", so the registry port in `localhost:5001/app` is not mistaken for a tag.
 */
export function imagePin(image: string): ImagePin {
    const at = image.indexOf("@");
    if (at >= 0) {
        const digest = image.slice(at + 1);
        return SHA256_DIGEST.test(digest)
            ? { kind: "digest", digest }
            : { kind: "invalid", reason: `"${digest}" is not a sha256 digest (sha256: followed by 64 hex digits)` };
    }
    const lastSlash = image.lastIndexOf("/");
    const lastColon = image.lastIndexOf(":");
    if (lastColon <= lastSlash) {
        return { kind: "latest", reason: "no tag" };
    }
    const tag = image.slice(lastColon + 1);
    if (tag === "") {
        return { kind: "invalid", reason: "the tag after ':' is empty" };
    }
    return tag === "latest" ? { kind: "latest", reason: "latest tag" } : { kind: "tag", tag };
}
