import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { KubeObject } from "../../tools/harness";
import { toDot } from "../../tools/diagram/dot";
import { runDiagram } from "../../tools/diagram/main";
import { toMermaid } from "../../tools/diagram/mermaid";
import { buildModel, DiagramModel, splitImage } from "../../tools/diagram/model";
import { dotToSvg } from "../../tools/diagram/svg";
import { deployment, service, shop } from "./fixtures";

// The picture is a pure function of the objects: browser → Ingress → Services → workloads →
// database, inside the namespace, with the registry the images come from.

function threeTiers(): KubeObject[] {
    const web = deployment("web", "localhost:5001/shop-web@sha256:PLACEHOLDER-set-by-pulumi-up", 2);
    const api = deployment("api", `localhost:5001/shop-api@sha256:${"0123456789ab".repeat(5)}0123`, 3);
    api.spec.template.spec.containers[0].env = [
        { name: "DB_HOST", value: "db" },
        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } } },
    ];
    const dbLabels = { "app.kubernetes.io/name": "db", "app.kubernetes.io/part-of": "shop" };
    const db: KubeObject = {
        apiVersion: "apps/v1", kind: "StatefulSet",
        metadata: { name: "db", namespace: "shop", labels: dbLabels },
        spec: {
            serviceName: "db", selector: { matchLabels: dbLabels },
            template: { metadata: { labels: dbLabels }, spec: { containers: [{ name: "postgres", image: "postgres:17" }] } },
            volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: "5Gi" } }, storageClassName: "fast" } }],
        },
    };
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
        web, api, db,
        service("web"), service("api"), service("db", 5432, { clusterIP: "None" }),
        { apiVersion: "v1", kind: "Secret", metadata: { name: "db-credentials", namespace: "shop" }, stringData: { password: "[secret]" } },
        {
            apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "shop", namespace: "shop" },
            spec: {
                ingressClassName: "nginx",
                tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }],
                rules: [{ host: "shop.example.com", http: { paths: [
                    { path: "/api", pathType: "Prefix", backend: { service: { name: "api", port: { number: 80 } } } },
                    { path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } },
                ] } }],
            },
        },
        {
            apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "api", namespace: "shop" },
            spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: api.metadata.name }, minReplicas: 3, maxReplicas: 9 },
        },
        { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "deny", namespace: "shop" }, spec: { podSelector: {} } },
        { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "dns", namespace: "shop" }, spec: { podSelector: {} } },
        { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "shop" }, spec: { minAvailable: 1 } },
    ];
}

const node = (model: DiagramModel, title: string) => {
    const found = model.nodes.find((n) => n.title === title);
    assert.ok(found, `no node ${title}; nodes: ${model.nodes.map((n) => n.title).join(", ")}`);
    return found;
};
const edge = (model: DiagramModel, from: string, to: string) => model.edges.find((e) => e.from === node(model, from).id && e.to === node(model, to).id);

describe("the diagram model", () => {
    const model = buildModel("test", threeTiers());

    it("routes the browser to the Ingress by URL, and the Ingress to each Service by path", () => {
        assert.equal(edge(model, "browser", "Ingress shop")?.label, "https://shop.example.com");
        assert.deepEqual(node(model, "Ingress shop").details, ["class nginx", "host shop.example.com", "TLS from Secret shop-tls"]);
        assert.equal(edge(model, "Ingress shop", "Service api")?.label, "/api");
        assert.equal(edge(model, "Ingress shop", "Service web")?.label, "/");
    });

    it("shows each Service's ports and links it to the workloads its selector matches, and only those", () => {
        assert.deepEqual(node(model, "Service db").details, [":5432 → http", "headless"]);
        assert.ok(edge(model, "Service web", "Deployment web"));
        assert.ok(!edge(model, "Service web", "Deployment api"));
        assert.ok(edge(model, "Service db", "StatefulSet db"));
    });

    it("shows replicas (or the autoscaler's range) and the image, a placeholder digest whole and a real one shortened", () => {
        assert.deepEqual(node(model, "Deployment web").details, ["replicas 2", "image shop-web", "@sha256:PLACEHOLDER-set-by-pulumi-up"]);
        assert.deepEqual(node(model, "Deployment api").details, ["replicas 3–9 (autoscaled)", "image shop-api", "@sha256:0123456789ab…"]);
    });

    it("draws a workload with volume claims as the database, with its storage", () => {
        const db = node(model, "StatefulSet db");
        assert.equal(db.kind, "database");
        assert.deepEqual(db.details, ["replicas 1", "image postgres:17", "volume data 5Gi (fast)"]);
    });

    it("links a tier to the Service its environment names, and a Secret to the workloads that read it", () => {
        assert.equal(edge(model, "Deployment api", "Service db")?.label, "DB_HOST");
        assert.deepEqual(edge(model, "Secret db-credentials", "Deployment api"), { from: "secret_db_credentials", to: "deployment_api", label: "DB_PASSWORD", dashed: true });
    });

    it("puts the app inside the namespace and each registry outside, linked to the workloads it serves", () => {
        assert.equal(model.namespace, "namespace shop");
        assert.ok(model.nodes.filter((n) => n.kind !== "user" && n.kind !== "registry").every((n) => n.inNamespace));
        assert.deepEqual(node(model, "registry localhost:5001").details, ["images pulled by digest"]);
        assert.ok(edge(model, "registry localhost:5001", "Deployment api")?.dashed);
        assert.deepEqual(node(model, "registry docker.io").details, ["images pulled by tag"]);
    });

    it("counts the objects it does not draw, so none disappears silently", () => {
        assert.deepEqual(node(model, "also in the namespace").details, ["2 NetworkPolicies", "1 PodDisruptionBudget"]);
    });

    it("is the same whatever order the objects come in", () => {
        assert.deepEqual(buildModel("test", [...threeTiers()].reverse()), model);
    });

    it("splits image references into registry and what to show", () => {
        assert.deepEqual(splitImage("ghcr.io/acme/app@sha256:PLACEHOLDER-set-by-pulumi-up"), { registry: "ghcr.io/acme", shown: "app@sha256:PLACEHOLDER-set-by-pulumi-up", byDigest: true });
        assert.deepEqual(splitImage("localhost:5001/app:1.2"), { registry: "localhost:5001", shown: "app:1.2", byDigest: false });
        assert.deepEqual(splitImage("bitnami/postgresql:16"), { registry: "docker.io", shown: "bitnami/postgresql:16", byDigest: false });
    });
});

describe("the diagram as Mermaid and as Graphviz", () => {
    const model = buildModel("test", threeTiers());

    it("writes a Mermaid flowchart with the namespace as a subgraph and quoted, escaped labels", () => {
        const text = toMermaid(buildModel("test", [...threeTiers(), service('say-"hi"')]));
        assert.match(text, /^flowchart LR\n/);
        assert.match(text, /\n {2}subgraph ns\["namespace shop"\]\n/);
        assert.match(text, /\n {4}statefulset_db\[\("<b>StatefulSet db<\/b><br\/>replicas 1<br\/>image postgres:17<br\/>volume data 5Gi \(fast\)"\)\]:::database\n/);
        assert.match(text, /\n {2}ingress_shop -->\|"\/api"\| service_api\n/);
        assert.match(text, /\n {2}secret_db_credentials -.->\|"DB_PASSWORD"\| deployment_api\n/);
        assert.match(text, /<b>Service say-#quot;hi#quot;<\/b>/);
    });

    it("draws the same model as an SVG through Graphviz compiled to WebAssembly", async () => {
        const svg = await dotToSvg(toDot(model));
        assert.match(svg, /^<\?xml/);
        for (const text of ["namespace shop", "Ingress shop", "Service api", "replicas 3–9 (autoscaled)", "volume data 5Gi (fast)", "registry localhost:5001"]) {
            assert.ok(svg.includes(text), text);
        }
    });
});

describe("npm run diagram", () => {
    it("writes <app>-<stack>.mmd and .svg into --out", async () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-diagram-"));
        const result = await runDiagram(["--stack", "test", "--out", out], { loadStack: async () => ({ ...shop(), config: { appName: "shop" } }), toSvg: async () => "<svg/>" });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(fs.readdirSync(out).sort(), ["shop-test.mmd", "shop-test.svg"]);
        assert.match(fs.readFileSync(path.join(out, "shop-test.mmd"), "utf8"), /^%% .*\nflowchart LR\n/);
    });

    it("prints the Mermaid text with --print and writes nothing", async () => {
        const result = await runDiagram(["--stack", "test", "--print", "--out", "/nonexistent/never"], { loadStack: async () => shop() });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /\nflowchart LR\n[\s\S]*Deployment web/);
    });

    it("draws the dev stack when --stack is not given, as every command does", async () => {
        const asked: string[] = [];
        const result = await runDiagram(["--print"], { loadStack: async (stack) => (asked.push(stack), shop()) });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(asked, ["dev"]);
    });

    it("refuses an unknown stack with one line and exit code 2", async () => {
        const result = await runDiagram(["--stack", "staging"]);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /^diagram: unknown stack "staging": there is no Pulumi\.staging\.yaml .*\n$/);
    });
});
