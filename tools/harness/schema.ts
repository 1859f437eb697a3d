import * as fs from "fs";
import * as path from "path";
import type { KubeObject } from "./index";

// Validation of manifests against the Kubernetes OpenAPI schema, through kubernetes-models (models
// generated from the upstream spec). Its package is ESM-only with import-only exports, so the model
// file is required by path; Node 22 can require ES modules that have no top-level await.

export interface SchemaResult {
    /** The kind has no upstream model (a CRD, say): it was not checked. */
    readonly skipped: boolean;
    /** "<field path> <what is wrong>", empty when valid. */
    readonly errors: readonly string[];
}

interface Model {
    validate(): void;
}
type ModelClass = new (data: unknown) => Model;

const modelsRoot = path.join(__dirname, "..", "..", "node_modules", "kubernetes-models");
const cache = new Map<string, ModelClass | undefined>();

/**
 * "apps/v1" + "Deployment" → kubernetes-models' model file for it (`apps/v1/Deployment.js`), if it has
 * one. The one lookup for the schema checks here and render's unknown-field check (tools/render/check.ts).
 */
export function modelFile(apiVersion: string, kind: string): string | undefined {
    const file = path.join(modelsRoot, ...apiVersion.split("/"), `${kind}.js`);
    // Guard against path tricks in apiVersion/kind: the file must sit inside the package.
    const inside = file.startsWith(modelsRoot + path.sep) && /^[A-Za-z0-9]+$/.test(kind);
    return inside && fs.existsSync(file) ? file : undefined;
}

function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
    const key = `${apiVersion}/${kind}`;
    if (!cache.has(key)) {
        const file = modelFile(apiVersion, kind);
        cache.set(key, file === undefined ? undefined : (require(file) as Record<string, ModelClass>)[kind]);
    }
    return cache.get(key);
}

/** Fields the schema allows anywhere but the API server sets itself. */
function withoutServerFields(object: KubeObject): KubeObject {
    const { status: _status, ...rest } = object;
    return rest as KubeObject;
}

/** Checks one object against its kind's schema. */
export function validateObject(object: KubeObject): SchemaResult {
    const Model = modelFor(object.apiVersion, object.kind);
    if (!Model) return { skipped: true, errors: [] };
    try {
        new Model(withoutServerFields(object)).validate();
        return { skipped: false, errors: [] };
    } catch (error) {
        const details = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
        if (!details) return { skipped: false, errors: [(error as Error).message] };
        return { skipped: false, errors: details.map((d) => `${d.instancePath || "/"} ${d.message ?? "is invalid"}`) };
    }
}
