import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import {
    EnvValue, Resources, Scheduling, TierIdentity, fromSecret, labelsFor, pullSecretsSpec, resourcesSpec, restrictedContainerSecurity,
    restrictedPodSecurity, rolloutAnnotations, schedulingSpec,
} from "./pod";

export const POSTGRES_PORT = 5432;
/** Where the volume is mounted; PGDATA is a subdirectory so the volume's lost+found never bothers initdb. */
export const DATA_MOUNT = "/var/lib/postgresql/data";
export const PGDATA = `${DATA_MOUNT}/pgdata`;

export interface DatabaseStorage {
    /** Size of the volume, e.g. "1Gi". */
    readonly size: string;
    /** StorageClass; the cluster's default class when absent. */
    readonly className?: string;
}

export interface DatabaseArgs {
    readonly namespace: pulumi.Input<string>;
    /** Labels and the stable name of the StatefulSet and its headless Service. */
    readonly identity: TierIdentity & { readonly component: "database" };
    /** PostgreSQL image by digest, e.g. a mirrored ContainerImage's `ref`. */
    readonly image: pulumi.Input<string>;
    /** Database name. @default "app" */
    readonly database?: string;
    /** Database user. @default "app" */
    readonly user?: string;
    /** uid, gid and fsGroup the server runs as. @default 999 (the postgres user of the Debian images) */
    readonly uid?: number;
    readonly storage: DatabaseStorage;
    /** @default 100m CPU, 256Mi memory, 512Mi limit */
    readonly resources?: Resources;
    readonly scheduling?: Scheduling;
    readonly imagePullSecrets?: readonly pulumi.Input<string>[];
    /** Seconds `pulumi up` waits for the StatefulSet to be ready. @default 300 */
    readonly rolloutTimeoutSeconds?: number;
    /** Keep the StatefulSet, its Secret and its volume when the stack is destroyed. @default true */
    readonly retainData?: boolean;
    /** Pulumi-protect the StatefulSet and its Secret. @default false */
    readonly protect?: boolean;
}

export const defaultDatabaseResources: Resources = { cpu: "100m", memory: "256Mi", memoryLimit: "512Mi" };

/** Resolved inputs of the pure builders below. */
export interface DatabaseSpecInput {
    readonly identity: DatabaseArgs["identity"];
    readonly image: pulumi.Input<string>;
    readonly database: string;
    readonly user: string;
    readonly uid: number;
    readonly storage: DatabaseStorage;
    readonly resources: Resources;
    readonly scheduling?: Scheduling;
    readonly imagePullSecrets: readonly pulumi.Input<string>[];
    readonly retainData: boolean;
    /** The Secret holding the password under key "password". */
    readonly passwordSecretName: pulumi.Input<string>;
    /** The headless Service that gives the pod its DNS name. */
    readonly serviceName: pulumi.Input<string>;
}

function pgIsReady(input: DatabaseSpecInput): k8s.types.input.core.v1.ExecAction {
    return { command: ["pg_isready", "-h", "127.0.0.1", "-p", String(POSTGRES_PORT), "-U", input.user, "-d", input.database] };
}

export function postgresContainer(input: DatabaseSpecInput): k8s.types.input.core.v1.Container {
    return {
        name: "postgres",
        image: input.image,
        ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
        env: [
            { name: "POSTGRES_DB", value: input.database },
            { name: "POSTGRES_USER", value: input.user },
            { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: input.passwordSecretName, key: "password" } } },
            { name: "PGDATA", value: PGDATA },
        ],
        resources: resourcesSpec(input.resources),
        // initdb can take a while on a slow disk: the startup probe holds off liveness until the server first answers.
        startupProbe: { exec: pgIsReady(input), periodSeconds: 5, failureThreshold: 60 },
        readinessProbe: { exec: pgIsReady(input), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
        livenessProbe: { exec: pgIsReady(input), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [
            { name: "data", mountPath: DATA_MOUNT },
            { name: "run", mountPath: "/var/run/postgresql" },
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
}

export function statefulSetSpec(input: DatabaseSpecInput): k8s.types.input.apps.v1.StatefulSetSpec {
    const labels = labelsFor(input.identity);
    return {
        replicas: 1,
        serviceName: input.serviceName,
        selector: { matchLabels: labels },
        updateStrategy: { type: "RollingUpdate" },
        persistentVolumeClaimRetentionPolicy: {
            whenDeleted: input.retainData ? "Retain" : "Delete",
            whenScaled: "Retain",
        },
        template: {
            metadata: { labels },
            spec: {
                automountServiceAccountToken: false,
                securityContext: restrictedPodSecurity({ uid: input.uid, gid: input.uid, fsGroup: input.uid }),
                // A clean shutdown flushes WAL; give PostgreSQL time for it.
                terminationGracePeriodSeconds: 60,
                containers: [postgresContainer(input)],
                volumes: [
                    { name: "run", emptyDir: { sizeLimit: "16Mi" } },
                    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                ],
                ...pullSecretsSpec(input.imagePullSecrets),
                ...schedulingSpec(input.scheduling),
            },
        },
        volumeClaimTemplates: [{
            metadata: { name: "data", labels },
            spec: {
                accessModes: ["ReadWriteOnce"],
                ...(input.storage.className ? { storageClassName: input.storage.className } : {}),
                resources: { requests: { storage: input.storage.size } },
            },
        }],
    };
}

export function headlessServiceSpec(identity: TierIdentity): k8s.types.input.core.v1.ServiceSpec {
    return {
        clusterIP: "None",
        selector: labelsFor(identity),
        ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }],
    };
}

/**
 * PostgreSQL as a one-replica StatefulSet with its own volume, a headless Service with a stable name,
 * and a generated password that stays a Pulumi secret from generation to the pod's environment.
 * By default its data outlives `pulumi destroy`.
 */
export class Database extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    public readonly port = POSTGRES_PORT;
    public readonly database: string;
    public readonly user: string;
    /** The Secret with the password under key "password"; refer to it with `fromSecret`. */
    public readonly secret: k8s.core.v1.Secret;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:Database", name, {}, opts);

        const retainData = args.retainData ?? true;
        const protect = args.protect ?? false;
        this.database = args.database ?? "app";
        this.user = args.user ?? "app";
        const labels = labelsFor(args.identity);
        // Data-bearing resources survive destroy unless the stack opts out.
        const keep: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: retainData, protect };

        const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
        this.secret = new k8s.core.v1.Secret(`${name}-credentials`, {
            metadata: { name: `${args.identity.name}-credentials`, namespace: args.namespace, labels },
            type: "Opaque",
            stringData: { password: password.result },
        }, keep);

        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: args.identity.name, namespace: args.namespace, labels },
            spec: headlessServiceSpec(args.identity),
        }, { parent: this });

        const input: DatabaseSpecInput = {
            identity: args.identity,
            image: args.image,
            database: this.database,
            user: this.user,
            uid: args.uid ?? 999,
            storage: args.storage,
            resources: args.resources ?? defaultDatabaseResources,
            scheduling: args.scheduling,
            imagePullSecrets: args.imagePullSecrets ?? [],
            retainData,
            passwordSecretName: this.secret.metadata.name,
            serviceName: service.metadata.name,
        };
        // A stable name: the volume claim (data-<name>-0) is found again after a destroy and a new up.
        const statefulSet = new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
            metadata: {
                name: args.identity.name,
                namespace: args.namespace,
                labels,
                annotations: rolloutAnnotations(args.rolloutTimeoutSeconds ?? 300),
            },
            spec: statefulSetSpec(input),
        }, keep);

        this.serviceName = service.metadata.name;
        this.registerOutputs({ serviceName: this.serviceName, statefulSetName: statefulSet.metadata.name });
    }

    /** What a client needs to connect: host, port, database, user, and the password as a Secret reference. */
    connectionEnv(): Record<string, EnvValue> {
        return {
            DB_HOST: this.serviceName,
            DB_PORT: String(this.port),
            DB_NAME: this.database,
            DB_USER: this.user,
            DB_PASSWORD: fromSecret(this.secret, "password"),
        };
    }
}
