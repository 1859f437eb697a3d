import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseStackFile, unknownStack } from "../stackFile";
import { CONFIG_KEYS, fixesFor, formatProblems } from "../../components/config";
import { DEV_STACK } from "../cli";
import { UpError } from "./errors";
import { localPaths } from "../engine/backend";
import type { Platform, Problem } from "./prereqs";

export { DEV_STACK } from "../cli";

/** The project's config namespace (`launchpad:<key>` in Pulumi.<stack>.yaml). */
export const NS = "launchpad";

/** The passphrase that encrypts a stack's secrets, and where it came from. */
export interface Passphrase {
    readonly value: string;
    readonly source: "env" | "file" | "generated";
    /** One line to show the user, when a passphrase was just generated. */
    readonly notice?: string;
}

/**
 * `PULUMI_CONFIG_PASSPHRASE` when set. For `dev` only, otherwise, a random passphrase generated once
 * into `.launchpad/passphrase` (mode 0600) and reused. Any other stack without the variable is an error:
 * its secrets are shared with a team or CI, so a passphrase only this machine knows would lock them out.
 */
export function resolvePassphrase(stack: string, repoRoot: string, env: Readonly<Record<string, string | undefined>>): Passphrase {
    const fromEnv = env.PULUMI_CONFIG_PASSPHRASE;
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: "env" };
    const missing = missingPassphrase(stack, env);
    if (missing) throw new UpError([missing.what, ...missing.fix.map((f) => `  ${f}`)].join("\n"));
    const file = localPaths(repoRoot).passphrase;
    if (fs.existsSync(file)) {
        if (process.platform !== "win32" && (fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
        const value = fs.readFileSync(file, "utf8").trim();
        if (value === "") throw new UpError(`${file} is empty: delete it to generate a new passphrase (the dev stack's secrets are regenerated on the next up).`);
        return { value, source: "file" };
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const value = randomBytes(32).toString("base64url");
    fs.writeFileSync(file, value + "\n", { mode: 0o600, flag: "wx" });
    return {
        value,
        source: "generated",
        notice: `launchpad: generated a passphrase for the ${DEV_STACK} stack's secrets in .launchpad/passphrase (gitignored; PULUMI_CONFIG_PASSPHRASE overrides it).`,
    };
}

/** A stack without PULUMI_CONFIG_PASSPHRASE, when only the environment can give it one (any stack but dev). */
export function missingPassphrase(stack: string, env: Readonly<Record<string, string | undefined>>): Problem | undefined {
    if ((env.PULUMI_CONFIG_PASSPHRASE ?? "") !== "" || stack === DEV_STACK) return undefined;
    return {
        what: `PULUMI_CONFIG_PASSPHRASE is not set: it encrypts stack ${stack}'s secrets (only ${DEV_STACK} gets a generated one)`,
        fix: [`export PULUMI_CONFIG_PASSPHRASE='<the passphrase your team uses for ${stack}>'`, "in CI, take it from a secret (see the workflow in .github/workflows/)"],
    };
}

/** What launchpad reads from `Pulumi.<stack>.yaml` before the engine runs (to choose prerequisites). */
export interface StackFile {
    readonly path: string;
    readonly exists: boolean;
    readonly platform: Platform;
    readonly kubeContext?: string;
}

/**
 * Reads the stack's platform from its file. `dev` may run without a file (kind is the default); any
 * other stack must have one, so a typo in `--stack` cannot quietly create a new stack on kind.
 */
export function readStackFile(repoRoot: string, stack: string): StackFile {
    const file = path.join(repoRoot, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        if (stack === DEV_STACK) return { path: file, exists: false, platform: "kind" };
        throw unknownStack(stack, repoRoot);
    }
    let config: Record<string, unknown>;
    try {
        config = parseStackFile(file).config ?? {};
    } catch (e) {
        throw new UpError((e as Error).message);
    }
    const platform = config[`${NS}:platform`] ?? CONFIG_KEYS.platform.default;
    if (platform !== "kind" && platform !== "cloud") {
        // The platform decides which tools and steps a command needs, so it is checked first, and said as every config problem is.
        const oneOf = CONFIG_KEYS.platform.oneOf.map((p) => `"${p}"`).join(", ");
        const problem = { key: "platform", value: String(platform), message: `must be one of ${oneOf}`, ...fixesFor(stack).propose("platform", String(platform)) };
        throw new UpError(formatProblems(stack, [problem], fs.readFileSync(file, "utf8")));
    }
    const ctx = config[`${NS}:kubeContext`];
    return { path: file, exists: true, platform, kubeContext: typeof ctx === "string" ? ctx : undefined };
}

/**
 * A plain value the stack file itself sets, as a string (`pulumi config get` also answers with the
 * defaults Pulumi.yaml declares, so it cannot tell whether the stack file sets a key).
 */
export function stackFileSetting(stackFilePath: string, key: string): string | undefined {
    if (!fs.existsSync(stackFilePath)) return undefined;
    const value = (parseStackFile(stackFilePath).config ?? {})[key];
    return value === undefined || value === null || typeof value === "object" ? undefined : String(value);
}

/**
 * Removes an `encryptionsalt:` line from a stack file. Pulumi writes the salt of the passphrase that
 * created a stack into its file; a dev stack file committed by a teammate carries *their* salt, which
 * this machine's generated passphrase cannot open. Only called for a dev stack that does not exist in
 * this machine's state yet; refuses when the file holds encrypted values, which would become
 * unreadable. Returns whether a line was removed.
 */
export function dropForeignSalt(stackFilePath: string): boolean {
    if (!fs.existsSync(stackFilePath)) return false;
    const text = fs.readFileSync(stackFilePath, "utf8");
    if (!/^encryptionsalt:/m.test(text)) return false;
    if (/\bsecure:/.test(text)) {
        throw new UpError(
            `${path.basename(stackFilePath)} carries an encryptionsalt and encrypted (secure:) values from another passphrase, ` +
                "which this machine's generated one cannot read. Set PULUMI_CONFIG_PASSPHRASE to the passphrase they were made with, " +
                "or remove the encryptionsalt line and the secure: values and set them again.",
        );
    }
    const without = text.replace(/^encryptionsalt:.*(\r?\n|$)/m, "");
    if (without === text) return false;
    fs.writeFileSync(stackFilePath, without);
    return true;
}
