import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ContainerImage, RegistryArgs, registryLogin } from "./containerImage";
import { Database, DatabaseStorage } from "./database";
import { Ingress, IngressTls } from "./ingress";
import { ADOPT_KEPT_OBJECT, EnvValue, Resources, Scheduling, TierIdentity } from "./pod";
import { EgressRule, NetworkPolicies } from "./networkPolicies";
import { HttpProbes, Rollout, WebService } from "./webService";

/** One web tier as the stack describes it. */
export interface TierArgs {
    /** Pods to run; with autoscaling, the fewest. */
    readonly replicas: number;
    /** The most pods the autoscaler may run (only with autoscaling). */
    readonly maxReplicas: number;
    readonly port: number;
    readonly resources: Resources;
    readonly probes: HttpProbes;
    /** Docker build context and Dockerfile (relative to the context). */
    readonly build: { readonly context: string; readonly dockerfile: string };
}

export interface AppArgs {
    /** kind: a local cluster with a local registry; cloud: any other cluster. */
    readonly platform: "kind" | "cloud";
    /** The cluster, always named explicitly: a stack never deploys to whatever context is current. */
    readonly cluster: { readonly context: string; readonly kubeconfig?: string };
    /** `app.kubernetes.io/part-of` and the prefix of image names. */
    readonly appName: string;
    readonly namespace: string;
    readonly registry: RegistryArgs;
    /** Platform the images are built and mirrored for, e.g. "linux/amd64". */
    readonly imagePlatform: string;
    /** Network of the image builds' RUN steps (`docker build --network`), e.g. "host". @default Docker's default */
    readonly imageBuildNetwork?: string;
    /** The project's folder, which the tiers' build contexts are relative to. @default the working directory */
    readonly projectRoot?: string;
    readonly ingress: {
        readonly host: string;
        readonly className: string;
        readonly frontendPath: string;
        readonly backendPath: string;
        readonly tls?: IngressTls;
    };
    readonly frontend: TierArgs;
    readonly backend: TierArgs;
    readonly database: {
        /** Upstream image, mirrored into the registry. */
        readonly image: string;
        readonly name: string;
        readonly user: string;
        readonly uid: number;
        readonly storage: DatabaseStorage;
        readonly resources: Resources;
    };
    readonly rollout: Rollout;
    readonly scheduling: Scheduling;
    /** Scale the web tiers on CPU between `replicas` and `maxReplicas`. @default off */
    readonly autoscaling?: { readonly cpuTargetPercent: number };
    readonly network: {
        /** Namespace of the ingress controller, allowed to reach the web tiers. */
        readonly ingressNamespace: string;
        /** Outside ranges the backend may call. */
        readonly backendEgress: readonly EgressRule[];
    };
    /** Keep the database and its namespace when the stack is destroyed. */
    readonly retainData: boolean;
    /** Pulumi-protect the namespace and the database. */
    readonly protect: boolean;
    /** The stack, used as image tag and in the instance label. */
    readonly stack: string;
}

/** Pod Security Admission labels: the namespace rejects (and warns and audits) pods above `level`. */
export function podSecurityLabels(level: "restricted" | "baseline"): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": level,
        "pod-security.kubernetes.io/audit": level,
    };
}

/** The names the tiers are reached by inside the namespace. */
export const SERVICE_NAMES = { frontend: "frontend", backend: "backend", database: "db" } as const;

/**
 * The whole app: its namespace, images in the team's registry, PostgreSQL, the backend wired to it by
 * construction, the frontend, and the Ingress in front, all on one explicitly chosen cluster.
 */
export class App extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    public readonly images: { readonly frontend: pulumi.Output<string>; readonly backend: pulumi.Output<string>; readonly database: pulumi.Output<string> };

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:App", name, {}, opts);

        const kubernetes = new k8s.Provider(`${name}-cluster`, {
            context: args.cluster.context,
            kubeconfig: args.cluster.kubeconfig,
        }, { parent: this });
        const login = registryLogin(args.registry);
        const children: pulumi.ComponentResourceOptions = { parent: this, providers: [kubernetes] };

        const identity = <C extends TierIdentity["component"]>(component: C): TierIdentity & { component: C } => ({
            partOf: args.appName,
            instance: `${args.appName}-${args.stack}`,
            name: SERVICE_NAMES[component],
            component,
        });
        const appLabels = { "app.kubernetes.io/part-of": args.appName, "app.kubernetes.io/instance": `${args.appName}-${args.stack}`, "app.kubernetes.io/managed-by": "pulumi" };

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: args.namespace, labels: { ...appLabels, ...podSecurityLabels("restricted") }, annotations: { ...ADOPT_KEPT_OBJECT } },
        }, { parent: this, provider: kubernetes, retainOnDelete: args.retainData, protect: args.protect });
        const ns = namespace.metadata.name;

        const pullSecrets: pulumi.Output<string>[] = [];
        if (login) {
            const dockerConfig = pulumi.all([login.username, login.password]).apply(([username, password]) =>
                JSON.stringify({ auths: { [login.host]: { username, password } } }));
            const pullSecret = new k8s.core.v1.Secret(`${name}-registry`, {
                metadata: { name: "registry-credentials", namespace: ns, labels: appLabels },
                type: "kubernetes.io/dockerconfigjson",
                stringData: { ".dockerconfigjson": pulumi.secret(dockerConfig) },
            }, { parent: this, provider: kubernetes });
            pullSecrets.push(pullSecret.metadata.name);
        }

        const build = (tier: "frontend" | "backend") => new ContainerImage(`${name}-${tier}-image`, {
            registry: args.registry,
            repository: `${args.appName}-${tier}`,
            tag: args.stack,
            build: { context: args[tier].build.context, dockerfile: args[tier].build.dockerfile, platform: args.imagePlatform, network: args.imageBuildNetwork, root: args.projectRoot },
        }, children);
        const frontendImage = build("frontend");
        const backendImage = build("backend");
        const databaseImage = new ContainerImage(`${name}-database-image`, {
            registry: args.registry,
            repository: `${args.appName}-postgres`,
            mirror: { source: args.database.image, platform: args.imagePlatform },
        }, children);

        const database = new Database(`${name}-database`, {
            namespace: ns,
            identity: identity("database"),
            image: databaseImage.ref,
            database: args.database.name,
            user: args.database.user,
            uid: args.database.uid,
            storage: args.database.storage,
            resources: args.database.resources,
            scheduling: args.scheduling,
            imagePullSecrets: pullSecrets,
            rolloutTimeoutSeconds: args.rollout.timeoutSeconds,
            retainData: args.retainData,
            protect: args.protect,
        }, children);

        const web = (tier: "frontend" | "backend", image: ContainerImage, env: Record<string, EnvValue>, podAnnotations?: Record<string, pulumi.Input<string>>) => new WebService(`${name}-${tier}`, {
            namespace: ns,
            identity: identity(tier),
            image: image.ref,
            port: args[tier].port,
            replicas: args[tier].replicas,
            env,
            podAnnotations,
            probes: args[tier].probes,
            resources: args[tier].resources,
            scheduling: args.scheduling,
            imagePullSecrets: pullSecrets,
            rollout: args.rollout,
            autoscaling: args.autoscaling
                ? { minReplicas: args[tier].replicas, maxReplicas: args[tier].maxReplicas, cpuTargetPercent: args.autoscaling.cpuTargetPercent }
                : undefined,
        }, children);
        const backend = web("backend", backendImage, { PORT: String(args.backend.port), ...database.connectionEnv() }, database.clientPodAnnotations());
        const frontend = web("frontend", frontendImage, {});

        new NetworkPolicies(`${name}-network`, {
            namespace: ns,
            labels: appLabels,
            frontend: identity("frontend"),
            backend: identity("backend"),
            database: identity("database"),
            ingressNamespace: args.network.ingressNamespace,
            backendEgress: args.network.backendEgress,
            acmeHttp01: args.ingress.tls?.issuer !== undefined,
        }, children);

        const ingress = new Ingress(`${name}-ingress`, {
            namespace: ns,
            labels: appLabels,
            className: args.ingress.className,
            host: args.ingress.host,
            routes: [
                { path: args.ingress.frontendPath, backend: frontend },
                { path: args.ingress.backendPath, backend: backend },
            ],
            tls: args.ingress.tls,
            awaitAddress: args.platform !== "kind",
        }, children);

        this.url = pulumi.output(`${ingress.url}${args.ingress.frontendPath === "/" ? "" : args.ingress.frontendPath}`);
        this.namespace = ns;
        this.images = { frontend: frontendImage.ref, backend: backendImage.ref, database: databaseImage.ref };
        this.registerOutputs({ url: this.url, namespace: this.namespace, images: this.images });
    }
}
