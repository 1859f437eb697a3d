import * as os from "os";
import * as YAML from "yaml";
import { CONFIG_KEYS } from "../../components/config";

/** The README's config table sits between these two lines; `npm run docs` rewrites what is between. */
export const TABLE_BEGIN = "<!-- BEGIN config table: written by `npm run docs` from CONFIG_KEYS in components/config.ts; edit there, not here -->";
export const TABLE_END = "<!-- END config table -->";

/** A key's spec as the docs read it (CONFIG_KEYS' entries differ in which optional fields they carry). */
interface DocSpec {
    readonly type: string;
    readonly doc: string;
    readonly default?: unknown;
    readonly defaultDoc?: string;
    readonly secret?: boolean;
}

const specs = (): [string, DocSpec][] => Object.entries(CONFIG_KEYS as Record<string, DocSpec>);

const TYPE_NAMES: Record<string, string> = { intOrPercent: "integer or percent" };

function defaultCell(key: string, spec: DocSpec): string {
    if (typeof spec.default === "function") {
        if (spec.defaultDoc === undefined) throw new Error(`CONFIG_KEYS.${key} has a computed default but no defaultDoc to show it in the docs`);
        return spec.defaultDoc;
    }
    if (spec.default === undefined) return "—";
    return `\`${typeof spec.default === "string" ? spec.default : JSON.stringify(spec.default)}\``;
}

/** The README's config reference table: one row per key of CONFIG_KEYS, in its order. */
export function configTable(): string {
    const rows = specs().map(([key, spec]) => {
        const type = (TYPE_NAMES[spec.type] ?? spec.type) + (spec.secret ? " (secret)" : "");
        return `| \`${key}\` | ${type} | ${defaultCell(key, spec)} | ${spec.doc} |`;
    });
    return ["| Key | Type | Default | Meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** `readme` with the text between TABLE_BEGIN and TABLE_END replaced by `configTable()`. */
export function withConfigTable(readme: string): string {
    const begin = readme.indexOf(TABLE_BEGIN);
    const end = readme.indexOf(TABLE_END);
    if (begin < 0 || end < begin) throw new Error(`README.md lacks the config table's markers:\n${TABLE_BEGIN}\n${TABLE_END}`);
    // Blank lines around the table, so no Markdown reader takes a marker for part of it.
    return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n\n${configTable()}\n\n${readme.slice(end)}`;
}

/**
 * The keys Pulumi.yaml declares, as Pulumi's project file schema has them (`type`, `default`,
 * `description`): every scalar, non-secret key whose default is the same for every stack. Not the
 * others: the Pulumi CLI makes a declared key without a default required in every stack, and a key
 * whose default depends on the stack or platform is filled by the program.
 */
export function projectConfig(): Record<string, { type: string; default: unknown; description: string }> {
    const declared: Record<string, { type: string; default: unknown; description: string }> = {};
    for (const [key, spec] of specs()) {
        const scalar = spec.type === "string" || spec.type === "integer" || spec.type === "boolean";
        const fixedDefault = spec.default !== undefined && typeof spec.default !== "function";
        if (scalar && fixedDefault && !spec.secret) declared[key] = { type: spec.type, default: spec.default, description: spec.doc };
    }
    return declared;
}

/** A scalar as YAML in a flow mapping: plain when that reads back as the same string, else quoted. */
function flowScalar(value: unknown): string {
    if (typeof value !== "string") return String(value);
    const plain = /^[A-Za-z0-9/][A-Za-z0-9._/-]*$/.test(value) && YAML.parse(value) === value;
    return plain ? value : JSON.stringify(value);
}

/** Pulumi.yaml's `config:` block, one key a line. */
export function projectConfigBlock(): string {
    const lines = Object.entries(projectConfig()).map(([key, d]) =>
        `  ${key}: { type: ${d.type}, default: ${flowScalar(d.default)}, description: ${JSON.stringify(d.description)} }`);
    return ["config:", ...lines].join("\n");
}

/** `project` (Pulumi.yaml's text) with its `config:` block replaced by `projectConfigBlock()`. */
export function withProjectConfig(project: string): string {
    const block = /^config:\n(?:[ \t]+.*(?:\n|$))*/m;
    if (!block.test(project)) throw new Error("Pulumi.yaml has no top-level config: block");
    return project.replace(block, `${projectConfigBlock()}\n`);
}

/**
 * Text for a committed document, with this machine's home folder written `~` (`/root/.cache/…` →
 * `~/.cache/…`): what a generated page shows should read the same on every machine and say nothing of
 * whose it was.
 */
export function homeAsTilde(text: string, home = os.homedir()): string {
    if (home === "" || home === "/") return text;
    return text.split(home.endsWith("/") ? home : `${home}/`).join("~/");
}
