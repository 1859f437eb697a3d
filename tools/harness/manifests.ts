import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { IMAGE_TYPE } from "../../components/image";
import { isKubernetesObject, KubeObject, RecordedResource, StackRun } from "./index";

// Turns one run of the program under mocks into the manifests a reviewer (or a GitOps tool) reads:
// one YAML file per Kubernetes object, named like `kubectl get all` lists them, byte-identical from
// run to run, with secrets redacted (the harness already did) and mocked image digests marked.
// `npm run render` writes them; `npm run diagram` draws the same objects under the same names.

/** What stands where only a real `pulumi up` knows an image's digest. Not a valid digest on purpose: applied as is, the pull fails at once with InvalidImageName. */
export const PLACEHOLDER_DIGEST = "sha256:PLACEHOLDER-set-by-pulumi-up";

/** The part of a StackRun the renderer reads (tests build one by hand). */
export type RenderInput = Pick<StackRun, "stack" | "resources" | "objects">;

/** One Kubernetes object as it is written to disk. */
export interface Manifest {
    /** File name inside `<out>/<stack>/`, e.g. `deployment-backend.yaml`. */
    readonly file: string;
    /** The object as written: secrets redacted, placeholder digests marked. */
    readonly object: KubeObject;
    /** The Pulumi resource that creates it. */
    readonly resource: RecordedResource;
    /** The file's contents. */
    readonly text: string;
}

/** Pairs each object with the resource it came from (the harness keeps them in the same order). */
export function pairObjects(input: RenderInput): { object: KubeObject; resource: RecordedResource }[] {
    const resources = input.resources.filter(isKubernetesObject);
    if (resources.length !== input.objects.length) {
        throw new Error(`the run has ${input.objects.length} Kubernetes objects but ${resources.length} Kubernetes resources`);
    }
    return input.objects.map((object, i) => {
        const resource = resources[i];
        if (resource.state.kind !== object.kind) throw new Error(`object ${i} is a ${object.kind} but its resource ${resource.name} a ${resource.state.kind}`);
        return { object, resource };
    });
}

function strings(value: unknown, found: Set<string>): Set<string> {
    if (typeof value === "string") found.add(value);
    else if (Array.isArray(value)) value.forEach((v) => strings(v, found));
    else if (typeof value === "object" && value !== null) Object.values(value).forEach((v) => strings(v, found));
    return found;
}

const DIGEST = /sha256:[0-9a-f]{64}/g;

/**
 * Digests that only a real build or push can know: under mocks, every digest an image resource reports
 * that was not among its inputs (an upstream image pinned by digest in config stays as it is).
 */
export function placeholderDigests(resources: readonly RecordedResource[]): Set<string> {
    const digests = new Set<string>();
    for (const r of resources.filter((r) => r.type === IMAGE_TYPE)) {
        const given = [...strings(r.inputs, new Set())].join("\n");
        for (const text of strings(r.state, new Set())) {
            for (const digest of text.match(DIGEST) ?? []) if (!given.includes(digest)) digests.add(digest);
        }
    }
    return digests;
}

/** Replaces every placeholder digest inside string values with PLACEHOLDER_DIGEST. */
export function markPlaceholders<T>(value: T, digests: ReadonlySet<string>): T {
    if (typeof value === "string") return value.replace(DIGEST, (d) => (digests.has(d) ? PLACEHOLDER_DIGEST : d)) as T;
    if (Array.isArray(value)) return value.map((v) => markPlaceholders(v, digests)) as T;
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markPlaceholders(v, digests)])) as T;
    }
    return value;
}

/** Keys in code-unit order at every level (what `kubectl get -o yaml` prints), lists as they are. */
export function sortKeys<T>(value: T): T {
    if (Array.isArray(value)) return value.map(sortKeys) as T;
    if (typeof value === "object" && value !== null) {
        const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        return Object.fromEntries(keys.map((k) => [k, sortKeys((value as Record<string, unknown>)[k])])) as T;
    }
    return value;
}

/** Whether the program left the name to Pulumi, which appends a random suffix at deploy. */
export function isAutoNamed(resource: RecordedResource): boolean {
    return resource.inputs?.metadata?.name === undefined;
}

function slug(text: string): string {
    return text.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "");
}

/** The Pulumi resource name without a trailing `-<kind>` (`launchpad-ingress-ingress` → `launchpad-ingress`). */
function logicalName(object: KubeObject, resource: RecordedResource): string {
    const suffix = `-${object.kind.toLowerCase()}`;
    return resource.name.endsWith(suffix) && resource.name.length > suffix.length ? resource.name.slice(0, -suffix.length) : resource.name;
}

/**
 * The name a listing shows: the object's own name when the program chose it; for an object Pulumi
 * auto-names (its real name is only known at deploy), its `app.kubernetes.io/name` label, else its
 * Pulumi resource name.
 */
export function shownName(object: KubeObject, resource: RecordedResource): string {
    if (!isAutoNamed(resource)) return object.metadata.name;
    return object.metadata.labels?.["app.kubernetes.io/name"] ?? logicalName(object, resource);
}

/**
 * File names like `kubectl get all` rows, `<kind>-<name>.yaml`. Names that would clash fall back to
 * the Pulumi resource name, then to the object's full name, so every object gets its own file.
 */
export function fileNames(pairs: readonly { object: KubeObject; resource: RecordedResource }[]): string[] {
    const candidates: ((p: { object: KubeObject; resource: RecordedResource }) => string)[] = [
        ({ object, resource }) => shownName(object, resource),
        ({ object, resource }) => logicalName(object, resource),
        ({ object, resource }) => `${logicalName(object, resource)}-${object.metadata.namespace ?? ""}-${object.metadata.name}`,
    ];
    const names = pairs.map((p) => `${slug(p.object.kind)}-${slug(candidates[0](p))}`);
    for (let level = 1; level < candidates.length; level++) {
        const counts = new Map<string, number>();
        names.forEach((n) => counts.set(n, (counts.get(n) ?? 0) + 1));
        names.forEach((n, i) => {
            if (counts.get(n)! > 1) names[i] = `${slug(pairs[i].object.kind)}-${slug(candidates[level](pairs[i]))}`;
        });
    }
    const seen = new Set<string>();
    for (const name of names) {
        if (seen.has(name)) throw new Error(`two objects would both be written to ${name}.yaml`);
        seen.add(name);
    }
    return names.map((n) => `${n}.yaml`);
}

function containsPlaceholder(value: unknown): boolean {
    return [...strings(value, new Set())].some((s) => s.includes(PLACEHOLDER_DIGEST));
}

/** The comment at the top of a file: where it comes from, and which values only a real deploy knows. */
function header(stack: string, object: KubeObject, resource: RecordedResource): string[] {
    const where = object.metadata.namespace ? ` in namespace ${object.metadata.namespace}` : "";
    const lines = [
        `${object.kind} ${object.metadata.name}${where}, from Pulumi resource ${resource.name} (${resource.type}).`,
        `Rendered by \`npm run render -- --stack ${stack}\` from the program under mocks; change the program, not this file.`,
    ];
    if (isAutoNamed(resource)) {
        lines.push(`Pulumi names this object at deploy: ${resource.name}-<random suffix>; the suffix in metadata.name is a stand-in.`);
    }
    if (containsPlaceholder(object)) {
        lines.push(`${PLACEHOLDER_DIGEST} marks an image digest that \`pulumi up\` learns when it pushes the image.`);
    }
    return lines;
}

/** The YAML text of one object: sorted keys, no anchors, no line folding, a header comment. */
export function toYaml(object: KubeObject, comment: readonly string[] = []): string {
    const doc = new YAML.Document(sortKeys(object), { aliasDuplicateObjects: false });
    if (comment.length > 0) doc.commentBefore = comment.map((line) => ` ${line}`).join("\n");
    return doc.toString({ lineWidth: 0 });
}

/** Every object of a run as the file it is written to, sorted by file name. */
export function renderManifests(input: RenderInput): Manifest[] {
    const pairs = pairObjects(input);
    const digests = placeholderDigests(input.resources);
    const marked = pairs.map(({ object, resource }) => ({ object: markPlaceholders(object, digests), resource }));
    const files = fileNames(marked);
    return marked
        .map(({ object, resource }, i) => ({ file: files[i], object, resource, text: toYaml(object, header(input.stack, object, resource)) }))
        .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * Writes the manifests to `<out>/<stack>/`, replacing the YAML files a previous render left there
 * (so an object the program no longer creates disappears from the listing). Returns the folder.
 */
export function writeManifests(out: string, stack: string, manifests: readonly Manifest[]): string {
    const dir = path.join(out, stack);
    fs.mkdirSync(dir, { recursive: true });
    const keep = new Set(manifests.map((m) => m.file));
    for (const file of fs.readdirSync(dir)) {
        if (file.endsWith(".yaml") && !keep.has(file)) fs.rmSync(path.join(dir, file));
    }
    for (const m of manifests) fs.writeFileSync(path.join(dir, m.file), m.text);
    return dir;
}
