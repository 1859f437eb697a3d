import * as pulumi from "@pulumi/pulumi";
import type { AppArgs } from "./app";
import type { EgressRule } from "./networkPolicies";
import type { Toleration, Affinity } from "./pod";
import {
    checkCidr, checkDns1035Label, checkDns1123Label, checkDns1123Subdomain, checkDockerNetwork, checkHost, checkImageReference, checkIntOrPercent,
    checkLabelKey, checkLabelValue, checkMemory, checkPath, checkPlatform, checkPostgresIdentifier, checkQuantity,
    checkRegistry, closest, isZeroIntOrPercent,
} from "./validate";
import { parseQuantity } from "../policy/quantity";

/** The Pulumi project name: every config key lives under `launchpad:`. */
export const PROJECT = "launchpad";

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
    /** A value to show in a fix (`pulumi config set <key> <example>`). */
    readonly example: string;
    readonly default?: unknown | ((context: DefaultContext) => unknown);
    /** How the docs show a default that depends on the stack or platform (a function above). */
    readonly defaultDoc?: string;
    /** Set with `pulumi config set --secret`; its value is never printed. */
    readonly secret?: boolean;
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
const TIER_SUFFIXES = ["Replicas", "MaxReplicas", "Port", "Cpu", "Memory", "MemoryLimit", "LivenessPath", "ReadinessPath", "Context", "Dockerfile"] as const;
function tierKeys<T extends "frontend" | "backend">(tier: T, d: { port: number; cpu: string; memory: string; limit: string; live: string; ready: string }) {
    const specs = {
        Replicas: { type: "integer", min: 0, max: 100, default: 1, example: "2", doc: `Pods of the ${tier} (0 stops it); with autoscaling, the fewest.` },
        MaxReplicas: { type: "integer", min: 1, max: 100, default: 5, example: "5", doc: `Most pods of the ${tier} the autoscaler may run.` },
        Port: { type: "integer", min: 1, max: 65535, default: d.port, example: String(d.port), doc: `Port the ${tier} container listens on.` },
        Cpu: { type: "string", check: checkQuantity, default: d.cpu, example: d.cpu, doc: `CPU request of each ${tier} pod.` },
        Memory: { type: "string", check: checkMemory, default: d.memory, example: d.memory, doc: `Memory request of each ${tier} pod.` },
        MemoryLimit: { type: "string", check: checkMemory, default: d.limit, example: d.limit, doc: `Memory limit of each ${tier} pod (the pod is restarted above it).` },
        LivenessPath: { type: "string", check: checkPath, default: d.live, example: d.live, doc: `HTTP path of the ${tier}'s liveness probe.` },
        ReadinessPath: { type: "string", check: checkPath, default: d.ready, example: d.ready, doc: `HTTP path of the ${tier}'s readiness probe.` },
        Context: { type: "string", default: `apps/${tier}`, example: `apps/${tier}`, doc: `Docker build context of the ${tier}, relative to the project.` },
        Dockerfile: { type: "string", default: "Dockerfile", example: "Dockerfile", doc: `Dockerfile of the ${tier}, relative to its context.` },
    } satisfies Record<(typeof TIER_SUFFIXES)[number], KeySpec>;
    // Each key keeps its spec's own type, so `CONFIG_KEYS.frontendCpu.default` is a string.
    return Object.fromEntries(TIER_SUFFIXES.map((suffix) => [`${tier}${suffix}`, specs[suffix]])) as { [S in keyof typeof specs as `${T}${S}`]: (typeof specs)[S] };
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
    imagePlatform: { type: "string", check: checkPlatform, default: "linux/amd64", example: "linux/arm64", doc: "Platform the images are built for." },
    imageBuildNetwork: { type: "string", check: checkDockerNetwork, example: "host", doc: "Network of the image builds' RUN steps (`docker build --network`): `host` uses the machine's own, e.g. behind a proxy; Docker's default when unset." },
    host: { type: "string", check: checkHost, ...onKind("launchpad.localhost", "required"), example: "app.example.com", doc: "Host name the Ingress answers (required on cloud)." },
    ingressClass: { type: "string", check: checkDns1123Subdomain, default: "nginx", example: "nginx", doc: "IngressClass of the cluster's ingress controller." },
    tlsSecretName: { type: "string", check: checkDns1123Subdomain, example: "app-tls", doc: "Secret holding the TLS certificate (default `<appName>-tls` when `tlsIssuer` is set)." },
    tlsIssuer: { type: "string", check: checkDns1123Subdomain, example: "letsencrypt", doc: "cert-manager ClusterIssuer that issues the certificate; turns TLS on." },
    frontendPath: { type: "string", check: checkPath, default: "/", example: "/", doc: "URL path routed to the frontend." },
    backendPath: { type: "string", check: checkPath, default: "/api", example: "/api", doc: "URL path routed to the backend." },
    ...tierKeys("frontend", { port: 8080, cpu: "50m", memory: "64Mi", limit: "128Mi", live: "/healthz", ready: "/" }),
    ...tierKeys("backend", { port: 3000, cpu: "100m", memory: "128Mi", limit: "256Mi", live: "/healthz", ready: "/readyz" }),
    dbImage: { type: "string", check: checkImageReference, default: "postgres:17", example: "postgres:17", doc: "Upstream PostgreSQL image, mirrored into `registry`." },
    dbName: { type: "string", check: checkPostgresIdentifier, default: "app", example: "app", doc: "Name of the database." },
    dbUser: { type: "string", check: checkPostgresIdentifier, default: "app", example: "app", doc: "Database user the backend connects as." },
    dbUid: { type: "integer", min: 1, max: 2147483647, default: 999, example: "999", doc: "Non-root uid/gid/fsGroup of PostgreSQL (999 in `postgres:*` Debian images, 70 in `-alpine`)." },
    dbStorageSize: { type: "string", check: checkQuantity, default: "1Gi", example: "10Gi", doc: "Size of the database volume." },
    dbStorageClass: { type: "string", check: checkDns1123Subdomain, ...onKind("standard", "cluster default"), example: "gp3", doc: "StorageClass of the database volume (cloud default: the cluster's default class)." },
    dbCpu: { type: "string", check: checkQuantity, default: "100m", example: "250m", doc: "CPU request of the database pod." },
    dbMemory: { type: "string", check: checkMemory, default: "256Mi", example: "512Mi", doc: "Memory request of the database pod." },
    dbMemoryLimit: { type: "string", check: checkMemory, default: "512Mi", example: "1Gi", doc: "Memory limit of the database pod." },
    rolloutTimeoutSeconds: { type: "integer", min: 60, max: 3600, default: 300, example: "300", doc: "How long `pulumi up` waits for a rollout before failing with its cause." },
    maxSurge: { type: "intOrPercent", check: checkIntOrPercent, default: 1, example: "1", doc: "Extra pods a rolling update may start (number or percent)." },
    maxUnavailable: { type: "intOrPercent", check: checkIntOrPercent, default: 0, example: "0", doc: "Pods a rolling update may take down (0: zero-downtime)." },
    autoscaling: { type: "boolean", default: false, example: "true", doc: "Scale frontend and backend on CPU between `<tier>Replicas` and `<tier>MaxReplicas`." },
    cpuTargetPercent: { type: "integer", min: 10, max: 100, default: 70, example: "70", doc: "Average CPU use (percent of the request) the autoscaler aims for." },
    ingressNamespace: { type: "string", check: checkDns1123Label, default: "ingress-nginx", example: "ingress-nginx", doc: "Namespace of the ingress controller: the only source allowed to reach the web tiers." },
    backendEgress: { type: "array", default: [], example: `'[{"cidr":"0.0.0.0/0","port":443}]'`, doc: "Outside address ranges the backend may call (`cidr`, optional TCP `port`); all else is denied." },
    nodeSelector: { type: "object", default: {}, example: `'{"pool":"apps"}'`, doc: "Node labels every pod requires (object)." },
    tolerations: { type: "array", default: [], example: `'[{"key":"dedicated","operator":"Equal","value":"apps","effect":"NoSchedule"}]'`, doc: "Tolerations of every pod (array of Kubernetes tolerations)." },
    affinity: { type: "object", example: `'{"nodeAffinity":{…}}'`, doc: "Kubernetes affinity of every pod (object)." },
    retainData: { type: "boolean", default: true, example: "false", doc: "Keep the database (namespace, StatefulSet, Secret, volume) when the stack is destroyed." },
    protect: { type: "boolean", default: false, example: "true", doc: "Pulumi-protect the namespace and database: destroy refuses until it is set to false. Requires `dataLock`." },
    dataLock: { type: "string", example: `"appName=launchpad namespace=launchpad-prod storageClass=default storageSize=20Gi"`, doc: "The settings the database's identity rests on, as deployed; a change that would replace the database is refused while it differs." },
    allowDataReplacement: { type: "boolean", default: false, example: "true", doc: "Accept a change that replaces the database and its volume (data is lost); lifts `protect` from it for that deploy." },
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** One thing wrong with a stack's config: the key, what it holds, and how to put it right. */
export interface ConfigProblem {
    readonly key: string;
    /** The value as the stack holds it; undefined when the key is missing. Secret values are never kept. */
    readonly value?: string;
    readonly message: string;
    readonly fix: string;
}

/** Every problem of a stack's config at once. Thrown before any resource exists. */
export class ConfigError extends pulumi.RunError {
    // `stackName`, not `stack`: a field named `stack` would hide Error.stack, the trace that
    // LAUNCHPAD_DEBUG=1 prints.
    constructor(readonly stackName: string, readonly problems: readonly ConfigProblem[]) {
        super(formatProblems(stackName, problems));
        this.name = "ConfigError";
    }
}

/**
 * The one way every command shows config problems (the program under `pulumi up`, render, diagram,
 * doctor, up and preview): a header, then each problem on its own line with its fix below it.
 */
export function formatProblems(stack: string, problems: readonly ConfigProblem[]): string {
    const count = problems.length === 1 ? "1 config problem" : `${problems.length} config problems`;
    const lines = problems.map((p) => {
        const shown = p.value === undefined ? "" : ` = ${JSON.stringify(p.value)}`;
        return `  - ${fullKeyOf(p.key)}${shown}: ${p.message}\n    fix: ${p.fix}`;
    });
    return `stack "${stack}" has ${count}; nothing was created.\n${lines.join("\n")}`;
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

/** The stack's settings, validated, with every default filled: exactly what `App` takes. */
export type LaunchpadConfig = AppArgs & { readonly stack: string };

/**
 * Reads a stack's raw config (`project:key` → string, as Pulumi hands it to the program), fills
 * defaults and validates every key. Throws one ConfigError listing every problem.
 */
export function loadConfig(raw: Readonly<Record<string, string>>, context: LoadContext): LaunchpadConfig {
    const problems: ConfigProblem[] = [];
    const known = Object.keys(CONFIG_KEYS);
    const given = new Map<string, string>();
    const { set, rm } = fixesFor(context.stack);
    for (const [fullKey, value] of Object.entries(raw)) {
        const [namespace, key] = splitKey(fullKey);
        const shown = context.isSecret?.(fullKey) ? undefined : value;
        if (namespace === PROJECT && !(key in CONFIG_KEYS)) {
            const suggestion = closest(key, known);
            problems.push({
                key,
                value: shown,
                message: suggestion ? `is not a launchpad setting; did you mean "${suggestion}"?` : "is not a launchpad setting",
                fix: suggestion ? `${rm(key)} && ${set(settingOf(suggestion, value, shown === undefined))}` : `${rm(key)} (see the README's config table)`,
            });
        } else if (namespace !== PROJECT && !OTHER_READERS.includes(namespace)) {
            problems.push({ key: fullKey, value: shown, ...foreignKeyProblem(namespace, key, value, shown === undefined, context.stack) });
        } else if (namespace === PROJECT) {
            given.set(key, value);
        }
    }

    const values = new Map<ConfigKey, unknown>();
    const bad = new Set<ConfigKey>();
    const report = (key: ConfigKey, message: string, fix?: string) => {
        const spec: KeySpec = CONFIG_KEYS[key];
        bad.add(key);
        problems.push({
            key,
            value: spec.secret ? undefined : given.get(key),
            message,
            fix: fix ?? set(`${spec.secret ? "--secret " : ""}${key} ${spec.example}`),
        });
    };

    // Parse what was given; then defaults, which may depend on platform, appName and the stack.
    for (const [key, text] of given) {
        const parsed = parseValue(CONFIG_KEYS[key as ConfigKey], text);
        if (parsed instanceof ParseError) report(key as ConfigKey, parsed.message);
        else values.set(key as ConfigKey, parsed);
    }
    const defaults: DefaultContext = {
        stack: context.stack,
        platform: String(values.get("platform") ?? CONFIG_KEYS.platform.default),
        appName: String(values.get("appName") ?? CONFIG_KEYS.appName.default),
    };
    for (const key of known as ConfigKey[]) {
        if (values.has(key) || bad.has(key)) continue;
        const spec: KeySpec = CONFIG_KEYS[key];
        const value = typeof spec.default === "function" ? spec.default(defaults) : spec.default;
        if (value !== undefined) values.set(key, value);
    }

    for (const [key, value] of values) {
        const spec: KeySpec = CONFIG_KEYS[key];
        const problem = checkValue(spec, value);
        if (problem) report(key, problem);
    }
    crossChecks(values, given, context, report);

    if (problems.length > 0) throw new ConfigError(context.stack, inStackFileOrder(problems, context.stackFileText, Object.keys(raw)));
    return build(values, context.stack);
}

/**
 * A key under a namespace nothing reads (`launchpd:backendReplicas`): Pulumi passes it to the program,
 * which would ignore it. Suggests the project's namespace when the prefix is a misspelling of it, and
 * the closest launchpad key when the key itself is misspelt as well.
 */
function foreignKeyProblem(namespace: string, key: string, value: string, secret: boolean, stack: string): Omit<ConfigProblem, "key" | "value"> {
    const { set, rm } = fixesFor(stack);
    const nobody = `is under "${namespace}:", which no program reads`;
    const drop = `${rm(`${namespace}:${key}`)} (see the README's config table)`;
    if (closest(namespace, [PROJECT]) === undefined) return { message: `${nobody}; launchpad's settings are ${PROJECT}:<key>`, fix: drop };
    const meant = key in CONFIG_KEYS ? key : closest(key, Object.keys(CONFIG_KEYS));
    if (meant === undefined) return { message: `${nobody}; did you mean "${PROJECT}:"? ("${key}" is not a launchpad setting either)`, fix: drop };
    return { message: `${nobody}; did you mean "${PROJECT}:${meant}"?`, fix: `${rm(`${namespace}:${key}`)} && ${set(settingOf(meant, value, secret))}` };
}

/** What a fix sets a value under its right key with: the value itself, unless it is a secret (then `--secret` and a placeholder). */
function settingOf(key: string, value: string, secret: boolean): string {
    const secretKey = secret || (CONFIG_KEYS as Record<string, KeySpec>)[key]?.secret === true;
    return secretKey ? `--secret ${key} ${secret ? "<the value>" : JSON.stringify(value)}` : `${key} ${JSON.stringify(value)}`;
}

/**
 * The problems in the order of their keys in the stack file, so they read top to bottom beside it; then
 * those of keys the file does not hold, in the order of the raw config (`rawKeys`), and last those of
 * keys that are missing altogether (a required key), in the order found.
 */
export function inStackFileOrder(problems: readonly ConfigProblem[], stackFileText: string | undefined, rawKeys: readonly string[] = []): ConfigProblem[] {
    const position = (key: string) => {
        const full = fullKeyOf(key);
        const escaped = full.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        const inFile = stackFileText?.search(new RegExp(`^[ \\t]*["']?${escaped}["']?[ \\t]*:`, "m")) ?? -1;
        if (inFile >= 0) return inFile;
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

type Report = (key: ConfigKey, message: string, fix?: string) => void;

/** The fixes of one stack's problems. */
interface Fixes {
    readonly set: (rest: string) => string;
    readonly rm: (key: string) => string;
}

/** `pulumi config set|rm --stack <stack> …`: every fix a config problem offers names its stack. */
export function fixesFor(stack: string): Fixes {
    return { set: (rest) => `pulumi config set --stack ${stack} ${rest}`, rm: (key) => `pulumi config rm --stack ${stack} ${key}` };
}

/** Rules that involve more than one key, or the world outside the config. */
function crossChecks(values: Map<ConfigKey, unknown>, given: Map<string, string>, context: LoadContext, report: Report): void {
    const { set } = fixesFor(context.stack);
    const platform = values.get("platform");
    if (platform === "cloud") {
        for (const key of ["kubeContext", "registry", "host"] as const) {
            if (!given.has(key)) report(key, "is required when platform is cloud (there is no sensible default for a cloud cluster)");
        }
    }
    const hasUser = given.has("registryUsername");
    const hasPassword = given.has("registryPassword");
    if (hasUser && !hasPassword) report("registryPassword", "is missing: registryUsername is set, so the registry needs a password or token", set("--secret registryPassword <token>"));
    if (hasPassword && !hasUser) report("registryUsername", "is missing: registryPassword is set but no user to log in as", set("registryUsername <user>"));
    if (hasPassword && context.isSecret && !context.isSecret(`${PROJECT}:registryPassword`)) {
        report("registryPassword", "is stored in plain text in the stack file", set("--secret registryPassword <token> (this re-stores it encrypted)"));
    }

    for (const prefix of ["frontend", "backend", "db"] as const) {
        const requestKey = `${prefix}Memory` as ConfigKey;
        const limitKey = `${prefix}MemoryLimit` as ConfigKey;
        const request = parseQuantity(String(values.get(requestKey)));
        const limit = parseQuantity(String(values.get(limitKey)));
        if (request !== undefined && limit !== undefined && request > limit) {
            report(limitKey, `is below ${requestKey} (${values.get(requestKey)}); a limit must be at least the request`, set(`${limitKey} ${values.get(requestKey)}`));
        }
    }

    const surge = values.get("maxSurge") as number | string | undefined;
    const unavailable = values.get("maxUnavailable") as number | string | undefined;
    if (surge !== undefined && unavailable !== undefined && isZeroIntOrPercent(surge) && isZeroIntOrPercent(unavailable)) {
        report("maxSurge", "and maxUnavailable are both 0, so a rolling update could never replace a pod", set("maxSurge 1"));
    }
    if (values.has("frontendPath") && values.get("frontendPath") === values.get("backendPath")) {
        report("backendPath", `is the same as frontendPath (${values.get("frontendPath")}); each tier needs its own path`, set("backendPath /api"));
    }

    if (values.get("autoscaling") === true) {
        for (const tier of ["frontend", "backend"] as const) {
            const min = values.get(`${tier}Replicas`) as number | undefined;
            const max = values.get(`${tier}MaxReplicas`) as number | undefined;
            if (min === 0) report(`${tier}Replicas`, "is 0 with autoscaling on; the autoscaler needs at least 1 pod", set(`${tier}Replicas 2`));
            else if (min !== undefined && max !== undefined && min > max) {
                report(`${tier}MaxReplicas`, `is below ${tier}Replicas (${min}), the autoscaler's minimum`, set(`${tier}MaxReplicas ${min}`));
            }
        }
    }
    checkDataLock(values, report, fixesFor(context.stack));

    const egress = values.get("backendEgress");
    if (Array.isArray(egress)) egress.forEach((rule, i) => {
        const problem = checkEgressRule(rule);
        if (problem) report("backendEgress", `item ${i} ${problem}`, set(`--path 'backendEgress[${i}].cidr' 203.0.113.0/24`));
    });

    const nodeSelector = values.get("nodeSelector");
    if (typeof nodeSelector === "object" && nodeSelector !== null) {
        for (const [label, value] of Object.entries(nodeSelector)) {
            const problem = checkLabelKey(label) ?? (typeof value === "string" ? checkLabelValue(value) : "must map to a string");
            if (problem) report("nodeSelector", `entry "${label}" ${problem}`, set(`--path 'nodeSelector.pool' apps`));
        }
    }
    const tolerations = values.get("tolerations");
    if (Array.isArray(tolerations)) tolerations.forEach((t, i) => {
        const problem = checkToleration(t);
        if (problem) report("tolerations", `item ${i} ${problem}`, `fix item ${i} of tolerations in Pulumi.${context.stack}.yaml (see the README's scheduling example)`);
    });
    const affinity = values.get("affinity");
    if (typeof affinity === "object" && affinity !== null) {
        const unknown = Object.keys(affinity).filter((k) => !["nodeAffinity", "podAffinity", "podAntiAffinity"].includes(k));
        if (unknown.length > 0) report("affinity", `has unknown field(s) ${unknown.join(", ")}; only nodeAffinity, podAffinity and podAntiAffinity exist`);
    }

    if (context.fileExists) {
        for (const tier of ["frontend", "backend"] as const) {
            const buildContext = String(values.get(`${tier}Context`));
            const dockerfile = `${buildContext}/${String(values.get(`${tier}Dockerfile`))}`;
            if (!context.fileExists(buildContext)) report(`${tier}Context`, `does not exist (relative to the project folder)`, set(`${tier}Context apps/${tier}`));
            else if (!context.fileExists(dockerfile)) report(`${tier}Dockerfile`, `was not found at ${dockerfile}`, set(`${tier}Dockerfile Dockerfile`));
        }
    }
}

/** The settings that, when changed, make Kubernetes replace the database's StatefulSet and volume. */
export function dataLockOf(values: { appName: string; namespace: string; storageClass?: string; storageSize: string }): string {
    return `appName=${values.appName} namespace=${values.namespace} storageClass=${values.storageClass ?? "default"} storageSize=${values.storageSize}`;
}

const dataLockKeys: Record<string, string> = { appName: "appName", namespace: "namespace", storageClass: "dbStorageClass", storageSize: "dbStorageSize" };

function checkDataLock(values: Map<ConfigKey, unknown>, report: Report, { set, rm }: Fixes): void {
    const current = dataLockOf({
        appName: String(values.get("appName")),
        namespace: String(values.get("namespace")),
        storageClass: values.get("dbStorageClass") as string | undefined,
        storageSize: String(values.get("dbStorageSize")),
    });
    const lock = values.get("dataLock") as string | undefined;
    if (lock === undefined) {
        if (values.get("protect") === true) report("dataLock", "is required when protect is true: it records what the protected database's identity rests on", set(`dataLock "${current}"`));
        return;
    }
    if (lock === current || values.get("allowDataReplacement") === true) return;
    const parse = (text: string) => Object.fromEntries(text.split(/\s+/).filter(Boolean).map((pair) => pair.split("=", 2) as [string, string]));
    const locked = parse(lock);
    const now = parse(current);
    const changes = Object.keys(now).filter((k) => locked[k] !== now[k]).map((k) => `${dataLockKeys[k]} ${locked[k] ?? "(unset)"} → ${now[k]}`);
    report(
        "dataLock",
        `differs from the config (${changes.join(", ")}): that change makes Kubernetes replace the database and its volume, and the data would be lost`,
        `put the old value back; or, to replace the database on purpose, ${set("allowDataReplacement true")} for this deploy, then ${set(`dataLock "${current}"`)} and ${rm("allowDataReplacement")}`,
    );
}

function checkEgressRule(value: unknown): string | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not an object with cidr and port";
    const rule = value as Record<string, unknown>;
    const unknown = Object.keys(rule).filter((k) => k !== "cidr" && k !== "port");
    if (unknown.length > 0) return `has unknown field(s) ${unknown.join(", ")}`;
    if (typeof rule.cidr !== "string" || checkCidr(rule.cidr)) return `has cidr ${JSON.stringify(rule.cidr)}; ${typeof rule.cidr === "string" ? checkCidr(rule.cidr) : "give a CIDR such as 203.0.113.0/24"}`;
    if (rule.port !== undefined && !(Number.isInteger(rule.port) && (rule.port as number) >= 1 && (rule.port as number) <= 65535)) return `has port ${JSON.stringify(rule.port)}; use 1-65535`;
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

function build(values: Map<ConfigKey, unknown>, stack: string): LaunchpadConfig {
    const get = <T>(key: ConfigKey) => values.get(key) as T;
    const tier = (prefix: "frontend" | "backend") => ({
        replicas: get<number>(`${prefix}Replicas`),
        maxReplicas: get<number>(`${prefix}MaxReplicas`),
        port: get<number>(`${prefix}Port`),
        resources: { cpu: get<string>(`${prefix}Cpu`), memory: get<string>(`${prefix}Memory`), memoryLimit: get<string>(`${prefix}MemoryLimit`) },
        probes: { liveness: get<string>(`${prefix}LivenessPath`), readiness: get<string>(`${prefix}ReadinessPath`) },
        build: { context: get<string>(`${prefix}Context`), dockerfile: get<string>(`${prefix}Dockerfile`) },
    });
    const password = get<string | undefined>("registryPassword");
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
            password: password === undefined ? undefined : pulumi.secret(password),
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
        frontend: tier("frontend"),
        backend: tier("backend"),
        autoscaling: get<boolean>("autoscaling") ? { cpuTargetPercent: get<number>("cpuTargetPercent") } : undefined,
        network: { ingressNamespace: get<string>("ingressNamespace"), backendEgress: get<EgressRule[]>("backendEgress") },
        database: {
            image: get<string>("dbImage"),
            name: get<string>("dbName"),
            user: get<string>("dbUser"),
            uid: get<number>("dbUid"),
            storage: { size: get<string>("dbStorageSize"), className: get<string | undefined>("dbStorageClass") },
            resources: { cpu: get<string>("dbCpu"), memory: get<string>("dbMemory"), memoryLimit: get<string>("dbMemoryLimit") },
        },
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
    };
}
