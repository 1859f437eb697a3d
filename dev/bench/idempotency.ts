import type { RecordedResource } from "../../tools/harness";

// A second `pulumi up` of an unchanged stack must change nothing: every resource it registers has to
// carry byte-for-byte the inputs of the first (no timestamps, random names or key-order drift), or
// the engine sees a diff and updates, or replaces, what is running. These compare two runs of a
// program under mocks, resource by resource, secrets in their marked form.

/** A resource as the engine keys it: type and name (the URN without stack and parents). */
export function resourceKey(resource: Pick<RecordedResource, "type" | "name">): string {
    return `${resource.type}::${resource.name}`;
}

/** What the engine compares between two runs: each resource's inputs and options, serialised. */
export function fingerprints(resources: readonly RecordedResource[]): Map<string, string> {
    const prints = new Map<string, string>();
    for (const r of resources) {
        const key = resourceKey(r);
        if (prints.has(key)) throw new Error(`${key} is registered twice`);
        prints.set(key, JSON.stringify({ inputs: r.inputs, options: r.options }));
    }
    return prints;
}

/** One way in which two runs differ. */
export interface Drift {
    readonly resource: string;
    /** Where inside `{ inputs, options }`, e.g. `inputs.metadata.labels`. */
    readonly path: string;
    readonly problem: string;
}

function describe(value: unknown): string {
    const text = JSON.stringify(value);
    return text === undefined ? "nothing" : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The first place where two JSON values differ in value or in key order; undefined if none. */
export function firstDifference(first: unknown, second: unknown, path = ""): { path: string; problem: string } | undefined {
    if (Array.isArray(first) && Array.isArray(second)) {
        for (let i = 0; i < Math.max(first.length, second.length); i++) {
            const found = firstDifference(first[i], second[i], `${path}[${i}]`);
            if (found) return found;
        }
        return undefined;
    }
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (isObject(first) && isObject(second)) {
        const keys = [Object.keys(first), Object.keys(second)];
        for (const key of new Set([...keys[0], ...keys[1]])) {
            const found = firstDifference(first[key], second[key], path ? `${path}.${key}` : key);
            if (found) return found;
        }
        if (keys[0].join("\u0000") !== keys[1].join("\u0000")) {
            return { path: path || "(top)", problem: `keys in another order: ${keys[0].join(", ")} then ${keys[1].join(", ")}` };
        }
        return undefined;
    }
    return JSON.stringify(first) === JSON.stringify(second) ? undefined : { path: path || "(top)", problem: `${describe(first)} then ${describe(second)}` };
}

/** Every resource that appears in one run only, or whose inputs or options are not byte-identical. */
export function compareRuns(first: readonly RecordedResource[], second: readonly RecordedResource[]): Drift[] {
    const [a, b] = [fingerprints(first), fingerprints(second)];
    const drifts: Drift[] = [];
    for (const [key, print] of a) {
        const other = b.get(key);
        if (other === undefined) drifts.push({ resource: key, path: "(resource)", problem: "registered by the first run only" });
        else if (other !== print) {
            const found = firstDifference(JSON.parse(print), JSON.parse(other)) ?? { path: "(serialisation)", problem: "the same values serialised differently" };
            drifts.push({ resource: key, ...found });
        }
    }
    for (const key of b.keys()) {
        if (!a.has(key)) drifts.push({ resource: key, path: "(resource)", problem: "registered by the second run only" });
    }
    return drifts;
}
