import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "./project";

// Pulumi's dynamic resources as `pulumi.dynamic.Resource` makes them — the same type token, the same
// `__provider` input (the provider's code as pulumi.runtime.serializeFunction writes it) — with that
// text kept on disk beside the compiled program. Serializing a provider walks its closure through V8's
// inspector and parses it with TypeScript, which delays every `pulumi preview` and `up` before the first
// image can be registered. The text depends only on the program's compiled code, the SDK and Node, so
// it is kept under a key made of those and serialized again whenever one of them changes.

/** Where the texts are kept: beside the compiled program (bin/, rebuilt by tools/launch); nowhere under ts-node. */
function cacheDir(): string | undefined {
    return __filename.endsWith(".js") ? path.join(__dirname, "..", ".serialized-providers") : undefined;
}

/** Every compiled file of the program under `root`, each file's name and bytes, in a stable order. */
function programFiles(root: string): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory() && !entry.name.startsWith(".")) walk(full);
            else if (entry.isFile() && entry.name.endsWith(".js")) out.push(full);
        }
    };
    walk(root);
    return out;
}

/** The key of the program's code under `root`, the SDK and Node: any change in one of them serializes the providers again. */
export function programCodeKey(root: string): string {
    const hash = createHash("sha256");
    hash.update(`${process.version}\0${require("@pulumi/pulumi/package.json").version}\0`);
    for (const file of programFiles(root)) hash.update(`${path.relative(root, file)}\0`).update(fs.readFileSync(file)).update("\0");
    return hash.digest("hex").slice(0, 32);
}

/** This program's key, computed once per run: its code does not change while it runs. */
let programKey: string | undefined;

const texts = new WeakMap<object, Promise<string>>();

/**
 * The provider's serialized text, as `pulumi.dynamic.Resource` would send it: from the disk when this
 * program's code was serialized before, else serialized now (and kept, when the folder can be written).
 * `name` names the file: one provider object per name in a program.
 */
export function serializedProvider(name: string, provider: object): Promise<string> {
    let text = texts.get(provider);
    if (!text) {
        const dir = cacheDir();
        programKey ??= dir === undefined ? undefined : programCodeKey(path.join(__dirname, ".."));
        text = serializeKept(provider, dir === undefined || programKey === undefined ? undefined : { dir, name, key: programKey });
        texts.set(provider, text);
    }
    return text;
}

/** Serializes `provider`, or reads the text kept in `keep.dir` under its name and key (and keeps a new one there). */
export async function serializeKept(provider: object, keep?: { dir: string; name: string; key: string }): Promise<string> {
    const file = keep && path.join(keep.dir, `${keep.name}-${keep.key}.js`);
    if (file !== undefined && fs.existsSync(file)) return fs.readFileSync(file, "utf8");
    // Written as the SDK's own JavaScript writes it (`() => provider`), whatever compiles this file,
    // so that the text is the one pulumi.dynamic.Resource sends, byte for byte.
    const handler = new Function("provider", "return () => provider;")(provider) as () => object;
    const serialized = await pulumi.runtime.serializeFunction(handler, { allowSecrets: true });
    if (serialized.containsSecrets) throw new Error("a dynamic provider captured a secret; its code is kept in plain text");
    if (keep && file) {
        try {
            fs.mkdirSync(keep.dir, { recursive: true });
            // Only the current program's text is worth keeping.
            for (const old of fs.readdirSync(keep.dir)) if (old.startsWith(`${keep.name}-`)) fs.rmSync(path.join(keep.dir, old), { force: true });
            const partial = `${file}.${process.pid}.tmp`;
            fs.writeFileSync(partial, serialized.text);
            fs.renameSync(partial, file);
        } catch {
            // A folder that cannot be written only costs the next run the serialization again.
        }
    }
    return serialized.text;
}

/** The type token Pulumi gives a dynamic resource of this project: `pulumi-nodejs:dynamic/<project>:<type>`. */
export function dynamicType(type: string): string {
    return `pulumi-nodejs:dynamic/${PROJECT}:${type}`;
}

/**
 * A dynamic resource of this project, of type `dynamicType(type)`, run by Pulumi's dynamic provider
 * process from the `__provider` text, exactly as `pulumi.dynamic.Resource` registers it.
 */
export abstract class DynamicResource extends pulumi.CustomResource {
    constructor(type: string, provider: object, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super(dynamicType(type), name, { ...props, __provider: serializedProvider(type, provider) }, opts);
    }
}
