import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { BuildArgs, ContainerImage, RegistryArgs, registryLogin } from "./containerImage";
import { Database, DatabaseArgs } from "./database";
import { instanceLabel, SERVICE_NAMES } from "./defaults";
import { Ingress, IngressTls } from "./ingress";
import { ADOPT_KEPT_OBJECT, EnvValue, Scheduling, TierIdentity } from "./pod";
import { EgressRule, NetworkPolicies } from "./networkPolicies";
import { Autoscaling, Rollout, WebService, WebServiceArgs } from "./webService";

/** The tiers a stack sizes and builds one by one. */
export type WebTier = "frontend" | "backend";

/** The WebService fields a stack sets for each web tier. */
export type TierServiceArgs = Required<Pick<WebServiceArgs, "replicas" | "port" | "resources" | "probes">>;

/**
 * One web tier as the stack describes it: its WebService's fields, the autoscaler's ceiling and the
 * build of its image. Each field is one config key per tier (TIER_FIELDS in config.ts).
 */
export type TierArgs = TierServiceArgs & {
    /** The most pods the autoscaler may run (only with autoscaling). */
    readonly maxReplicas: Autoscaling["maxReplicas"];
    /** Docker build context and Dockerfile (relative to the context). */
    readonly build: Required<Pick<BuildArgs, "context" | "dockerfile">>;
    /**
     * An image already in the registry, pinned by digest (`registry/repository@sha256:…`), to run instead
     * of building `build`: what a rollback or a promotion deploys. @default build from source
     */
    readonly image?: string;
};

/**
 * The database as the stack describes it: the upstream image to mirror, and its Database's fields.
 * Each field is one config key (DATABASE_FIELDS in config.ts).
 */
export type DatabaseTierArgs = Required<Pick<DatabaseArgs, "user" | "uid" | "storage" | "resources">> & {
    /** Upstream image, mirrored into the registry. */
    readonly image: string;
    /** The database's name (DatabaseArgs' `database`). */
    readonly name: NonNullable<DatabaseArgs["database"]>;
};

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
    readonly database: DatabaseTierArgs;
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

/** An image reference by digest, per tier. */
type Images = { readonly frontend: pulumi.Output<string>; readonly backend: pulumi.Output<string>; readonly database: pulumi.Output<string> };

/**
 * The whole app: its namespace, images in the team's registry, PostgreSQL, the backend wired to it by
 * construction, the frontend, and the Ingress in front, all on one explicitly chosen cluster.
 */
export class App extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    public readonly images: Images;

    private readonly appLabels: Record<string, string>;
    /** Options of every child that lives on the cluster. */
    private readonly children: pulumi.ComponentResourceOptions;

    constructor(private readonly name: string, private readonly args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:App", name, {}, opts);

        const kubernetes = new k8s.Provider(`${name}-cluster`, {
            context: args.cluster.context,
            kubeconfig: args.cluster.kubeconfig,
        }, { parent: this });
        this.children = { parent: this, providers: [kubernetes] };
        this.appLabels = { "app.kubernetes.io/part-of": args.appName, "app.kubernetes.io/instance": instanceLabel(args.appName, args.stack), "app.kubernetes.io/managed-by": "pulumi" };

        const ns = this.createNamespace(kubernetes).metadata.name;
        const pullSecrets = this.createPullSecrets(kubernetes, ns);
        const frontendImage = this.buildImage("frontend");
        const backendImage = this.buildImage("backend");
        const databaseImage = this.mirrorDatabaseImage();
        const database = this.createDatabase(ns, databaseImage, pullSecrets);
        const backend = this.createWebTier("backend", ns, backendImage, pullSecrets, { PORT: String(args.backend.port), ...database.connectionEnv() }, database.clientPodAnnotations());
        const frontend = this.createWebTier("frontend", ns, frontendImage, pullSecrets, {});
        this.createNetworkPolicies(ns);
        const ingress = this.createIngress(ns, frontend, backend);

        this.url = pulumi.output(`${ingress.url}${args.ingress.frontendPath === "/" ? "" : args.ingress.frontendPath}`);
        this.namespace = ns;
        this.images = { frontend: frontendImage.ref, backend: backendImage.ref, database: databaseImage.ref };
        this.registerOutputs({ url: this.url, namespace: this.namespace, images: this.images });
    }

    /** Labels and the Service's stable name of one tier. */
    private identity<C extends TierIdentity["component"]>(component: C): TierIdentity & { component: C } {
        return { partOf: this.args.appName, instance: instanceLabel(this.args.appName, this.args.stack), name: SERVICE_NAMES[component], component };
    }

    /** The app's namespace, restricted by Pod Security Admission; kept and protected with the data. */
    private createNamespace(kubernetes: k8s.Provider): k8s.core.v1.Namespace {
        return new k8s.core.v1.Namespace(`${this.name}-namespace`, {
            metadata: { name: this.args.namespace, labels: { ...this.appLabels, ...podSecurityLabels("restricted") }, annotations: { ...ADOPT_KEPT_OBJECT } },
        }, { parent: this, provider: kubernetes, retainOnDelete: this.args.retainData, protect: this.args.protect });
    }

    /** The registry's login as a pull Secret, when the registry needs one: the names of the pods' pull Secrets. */
    private createPullSecrets(kubernetes: k8s.Provider, ns: pulumi.Output<string>): pulumi.Output<string>[] {
        const login = registryLogin(this.args.registry);
        if (!login) return [];
        const dockerConfig = pulumi.all([login.username, login.password]).apply(([username, password]) =>
            JSON.stringify({ auths: { [login.host]: { username, password } } }));
        const pullSecret = new k8s.core.v1.Secret(`${this.name}-registry`, {
            metadata: { name: "registry-credentials", namespace: ns, labels: this.appLabels },
            type: "kubernetes.io/dockerconfigjson",
            stringData: { ".dockerconfigjson": pulumi.secret(dockerConfig) },
        }, { parent: this, provider: kubernetes });
        return [pullSecret.metadata.name];
    }

    /** A web tier's image: built from its Dockerfile and pushed under the stack's tag, or the digest the stack pins, built by nobody here. */
    private buildImage(tier: WebTier): ContainerImage {
        const args = this.args;
        const { build, image } = args[tier];
        return new ContainerImage(`${this.name}-${tier}-image`, {
            registry: args.registry,
            repository: `${args.appName}-${tier}`,
            tag: args.stack,
            ...(image !== undefined
                ? { pinned: image }
                : { build: { context: build.context, dockerfile: build.dockerfile, platform: args.imagePlatform, network: args.imageBuildNetwork, root: args.projectRoot } }),
        }, this.children);
    }

    /** The upstream database image, copied into the team's registry. */
    private mirrorDatabaseImage(): ContainerImage {
        return new ContainerImage(`${this.name}-database-image`, {
            registry: this.args.registry,
            repository: `${this.args.appName}-postgres`,
            mirror: { source: this.args.database.image, platform: this.args.imagePlatform },
        }, this.children);
    }

    private createDatabase(ns: pulumi.Output<string>, image: ContainerImage, pullSecrets: pulumi.Output<string>[]): Database {
        const { name: database, user, uid, storage, resources } = this.args.database;
        return new Database(`${this.name}-database`, {
            namespace: ns,
            identity: this.identity("database"),
            image: image.ref,
            database,
            user,
            uid,
            storage,
            resources,
            scheduling: this.args.scheduling,
            imagePullSecrets: pullSecrets,
            rolloutTimeoutSeconds: this.args.rollout.timeoutSeconds,
            retainData: this.args.retainData,
            protect: this.args.protect,
        }, this.children);
    }

    /** A web tier's WebService: the stack's fields for the tier (TierServiceArgs), and an autoscaler when the stack turns it on. */
    private createWebTier(tier: WebTier, ns: pulumi.Output<string>, image: ContainerImage, pullSecrets: pulumi.Output<string>[], env: Record<string, EnvValue>, podAnnotations?: Record<string, pulumi.Input<string>>): WebService {
        const { maxReplicas, build: _build, image: _image, ...service } = this.args[tier];
        const autoscaling = this.args.autoscaling;
        return new WebService(`${this.name}-${tier}`, {
            ...service,
            namespace: ns,
            identity: this.identity(tier),
            image: image.ref,
            env,
            podAnnotations,
            scheduling: this.args.scheduling,
            imagePullSecrets: pullSecrets,
            rollout: this.args.rollout,
            autoscaling: autoscaling ? { minReplicas: service.replicas, maxReplicas, cpuTargetPercent: autoscaling.cpuTargetPercent } : undefined,
        }, this.children);
    }

    private createNetworkPolicies(ns: pulumi.Output<string>): NetworkPolicies {
        return new NetworkPolicies(`${this.name}-network`, {
            namespace: ns,
            labels: this.appLabels,
            frontend: this.identity("frontend"),
            backend: this.identity("backend"),
            database: this.identity("database"),
            ingressNamespace: this.args.network.ingressNamespace,
            backendEgress: this.args.network.backendEgress,
            acmeHttp01: this.args.ingress.tls?.issuer !== undefined,
        }, this.children);
    }

    /** The Ingress: the frontend's path and the backend's; it waits for an address on a cloud cluster only. */
    private createIngress(ns: pulumi.Output<string>, frontend: WebService, backend: WebService): Ingress {
        const ingress = this.args.ingress;
        return new Ingress(`${this.name}-ingress`, {
            namespace: ns,
            labels: this.appLabels,
            className: ingress.className,
            host: ingress.host,
            routes: [
                { path: ingress.frontendPath, backend: frontend },
                { path: ingress.backendPath, backend: backend },
            ],
            tls: ingress.tls,
            awaitAddress: this.args.platform !== "kind",
        }, this.children);
    }
}
