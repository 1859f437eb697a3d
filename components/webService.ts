import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { MIN_REPLICAS, autoscalingBoundsProblem, defaultCpuTargetPercent, defaultReplicas, defaultRollout, defaultWebResources, isTcpPort } from "./defaults";
import {
    EnvValue, Resources, Scheduling, TierIdentity, envVars, labelsFor, progressDeadlineFor, pullSecretsSpec, resourcesSpec,
    restrictedContainerSecurity, restrictedPodSecurity, rolloutAnnotations, schedulingSpec,
} from "./pod";

/** How a Deployment replaces its pods. */
export interface Rollout {
    /** Seconds `pulumi up` waits for the rollout before failing with its cause. */
    readonly timeoutSeconds: number;
    /** Extra pods during an update. */
    readonly maxSurge: number | string;
    /** Pods that may be down during an update. */
    readonly maxUnavailable: number | string;
}

/** HTTP probe paths: liveness restarts a stuck container, readiness takes it out of the Service. */
export interface HttpProbes {
    readonly liveness: string;
    readonly readiness: string;
}

/** Scale between `minReplicas` and `maxReplicas` on CPU use (autoscaling/v2). */
export interface Autoscaling {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    /** Average CPU use, in percent of the request, the autoscaler aims for. @default defaultCpuTargetPercent */
    readonly cpuTargetPercent?: number;
}

/**
 * Seconds a terminating pod keeps serving while Services and the Ingress stop sending it traffic:
 * endpoints are removed asynchronously, so without the pause a rolling update drops requests.
 */
export const PRE_STOP_SECONDS = 5;
/** The pause plus time to finish in-flight requests after SIGTERM. */
export const TERMINATION_GRACE_SECONDS = 30;

/** How long a web tier's server may take to start answering before the kubelet restarts it (its startup probe, once a second). */
export const STARTUP_SECONDS = 120;

/** The port every web Service exposes; it forwards to the container's named port "http". */
export const SERVICE_PORT = 80;

export interface WebServiceArgs {
    /** Namespace of the Deployment and Service. */
    readonly namespace: pulumi.Input<string>;
    /** Labels and the Service's stable DNS name (`identity.name`). */
    readonly identity: TierIdentity & { readonly component: "frontend" | "backend" };
    /** Image by digest, e.g. a ContainerImage's `ref`. */
    readonly image: pulumi.Input<string>;
    /** Port the container listens on. */
    readonly port: number;
    /** Pods to run. @default defaultReplicas */
    readonly replicas?: number;
    /** Environment: plain values or Secret references. @default {} */
    readonly env?: Readonly<Record<string, EnvValue>>;
    /** Annotations on the pod template; a change rolls the pods (e.g. `Database.clientPodAnnotations()`). @default {} */
    readonly podAnnotations?: Readonly<Record<string, pulumi.Input<string>>>;
    readonly probes: HttpProbes;
    /** @default defaultWebResources */
    readonly resources?: Resources;
    /** @default no constraints */
    readonly scheduling?: Scheduling;
    /** Names of image pull Secrets. @default [] */
    readonly imagePullSecrets?: readonly pulumi.Input<string>[];
    /** @default defaultRollout */
    readonly rollout?: Rollout;
    /** Let a HorizontalPodAutoscaler own the replica count. @default off: `replicas` pods */
    readonly autoscaling?: Autoscaling;
}

/** The WebServiceArgs fields that have a default. */
type DefaultedWebServiceArgs = "replicas" | "env" | "resources" | "imagePullSecrets" | "rollout";

/** Resolved inputs of the pure builders below: WebServiceArgs with every default filled, without the namespace. */
export type WebServiceSpecInput = Omit<WebServiceArgs, "namespace" | DefaultedWebServiceArgs> & Required<Pick<WebServiceArgs, DefaultedWebServiceArgs>>;

export function containerSpec(input: WebServiceSpecInput): k8s.types.input.core.v1.Container {
    return {
        name: input.identity.component,
        image: input.image,
        ports: [{ name: "http", containerPort: input.port, protocol: "TCP" }],
        ...(Object.keys(input.env).length > 0 ? { env: envVars(input.env) } : {}),
        resources: resourcesSpec(input.resources),
        // Asked every second until the server answers (for up to STARTUP_SECONDS): the kubelet runs the
        // readiness probe as soon as it succeeds, so a new pod is Ready about a second after it listens,
        // not at the readiness probe's next tick (up to its 5 s period later); liveness waits for it too.
        startupProbe: { httpGet: { path: input.probes.liveness, port: "http" }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: STARTUP_SECONDS },
        readinessProbe: { httpGet: { path: input.probes.readiness, port: "http" }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
        livenessProbe: { httpGet: { path: input.probes.liveness, port: "http" }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
        lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    };
}

export function podSpec(input: WebServiceSpecInput): k8s.types.input.core.v1.PodSpec {
    return {
        automountServiceAccountToken: false,
        securityContext: restrictedPodSecurity(),
        terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
        // Spread replicas over nodes so one node's loss never takes the whole tier.
        topologySpreadConstraints: [{
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: labelsFor(input.identity) },
        }],
        containers: [containerSpec(input)],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        ...pullSecretsSpec(input.imagePullSecrets),
        ...schedulingSpec(input.scheduling),
    };
}

export function deploymentSpec(input: WebServiceSpecInput): k8s.types.input.apps.v1.DeploymentSpec {
    const labels = labelsFor(input.identity);
    return {
        // With an autoscaler the Deployment leaves replicas alone, or every `pulumi up` would reset them.
        ...(input.autoscaling ? {} : { replicas: input.replicas }),
        selector: { matchLabels: labels },
        revisionHistoryLimit: 5,
        progressDeadlineSeconds: progressDeadlineFor(input.rollout.timeoutSeconds),
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: input.rollout.maxSurge, maxUnavailable: input.rollout.maxUnavailable } },
        template: {
            metadata: { labels, ...(input.podAnnotations && Object.keys(input.podAnnotations).length > 0 ? { annotations: input.podAnnotations } : {}) },
            spec: podSpec(input),
        },
    };
}

export function serviceSpec(identity: TierIdentity): k8s.types.input.core.v1.ServiceSpec {
    return {
        type: "ClusterIP",
        selector: labelsFor(identity),
        ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
    };
}

/** The fewest pods the tier runs: what a disruption budget can protect. */
export function minimumReplicas(input: Pick<WebServiceSpecInput, "replicas" | "autoscaling">): number {
    return input.autoscaling ? input.autoscaling.minReplicas : input.replicas;
}

/** A budget that lets voluntary disruptions (node drains, upgrades) take one pod at a time. */
export function disruptionBudgetSpec(identity: TierIdentity): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
    return { maxUnavailable: 1, selector: { matchLabels: labelsFor(identity) } };
}

export function autoscalerSpec(deploymentName: pulumi.Input<string>, autoscaling: Autoscaling): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
    return {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
        minReplicas: autoscaling.minReplicas,
        maxReplicas: autoscaling.maxReplicas,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: autoscaling.cpuTargetPercent ?? defaultCpuTargetPercent } } }],
    };
}

/** Something an Ingress can route to: a Service by object reference and its port. */
export interface ServiceRef {
    readonly serviceName: pulumi.Output<string>;
    readonly servicePort: number;
}

/**
 * A stateless HTTP tier (the frontend or the backend): a Deployment that rolls out without downtime
 * and a ClusterIP Service with a stable name that other tiers and the Ingress reach it by.
 */
export class WebService extends pulumi.ComponentResource implements ServiceRef {
    public readonly serviceName: pulumi.Output<string>;
    public readonly servicePort = SERVICE_PORT;
    public readonly deploymentName: pulumi.Output<string>;

    constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:WebService", name, {}, opts);

        const input: WebServiceSpecInput = {
            identity: args.identity,
            image: args.image,
            port: args.port,
            replicas: args.replicas ?? defaultReplicas,
            env: args.env ?? {},
            podAnnotations: args.podAnnotations,
            probes: args.probes,
            resources: args.resources ?? defaultWebResources,
            scheduling: args.scheduling,
            imagePullSecrets: args.imagePullSecrets ?? [],
            rollout: args.rollout ?? defaultRollout,
            autoscaling: args.autoscaling,
        };
        if (!isTcpPort(input.port)) {
            throw new Error(`WebService ${name}: port ${input.port} is not a TCP port; use 1-65535`);
        }
        if (!Number.isInteger(input.replicas) || input.replicas < MIN_REPLICAS) {
            throw new Error(`WebService ${name}: replicas ${input.replicas} must be a whole number of 0 or more`);
        }
        if (input.autoscaling && autoscalingBoundsProblem(input.autoscaling)) {
            throw new Error(`WebService ${name}: autoscaling needs 1 <= minReplicas (${input.autoscaling.minReplicas}) <= maxReplicas (${input.autoscaling.maxReplicas})`);
        }

        const labels = labelsFor(args.identity);
        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: { namespace: args.namespace, labels, annotations: rolloutAnnotations(input.rollout.timeoutSeconds) },
            spec: deploymentSpec(input),
        }, { parent: this });

        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: args.identity.name, namespace: args.namespace, labels },
            spec: serviceSpec(args.identity),
        }, { parent: this });

        if (input.autoscaling) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-autoscaler`, {
                metadata: { namespace: args.namespace, labels },
                spec: autoscalerSpec(deployment.metadata.name, input.autoscaling),
            }, { parent: this });
        }
        if (minimumReplicas(input) >= 2) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-disruption-budget`, {
                metadata: { namespace: args.namespace, labels },
                spec: disruptionBudgetSpec(args.identity),
            }, { parent: this });
        }

        this.serviceName = service.metadata.name;
        this.deploymentName = deployment.metadata.name;
        this.registerOutputs({ serviceName: this.serviceName, deploymentName: this.deploymentName });
    }
}
