import * as crypto from "node:crypto";
import { configString, parseStackFile, projectDefaults, stackFileOf } from "../stackFile";

// A stack's config read as `pulumi config --show-secrets --json` gives it, without starting the CLI:
// Pulumi.yaml's defaults overlaid by the stack file's values, and the `secure:` values opened with the
// passphrase the way the CLI's passphrase secrets manager opens them (its `v1` format: a key derived by
// PBKDF2-SHA256, 1,000,000 rounds, from the passphrase and the stack file's `encryptionsalt`; each value
// AES-256-GCM, `v1:<nonce>:<ciphertext and tag>`, base64). Every command reads the config before the
// engine runs; the CLI takes about half a second for it (its start, then the same key derivation), on
// the path the user waits for. Whatever this reader does not know (another secrets provider, an ESC
// environment, a secret inside a structured value, another format) it leaves to the CLI: undefined.
// tests/e2e/deploy.e2e.ts compares the two readings of the testbed's stack, so a Pulumi that changes its
// format is noticed there.

/** The PBKDF2 rounds of the CLI's passphrase secrets manager (`v1`). */
const ROUNDS = 1_000_000;
const KEY_BYTES = 32;
const TAG_BYTES = 16;
/** What the CLI encrypts into `encryptionsalt` to tell a right passphrase from a wrong one. */
const KNOWN_PLAINTEXT = "pulumi";

/** `launchpad:key` → its value, and whether it is kept secret (the shape of `pulumi config --json`). */
type Entries = Record<string, { readonly value: string; readonly secret: boolean }>;

/** Opens `v1:<nonce>:<ciphertext>` with the key; throws when the key is not the one it was sealed with. */
function open(key: Buffer, sealed: string): string {
    const [version, nonce, ciphertext, ...rest] = sealed.split(":");
    if (version !== "v1" || nonce === undefined || ciphertext === undefined || rest.length > 0) throw new Error(`not a v1 value`);
    const bytes = Buffer.from(ciphertext, "base64");
    const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString("utf8");
}

/**
 * The key of a stack's `encryptionsalt` (`v1:<salt>:<the known text, sealed>`) for this passphrase;
 * undefined when the salt is not in that format or the passphrase does not open it (then the CLI
 * says so, in its own words).
 */
export async function passphraseKey(passphrase: string, encryptionSalt: string): Promise<Buffer | undefined> {
    const m = /^v1:([^:]+):(v1:.+)$/.exec(encryptionSalt);
    if (!m) return undefined;
    const key = await new Promise<Buffer>((resolve, reject) =>
        crypto.pbkdf2(passphrase, Buffer.from(m[1], "base64"), ROUNDS, KEY_BYTES, "sha256", (err, derived) => (err ? reject(err) : resolve(derived))),
    );
    try {
        return open(key, m[2]) === KNOWN_PLAINTEXT ? key : undefined;
    } catch {
        return undefined;
    }
}

function isSecure(value: unknown): value is { secure: string } {
    return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
}

/** Whether `secure` appears anywhere inside a structured value (the CLI's job to open). */
function holdsSecure(value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    return Object.entries(value).some(([key, inner]) => key === "secure" || holdsSecure(inner));
}

/**
 * The stack's config (`launchpad:key` → value and whether it is secret), as the CLI would report it;
 * undefined when only the CLI can tell (see above) or the stack file cannot be read.
 */
export async function stackConfigFromFile(repoRoot: string, stack: string, passphrase: string): Promise<Entries | undefined> {
    const file = stackFileOf(stack, repoRoot);
    if (file === undefined) return undefined;
    let parsed: ReturnType<typeof parseStackFile>;
    let defaults: Record<string, string>;
    try {
        parsed = parseStackFile(file);
        defaults = projectDefaults(repoRoot);
    } catch {
        return undefined;
    }
    // An ESC environment adds config only the CLI resolves; another secrets provider is the CLI's to open.
    if (parsed.environment !== undefined || (parsed.secretsprovider !== undefined && parsed.secretsprovider !== "passphrase")) return undefined;
    const values = Object.entries<unknown>(parsed.config ?? {});
    if (values.some(([, value]) => !isSecure(value) && holdsSecure(value))) return undefined;
    const entries: Entries = Object.fromEntries(Object.entries(defaults).map(([key, value]) => [key, { value, secret: false }]));
    const sealed = values.filter(([, value]) => isSecure(value));
    let key: Buffer | undefined;
    if (sealed.length > 0) {
        if (typeof parsed.encryptionsalt !== "string") return undefined;
        key = await passphraseKey(passphrase, parsed.encryptionsalt);
        if (key === undefined) return undefined;
    }
    for (const [name, value] of values) {
        if (!isSecure(value)) {
            entries[name] = { value: configString(value), secret: false };
            continue;
        }
        try {
            entries[name] = { value: open(key as Buffer, value.secure), secret: true };
        } catch {
            return undefined;
        }
    }
    return entries;
}
