// Pure checks on the shapes Kubernetes, Docker and PostgreSQL accept. Each returns undefined when the
// value is fine, or a sentence saying what is wrong; callers add the key and the fix.

import * as net from "node:net";
import { isRegistryAddress, parseImageReference } from "../lib/imageRef";
import { parseQuantity } from "../lib/quantity";
import { isManifestUrl } from "../lib/kind";

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A DNS-1123 label: namespaces, most object names. */
export function checkDns1123Label(value: string): string | undefined {
    if (value.length > 63) return `is ${value.length} characters long; a DNS-1123 label has at most 63`;
    if (!dns1123Label.test(value)) {
        return "is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";
    }
    return undefined;
}

/** A DNS-1035 label: Service names and anything that must also start with a letter. */
export function checkDns1035Label(value: string, maxLength = 63): string | undefined {
    if (value.length > maxLength) return `is ${value.length} characters long; at most ${maxLength} are allowed here`;
    if (!dns1035Label.test(value)) {
        return "is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, ending with a letter or digit)";
    }
    return undefined;
}

/** A DNS-1123 subdomain: Secret names, StorageClass names, IngressClass names. */
export function checkDns1123Subdomain(value: string): string | undefined {
    if (value.length > 253) return `is ${value.length} characters long; a DNS-1123 subdomain has at most 253`;
    if (!dns1123Subdomain.test(value)) {
        return "is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', each part starting and ending with a letter or digit)";
    }
    return undefined;
}

/** An Ingress host: a DNS name, optionally with one leading wildcard label. */
export function checkHost(value: string): string | undefined {
    const bare = value.startsWith("*.") ? value.slice(2) : value;
    // Four dotted numbers are no DNS name even when out of range (999.1.1.1): no top-level domain is numeric.
    if (net.isIP(bare) !== 0 || /^\d+(\.\d+){3}$/.test(bare)) return "is an IP address; an Ingress host must be a DNS name";
    if (bare.includes(":")) return "has a port; an Ingress host is a DNS name without a port";
    return checkDns1123Subdomain(bare);
}

/** An HTTP path for routing or probes. */
export function checkPath(value: string): string | undefined {
    if (!value.startsWith("/")) return "does not start with '/'";
    if (!/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/.test(value)) return "has characters that are not allowed in a URL path";
    if (value.length > 1 && value.endsWith("/")) return "ends with '/'; write the prefix without it";
    return undefined;
}

const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A label or selector key: an optional DNS subdomain prefix and a name of at most 63 characters. */
export function checkLabelKey(value: string): string | undefined {
    const slash = value.lastIndexOf("/");
    const prefix = slash >= 0 ? value.slice(0, slash) : undefined;
    const name = slash >= 0 ? value.slice(slash + 1) : value;
    if (prefix !== undefined && checkDns1123Subdomain(prefix)) return `has an invalid prefix "${prefix}"`;
    if (name.length === 0 || name.length > 63 || !qualifiedNamePart.test(name)) {
        return "is not a valid label key (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, after an optional DNS prefix and '/')";
    }
    return undefined;
}

/** A label value: at most 63 characters, may be empty. */
export function checkLabelValue(value: string): string | undefined {
    if (value.length > 63 || !labelValue.test(value)) {
        return "is not a valid label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)";
    }
    return undefined;
}

/** A non-negative Kubernetes quantity such as "100m", "128Mi" or "1Gi". */
export function checkQuantity(value: string): string | undefined {
    const parsed = parseQuantity(value);
    if (parsed === undefined) return "is not a Kubernetes quantity (e.g. 100m or 0.5 for CPU, 128Mi or 1Gi for memory)";
    if (parsed < 0) return "is negative; give a positive amount";
    if (parsed === 0) return "is zero; give a positive amount";
    return undefined;
}

/** A memory quantity: whole bytes, so milli-units ("128m" is 0.128 bytes) are almost always a typo for Mi. */
export function checkMemory(value: string): string | undefined {
    const problem = checkQuantity(value);
    if (problem) return problem;
    if (/\d(m|u|n)$/.test(value)) return `is in thousandths of a byte ("m" means milli); write ${value.slice(0, -1)}Mi for mebibytes`;
    if ((parseQuantity(value) ?? 0) < 4 * 2 ** 20) return "is less than 4Mi, too little for any container";
    return undefined;
}

/** An image to pull, such as "postgres:17" or "ghcr.io/acme/db@sha256:…". */
export function checkImageReference(value: string, example = "postgres:17"): string | undefined {
    const parsed = parseImageReference(value);
    if (!parsed.ok) return `is not a valid image reference (e.g. postgres:17 or registry.example.com/team/db:1.2): ${parsed.reason}`;
    const { tag, digest } = parsed.reference;
    if (!tag && !digest) return `has no tag or digest, so it means whatever 'latest' is today; pin a tag such as ${example}`;
    if (tag === "latest") return `is pinned to 'latest', which changes under you; pin a version tag such as ${example}`;
    return undefined;
}

/** An image that is already built, pinned by digest: "registry/repository@sha256:<64 hex digits>". */
export function checkPinnedImage(value: string): string | undefined {
    const parsed = parseImageReference(value);
    if (!parsed.ok) return `is not a valid image reference (registry/repository@sha256:<64 hex digits>): ${parsed.reason}`;
    const { domain, tag, digest } = parsed.reference;
    if (digest === undefined) return `is not pinned by digest${tag === undefined ? "" : ` (a tag such as :${tag} can move)`}; give registry/repository@sha256:<64 hex digits>, as \`npm run history\` shows it`;
    if (tag !== undefined) return `has both a tag and a digest; give only the digest (registry/repository@${digest})`;
    if (domain === undefined) return "names no registry; give the registry the image is in, e.g. localhost:5001/launchpad-backend@sha256:…";
    return undefined;
}

/** Where a manifest comes from: an https URL, or a path (relative to the project) to a YAML file. */
export function checkManifestSource(value: string): string | undefined {
    if (isManifestUrl(value)) {
        if (!/^https:\/\//i.test(value)) return "is a URL that is not https; give an https URL (an internal mirror's), or download the manifest and give its path relative to the project";
        try {
            new URL(value);
        } catch {
            return "is not a valid URL";
        }
        return undefined;
    }
    if (!/\.(ya?ml|json)$/i.test(value)) return "is neither an https URL nor the path of a .yaml, .yml or .json file";
    return undefined;
}

/** A registry to push to: a host with optional port and path, no tag or scheme. */
export function checkRegistry(value: string): string | undefined {
    if (/^[a-z]+:\/\//.test(value)) return "has a URL scheme; give only the host, port and path (e.g. ghcr.io/acme)";
    if (!isRegistryAddress(value)) return "is not a registry address (host[:port][/path], e.g. localhost:5001 or ghcr.io/acme)";
    const host = value.split("/")[0];
    if (!/[.:]/.test(host) && host !== "localhost") {
        return "does not start with a registry host (with a '.' or a port, or 'localhost'); for Docker Hub write docker.io/<user>";
    }
    return undefined;
}

/** An IPv4 or IPv6 CIDR such as 203.0.113.0/24. */
export function checkCidr(value: string): string | undefined {
    const [address, bits, ...rest] = value.split("/");
    const family = net.isIP(address);
    if (rest.length > 0 || bits === undefined || !/^\d{1,3}$/.test(bits) || family === 0) return "is not a CIDR (address/prefix, e.g. 203.0.113.0/24)";
    const maxBits = family === 4 ? 32 : 128;
    if (Number(bits) > maxBits) return `is not a valid IPv${family} CIDR (the prefix is at most /${maxBits})`;
    return undefined;
}

/** A Docker platform such as linux/amd64 or linux/arm64/v8. */
export function checkPlatform(value: string): string | undefined {
    return /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(value) ? undefined : "is not a platform such as linux/amd64 or linux/arm64";
}

/** A Docker network name, as `docker build --network` takes it: "host", "none" or a network's name. */
export function checkDockerNetwork(value: string): string | undefined {
    return /^[A-Za-z0-9][A-Za-z0-9_.-]+$/.test(value)
        ? undefined
        : "is not a Docker network name (letters, digits, '_', '.' and '-', starting with a letter or digit, e.g. host)";
}

/** A PostgreSQL identifier that needs no quoting. */
export function checkPostgresIdentifier(value: string): string | undefined {
    if (!/^[a-z_][a-z0-9_]*$/.test(value)) return "is not a plain PostgreSQL identifier (lower-case letters, digits and '_', not starting with a digit)";
    if (value.length > 63) return `is ${value.length} characters long; PostgreSQL identifiers have at most 63`;
    if (value.startsWith("pg_")) return "starts with 'pg_', which PostgreSQL reserves";
    return undefined;
}

/** An integer or a percentage, as a rolling update's maxSurge and maxUnavailable take. */
export function checkIntOrPercent(value: number | string): string | undefined {
    if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? undefined : "must be a whole number of 0 or more";
    return /^\d{1,3}%$/.test(value) && Number(value.slice(0, -1)) <= 100 ? undefined : "must be a whole number or a percentage such as 25%";
}

/** True when a maxSurge/maxUnavailable value lets no pod move (0 or 0%). */
export function isZeroIntOrPercent(value: number | string): boolean {
    return value === 0 || value === "0%";
}

/** Edit distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
    const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = previous[0];
        previous[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = previous[j];
            previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
            diagonal = above;
        }
    }
    return previous[b.length];
}

/** The closest candidate to a misspelt name, if one is close enough to be what was meant. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of candidates) {
        const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
        if (distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** A value as one word of a shell command: quoted when it needs it. */
export function shellWord(value: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
