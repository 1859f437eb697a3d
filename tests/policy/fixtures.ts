import { Container, PodSpec } from "../../policy/workloads";

/**
 * Manifests that pass every launchpad policy, built fresh on each call so a test can break exactly
 * one field of its own copy.
 */

export const DIGEST = "sha256:" + "ab12".repeat(16);
export const NAMESPACE = "launchpad-dev";

export function compliantContainer(name = "api"): Container {
    return {
        name,
        image: `localhost:5001/launchpad-${name}@${DIGEST}`,
        ports: [{ name: "http", containerPort: 8080 }],
        securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        },
        resources: {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
        },
        readinessProbe: { httpGet: { path: "/healthz", port: "http" } },
        livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
    };
}

export function compliantPodSpec(...containers: Container[]): PodSpec {
    return {
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        },
        containers: containers.length > 0 ? containers : [compliantContainer()],
        volumes: [{ name: "tmp", emptyDir: {} }],
    };
}

const labels = (component: string) => ({ "app.kubernetes.io/name": "launchpad", "app.kubernetes.io/component": component });

export function deployment(podSpec: PodSpec = compliantPodSpec(), name = "backend") {
    return {
        metadata: { name, namespace: NAMESPACE, labels: labels(name) },
        spec: {
            replicas: 2,
            selector: { matchLabels: labels(name) },
            template: { metadata: { labels: labels(name) }, spec: podSpec },
        },
    };
}

export function statefulSet(podSpec: PodSpec = compliantPodSpec(compliantContainer("postgres")), name = "database") {
    return {
        metadata: { name, namespace: NAMESPACE, labels: labels(name) },
        spec: {
            serviceName: name,
            selector: { matchLabels: labels(name) },
            template: { metadata: { labels: labels(name) }, spec: podSpec },
        },
    };
}

export function job(podSpec: PodSpec, name = "migrate") {
    return { metadata: { name, namespace: NAMESPACE }, spec: { template: { spec: { ...podSpec, restartPolicy: "Never" } } } };
}

export function cronJob(podSpec: PodSpec, name = "backup") {
    return {
        metadata: { name, namespace: NAMESPACE },
        spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: "OnFailure" } } } } },
    };
}

export function pod(podSpec: PodSpec, name = "debug") {
    return { metadata: { name, namespace: NAMESPACE }, spec: podSpec };
}

export function service(component: string, type?: string, name = component) {
    return {
        metadata: { name, namespace: NAMESPACE, labels: labels(component) },
        spec: { type, selector: labels(component), ports: [{ port: 80, targetPort: "http" }] },
    };
}

export function ingress(spec: Record<string, unknown>, name = "frontend") {
    return {
        metadata: { name, namespace: NAMESPACE },
        spec: {
            rules: [{ host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix",
                backend: { service: { name: "frontend", port: { number: 80 } } } }] } }],
            ...spec,
        },
    };
}

export function networkPolicy(spec: Record<string, unknown>, name = "default-deny", namespace: string | undefined = NAMESPACE) {
    return { metadata: { name, namespace }, spec };
}

export const DEFAULT_DENY = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
