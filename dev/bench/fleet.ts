import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { TierIdentity, WebService, fromSecret } from "../../components";

// The synthetic app the benchmark grows: one namespace, one Secret, and `count` web services built
// through the component API exactly as App builds its tiers, each with every extra a WebService can
// have (env from a Secret, pull secret, scheduling, autoscaler and disruption budget), so the cost per
// service measured on it is an upper bound for a real tier.

/** An image pinned by digest, as ContainerImage's `ref` would give it. */
export const FLEET_IMAGE = `registry.example.com/fleet/web@sha256:${"0".repeat(64)}`;

/** The kube context the fleet deploys to unless told otherwise (under mocks nothing is reached). */
export const FLEET_CONTEXT = "kind-fleet";

/** Creates the fleet's shared objects and `count` WebServices named `web-1` … `web-<count>`, on the cluster of `context`. */
export function createFleet(count: number, context = FLEET_CONTEXT): WebService[] {
    if (!Number.isInteger(count) || count < 1) throw new Error(`a fleet needs a whole number of web services of 1 or more, not ${count}`);
    const provider = new k8s.Provider("fleet-cluster", { context });
    const namespace = new k8s.core.v1.Namespace("fleet-namespace", { metadata: { name: "fleet" } }, { provider });
    const ns = namespace.metadata.name;
    const credentials = new k8s.core.v1.Secret("fleet-credentials", {
        metadata: { name: "fleet-credentials", namespace: ns },
        stringData: { password: pulumi.secret("not-a-real-password") },
    }, { provider });
    const pullSecret = new k8s.core.v1.Secret("fleet-registry", {
        metadata: { name: "registry-credentials", namespace: ns },
        type: "kubernetes.io/dockerconfigjson",
        stringData: { ".dockerconfigjson": pulumi.secret("{\"auths\":{}}") },
    }, { provider });

    const services: WebService[] = [];
    for (let i = 1; i <= count; i++) {
        const identity: TierIdentity & { component: "backend" } = { partOf: "fleet", instance: "fleet-bench", name: `web-${i}`, component: "backend" };
        services.push(new WebService(`web-${i}`, {
            namespace: ns,
            identity,
            image: FLEET_IMAGE,
            port: 8080,
            replicas: 2,
            env: { PORT: "8080", LOG_LEVEL: "info", DB_PASSWORD: fromSecret(credentials, "password") },
            probes: { liveness: "/healthz", readiness: "/readyz" },
            resources: { cpu: "100m", memory: "128Mi", memoryLimit: "256Mi" },
            scheduling: { nodeSelector: { pool: "apps" }, tolerations: [{ key: "dedicated", operator: "Equal", value: "apps", effect: "NoSchedule" }] },
            imagePullSecrets: [pullSecret.metadata.name],
            autoscaling: { minReplicas: 2, maxReplicas: 5, cpuTargetPercent: 70 },
        }, { providers: [provider] }));
    }
    return services;
}
