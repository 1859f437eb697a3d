import * as fs from "fs";
import * as path from "path";
import type { KubeObject } from "../harness";
import { modelFile, validateObject } from "../harness/schema";

// `render --check`: every object against the Kubernetes OpenAPI schema as kubernetes-models compiles
// it from the upstream spec (types, formats, enums, required fields), plus what those validators do not
// enforce: fields the API does not have (a typo such as `imagePullPolicyy`), which a real API server
// drops or, with strict field validation, refuses.

/** One object's outcome. Paths read like kubectl's: `spec.template.spec.containers[0].image`. */
export interface ObjectCheck {
    /** The kind has no upstream schema (a CRD, say): it was not checked. */
    readonly skipped: boolean;
    /** "<field path>: <what is wrong>", empty when the object is valid. */
    readonly errors: readonly string[];
}

type Validate = ((data: unknown) => boolean) & { errors?: unknown };

const validators = new Map<string, Validate | undefined>();

/**
 * The compiled schema validator of a kind. A model file (`apps/v1/Deployment.js`) imports it from
 * `_schemas/`; calling it directly, rather than through the model, lets us watch what it reads.
 */
function schemaValidator(apiVersion: string, kind: string): Validate | undefined {
    const key = `${apiVersion}/${kind}`;
    if (!validators.has(key)) {
        let validate: Validate | undefined;
        const file = modelFile(apiVersion, kind);
        if (file !== undefined) {
            const schemaFile = /from\s*"((?:\.\.\/)+_schemas\/[A-Za-z0-9]+\.js)"/.exec(fs.readFileSync(file, "utf8"))?.[1];
            if (schemaFile) validate = (require(path.resolve(path.dirname(file), schemaFile)) as { validate: Validate }).validate;
        }
        validators.set(key, validate);
    }
    return validators.get(key);
}

/** JSON pointer → kubectl-style path: `/spec/containers/0/name` → `spec.containers[0].name`. */
export function fieldPath(pointer: string): string {
    if (pointer === "" || pointer === "/") return "(object)";
    return pointer
        .split("/")
        .slice(1)
        .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
        .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(part) ? `${i === 0 ? "" : "."}${part}` : `[${JSON.stringify(part)}]`))
        .join("");
}

/**
 * Fields of an object that its kind's schema does not define. The compiled validator reads every
 * property its schema declares (`data.replicas`, `data.selector`, …) and every key of a map (labels);
 * so a key it never read, in an object where it read something, is not part of the API. An object it
 * read nothing of is free-form (or was never reached) and is not judged.
 */
export function unknownFields(object: KubeObject): string[] | undefined {
    const validate = schemaValidator(object.apiVersion, object.kind);
    if (!validate) return undefined;
    const reads = new WeakMap<object, Set<PropertyKey>>();
    const proxies = new WeakMap<object, object>();
    const watch = (value: unknown): unknown => {
        if (typeof value !== "object" || value === null) return value;
        let proxy = proxies.get(value);
        if (!proxy) {
            reads.set(value, new Set());
            proxy = new Proxy(value, {
                get(target, key, receiver) {
                    reads.get(target)!.add(key);
                    return watch(Reflect.get(target, key, receiver));
                },
            });
            proxies.set(value, proxy);
        }
        return proxy;
    };
    const { status: _status, ...checked } = object;
    validate(watch(checked));

    const unknown: string[] = [];
    const walk = (value: unknown, pointer: string): void => {
        if (typeof value !== "object" || value === null) return;
        const read = reads.get(value);
        if (!read || read.size === 0) return;
        if (Array.isArray(value)) {
            value.forEach((item, i) => walk(item, `${pointer}/${i}`));
            return;
        }
        for (const [key, child] of Object.entries(value)) {
            const childPointer = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
            if (read.has(key)) walk(child, childPointer);
            else unknown.push(childPointer);
        }
    };
    walk(checked, "");
    return unknown;
}

/** Checks one object: schema violations and unknown fields, each with its field path. */
export function checkObject(object: KubeObject): ObjectCheck {
    const schema = validateObject(object);
    if (schema.skipped) return { skipped: true, errors: [] };
    const errors = schema.errors.map((error) => {
        const space = error.indexOf(" ");
        return space < 0 ? error : `${fieldPath(error.slice(0, space))}: ${error.slice(space + 1)}`;
    });
    for (const pointer of unknownFields(object) ?? []) errors.push(`${fieldPath(pointer)}: is not a field of ${object.apiVersion} ${object.kind}`);
    return { skipped: false, errors };
}
