import assert from "node:assert/strict";
import { defaultRollout } from "../../components/defaults";
import {
    WebServiceSpecInput, containerSpec, deploymentSpec, podSpec, serviceSpec,
} from "../../components/webService";
import {
    CREDENTIALS_ANNOTATION, DatabaseSpecInput, PGDATA, adoptPasswordScript, credentialsFingerprint, headlessServiceSpec, postgresContainer, statefulSetSpec,
} from "../../components/database";
import { ingressAnnotations, ingressSpec, sortedRoutes } from "../../components/ingress";
import { envVars, labelsFor, progressDeadlineFor, schedulingSpec } from "../../components/pod";
import { mirrorTag, repositoryFor } from "../../components/containerImage";
import { digestRef, registryHost } from "../../components/image";
import { promiseOf } from "../mocks";
import * as pulumi from "@pulumi/pulumi";

const backend: WebServiceSpecInput = {
    identity: { partOf: "shop", instance: "shop-dev", name: "backend", component: "backend" },
    image: "localhost:5001/shop-backend@sha256:abc",
    port: 3000,
    replicas: 2,
    env: { PORT: "3000", DB_PASSWORD: { secretKeyRef: { name: "db-credentials", key: "password" } } },
    probes: { liveness: "/healthz", readiness: "/readyz" },
    resources: { cpu: "100m", memory: "128Mi", memoryLimit: "256Mi" },
    imagePullSecrets: [],
    rollout: defaultRollout,
};

const database: DatabaseSpecInput = {
    identity: { partOf: "shop", instance: "shop-dev", name: "db", component: "database" },
    image: "localhost:5001/shop-postgres@sha256:def",
    database: "app",
    user: "app",
    uid: 999,
    storage: { size: "1Gi", className: "standard" },
    resources: { cpu: "100m", memory: "256Mi", memoryLimit: "512Mi" },
    imagePullSecrets: [],
    retainData: true,
    passwordSecretName: "db-credentials",
    serviceName: "db",
    credentialsFingerprint: "0123456789abcdef",
};

describe("spec builders", () => {
    it("labels every tier with the five recommended app.kubernetes.io labels", () => {
        assert.deepEqual(labelsFor(backend.identity), {
            "app.kubernetes.io/name": "backend",
            "app.kubernetes.io/instance": "shop-dev",
            "app.kubernetes.io/component": "backend",
            "app.kubernetes.io/part-of": "shop",
            "app.kubernetes.io/managed-by": "pulumi",
        });
    });

    it("feeds one label set to the Deployment selector, the pod template and the Service selector", () => {
        const deployment = deploymentSpec(backend);
        const labels = labelsFor(backend.identity);
        assert.deepEqual(deployment.selector, { matchLabels: labels });
        assert.deepEqual((deployment.template as any).metadata.labels, labels);
        assert.deepEqual(serviceSpec(backend.identity).selector, labels);
    });

    it("rolls out with maxUnavailable 0 and a progress deadline below Pulumi's timeout", () => {
        const spec = deploymentSpec({ ...backend, rollout: { timeoutSeconds: 300, maxSurge: 1, maxUnavailable: 0 } });
        assert.deepEqual(spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
        assert.equal(spec.progressDeadlineSeconds, 240);
        assert.ok(progressDeadlineFor(60) < 60);
    });

    it("runs web containers restricted: non-root, no privilege escalation, no capabilities, seccomp, read-only root", () => {
        const pod = podSpec(backend);
        const container = containerSpec(backend);
        assert.equal(pod.automountServiceAccountToken, false);
        assert.deepEqual(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        assert.deepEqual(container.securityContext, {
            runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
        });
        assert.deepEqual(container.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
        assert.deepEqual((pod.volumes as any[])[0], { name: "tmp", emptyDir: { sizeLimit: "64Mi" } });
    });

    it("probes liveness and readiness on separate paths of the named port", () => {
        const container = containerSpec(backend);
        assert.deepEqual((container.livenessProbe as any).httpGet, { path: "/healthz", port: "http" });
        assert.deepEqual((container.readinessProbe as any).httpGet, { path: "/readyz", port: "http" });
        assert.deepEqual(container.ports, [{ name: "http", containerPort: 3000, protocol: "TCP" }]);
    });

    it("asks a starting server every second whether it answers (the liveness path, so a database down at start restarts nothing), for two minutes", () => {
        const probe = containerSpec(backend).startupProbe as any;
        assert.deepEqual(probe.httpGet, { path: "/healthz", port: "http" });
        assert.equal(probe.periodSeconds, 1);
        assert.equal(probe.periodSeconds * probe.failureThreshold, 120);
    });

    it("sets CPU and memory requests and a memory limit but no CPU limit", () => {
        assert.deepEqual(containerSpec(backend).resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } });
    });

    it("passes secrets as secretKeyRef and plain values as value", () => {
        assert.deepEqual(envVars(backend.env), [
            { name: "PORT", value: "3000" },
            { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } } },
        ]);
    });

    it("treats an Output as a plain value, not as a secret reference", async () => {
        const [entry] = envVars({ DB_HOST: pulumi.output("db") });
        assert.equal(await promiseOf(pulumi.output(entry.value as pulumi.Input<string>)), "db");
        assert.equal(entry.valueFrom, undefined);
    });

    it("adds pull secrets and scheduling only when there are any", () => {
        const plain = podSpec(backend);
        assert.equal(plain.imagePullSecrets, undefined);
        assert.equal(plain.tolerations, undefined);
        assert.equal(plain.nodeSelector, undefined);
        const scheduled = podSpec({
            ...backend,
            imagePullSecrets: ["registry-credentials"],
            scheduling: { nodeSelector: { pool: "apps" }, tolerations: [{ key: "dedicated", operator: "Equal", value: "apps", effect: "NoSchedule" }] },
        });
        assert.deepEqual(scheduled.imagePullSecrets, [{ name: "registry-credentials" }]);
        assert.deepEqual(scheduled.nodeSelector, { pool: "apps" });
        assert.deepEqual(scheduled.tolerations, [{ key: "dedicated", operator: "Equal", value: "apps", effect: "NoSchedule" }]);
        assert.deepEqual(schedulingSpec({ affinity: { nodeAffinity: {} } }), { affinity: { nodeAffinity: {} } });
    });

    it("exposes web Services on port 80 forwarding to the container's named port", () => {
        assert.deepEqual(serviceSpec(backend.identity).ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
        assert.equal(serviceSpec(backend.identity).type, "ClusterIP");
    });

    it("runs PostgreSQL as uid/gid/fsGroup 999 with PGDATA in a subdirectory of its volume", () => {
        const spec = statefulSetSpec(database);
        const pod = (spec.template as any).spec;
        assert.deepEqual(pod.securityContext, {
            runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
        });
        const container = postgresContainer(database);
        assert.ok((container.env as any[]).some((e) => e.name === "PGDATA" && e.value === PGDATA));
        assert.ok(PGDATA.startsWith("/var/lib/postgresql/data/"));
        assert.deepEqual((container.volumeMounts as any[]).map((m) => m.mountPath), ["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"]);
    });

    it("checks PostgreSQL readiness with pg_isready for its own user and database", () => {
        const probe = postgresContainer(database).readinessProbe as any;
        assert.deepEqual(probe.exec.command, ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", "app", "-d", "app"]);
    });

    it("reads the database password from its Secret, never from a literal", () => {
        const env = postgresContainer(database).env as any[];
        assert.deepEqual(env.find((e) => e.name === "POSTGRES_PASSWORD"), {
            name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } },
        });
    });

    it("applies the Secret's password when the server starts, and restarts when the password changes", () => {
        const hook = (postgresContainer(database).lifecycle as any).postStart.exec.command;
        assert.deepEqual(hook.slice(0, 2), ["/bin/sh", "-c"]);
        assert.equal(hook[2], adoptPasswordScript());
        assert.match(hook[2], /-h \/var\/run\/postgresql -p 5432/);
        assert.deepEqual((statefulSetSpec(database).template as any).metadata.annotations, { [CREDENTIALS_ANNOTATION]: "0123456789abcdef" });
    });

    it("fingerprints a password with 16 hex digits of its SHA-256, never the password itself", () => {
        assert.equal(credentialsFingerprint("s3cret"), "1ec1c26b50d5d3c5");
        assert.notEqual(credentialsFingerprint("s3cret"), credentialsFingerprint("s3cret2"));
    });

    it("annotates a web tier's pod template only when asked", () => {
        assert.equal((deploymentSpec(backend).template as any).metadata.annotations, undefined);
        const annotated = deploymentSpec({ ...backend, podAnnotations: { [CREDENTIALS_ANNOTATION]: "0123456789abcdef" } });
        assert.deepEqual((annotated.template as any).metadata, { labels: labelsFor(backend.identity), annotations: { [CREDENTIALS_ANNOTATION]: "0123456789abcdef" } });
    });

    it("claims storage of the configured size and class, retained on delete unless data is not kept", () => {
        const spec = statefulSetSpec(database);
        const claim = (spec.volumeClaimTemplates as any[])[0];
        assert.deepEqual(claim.spec, { accessModes: ["ReadWriteOnce"], storageClassName: "standard", resources: { requests: { storage: "1Gi" } } });
        assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
        assert.equal((statefulSetSpec({ ...database, retainData: false }).persistentVolumeClaimRetentionPolicy as any).whenDeleted, "Delete");
        const defaultClass = (statefulSetSpec({ ...database, storage: { size: "1Gi" } }).volumeClaimTemplates as any[])[0];
        assert.equal(defaultClass.spec.storageClassName, undefined);
    });

    it("gives the database a headless Service on 5432", () => {
        assert.deepEqual(headlessServiceSpec(database.identity).clusterIP, "None");
        assert.deepEqual(headlessServiceSpec(database.identity).ports, [{ name: "postgres", port: 5432, targetPort: "postgres", protocol: "TCP" }]);
    });

    it("routes longer paths first so /api is not shadowed by /", () => {
        const frontend = { serviceName: pulumi.output("frontend"), servicePort: 80 };
        const api = { serviceName: pulumi.output("backend"), servicePort: 80 };
        assert.deepEqual(sortedRoutes([{ path: "/", backend: frontend }, { path: "/api", backend: api }]).map((r) => r.path), ["/api", "/"]);
    });

    it("builds an Ingress with class, host, Prefix paths and TLS only when asked", () => {
        const routes = [{ path: "/", backend: { serviceName: pulumi.output("frontend"), servicePort: 80 } }];
        const plain = ingressSpec({ className: "nginx", host: "app.example.com", routes });
        assert.equal(plain.ingressClassName, "nginx");
        assert.equal(plain.tls, undefined);
        assert.equal((plain.rules as any[])[0].host, "app.example.com");
        assert.equal((plain.rules as any[])[0].http.paths[0].pathType, "Prefix");
        const secure = ingressSpec({ className: "nginx", host: "app.example.com", routes, tls: { secretName: "app-tls" } });
        assert.deepEqual(secure.tls, [{ hosts: ["app.example.com"], secretName: "app-tls" }]);
    });

    it("annotates the Ingress for cert-manager and for not waiting on kind", () => {
        assert.deepEqual(ingressAnnotations({ tls: { secretName: "t", issuer: "letsencrypt" } }), { "cert-manager.io/cluster-issuer": "letsencrypt" });
        assert.deepEqual(ingressAnnotations({ awaitAddress: false }), { "pulumi.com/skipAwait": "true" });
        assert.deepEqual(ingressAnnotations({}), {});
    });

    it("names images inside the team's registry and pins them by digest", () => {
        assert.equal(repositoryFor("ghcr.io/acme/", "shop-backend"), "ghcr.io/acme/shop-backend");
        assert.equal(registryHost("ghcr.io/acme"), "ghcr.io");
        assert.equal(mirrorTag("postgres:17"), "17");
        assert.equal(mirrorTag(`postgres@sha256:${"a".repeat(64)}`), "mirror");
        assert.equal(digestRef("localhost:5001/x", "sha256:abc"), "localhost:5001/x@sha256:abc");
    });
});
