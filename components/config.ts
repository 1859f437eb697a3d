import type { RegistryArgs } from "./containerImage";
import type { AppArgs, DatabaseTierArgs, TierArgs, WebTier } from "./app";
import {
    MIN_REPLICAS, TCP_PORTS, autoscalingBoundsProblem, defaultCpuTargetPercent, defaultDatabaseName, defaultDatabaseResources, defaultDatabaseUser,
    defaultDockerfile, defaultImagePlatform, defaultPostgresUid, defaultProtect, defaultReplicas, defaultRetainData, defaultRollout, isTcpPort,
} from "./defaults";
import type { EgressRule } from "./networkPolicies";
import type { Affinity, Toleration } from "./pod";
import { PROJECT } from "./project";
import {
    checkCidr, checkDns1035Label, checkDns1123Label, checkDns1123Subdomain, checkDockerNetwork, checkHost, checkImageReference, checkIntOrPercent,
    checkLabelKey, checkLabelValue, checkMemory, checkPath, checkPinnedImage, checkPlatform, checkPostgresIdentifier, checkQuantity,
    checkRegistry, checkManifestSource, closest, isZeroIntOrPercent, shellWord,
} from "./validate";
import { parseQuantity } from "../lib/quantity";
import { INGRESS_NGINX, ingressNginxManifestUrl, isManifestUrl, KIND, type KindSettings } from "../lib/kind";

export { PROJECT };

type KeyType = "string" | "integer" | "boolean" | "intOrPercent" | "object" | "array";

/** What the defaults of some keys depend on. */
interface DefaultContext {
    readonly stack: string;
    readonly platform: string;
    readonly appName: string;
}

interface KeySpec {
    readonly type: KeyType;
    /** One line for the README's config table. */
    readonly doc: string;
    /** A value to show in a fix when the key has no default and the value written means nothing. */
    readonly example: string;
    readonly default?: unknown | ((context: DefaultContext) => unknown);
    /** How the docs show a default that depends on the stack or platform (a function above). */
    readonly defaultDoc?: string;
    /** Set with `pulumi config set --secret`; its value is never printed. */
    readonly secret?: boolean;
    /** The only value a fix proposes for this key: any other deletes or replaces the data. */
    readonly safe?: string;
    readonly min?: number;
    readonly max?: number;
    readonly oneOf?: readonly string[];
    readonly check?: (value: never) => string | undefined;
}

/** A default on kind only; `onCloud` says, for the docs, what happens on a cloud cluster instead. */
const onKind = (kind: string, onCloud: string) => ({
    default: (c: DefaultContext) => (c.platform === "kind" ? kind : undefined),
    defaultDoc: `kind: \`${kind}\`; cloud: ${onCloud}`,
});

/** The dotted paths of an args type's leaves: `port`, `resources.cpu`, `storage.className`, … */
type LeafPath<T> = { [K in keyof T & string]-?: NonNullable<T[K]> extends object ? `${K}.${LeafPath<NonNullable<T[K]>>}` : K }[keyof T & string];

/** The type of the leaf at a dotted path. */
type LeafValue<T, P extends string> = P extends `${infer K}.${infer Rest}` ? (K extends keyof T ? LeafValue<NonNullable<T[K]>, Rest> : never) : P extends keyof T ? T[P] : never;

/** One field of a web tier: the key `<tier><suffix>` it is read from, with each tier's default. */
type TierField<V> = Omit<KeySpec, "default" | "example" | "doc"> & {
    readonly suffix: string;
    readonly defaults: Readonly<Record<WebTier, V>>;
    /** @default the tier's default */
    readonly example?: string;
    readonly doc: (tier: WebTier) => string;
};

/**
 * Every field of a web tier, declared once: keyed by where it goes in TierArgs, with the config key it
 * is read from (`frontendCpu`, `backendCpu`), that key's spec and each tier's default. CONFIG_KEYS gets
 * the two tiers' keys from this table and loadConfig fills TierArgs from it; a TierArgs field without
 * a row, or a row whose defaults do not fit its field, does not compile.
 */
export const TIER_FIELDS = {
    replicas: { suffix: "Replicas", type: "integer", min: MIN_REPLICAS, max: 100, defaults: { frontend: defaultReplicas, backend: defaultReplicas }, example: "2", doc: (tier) => `Pods of the ${tier} (0 stops it); with autoscaling, the fewest.` },
    maxReplicas: { suffix: "MaxReplicas", type: "integer", min: 1, max: 100, defaults: { frontend: 5, backend: 5 }, doc: (tier) => `Most pods of the ${tier} the autoscaler may run.` },
    port: { suffix: "Port", type: "integer", ...TCP_PORTS, defaults: { frontend: 8080, backend: 3000 }, doc: (tier) => `Port the ${tier} container listens on.` },
    "resources.cpu": { suffix: "Cpu", type: "string", check: checkQuantity, defaults: { frontend: "50m", backend: "100m" }, doc: (tier) => `CPU request of each ${tier} pod.` },
    "resources.memory": { suffix: "Memory", type: "string", check: checkMemory, defaults: { frontend: "64Mi", backend: "128Mi" }, doc: (tier) => `Memory request of each ${tier} pod.` },
    "resources.memoryLimit": { suffix: "MemoryLimit", type: "string", check: checkMemory, defaults: { frontend: "128Mi", backend: "256Mi" }, doc: (tier) => `Memory limit of each ${tier} pod (the pod is restarted above it).` },
    "probes.liveness": { suffix: "LivenessPath", type: "string", check: checkPath, defaults: { frontend: "/healthz", backend: "/healthz" }, doc: (tier) => `HTTP path of the ${tier}'s liveness and startup probes.` },
    "probes.readiness": { suffix: "ReadinessPath", type: "string", check: checkPath, defaults: { frontend: "/", backend: "/readyz" }, doc: (tier) => `HTTP path of the ${tier}'s readiness probe.` },
    "build.context": { suffix: "Context", type: "string", defaults: { frontend: "apps/frontend", backend: "apps/backend" }, doc: (tier) => `Docker build context of the ${tier}, relative to the project.` },
    "build.dockerfile": { suffix: "Dockerfile", type: "string", defaults: { frontend: defaultDockerfile, backend: defaultDockerfile }, doc: (tier) => `Dockerfile of the ${tier}, relative to its context.` },
    image: {
        suffix: "Image", type: "string", check: checkPinnedImage, defaults: { frontend: undefined, backend: undefined }, example: "<registry>/<repository>@sha256:<digest>",
        doc: (tier) => `An image of the ${tier} already in \`registry\`, by digest (\`…@sha256:<digest>\`), deployed instead of building one ([docs/releases.md](docs/releases.md)).`,
    },
} as const satisfies { readonly [P in LeafPath<TierArgs>]: TierField<LeafValue<TierArgs, P>> };

/** One field of the database: the key `db<suffix>` it is read from. */
type DatabaseField = KeySpec & { readonly suffix: string };

/**
 * Every field of the database, declared once: keyed by where it goes in DatabaseTierArgs, with the
 * config key it is read from (`db<suffix>`) and that key's spec. The Database component's own
 * defaults are the stack's.
 */
export const DATABASE_FIELDS = {
    image: { suffix: "Image", type: "string", check: checkImageReference, default: "postgres:17", example: "postgres:17", doc: "Upstream PostgreSQL image, mirrored into `registry`." },
    name: { suffix: "Name", type: "string", check: checkPostgresIdentifier, default: defaultDatabaseName, example: "app", doc: "Name of the database." },
    user: { suffix: "User", type: "string", check: checkPostgresIdentifier, default: defaultDatabaseUser, example: "app", doc: "Database user the backend connects as." },
    uid: { suffix: "Uid", type: "integer", min: 1, max: 2147483647, default: defaultPostgresUid, example: "999", doc: "Non-root uid/gid/fsGroup of PostgreSQL (999 in `postgres:*` Debian images, 70 in `-alpine`)." },
    "storage.size": { suffix: "StorageSize", type: "string", check: checkQuantity, default: "1Gi", example: "10Gi", doc: "Size of the database volume." },
    "storage.className": { suffix: "StorageClass", type: "string", check: checkDns1123Subdomain, ...onKind("standard", "cluster default"), example: "gp3", doc: "StorageClass of the database volume (cloud default: the cluster's default class)." },
    "resources.cpu": { suffix: "Cpu", type: "string", check: checkQuantity, default: defaultDatabaseResources.cpu, example: "250m", doc: "CPU request of the database pod." },
    "resources.memory": { suffix: "Memory", type: "string", check: checkMemory, default: defaultDatabaseResources.memory, example: "512Mi", doc: "Memory request of the database pod." },
    "resources.memoryLimit": { suffix: "MemoryLimit", type: "string", check: checkMemory, default: defaultDatabaseResources.memoryLimit, example: "1Gi", doc: "Memory limit of the database pod." },
} as const satisfies { readonly [P in LeafPath<DatabaseTierArgs>]: DatabaseField };

/** A web tier's keys, `<tier><suffix>`, in TIER_FIELDS' order. */
function tierKeys<T extends WebTier>(tier: T) {
    const keys = Object.values(TIER_FIELDS).map(({ suffix, defaults, doc, ...spec }: TierField<unknown>) =>
        [`${tier}${suffix}`, { ...spec, default: defaults[tier], example: spec.example ?? String(defaults[tier]), doc: doc(tier) }]);
    return Object.fromEntries(keys) as { [P in keyof typeof TIER_FIELDS as `${T}${(typeof TIER_FIELDS)[P]["suffix"]}`]: KeySpec };
}

/** The database's keys, `db<suffix>`, in DATABASE_FIELDS' order. */
function databaseKeys() {
    const keys = Object.values(DATABASE_FIELDS).map(({ suffix, ...spec }: DatabaseField) => [`db${suffix}`, spec]);
    return Object.fromEntries(keys) as { [P in keyof typeof DATABASE_FIELDS as `db${(typeof DATABASE_FIELDS)[P]["suffix"]}`]: KeySpec };
}

/**
 * Every key a stack may set, with its type, default and check. `npm run docs` writes the README's config
 * table and Pulumi.yaml's `config:` block from this, and `npm test` fails when either differs.
 */
export const CONFIG_KEYS = {
    platform: { type: "string", oneOf: ["kind", "cloud"], default: "kind", example: "cloud", doc: "Where the app runs: a local kind cluster or a cloud cluster." },
    kubeContext: { type: "string", ...onKind("kind-launchpad", "required"), example: "my-cluster", doc: "kubeconfig context of the target cluster (required on cloud; the current context is never used)." },
    kubeconfig: { type: "string", example: "~/.kube/config", doc: "Path to a kubeconfig file, if not the default one." },
    appName: { type: "string", check: (v: string) => checkDns1035Label(v, 40), default: "launchpad", example: "shop", doc: "Name of the app: `app.kubernetes.io/part-of`, image names and the default namespace." },
    namespace: { type: "string", check: checkDns1123Label, default: (c: DefaultContext) => `${c.appName}-${c.stack}`, defaultDoc: "`<appName>-<stack>`", example: "shop-dev", doc: "Namespace of the app (default `<appName>-<stack>`)." },
    registry: { type: "string", check: checkRegistry, ...onKind("localhost:5001", "required"), example: "ghcr.io/acme", doc: "Registry the images are pushed to and pulled from (required on cloud)." },
    registryUsername: { type: "string", example: "ci-bot", doc: "Registry user, when the registry needs a login." },
    registryPassword: { type: "string", secret: true, example: "<token>", doc: "Registry password or token; set with `--secret`." },
    imagePlatform: { type: "string", check: checkPlatform, default: defaultImagePlatform, example: "linux/arm64", doc: "Platform the images are built for." },
    imageBuildNetwork: { type: "string", check: checkDockerNetwork, example: "host", doc: "Network of the image builds' RUN steps (`docker build --network`): `host` uses the machine's own, e.g. behind a proxy; Docker's default when unset." },
    host: { type: "string", check: checkHost, ...onKind("launchpad.localhost", "required"), example: "app.example.com", doc: "Host name the Ingress answers (required on cloud)." },
    ingressClass: { type: "string", check: checkDns1123Subdomain, default: "nginx", example: "nginx", doc: "IngressClass of the cluster's ingress controller." },
    tlsSecretName: { type: "string", check: checkDns1123Subdomain, example: "app-tls", doc: "Secret holding the TLS certificate (default `<appName>-tls` when `tlsIssuer` is set)." },
    tlsIssuer: { type: "string", check: checkDns1123Subdomain, example: "letsencrypt", doc: "cert-manager ClusterIssuer that issues the certificate; turns TLS on." },
    frontendPath: { type: "string", check: checkPath, default: "/", example: "/", doc: "URL path routed to the frontend." },
    backendPath: { type: "string", check: checkPath, default: "/api", example: "/api", doc: "URL path routed to the backend." },
    ...tierKeys("frontend"),
    ...tierKeys("backend"),
    ...databaseKeys(),
    rolloutTimeoutSeconds: { type: "integer", min: 60, max: 3600, default: defaultRollout.timeoutSeconds, example: "300", doc: "How long `pulumi up` waits for a rollout before failing with its cause." },
    maxSurge: { type: "intOrPercent", check: checkIntOrPercent, default: defaultRollout.maxSurge, example: "1", doc: "Extra pods a rolling update may start (number or percent)." },
    maxUnavailable: { type: "intOrPercent", check: checkIntOrPercent, default: defaultRollout.maxUnavailable, example: "0", doc: "Pods a rolling update may take down (0: zero-downtime)." },
    autoscaling: { type: "boolean", default: false, example: "true", doc: "Scale frontend and backend on CPU between `<tier>Replicas` and `<tier>MaxReplicas`." },
    cpuTargetPercent: { type: "integer", min: 10, max: 100, default: defaultCpuTargetPercent, example: "70", doc: "Average CPU use (percent of the request) the autoscaler aims for." },
    ingressNamespace: { type: "string", check: checkDns1123Label, default: "ingress-nginx", example: "ingress-nginx", doc: "Namespace of the ingress controller: the only source allowed to reach the web tiers." },
    kindNodeImage: { type: "string", check: (v: string) => checkImageReference(v, "kindest/node:v1.33.1"), example: "kindest/node:v1.33.1", doc: "kind only: node image of the cluster (`kind create cluster --image`), to pin a Kubernetes version or pull from a mirror; kind's own default when unset." },
    registryImage: { type: "string", check: (v: string) => checkImageReference(v, "registry:3"), ...onKind(KIND.registryImage, "not used"), example: "mirror.example.com/library/registry:3", doc: "kind only: image of the local registry container, e.g. from a mirror." },
    ingressController: { type: "string", oneOf: ["manifest", "none"], ...onKind("manifest", "not used"), example: "none", doc: "kind only: `manifest` installs the controller from `ingressManifest`; `none`: you bring one, and `up` waits for its IngressClass `ingressClass`." },
    ingressManifest: {
        type: "string", check: checkManifestSource, default: (c: DefaultContext) => (c.platform === "kind" ? ingressNginxManifestUrl() : undefined),
        defaultDoc: `kind: ingress-nginx ${INGRESS_NGINX.version}'s upstream kind manifest; cloud: not used`, example: "deploy/ingress-nginx.yaml",
        doc: "kind only: the ingress controller's manifest, an https URL or a path relative to the project (a mirror's copy); [docs/kind.md](docs/kind.md).",
    },
    backendEgress: { type: "array", default: [], example: '[{"cidr":"0.0.0.0/0","port":443}]', doc: "Outside address ranges the backend may call (`cidr`, optional TCP `port`); all else is denied." },
    nodeSelector: { type: "object", default: {}, example: '{"pool":"apps"}', doc: "Node labels every pod requires (object)." },
    tolerations: { type: "array", default: [], example: '[{"key":"dedicated","operator":"Equal","value":"apps","effect":"NoSchedule"}]', doc: "Tolerations of every pod (array of Kubernetes tolerations)." },
    affinity: { type: "object", example: '{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"pool","operator":"In","values":["apps"]}]}]}}}', doc: "Kubernetes affinity of every pod (object)." },
    retainData: { type: "boolean", default: defaultRetainData, safe: "true", example: "false", doc: "Keep the database (namespace, StatefulSet, Secret, volume) when the stack is destroyed." },
    protect: { type: "boolean", default: defaultProtect, example: "true", doc: "Pulumi-protect the namespace and database: destroy refuses until it is set to false. Requires `dataLock`." },
    dataLock: { type: "string", example: "appName=launchpad namespace=launchpad-prod storageClass=default storageSize=20Gi", doc: "The settings the database's identity rests on, as deployed; a change that would replace the database is refused while it differs." },
    allowDataReplacement: { type: "boolean", default: false, safe: "false", example: "true", doc: "Accept a change that replaces the database and its volume (data is lost); lifts `protect` from it for that deploy." },
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** One edit of a stack's config: a key set to a value, or removed. */
export interface ConfigChange {
    /** The key as the stack file writes it: `launchpad:<key>`, or a foreign key as it was given. */
    readonly key: string;
    /** The value as `pulumi config set` takes it; undefined removes the key. */
    readonly value?: string;
    /** Only `pulumi config set --secret` stores it (encrypted); the file must not hold it in plain text. */
    readonly secret?: boolean;
}

/** How to put a problem right: `pulumi config` commands (or words, when no plain edit says it), and the edits they make. */
export interface Fix {
    readonly fix: string;
    readonly changes: readonly ConfigChange[];
}

/** One thing wrong with a stack's config: the key, what it holds, and how to put it right. */
export interface ConfigProblem extends Fix {
    readonly key: string;
    /** The value as the stack holds it; undefined when the key is missing. Secret values are never kept. */
    readonly value?: string;
    readonly message: string;
}

/**
 * Every problem of a stack's config at once. Thrown before any resource exists. A plain Error, so that
 * the commands that validate a stack load no Pulumi SDK; the program (index.ts) hands it to the Pulumi
 * CLI as a RunError, which the CLI prints without a stack trace.
 */
export class ConfigError extends Error {
    // `stackName`, not `stack`: a field named `stack` would hide Error.stack, the trace that
    // LAUNCHPAD_DEBUG=1 prints.
    constructor(readonly stackName: string, readonly problems: readonly ConfigProblem[], stackFileText?: string) {
        super(formatProblems(stackName, problems, stackFileText));
        this.name = "ConfigError";
    }
}

/**
 * The one way every command shows config problems (the program under `pulumi up`, render, diagram,
 * doctor, up and preview): a header, then each problem on its own line with its fix below it: the edit
 * of the stack file (`stackFileText`, for its line numbers), which needs no tool, and then the `pulumi
 * config` commands, which need the stack's state; a secret can only be set by the commands.
 */
export function formatProblems(stack: string, problems: readonly ConfigProblem[], stackFileText?: string): string {
    const count = problems.length === 1 ? "1 config problem" : `${problems.length} config problems`;
    const lines = problems.map((p) => {
        const shown = p.value === undefined ? "" : ` = ${JSON.stringify(p.value)}`;
        const edit = editOf(`Pulumi.${stack}.yaml`, p.changes, stackFileText);
        return `  - ${fullKeyOf(p.key)}${shown}: ${p.message}\n    fix: ${edit === undefined ? p.fix : `${edit}\n      or: ${p.fix}`}`;
    });
    const cli = problems.some((p) => p.fix.includes("pulumi config ")) ? [PULUMI_CONFIG_NOTE] : [];
    return [`stack "${stack}" has ${count}; nothing was created.`, ...lines, ...cli].join("\n");
}

/** Under config problems whose fixes name `pulumi config`: without the stack's backend and passphrase, the CLI would not find the stack. */
export const PULUMI_CONFIG_NOTE =
    "(`pulumi config` works on the stack's state: for launchpad's own, first export PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE as the README's \"Local state and the passphrase\" shows.)";

/** The line (1-based) of the stack file that sets a key, if it does. */
function lineOf(stackFileText: string | undefined, fullKey: string): number | undefined {
    const escaped = fullKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const at = stackFileText?.search(new RegExp(`^[ \\t]*["']?${escaped}["']?[ \\t]*:`, "m")) ?? -1;
    return at < 0 ? undefined : stackFileText!.slice(0, at).split("\n").length;
}

/** A value as the stack file writes it: plain where YAML reads it back as the same text, else quoted. */
function yamlValue(text: string): string {
    const plain = /^[A-Za-z0-9_./+][A-Za-z0-9_./:@%+= -]*$/.test(text) && !/: | $/.test(text);
    return plain || /^[[{]/.test(text) ? text : JSON.stringify(text);
}

/**
 * Changes as an edit of the stack file: `Pulumi.dev.yaml line 7: launchpad:retainData: true`,
 * `Pulumi.prod.yaml: add launchpad:host: app.example.com under config:`, `…: delete line 9`. A key set
 * in place of a removed one (a misspelt key) takes its line. Undefined when a change cannot be written
 * there (a secret, which must be stored encrypted) or there is nothing to edit.
 */
function editOf(file: string, changes: readonly ConfigChange[], stackFileText: string | undefined): string | undefined {
    if (changes.some((c) => c.secret)) return undefined;
    const freed = changes.filter((c) => c.value === undefined).map((c) => lineOf(stackFileText, c.key)).filter((n): n is number => n !== undefined);
    const edits: string[] = [];
    for (const c of changes.filter((c) => c.value !== undefined)) {
        const line = lineOf(stackFileText, c.key) ?? freed.shift();
        const entry = `${c.key}: ${yamlValue(c.value!)}`;
        edits.push(line === undefined ? `add ${entry} under config:` : `line ${line}: ${entry}`);
    }
    edits.push(...freed.map((line) => `delete line ${line}`));
    if (edits.length === 0) return undefined;
    return `${file}${edits[0].startsWith("line ") ? " " : ": "}${edits.join("; ")}`;
}

/** A problem's key as the stack file writes it: `launchpad:<key>`, or a foreign key as it was given. */
function fullKeyOf(key: string): string {
    return key.includes(":") ? key : `${PROJECT}:${key}`;
}

/** Namespaces whose keys something reads besides launchpad: the Pulumi engine and the Kubernetes provider. */
const OTHER_READERS = ["pulumi", "kubernetes"];

/** What the loader needs besides the raw values. */
export interface LoadContext {
    readonly stack: string;
    /** The stack file as written (`Pulumi.<stack>.yaml`): problems are listed in its order. */
    readonly stackFileText?: string;
    /** Whether `launchpad:<key>` was set with --secret. */
    readonly isSecret?: (key: string) => boolean;
    /** Whether a path relative to the project exists; build contexts are checked when given. */
    readonly fileExists?: (path: string) => boolean;
}

/**
 * The stack's settings, validated, with every default filled: what `App` takes, and on kind what `npm run
 * up` builds. The registry password is the plain text: the components that hand it on make it a secret.
 */
export type LaunchpadConfig = AppArgs & { readonly stack: string; readonly registry: RegistryArgs & { readonly password?: string }; readonly kind?: KindSettings };

/**
 * Reads a stack's raw config (`project:key` → string, as Pulumi hands it to the program), fills
 * defaults and validates every key. Throws one ConfigError listing every problem.
 */
export function loadConfig(raw: Readonly<Record<string, string>>, context: LoadContext): LaunchpadConfig {
    const problems: ConfigProblem[] = [];
    const known = Object.keys(CONFIG_KEYS);
    const given = new Map<string, string>();
    for (const [fullKey, value] of Object.entries(raw)) {
        const [namespace, key] = splitKey(fullKey);
        if (namespace === PROJECT && key in CONFIG_KEYS) given.set(key, value);
    }
    const fixes = fixesFor(context.stack, given);
    const { rm, and } = fixes;
    for (const [fullKey, value] of Object.entries(raw)) {
        const [namespace, key] = splitKey(fullKey);
        const shown = context.isSecret?.(fullKey) ? undefined : value;
        if (namespace === PROJECT && !(key in CONFIG_KEYS)) {
            const suggestion = closest(key, known) as ConfigKey | undefined;
            problems.push({
                key,
                value: shown,
                message: suggestion ? `is not a launchpad setting; did you mean "${suggestion}"?` : "is not a launchpad setting",
                ...(suggestion ? and(rm(key), fixes.carry(suggestion, value, shown === undefined)) : rm(key, "(see the README's config table)")),
            });
        } else if (namespace !== PROJECT && !OTHER_READERS.includes(namespace)) {
            problems.push({ key: fullKey, value: shown, ...foreignKeyProblem(namespace, key, value, shown === undefined, fixes) });
        }
    }

    const values = new Map<ConfigKey, unknown>();
    const bad = new Set<ConfigKey>();
    const report = (key: ConfigKey, message: string, fix?: Fix) => {
        const spec: KeySpec = CONFIG_KEYS[key];
        bad.add(key);
        problems.push({ key, value: spec.secret ? undefined : given.get(key), message, ...(fix ?? fixes.propose(key)) });
    };

    // Parse what was given; then defaults, which may depend on platform, appName and the stack.
    for (const [key, text] of given) {
        const parsed = parseValue(CONFIG_KEYS[key as ConfigKey], text);
        if (parsed instanceof ParseError) report(key as ConfigKey, parsed.message);
        else values.set(key as ConfigKey, parsed);
    }
    for (const key of known as ConfigKey[]) {
        if (values.has(key) || bad.has(key)) continue;
        const value = defaultOf(key, context.stack, given);
        if (value !== undefined) values.set(key, value);
    }

    for (const [key, value] of values) {
        const spec: KeySpec = CONFIG_KEYS[key];
        const problem = checkValue(spec, value);
        if (problem) report(key, problem);
    }
    for (const rule of CROSS_RULES) rule({ values, given, context, report, fixes });

    if (problems.length > 0) throw new ConfigError(context.stack, inStackFileOrder(problems, context.stackFileText, Object.keys(raw)), context.stackFileText);
    return build(values, context.stack);
}

/**
 * A key under a namespace nothing reads (`launchpd:backendReplicas`): Pulumi passes it to the program,
 * which would ignore it. Suggests the project's namespace when the prefix is a misspelling of it, and
 * the closest launchpad key when the key itself is misspelt as well.
 */
function foreignKeyProblem(namespace: string, key: string, value: string, secret: boolean, fixes: Fixes): Omit<ConfigProblem, "key" | "value"> {
    const nobody = `is under "${namespace}:", which no program reads`;
    const drop = fixes.rm(`${namespace}:${key}`, "(see the README's config table)");
    if (closest(namespace, [PROJECT]) === undefined) return { message: `${nobody}; launchpad's settings are ${PROJECT}:<key>`, ...drop };
    const meant = (key in CONFIG_KEYS ? key : closest(key, Object.keys(CONFIG_KEYS))) as ConfigKey | undefined;
    if (meant === undefined) return { message: `${nobody}; did you mean "${PROJECT}:"? ("${key}" is not a launchpad setting either)`, ...drop };
    return { message: `${nobody}; did you mean "${PROJECT}:${meant}"?`, ...fixes.and(fixes.rm(`${namespace}:${key}`), fixes.carry(meant, value, secret)) };
}

/**
 * The problems in the order of their keys in the stack file, so they read top to bottom beside it; then
 * those of keys the file does not hold, in the order of the raw config (`rawKeys`), and last those of
 * keys that are missing altogether (a required key), in the order found.
 */
export function inStackFileOrder(problems: readonly ConfigProblem[], stackFileText: string | undefined, rawKeys: readonly string[] = []): ConfigProblem[] {
    const position = (key: string) => {
        const full = fullKeyOf(key);
        const inFile = lineOf(stackFileText, full);
        if (inFile !== undefined) return inFile;
        const inRaw = rawKeys.indexOf(full);
        return inRaw >= 0 ? Number.MAX_SAFE_INTEGER / 2 + inRaw : Infinity;
    };
    return problems.map((p, i) => ({ p, i, at: position(p.key) })).sort((a, b) => a.at - b.at || a.i - b.i).map(({ p }) => p);
}

function splitKey(fullKey: string): [string, string] {
    const colon = fullKey.indexOf(":");
    if (colon < 0) return ["", fullKey];
    const rest = fullKey.slice(colon + 1);
    return [fullKey.slice(0, colon), rest.startsWith("config:") ? rest.slice("config:".length) : rest];
}

class ParseError {
    constructor(readonly message: string) {}
}

function parseValue(spec: KeySpec, text: string): unknown {
    switch (spec.type) {
        case "string":
            return text;
        case "integer":
            return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : new ParseError("must be a whole number");
        case "boolean":
            return text === "true" ? true : text === "false" ? false : new ParseError("must be true or false");
        case "intOrPercent":
            return /^\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim();
        case "object":
        case "array": {
            let parsed: unknown;
            try {
                parsed = JSON.parse(text);
            } catch {
                return new ParseError(`is not ${spec.type === "array" ? "a list" : "an object"}; write it as YAML in the stack file or as JSON`);
            }
            const isArray = Array.isArray(parsed);
            const isObject = typeof parsed === "object" && parsed !== null && !isArray;
            if (spec.type === "array" ? !isArray : !isObject) return new ParseError(`must be ${spec.type === "array" ? "a list" : "an object"}`);
            return parsed;
        }
    }
}

function checkValue(spec: KeySpec, value: unknown): string | undefined {
    if (typeof value === "number") {
        if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}`;
        if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}`;
    }
    if (spec.oneOf && !spec.oneOf.includes(String(value))) return `must be one of ${spec.oneOf.map((v) => `"${v}"`).join(", ")}`;
    if (typeof value === "string" && value.trim() === "") return "is empty";
    return spec.check ? spec.check(value as never) : undefined;
}

type Report = (key: ConfigKey, message: string, fix?: Fix) => void;

/** The default of a key on a stack, given what the stack sets (platform and appName decide some defaults). */
function defaultOf(key: ConfigKey, stack: string, given: ReadonlyMap<string, string>): unknown {
    const valid = (k: "platform" | "appName") => {
        const text = given.get(k);
        return text !== undefined && checkValue(CONFIG_KEYS[k], text) === undefined ? text : String(CONFIG_KEYS[k].default);
    };
    const spec: KeySpec = CONFIG_KEYS[key];
    return typeof spec.default === "function" ? spec.default({ stack, platform: valid("platform"), appName: valid("appName") }) : spec.default;
}

/** The text `pulumi config set` takes for a value (objects and lists as JSON). */
function configText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Whether `text` is a value the key takes, by itself. */
function isValid(key: ConfigKey, text: string): boolean {
    const spec: KeySpec = CONFIG_KEYS[key];
    const parsed = parseValue(spec, text);
    return !(parsed instanceof ParseError) && checkValue(spec, parsed) === undefined;
}

const YES = ["true", "yes", "y", "on", "sure", "ok", "okay", "yep", "enable", "enabled", "1"];
const NO = ["false", "no", "n", "off", "nope", "disable", "disabled", "0"];
const NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
/** Units people write for sizes, as Kubernetes spells them: `GB`, `g` and `gi` mean Gi; `m` of memory is a typo for Mi. */
const BYTE_UNITS: Record<string, string> = { k: "Ki", kb: "Ki", ki: "Ki", m: "Mi", mb: "Mi", mi: "Mi", g: "Gi", gb: "Gi", gi: "Gi", t: "Ti", tb: "Ti", ti: "Ti" };

/** What a wrong value evidently meant, in the key's own terms (`yes please` → true, `20 GB` → 20Gi, `two` → 2), if it can be read. */
function meantValue(key: ConfigKey, written: string): string | undefined {
    const spec: KeySpec = CONFIG_KEYS[key];
    const word = written.trim().toLowerCase().split(/[^a-z0-9]+/).find(Boolean) ?? "";
    if (spec.type === "boolean") return YES.includes(word) ? "true" : NO.includes(word) ? "false" : undefined;
    if (spec.type === "integer" || spec.type === "intOrPercent") {
        if (NUMBERS.includes(word)) return String(NUMBERS.indexOf(word));
        return /^\s*([+-]?\d+)(?:\.0*)?\s*(%?)/.exec(written)?.slice(1).join("");
    }
    const quantity = /^([0-9]+(?:[.,][0-9]+)?)\s*([a-zA-Z]*)$/.exec(written.trim());
    if (!quantity) return undefined;
    const number = quantity[1].replace(",", ".");
    const unit = quantity[2].toLowerCase();
    // Memory and the volume's size count bytes; CPU keeps its own units (m is millicores there).
    if (spec.check === checkMemory || key === "dbStorageSize") return unit in BYTE_UNITS ? `${number}${BYTE_UNITS[unit]}` : undefined;
    if (spec.check === checkQuantity) return `${number}${quantity[2]}`;
    return undefined;
}

/** The value `dataLock` records for a key the database's identity rests on: what is deployed. */
function lockedValue(key: ConfigKey, dataLock: string | undefined): string | undefined {
    const field = Object.keys(dataLockKeys).find((f) => dataLockKeys[f] === key);
    if (field === undefined || dataLock === undefined) return undefined;
    const text = parseDataLock(dataLock)[field];
    return field === "storageClass" && text === "default" ? undefined : text;
}

/** The fixes of one stack's problems: `pulumi config set|rm --stack <stack> …` and the edits they make. */
interface Fixes {
    /** Sets a key to a value (the value as `pulumi config set` takes it). */
    readonly set: (key: string, value: string, secret?: boolean) => Fix;
    /** Removes a key; `note` follows the command. */
    readonly rm: (key: string, note?: string) => Fix;
    /** Both, in order. */
    readonly and: (first: Fix, then: Fix) => Fix;
    /** A fix no plain edit says. */
    readonly words: (text: string) => Fix;
    /**
     * Sets a key to the value a fix should propose when its value is wrong: never one that deletes or
     * replaces data (the key's `safe` value, or what `dataLock` records as deployed), else what the
     * value written evidently meant (`yes please` → true), else the key's default, else its example.
     */
    readonly propose: (key: ConfigKey, written?: string) => Fix;
    /** Sets a key to a value written under a misspelt key: the value itself where the key takes it, else as `propose` would. */
    readonly carry: (key: ConfigKey, value: string, secret: boolean) => Fix;
}

/** Every fix a config problem offers names its stack; `given` is what the stack sets (for `propose`). */
export function fixesFor(stack: string, given: ReadonlyMap<string, string> = new Map()): Fixes {
    const set = (key: string, value: string, secret = false): Fix => ({
        fix: `pulumi config set --stack ${stack} ${secret ? "--secret " : ""}${key} ${value.startsWith("<") ? value : shellWord(value)}`,
        changes: [{ key: fullKeyOf(key), value, ...(secret && { secret }) }],
    });
    const rm = (key: string, note?: string): Fix => ({ fix: `pulumi config rm --stack ${stack} ${key}${note ? ` ${note}` : ""}`, changes: [{ key: fullKeyOf(key) }] });
    const propose = (key: ConfigKey, written = given.get(key)): Fix => {
        const spec: KeySpec = CONFIG_KEYS[key];
        if (spec.safe !== undefined) return set(key, spec.safe);
        const fallback = defaultOf(key, stack, given);
        const candidates = [lockedValue(key, given.get("dataLock")), written === undefined ? undefined : meantValue(key, written), fallback === undefined ? undefined : configText(fallback)];
        const guess = candidates.find((c): c is string => c !== undefined && c !== written && isValid(key, c));
        if (guess !== undefined) return set(key, guess, spec.secret);
        // An optional key whose example is only a placeholder (a pinned image): removing it undoes the mistake.
        if (!spec.secret && fallback === undefined && !isValid(key, spec.example)) return rm(key, `(or set it to ${spec.example})`);
        return set(key, spec.example, spec.secret);
    };
    return {
        set,
        rm,
        and: (first, then) => ({ fix: `${first.fix} && ${then.fix}`, changes: [...first.changes, ...then.changes] }),
        words: (text) => ({ fix: text, changes: [] }),
        propose,
        carry: (key, value, secret) => {
            const spec: KeySpec = CONFIG_KEYS[key];
            if (secret || spec.secret) return set(key, secret ? "<the value>" : value, true);
            return spec.safe === undefined && isValid(key, value) ? set(key, value) : propose(key, value);
        },
    };
}

/** What a rule that involves more than one key reads, and how it reports. */
interface RuleContext {
    readonly values: ReadonlyMap<ConfigKey, unknown>;
    /** What the stack sets, as written. */
    readonly given: ReadonlyMap<string, string>;
    readonly context: LoadContext;
    readonly report: Report;
    readonly fixes: Fixes;
}

/** A rule that involves more than one key, or the world outside the config. */
type CrossRule = (rule: RuleContext) => void;

const WEB_TIERS = ["frontend", "backend"] as const satisfies readonly WebTier[];

function cloudNeedsItsCluster({ values, given, report }: RuleContext): void {
    if (values.get("platform") !== "cloud") return;
    for (const key of ["kubeContext", "registry", "host"] as const) {
        if (!given.has(key)) report(key, "is required when platform is cloud (there is no sensible default for a cloud cluster)");
    }
}

function registryLoginIsWhole({ given, report, fixes: { set } }: RuleContext): void {
    const hasUser = given.has("registryUsername");
    const hasPassword = given.has("registryPassword");
    if (hasUser && !hasPassword) report("registryPassword", "is missing: registryUsername is set, so the registry needs a password or token", set("registryPassword", "<token>", true));
    if (hasPassword && !hasUser) report("registryUsername", "is missing: registryPassword is set but no user to log in as", set("registryUsername", "<user>"));
}

function registryPasswordIsSecret({ given, context, report, fixes: { set, words } }: RuleContext): void {
    if (given.has("registryPassword") && context.isSecret && !context.isSecret(`${PROJECT}:registryPassword`)) {
        report("registryPassword", "is stored in plain text in the stack file", words(`${set("registryPassword", "<token>", true).fix} (this re-stores it encrypted)`));
    }
}

function memoryRequestWithinLimit({ values, report, fixes: { set } }: RuleContext): void {
    for (const prefix of [...WEB_TIERS, "db"] as const) {
        const requestKey = `${prefix}Memory` as const;
        const limitKey = `${prefix}MemoryLimit` as const;
        const request = parseQuantity(String(values.get(requestKey)));
        const limit = parseQuantity(String(values.get(limitKey)));
        if (request !== undefined && limit !== undefined && request > limit) {
            report(limitKey, `is below ${requestKey} (${values.get(requestKey)}); a limit must be at least the request`, set(limitKey, String(values.get(requestKey))));
        }
    }
}

function rolloutCanMove({ values, report, fixes: { propose } }: RuleContext): void {
    const surge = values.get("maxSurge") as number | string | undefined;
    const unavailable = values.get("maxUnavailable") as number | string | undefined;
    if (surge !== undefined && unavailable !== undefined && isZeroIntOrPercent(surge) && isZeroIntOrPercent(unavailable)) {
        report("maxSurge", "and maxUnavailable are both 0, so a rolling update could never replace a pod", propose("maxSurge"));
    }
}

function tiersHaveTheirOwnPaths({ values, report, fixes: { propose } }: RuleContext): void {
    if (values.has("frontendPath") && values.get("frontendPath") === values.get("backendPath")) {
        report("backendPath", `is the same as frontendPath (${values.get("frontendPath")}); each tier needs its own path`, propose("backendPath"));
    }
}

function autoscalerBoundsWork({ values, report, fixes: { set } }: RuleContext): void {
    if (values.get("autoscaling") !== true) return;
    for (const tier of WEB_TIERS) {
        const min = values.get(`${tier}Replicas`) as number | undefined;
        const max = values.get(`${tier}MaxReplicas`) as number | undefined;
        // A count below MIN_REPLICAS is its key's own problem; without a ceiling only the floor can be judged.
        if (min === undefined || min < MIN_REPLICAS) continue;
        const problem = autoscalingBoundsProblem({ minReplicas: min, maxReplicas: max ?? min });
        if (problem === "minReplicas") report(`${tier}Replicas`, "is 0 with autoscaling on; the autoscaler needs at least 1 pod", set(`${tier}Replicas`, "1"));
        else if (problem === "maxReplicas") report(`${tier}MaxReplicas`, `is below ${tier}Replicas (${min}), the autoscaler's minimum`, set(`${tier}MaxReplicas`, String(min)));
    }
}

function egressRulesAreWellFormed({ values, context, report, fixes: { words } }: RuleContext): void {
    const egress = values.get("backendEgress");
    if (Array.isArray(egress)) egress.forEach((rule, i) => {
        const problem = checkEgressRule(rule);
        if (problem) report("backendEgress", `item ${i} ${problem}`, words(`fix item ${i} of ${PROJECT}:backendEgress in Pulumi.${context.stack}.yaml (\`cidr: 203.0.113.0/24\`, an optional \`port\`)`));
    });
}

function nodeSelectorIsLabels({ values, context, report, fixes: { words } }: RuleContext): void {
    const nodeSelector = values.get("nodeSelector");
    if (typeof nodeSelector !== "object" || nodeSelector === null) return;
    for (const [label, value] of Object.entries(nodeSelector)) {
        const problem = checkLabelKey(label) ?? (typeof value === "string" ? checkLabelValue(value) : "must map to a string");
        if (problem) report("nodeSelector", `entry "${label}" ${problem}`, words(`fix the entry "${label}" of ${PROJECT}:nodeSelector in Pulumi.${context.stack}.yaml (see the README's scheduling example)`));
    }
}

function tolerationsAreWellFormed({ values, context, report, fixes: { words } }: RuleContext): void {
    const tolerations = values.get("tolerations");
    if (Array.isArray(tolerations)) tolerations.forEach((t, i) => {
        const problem = checkToleration(t);
        if (problem) report("tolerations", `item ${i} ${problem}`, words(`fix item ${i} of ${PROJECT}:tolerations in Pulumi.${context.stack}.yaml (see the README's scheduling example)`));
    });
}

function affinityHasKnownKinds({ values, report }: RuleContext): void {
    const affinity = values.get("affinity");
    if (typeof affinity !== "object" || affinity === null) return;
    const unknown = Object.keys(affinity).filter((k) => !["nodeAffinity", "podAffinity", "podAntiAffinity"].includes(k));
    if (unknown.length > 0) report("affinity", `has unknown field(s) ${unknown.join(", ")}; only nodeAffinity, podAffinity and podAntiAffinity exist`);
}

/** A tier's pinned image comes from the stack's registry: the cluster pulls with that registry's login, and only from there. */
function pinnedImagesInStackRegistry({ values, report, fixes: { rm, words } }: RuleContext): void {
    const registry = values.get("registry");
    if (typeof registry !== "string") return;
    for (const tier of WEB_TIERS) {
        const key = `${tier}Image` as const;
        const image = values.get(key);
        if (typeof image !== "string" || checkPinnedImage(image) !== undefined) continue;
        if (!image.startsWith(`${registry.replace(/\/+$/, "")}/`)) {
            report(key, `is not in the stack's registry ${registry}, the one the cluster pulls from with the stack's login`, words(`copy the image into ${registry} and pin that digest, or ${rm(key, `to build the ${tier} from source`).fix}`));
        }
    }
}

function buildContextsExist({ values, context, report, fixes: { propose } }: RuleContext): void {
    if (!context.fileExists) return;
    for (const tier of WEB_TIERS) {
        // A pinned image is not built: its build context may be anywhere, or nowhere.
        if (values.has(`${tier}Image`)) continue;
        const buildContext = String(values.get(`${tier}Context`));
        const dockerfile = `${buildContext}/${String(values.get(`${tier}Dockerfile`))}`;
        if (!context.fileExists(buildContext)) report(`${tier}Context`, `does not exist (relative to the project folder)`, propose(`${tier}Context`));
        else if (!context.fileExists(dockerfile)) report(`${tier}Dockerfile`, `was not found at ${dockerfile}`, propose(`${tier}Dockerfile`));
    }
}

/** The keys only the kind platform reads: `npm run up` builds that platform, never a cloud cluster's. */
const KIND_ONLY_KEYS = ["kindNodeImage", "registryImage", "ingressController", "ingressManifest"] as const satisfies readonly ConfigKey[];

function kindKeysOnlyOnKind({ values, given, report, fixes: { rm } }: RuleContext): void {
    if (values.get("platform") !== "cloud") return;
    for (const key of KIND_ONLY_KEYS) {
        if (given.has(key)) report(key, "is only read when platform is kind (npm run up builds the kind cluster, its registry and ingress controller); a cloud cluster brings its own", rm(key));
    }
}

/** A manifest given is one that is installed, and a path names a file of the project. */
function ingressManifestIsThere({ values, given, context, report, fixes: { rm, set, words } }: RuleContext): void {
    const manifest = given.get("ingressManifest");
    if (values.get("platform") !== "kind" || manifest === undefined || checkManifestSource(manifest) !== undefined) return;
    if (values.get("ingressController") === "none") {
        report("ingressManifest", "is set, but ingressController is none, so nothing installs it", words(`${rm("ingressManifest").fix}, or ${set("ingressController", "manifest").fix} to install it`));
    } else if (!isManifestUrl(manifest) && context.fileExists && !context.fileExists(manifest)) {
        report("ingressManifest", "was not found (a path is relative to the project folder)", words(`put the manifest there or correct the path; or ${rm("ingressManifest", "to install the pinned ingress-nginx from the internet").fix}`));
    }
}

/** The pinned ingress-nginx provides one IngressClass, in one namespace: the app's Ingress and NetworkPolicies must name those. */
function pinnedIngressNginxFits({ values, given, report, fixes: { set, words } }: RuleContext): void {
    if (values.get("platform") !== "kind" || values.get("ingressController") !== "manifest" || values.get("ingressManifest") !== ingressNginxManifestUrl()) return;
    const putBack = (key: ConfigKey, value: string): Fix => {
        const fix = set(key, value);
        return { ...words(`${fix.fix}; or ${set("ingressController", "none").fix} to bring the controller that provides it`), changes: fix.changes };
    };
    if (given.has("ingressClass") && values.get("ingressClass") !== INGRESS_NGINX.ingressClass) {
        report("ingressClass", `is not ${INGRESS_NGINX.ingressClass}, the only IngressClass of the ingress-nginx that up installs on kind, so no controller would serve the app's Ingress`, putBack("ingressClass", INGRESS_NGINX.ingressClass));
    }
    if (given.has("ingressNamespace") && values.get("ingressNamespace") !== INGRESS_NGINX.namespace) {
        report("ingressNamespace", `is not ${INGRESS_NGINX.namespace}, where the ingress-nginx that up installs on kind runs, so the app's NetworkPolicies would turn it away`, putBack("ingressNamespace", INGRESS_NGINX.namespace));
    }
}

/** The rules that involve more than one key, or the world outside the config, in the order their problems are found. */
const CROSS_RULES: readonly CrossRule[] = [
    cloudNeedsItsCluster,
    registryLoginIsWhole,
    registryPasswordIsSecret,
    memoryRequestWithinLimit,
    rolloutCanMove,
    tiersHaveTheirOwnPaths,
    autoscalerBoundsWork,
    dataLockHolds,
    egressRulesAreWellFormed,
    nodeSelectorIsLabels,
    tolerationsAreWellFormed,
    affinityHasKnownKinds,
    pinnedImagesInStackRegistry,
    buildContextsExist,
    kindKeysOnlyOnKind,
    ingressManifestIsThere,
    pinnedIngressNginxFits,
];

/** The settings that, when changed, make Kubernetes replace the database's StatefulSet and volume. */
export function dataLockOf(values: { appName: string; namespace: string; storageClass?: string; storageSize: string }): string {
    return `appName=${values.appName} namespace=${values.namespace} storageClass=${values.storageClass ?? "default"} storageSize=${values.storageSize}`;
}

/**
 * The dataLock a stack's config stands for, from its keys as a stack file or Pulumi's update history
 * holds them (`launchpad:<key>` → text), each key it leaves unset at its default for the stack.
 */
export function dataLockOfConfig(stack: string, raw: Readonly<Record<string, string>>): string {
    const given = new Map(Object.entries(raw).filter(([k]) => k.startsWith(`${PROJECT}:`)).map(([k, v]) => [k.slice(PROJECT.length + 1), v]));
    const value = (key: ConfigKey) => given.get(key) ?? (defaultOf(key, stack, given) as string | undefined);
    return dataLockOf({ appName: String(value("appName")), namespace: String(value("namespace")), storageClass: value("dbStorageClass"), storageSize: String(value("dbStorageSize")) });
}

const dataLockKeys: Record<string, string> = { appName: "appName", namespace: "namespace", storageClass: "dbStorageClass", storageSize: "dbStorageSize" };

/** The settings the database's identity rests on are those the stack's dataLock records, unless a replacement is accepted. */
function dataLockHolds({ values, report, fixes: { set, rm, and, words } }: RuleContext): void {
    const current = dataLockOf({
        appName: String(values.get("appName")),
        namespace: String(values.get("namespace")),
        storageClass: values.get("dbStorageClass") as string | undefined,
        storageSize: String(values.get("dbStorageSize")),
    });
    const lock = values.get("dataLock") as string | undefined;
    if (lock === undefined) {
        if (values.get("protect") === true) report("dataLock", "is required when protect is true: it records what the protected database's identity rests on", set("dataLock", current));
        return;
    }
    const locked = parseDataLock(lock);
    if (Object.keys(locked).sort().join() !== Object.keys(dataLockKeys).sort().join()) {
        report("dataLock", `is not what launchpad writes there (${Object.keys(dataLockKeys).map((k) => `${k}=…`).join(" ")})`, set("dataLock", current));
        return;
    }
    if (lock === current || values.get("allowDataReplacement") === true) return;
    const now = parseDataLock(current);
    const differing = Object.keys(now).filter((k) => locked[k] !== now[k]);
    const changes = differing.map((k) => `${dataLockKeys[k]} ${locked[k] ?? "(unset)"} → ${now[k]}`);
    // Back to what is deployed; a storage class the lock calls "default" was unset.
    const back = differing.map((k) => (locked[k] === undefined || (k === "storageClass" && locked[k] === "default") ? rm(dataLockKeys[k]) : set(dataLockKeys[k], locked[k])));
    const putBack = back.reduce((all, fix) => and(all, fix));
    const onPurpose = `${set("allowDataReplacement", "true").fix} for this deploy, then ${set("dataLock", current).fix} and ${rm("allowDataReplacement").fix}`;
    report(
        "dataLock",
        `differs from the config (${changes.join(", ")}): that change makes Kubernetes replace the database and its volume, and the data would be lost`,
        { ...words(`put the old value back: ${putBack.fix}; or, to replace the database on purpose, ${onPurpose}`), changes: putBack.changes },
    );
}

/** A dataLock's settings: `appName=a namespace=b …` → { appName: "a", namespace: "b", … }. */
function parseDataLock(text: string): Record<string, string> {
    return Object.fromEntries(text.split(/\s+/).filter(Boolean).map((pair) => pair.split("=", 2) as [string, string]));
}

function checkEgressRule(value: unknown): string | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not an object with cidr and port";
    const rule = value as Record<string, unknown>;
    const unknown = Object.keys(rule).filter((k) => k !== "cidr" && k !== "port");
    if (unknown.length > 0) return `has unknown field(s) ${unknown.join(", ")}`;
    if (typeof rule.cidr !== "string" || checkCidr(rule.cidr)) return `has cidr ${JSON.stringify(rule.cidr)}; ${typeof rule.cidr === "string" ? checkCidr(rule.cidr) : "give a CIDR such as 203.0.113.0/24"}`;
    if (rule.port !== undefined && !(typeof rule.port === "number" && isTcpPort(rule.port))) return `has port ${JSON.stringify(rule.port)}; use 1-65535`;
    return undefined;
}

function checkToleration(value: unknown): string | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not an object";
    const t = value as Record<string, unknown>;
    const unknown = Object.keys(t).filter((k) => !["key", "operator", "value", "effect", "tolerationSeconds"].includes(k));
    if (unknown.length > 0) return `has unknown field(s) ${unknown.join(", ")}`;
    const operator = t.operator ?? "Equal";
    if (operator !== "Equal" && operator !== "Exists") return `has operator "${String(operator)}"; use Equal or Exists`;
    if (t.effect !== undefined && !["", "NoSchedule", "PreferNoSchedule", "NoExecute"].includes(String(t.effect))) {
        return `has effect "${String(t.effect)}"; use NoSchedule, PreferNoSchedule or NoExecute`;
    }
    if (operator === "Exists" && t.value !== undefined && t.value !== "") return "has a value with operator Exists; drop the value or use Equal";
    if ((t.key === undefined || t.key === "") && operator !== "Exists") return "has no key; an empty key needs operator Exists";
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") return "has tolerationSeconds, which only applies to effect NoExecute";
    return undefined;
}

/**
 * The args a field table describes (TIER_FIELDS, DATABASE_FIELDS), from the keys `<prefix><suffix>`:
 * each value at its row's dotted path, in the table's order.
 */
function fieldsOf<T>(table: Readonly<Record<string, { readonly suffix: string }>>, prefix: string, values: ReadonlyMap<ConfigKey, unknown>): T {
    const args: Record<string, unknown> = {};
    for (const [path, { suffix }] of Object.entries(table)) {
        const names = path.split(".");
        const leaf = names.pop()!;
        const parent = names.reduce((node, name) => (node[name] ??= {}) as Record<string, unknown>, args);
        parent[leaf] = values.get(`${prefix}${suffix}` as ConfigKey);
    }
    return args as T;
}

function kindSettingsOf(values: ReadonlyMap<ConfigKey, unknown>): KindSettings {
    const get = <T>(key: ConfigKey) => values.get(key) as T;
    return {
        nodeImage: get<string | undefined>("kindNodeImage"),
        registryImage: get<string>("registryImage"),
        ingress: get<string>("ingressController") === "none" ? { controller: "none" } : { controller: "manifest", manifest: get<string>("ingressManifest") },
        ingressClass: get<string>("ingressClass"),
        ingressNamespace: get<string>("ingressNamespace"),
    };
}

function build(values: Map<ConfigKey, unknown>, stack: string): LaunchpadConfig {
    const get = <T>(key: ConfigKey) => values.get(key) as T;
    const tlsIssuer = get<string | undefined>("tlsIssuer");
    const tlsSecretName = get<string | undefined>("tlsSecretName") ?? (tlsIssuer ? `${get<string>("appName")}-tls` : undefined);
    return {
        stack,
        platform: get<"kind" | "cloud">("platform"),
        cluster: { context: get<string>("kubeContext"), kubeconfig: get<string | undefined>("kubeconfig") },
        appName: get<string>("appName"),
        namespace: get<string>("namespace"),
        registry: {
            server: get<string>("registry"),
            username: get<string | undefined>("registryUsername"),
            password: get<string | undefined>("registryPassword"),
        },
        imagePlatform: get<string>("imagePlatform"),
        imageBuildNetwork: get<string | undefined>("imageBuildNetwork"),
        ingress: {
            host: get<string>("host"),
            className: get<string>("ingressClass"),
            frontendPath: get<string>("frontendPath"),
            backendPath: get<string>("backendPath"),
            tls: tlsSecretName ? { secretName: tlsSecretName, issuer: tlsIssuer } : undefined,
        },
        frontend: fieldsOf<TierArgs>(TIER_FIELDS, "frontend", values),
        backend: fieldsOf<TierArgs>(TIER_FIELDS, "backend", values),
        autoscaling: get<boolean>("autoscaling") ? { cpuTargetPercent: get<number>("cpuTargetPercent") } : undefined,
        network: { ingressNamespace: get<string>("ingressNamespace"), backendEgress: get<EgressRule[]>("backendEgress") },
        database: fieldsOf<DatabaseTierArgs>(DATABASE_FIELDS, "db", values),
        rollout: {
            timeoutSeconds: get<number>("rolloutTimeoutSeconds"),
            maxSurge: get<number | string>("maxSurge"),
            maxUnavailable: get<number | string>("maxUnavailable"),
        },
        scheduling: {
            nodeSelector: get<Record<string, string>>("nodeSelector"),
            tolerations: get<Toleration[]>("tolerations"),
            affinity: get<Affinity | undefined>("affinity"),
        },
        retainData: get<boolean>("retainData"),
        // A replacement the user accepted must not be blocked by protect.
        protect: get<boolean>("protect") && !get<boolean>("allowDataReplacement"),
        kind: get<string>("platform") === "kind" ? kindSettingsOf(values) : undefined,
    };
}
