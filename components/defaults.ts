// The components' defaults and fixed values, with the pure checks on them, that the stack config
// (config.ts) and launchpad's commands read too. This module loads no Pulumi SDK, and must not: `npm run
// up` and the day-two commands validate a stack and reach the running app through these values, and
// loading the SDK for them alone cost those commands most of their start (tests/imports.test.ts holds it).
// The types these values fit (Resources, Rollout, Autoscaling) stay with their components, which check
// the fit where they use a default.

/** The name `docker build` looks for in the context. */
export const defaultDockerfile = "Dockerfile";
/** The platform of most clusters' nodes. */
export const defaultImagePlatform = "linux/amd64";

/** The ports a container or Service may listen on. */
export const TCP_PORTS = { min: 1, max: 65535 } as const;

/** Whether `port` is a TCP port number. */
export function isTcpPort(port: number): boolean {
    return Number.isInteger(port) && port >= TCP_PORTS.min && port <= TCP_PORTS.max;
}

/** Seconds `pulumi up` waits for a workload's rollout when its component's args do not say. */
export const defaultRolloutTimeoutSeconds = 300;

/** A rolling update that starts one extra pod before it takes one down: no downtime. */
export const defaultRollout = { timeoutSeconds: defaultRolloutTimeoutSeconds, maxSurge: 1, maxUnavailable: 0 } as const;

/** One pod: a WebService is highly available only when asked. */
export const defaultReplicas = 1;
/** The fewest pods a WebService may be given: 0 stops the tier. */
export const MIN_REPLICAS = 0;
/** Enough for a small web server; a tier that needs more says so. */
export const defaultWebResources = { cpu: "50m", memory: "64Mi", memoryLimit: "128Mi" } as const;

/** Room for a burst above the average before new pods are ready. */
export const defaultCpuTargetPercent = 70;

/** Whether an autoscaler's bounds work, or which one does not: it needs at least one pod, and a ceiling no lower than that. */
export function autoscalingBoundsProblem(bounds: { readonly minReplicas: number; readonly maxReplicas: number }): "minReplicas" | "maxReplicas" | undefined {
    if (!(bounds.minReplicas >= 1)) return "minReplicas";
    if (!(bounds.maxReplicas >= bounds.minReplicas)) return "maxReplicas";
    return undefined;
}

/** The value of `app.kubernetes.io/instance` on every object of a stack's app: what tells its objects from another stack's. */
export function instanceLabel(appName: string, stack: string): string {
    return `${appName}-${stack}`;
}

/** The names the tiers are reached by inside the namespace. */
export const SERVICE_NAMES = { frontend: "frontend", backend: "backend", database: "db" } as const;

export const POSTGRES_PORT = 5432;
export const defaultDatabaseName = "app";
export const defaultDatabaseUser = "app";
/** The postgres user of the official Debian-based images. */
export const defaultPostgresUid = 999;
export const defaultDatabaseResources = { cpu: "100m", memory: "256Mi", memoryLimit: "512Mi" } as const;
/** Data outlives `pulumi destroy` unless the caller lets it go. */
export const defaultRetainData = true;
export const defaultProtect = false;
