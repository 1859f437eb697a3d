import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_KEYS, DATABASE_FIELDS, TIER_FIELDS, loadConfig } from "../../components/config";
import { checkImageReference, checkMemory, checkPath, checkPinnedImage, checkQuantity } from "../../components/validate";
import { ROOT } from "../../tools/harness";

// A web tier's fields and the database's are each declared once, as a row of TIER_FIELDS or
// DATABASE_FIELDS (components/config.ts). Everything else follows from the row: the config keys, their
// defaults, the args loadConfig fills, the README's table and Pulumi.yaml. These tests read only the
// tables, so a row added there is checked here without editing this file; the compiler rejects a
// TierArgs or DatabaseTierArgs field without a row.

const WEB_TIERS = ["frontend", "backend"] as const;

type Row = { suffix: string; type: string; min?: number; max?: number; check?: unknown };

/** A value the row's key accepts, different for each row (`index`), as a stack file would write it. */
function sampleValue(row: Row, index: number): string {
    if (row.type === "integer") return String(Math.min(row.max ?? Infinity, (row.min ?? 0) + 2 + index));
    if (row.check === checkMemory) return `${100 + index}Mi`;
    if (row.check === checkQuantity) return `${100 + index}m`;
    if (row.check === checkPath) return `/field${index}`;
    if (row.check === checkImageReference) return `postgres:${index}`;
    if (row.check === checkPinnedImage) return `localhost:5001/field${index}@sha256:${String(index).padStart(64, "0")}`;
    return `field${index}`;
}

/** An args object's leaves by dotted path: `{ resources: { cpu } }` → `{ "resources.cpu": cpu }`. */
function leavesOf(args: object, prefix = ""): Record<string, unknown> {
    return Object.assign({}, ...Object.entries(args).map(([key, value]) =>
        typeof value === "object" && value !== null ? leavesOf(value, `${prefix}${key}.`) : { [`${prefix}${key}`]: value }));
}

/** The stack's values for every row of a table, as loadConfig parses them back. */
function sampleConfig(table: Record<string, Row>, prefix: string): { raw: Record<string, string>; expected: Record<string, unknown> } {
    const raw: Record<string, string> = {};
    const expected: Record<string, unknown> = {};
    Object.entries(table).forEach(([field, row], index) => {
        const text = sampleValue(row, index);
        raw[`launchpad:${prefix}${row.suffix}`] = text;
        expected[field] = row.type === "integer" ? Number(text) : text;
    });
    return { raw, expected };
}

describe("tier and database fields, each declared once", () => {
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    for (const tier of WEB_TIERS) {
        it(`gives the ${tier} one config key per TIER_FIELDS row, with the row's default, doc and rules`, () => {
            for (const row of Object.values(TIER_FIELDS)) {
                const spec: any = (CONFIG_KEYS as any)[`${tier}${row.suffix}`];
                assert.ok(spec, `CONFIG_KEYS lacks ${tier}${row.suffix}`);
                assert.equal(spec.default, row.defaults[tier], `${tier}${row.suffix}'s default`);
                assert.equal(spec.doc, row.doc(tier));
                assert.equal(spec.type, row.type);
                assert.equal(spec.check, "check" in row ? row.check : undefined);
                assert.equal(spec.min, "min" in row ? row.min : undefined);
            }
        });

        it(`fills every field of the ${tier}'s TierArgs from its row's key, and nothing else`, () => {
            const { raw, expected } = sampleConfig(TIER_FIELDS, tier);
            assert.deepEqual(leavesOf(loadConfig(raw, { stack: "dev" })[tier]), expected);
        });
    }

    it("fills every field of the database's args from its row's key, and nothing else", () => {
        const { raw, expected } = sampleConfig(DATABASE_FIELDS, "db");
        assert.deepEqual(leavesOf(loadConfig(raw, { stack: "dev" }).database), expected);
    });

    it("gives the database one config key per DATABASE_FIELDS row, with the row's spec", () => {
        for (const { suffix, ...spec } of Object.values(DATABASE_FIELDS)) assert.deepEqual((CONFIG_KEYS as any)[`db${suffix}`], spec);
    });

    it("documents every row's key in the README and declares it in Pulumi.yaml when its default is fixed", () => {
        const keys = [
            ...WEB_TIERS.flatMap((tier) => Object.values(TIER_FIELDS).map((row) => `${tier}${row.suffix}`)),
            ...Object.values(DATABASE_FIELDS).map((row) => `db${row.suffix}`),
        ];
        for (const key of keys) {
            assert.match(readme, new RegExp(`^\\| \`${key}\` \\|`, "m"), `README lacks a row for ${key}`);
            const { default: value } = (CONFIG_KEYS as any)[key];
            const fixed = value !== undefined && typeof value !== "function";
            assert.equal(key in project.config, fixed, `Pulumi.yaml and ${key}`);
        }
    });
});

describe("the components' imports", () => {
    it("run from config to the components, never back: no component imports config", () => {
        const dir = path.join(ROOT, "components");
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "config.ts" && f !== "index.ts")) {
            const text = fs.readFileSync(path.join(dir, file), "utf8");
            assert.doesNotMatch(text, /from "\.\/config"/, `components/${file} imports config`);
        }
    });
});
