import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
    POSTGRES_PORT, defaultDatabaseName, defaultDatabaseResources, defaultDatabaseUser, defaultPostgresUid, defaultProtect, defaultRetainData,
    defaultRolloutTimeoutSeconds,
} from "./defaults";
import {
    ADOPT_KEPT_OBJECT, EnvValue, Resources, Scheduling, TierIdentity, fromSecret, labelsFor, pullSecretsSpec, resourcesSpec, restrictedContainerSecurity,
    restrictedPodSecurity, rolloutAnnotations, schedulingSpec,
} from "./pod";
import { Password } from "./password";

/** Where the volume is mounted; PGDATA is a subdirectory so the volume's lost+found never bothers initdb. */
export const DATA_MOUNT = "/var/lib/postgresql/data";
export const PGDATA = `${DATA_MOUNT}/pgdata`;
/** Where the server puts its Unix socket (an emptyDir: the image's own directory is read-only here). */
export const SOCKET_DIR = "/var/run/postgresql";
/**
 * Pod annotation carrying a fingerprint of the database password. On the database's pods and its
 * clients' (`Database.clientPodAnnotations`), so that a new password restarts both: the server adopts
 * it (adoptPasswordScript) and the clients read it.
 */
export const CREDENTIALS_ANNOTATION = "launchpad/db-credentials";
/** How long the adopting hook waits for the server to accept connections. */
export const ADOPT_WAIT_SECONDS = 120;

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
    /** Database name. @default defaultDatabaseName */
    readonly database?: string;
    /** Database user. @default defaultDatabaseUser */
    readonly user?: string;
    /** uid, gid and fsGroup the server runs as. @default defaultPostgresUid */
    readonly uid?: number;
    readonly storage: DatabaseStorage;
    /** @default defaultDatabaseResources */
    readonly resources?: Resources;
    readonly scheduling?: Scheduling;
    readonly imagePullSecrets?: readonly pulumi.Input<string>[];
    /** Seconds `pulumi up` waits for the StatefulSet to be ready. @default defaultRolloutTimeoutSeconds */
    readonly rolloutTimeoutSeconds?: number;
    /** Keep the StatefulSet, its Secret and its volume when the stack is destroyed. @default defaultRetainData */
    readonly retainData?: boolean;
    /** Pulumi-protect the StatefulSet and its Secret. @default defaultProtect */
    readonly protect?: boolean;
}

/** The DatabaseArgs fields that have a default and that the pure builders read. */
type DefaultedDatabaseArgs = "database" | "user" | "uid" | "resources" | "imagePullSecrets" | "retainData";

/** Resolved inputs of the pure builders below: DatabaseArgs with their defaults filled, and what the component creates first. */
export type DatabaseSpecInput = Omit<DatabaseArgs, "namespace" | "rolloutTimeoutSeconds" | "protect" | DefaultedDatabaseArgs> & Required<Pick<DatabaseArgs, DefaultedDatabaseArgs>> & {
    /** The Secret holding the password under key "password". */
    readonly passwordSecretName: pulumi.Input<string>;
    /** The headless Service that gives the pod its DNS name. */
    readonly serviceName: pulumi.Input<string>;
    /** Fingerprint of the password (CREDENTIALS_ANNOTATION): a new one restarts the pod. */
    readonly credentialsFingerprint: pulumi.Input<string>;
};

/**
 * The password's fingerprint: the first 16 hex digits of its SHA-256. Enough to tell two passwords
 * apart, nothing to recover one from (the password is 32 random alphanumerics).
 */
export function credentialsFingerprint(password: string): string {
    return createHash("sha256").update(password).digest("hex").slice(0, 16);
}

/**
 * What the postgres container runs when it starts (a postStart hook): once the server answers on its
 * socket, set the user's password to the one in the Secret (POSTGRES_PASSWORD). The image applies that
 * variable only when it initialises an empty volume, so a volume kept from an earlier install (after a
 * `pulumi destroy` that kept the data, whose next `up` generates a new password) or a changed Secret
 * would otherwise leave the server on the old password and every client locked out.
 *
 * Over the Unix socket, which the official image trusts for local connections; the password is read
 * from the environment by psql's `\getenv` (psql 15 or newer), so it never appears in a command line.
 * It always exits 0: a failing postStart hook would kill the container, and the data is served either
 * way. A problem goes to the container's log (PID 1's stderr), where `kubectl logs` shows it. The
 * options exist for tests against a PostgreSQL outside a container.
 */
export function adoptPasswordScript({ socketDir = SOCKET_DIR, port = POSTGRES_PORT, waitSeconds = ADOPT_WAIT_SECONDS, logTo = "/proc/1/fd/2" } = {}): string {
    return String.raw`log() { echo "launchpad: $*" >> ${logTo} 2>/dev/null || true; }
waited=0
until pg_isready -q -h ${socketDir} -p ${port}; do
  if [ "$waited" -ge ${waitSeconds} ]; then log "the server did not answer within ${waitSeconds} s; the password in the Secret was not applied"; exit 0; fi
  sleep 1; waited=$((waited + 1))
done
if ! out=$(printf '%s\n' '\getenv password POSTGRES_PASSWORD' "ALTER ROLE CURRENT_USER PASSWORD :'password';" |
    psql -X -q -v ON_ERROR_STOP=1 -h ${socketDir} -p ${port} -U "$POSTGRES_USER" -d postgres 2>&1); then
  log "could not apply the password in the Secret: $out"
fi
exit 0
`;
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
        lifecycle: { postStart: { exec: { command: ["/bin/sh", "-c", adoptPasswordScript()] } } },
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [
            { name: "data", mountPath: DATA_MOUNT },
            { name: "run", mountPath: SOCKET_DIR },
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
            metadata: { labels, annotations: { [CREDENTIALS_ANNOTATION]: input.credentialsFingerprint } },
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
    /** Fingerprint of the password (CREDENTIALS_ANNOTATION). */
    public readonly credentialsFingerprint: pulumi.Output<string>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:Database", name, {}, opts);

        const retainData = args.retainData ?? defaultRetainData;
        const protect = args.protect ?? defaultProtect;
        this.database = args.database ?? defaultDatabaseName;
        this.user = args.user ?? defaultDatabaseUser;
        const labels = labelsFor(args.identity);
        // Data-bearing resources survive destroy unless the stack opts out.
        const keep: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: retainData, protect };

        // The generated password lives only in Pulumi's state. While the data is kept, `npm run down`
        // (a destroy that leaves protected resources) keeps the password too: otherwise the next up would
        // generate another and rotate the database's password under the data it kept.
        const password = new Password(`${name}-password`, { length: 32 }, { parent: this, protect: retainData || protect });
        this.secret = new k8s.core.v1.Secret(`${name}-credentials`, {
            metadata: { name: `${args.identity.name}-credentials`, namespace: args.namespace, labels, annotations: { ...ADOPT_KEPT_OBJECT } },
            type: "Opaque",
            stringData: { password: password.result },
        }, keep);

        // Not a secret: nothing can be learnt of a random password from 64 bits of its hash, and a secret
        // value inside a pod template would hide the whole template from every preview's diff.
        this.credentialsFingerprint = pulumi.unsecret(password.result.apply(credentialsFingerprint));

        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: args.identity.name, namespace: args.namespace, labels },
            spec: headlessServiceSpec(args.identity),
        }, { parent: this });

        const input: DatabaseSpecInput = {
            identity: args.identity,
            image: args.image,
            database: this.database,
            user: this.user,
            uid: args.uid ?? defaultPostgresUid,
            storage: args.storage,
            resources: args.resources ?? defaultDatabaseResources,
            scheduling: args.scheduling,
            imagePullSecrets: args.imagePullSecrets ?? [],
            retainData,
            passwordSecretName: this.secret.metadata.name,
            serviceName: service.metadata.name,
            credentialsFingerprint: this.credentialsFingerprint,
        };
        // A stable name: the volume claim (data-<name>-0) is found again after a destroy and a new up.
        const statefulSet = new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
            metadata: {
                name: args.identity.name,
                namespace: args.namespace,
                labels,
                annotations: { ...rolloutAnnotations(args.rolloutTimeoutSeconds ?? defaultRolloutTimeoutSeconds), ...ADOPT_KEPT_OBJECT },
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

    /**
     * Annotations for a client's pod template: a new password changes them, so the client's pods
     * restart and read it (environment variables from a Secret are read only when a container starts).
     */
    clientPodAnnotations(): Record<string, pulumi.Input<string>> {
        return { [CREDENTIALS_ANNOTATION]: this.credentialsFingerprint };
    }
}
