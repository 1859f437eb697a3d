import { IMAGE_TYPE } from "../../components/image";
import type { KubeObject, RecordedResource } from "../../tools/harness";
import type { RenderInput } from "../../tools/harness/manifests";

// Hand-built runs for the pure tests: objects, and the resources the harness would pair them with.

const labels = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop" });

export function resource(type: string, name: string, object: KubeObject, explicitName: boolean, extra: Partial<RecordedResource> = {}): RecordedResource {
    const inputs = explicitName ? object : { ...object, metadata: { ...object.metadata, name: undefined } };
    return { type, name, inputs, state: object, options: { protect: false, retainOnDelete: false, parent: "", provider: "" }, ...extra };
}

export const DIGEST = `sha256:${"ab".repeat(32)}`;
export const PINNED = `sha256:${"cd".repeat(32)}`;

export function deployment(name: string, image: string, replicas = 2): KubeObject {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: `shop-${name}-deployment-1a2b3c4d`, namespace: "shop", labels: labels(name) },
        spec: {
            replicas,
            selector: { matchLabels: labels(name) },
            template: { metadata: { labels: labels(name) }, spec: { containers: [{ name, image, ports: [{ name: "http", containerPort: 8080 }] }] } },
        },
    };
}

export function service(name: string, port = 80, extra: Record<string, unknown> = {}): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: "shop", labels: labels(name) },
        spec: { selector: labels(name), ports: [{ name: "http", port, targetPort: "http" }], ...extra },
    };
}

/** A small shop: Namespace, web Deployment + Service, Ingress, HPA, PDB, NetworkPolicy, CRD object, pull Secret. */
export function shop(): RenderInput {
    const web = deployment("web", `registry.example.com/team/web@${DIGEST}`);
    const pairs: [string, string, KubeObject, boolean][] = [
        ["kubernetes:core/v1:Namespace", "shop-namespace", { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } }, true],
        ["kubernetes:apps/v1:Deployment", "shop-web-deployment", web, false],
        ["kubernetes:core/v1:Service", "shop-web-service", service("web"), true],
        ["kubernetes:networking.k8s.io/v1:Ingress", "shop-ingress-ingress", {
            apiVersion: "networking.k8s.io/v1", kind: "Ingress",
            metadata: { name: "shop-ingress-ingress-9f8e7d6c", namespace: "shop" },
            spec: { rules: [{ host: "shop.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
        }, false],
        ["kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "shop-web-autoscaler", {
            apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler",
            metadata: { name: "shop-web-autoscaler-0a0b0c0d", namespace: "shop", labels: labels("web") },
            spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: web.metadata.name }, minReplicas: 2, maxReplicas: 5 },
        }, false],
        ["kubernetes:policy/v1:PodDisruptionBudget", "shop-web-disruption-budget", {
            apiVersion: "policy/v1", kind: "PodDisruptionBudget",
            metadata: { name: "shop-web-disruption-budget-11223344", namespace: "shop", labels: labels("web") },
            spec: { minAvailable: 1, selector: { matchLabels: labels("web") } },
        }, false],
        ["kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-default-deny", {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: "default-deny", namespace: "shop" }, spec: { podSelector: {}, policyTypes: ["Ingress"] },
        }, true],
        ["kubernetes:cert-manager.io/v1:Certificate", "shop-certificate", {
            apiVersion: "cert-manager.io/v1", kind: "Certificate",
            metadata: { name: "shop-tls", namespace: "shop" }, spec: { secretName: "shop-tls", dnsNames: ["shop.example.com"] },
        }, true],
        ["kubernetes:core/v1:Secret", "shop-pull-secret", {
            apiVersion: "v1", kind: "Secret", type: "kubernetes.io/dockerconfigjson",
            metadata: { name: "registry-credentials", namespace: "shop" }, stringData: { ".dockerconfigjson": "[secret]" },
        }, true],
    ];
    const resources: RecordedResource[] = [
        { type: IMAGE_TYPE, name: "shop-web-build", inputs: { repository: "registry.example.com/team/web", tag: "latest" }, state: { digest: DIGEST, ref: `registry.example.com/team/web@${DIGEST}` }, options: { protect: false, retainOnDelete: false, parent: "", provider: "" } },
        ...pairs.map(([type, name, object, explicit]) => resource(type, name, object, explicit)),
    ];
    return { stack: "test", resources, objects: pairs.map(([, , object]) => object) };
}
