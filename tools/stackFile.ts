// Reading a stack file (`Pulumi.<stack>.yaml`) for the commands: one parser, so that a YAML mistake reads
// the same in render, diagram, doctor, up, preview and down.

import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT } from "../components/project";
import { closest } from "../components/validate";
import { UsageError } from "./cli";

/** The repository root: where Pulumi.yaml, index.ts and the stack files live. */
export const ROOT = path.resolve(__dirname, "..");

/** A stack file that cannot be read or parsed: its message says where and what to do. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

/** The key written at `offset` of a YAML text (`launchpad:a` in `  launchpad:a: 3`), unquoted. */
function keyAt(text: string, offset: number): string {
    const rest = text.slice(offset).split("\n")[0];
    const quoted = /^(["'])(.*?)\1\s*:/.exec(rest);
    if (quoted) return quoted[2];
    return /^(.*?):(?:\s|$)/.exec(rest)?.[1].trim() ?? rest.trim();
}

/** The given lines (1-based numbers) as an editor shows them, with a caret under `column` of the last. */
function excerpt(lines: readonly string[], numbers: readonly number[], column: number): string[] {
    const width = String(Math.max(...numbers)).length;
    return [
        ...numbers.map((n) => `  ${String(n).padStart(width)} | ${lines[n - 1] ?? ""}`),
        `  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, column - 1))}^`,
    ];
}

/**
 * A YAML parse error as the user needs it: the file, line and column, what is wrong (for a duplicate
 * key, which key and where it first was), what to do, then the offending lines.
 */
export function describeYamlError(name: string, text: string, error: unknown): string {
    const e = error as { code?: string; message?: string; pos?: [number, number]; linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0];
    const reason = String(e.message ?? error).split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    if (!at) return `${name} is not valid YAML: ${reason}; fix the file`;
    const lines = text.split("\n");
    const where = `${name}:${at.line}:${at.col}`;
    if (e.code === "DUPLICATE_KEY" && e.pos) {
        const key = keyAt(text, e.pos[0]);
        const first = lines.findIndex((line, i) => i < at.line - 1 && keyAt(line, line.length - line.trimStart().length) === key) + 1;
        return [
            `${where}: the key "${key}" is given twice${first > 0 ? ` (first on line ${first})` : ""}; keep one of the lines in ${name}`,
            ...excerpt(lines, first > 0 ? [first, at.line] : [at.line], at.col),
        ].join("\n");
    }
    const before = [at.line - 2, at.line - 1].filter((n) => n >= 1);
    return [`${where}: ${reason}; fix the YAML in ${name} (under config:, each key on its own line, indented alike)`, ...excerpt(lines, [...before, at.line], at.col)].join("\n");
}

/** The stack file's document; throws StackFileError for a file that cannot be read or parsed. */
export function parseStackFile(file: string): { config?: Record<string, unknown>; [key: string]: unknown } {
    const name = path.basename(file);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new StackFileError(`cannot read ${name}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
        parsed = YAML.parse(text, { uniqueKeys: true });
    } catch (error) {
        throw new StackFileError(describeYamlError(name, text, error));
    }
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== "object" || Array.isArray(parsed)) throw new StackFileError(`${name} is not a stack file: it holds no "config:" map; see Pulumi.dev.yaml`);
    return parsed as { config?: Record<string, unknown> };
}

/** Stacks that have a committed `Pulumi.<stack>.yaml`. */
export function listStacks(root = ROOT): string[] {
    return fs.readdirSync(root)
        .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
}

/** The one wording, in every command, of a `--stack` that names no stack file: with the closest stack, and all of them. */
export function unknownStack(stack: string, root = ROOT): UsageError {
    const known = listStacks(root);
    const meant = closest(stack, known);
    return new UsageError(`unknown stack "${stack}": there is no Pulumi.${stack}.yaml${meant ? `; did you mean --stack ${meant}?` : ""} (stacks: ${known.join(", ") || "none"})`);
}

/** A stack file's value as Pulumi hands it on: a string as it is, anything else as JSON. */
export function configString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** What the mocked program sees for a value the stack file holds encrypted (`secure:`). */
export const ENCRYPTED_STAND_IN = "stand-in-for-an-encrypted-value";

function isEncrypted(value: unknown): boolean {
    return typeof value === "object" && value !== null && "secure" in value;
}

/** Pulumi.<stack>.yaml (or .yml) in the project, if there is one. */
export function stackFileOf(stack: string, root: string): string | undefined {
    return ["yaml", "yml"].map((ext) => path.join(root, `Pulumi.${stack}.${ext}`)).find((file) => fs.existsSync(file));
}

/** The keys a stack file holds encrypted: the engine hands them to the program as secrets. */
export function stackSecretKeys(stack: string, root = ROOT): string[] {
    const stackFile = stackFileOf(stack, root);
    if (!stackFile) return [];
    const parsed = parseStackFile(stackFile);
    return Object.entries<unknown>(parsed.config ?? {}).filter(([, value]) => isEncrypted(value)).map(([key]) => key);
}

/** The defaults Pulumi.yaml declares, as the config map Pulumi hands the program (`launchpad:key` → string). */
export function projectDefaults(root = ROOT): Record<string, string> {
    const config: Record<string, string> = {};
    const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) ?? {};
    for (const [key, declaration] of Object.entries<any>(project.config ?? {})) {
        const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
        if (declaration && typeof declaration === "object" && "default" in declaration) config[fullKey] = configString(declaration.default);
    }
    return config;
}

/**
 * The config map Pulumi would hand the program: Pulumi.yaml's declared defaults, overlaid by the
 * stack file's values (objects and lists as JSON, as the CLI passes them).
 */
export function stackConfig(stack: string, root = ROOT): Record<string, string> {
    const stackFile = stackFileOf(stack, root);
    if (!stackFile) throw unknownStack(stack, root);
    const config = projectDefaults(root);
    const parsed = parseStackFile(stackFile);
    for (const [key, value] of Object.entries<unknown>(parsed.config ?? {})) {
        // An encrypted value (the testbed's registry password) stays encrypted: the mocked program sees a
        // stand-in, marked secret by stackSecretKeys, as the engine would mark the decrypted value.
        config[key] = isEncrypted(value) ? ENCRYPTED_STAND_IN : configString(value);
    }
    return config;
}
