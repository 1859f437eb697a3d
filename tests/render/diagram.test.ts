import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { KubeObject } from "../../tools/harness";
import { IMAGE_TYPE } from "../../components/image";
import { networkPolicySpecs } from "../../components/networkPolicies";
import { labelsFor, Tier, TierIdentity } from "../../components/pod";
import { CHAR_WIDTH, FONT_SIZE, toDot } from "../../tools/diagram/dot";
import { runDiagram } from "../../tools/diagram/main";
import { toMermaid } from "../../tools/diagram/mermaid";
import { buildModel, DiagramModel, imageOrigins, splitImage } from "../../tools/diagram/model";
import { matchesSelector, readNetworkPolicies } from "../../tools/diagram/network";
import { centreNodeText, dotToSvg } from "../../tools/diagram/svg";
import { PLACEHOLDER_DIGEST } from "../../tools/harness/manifests";
import { ROOT } from "../../tools/harness";
import { deployment, DIGEST, resource, service, shop } from "./fixtures";

// The picture is a pure function of the objects: browser → ingress controller → Services →
// workloads → database, inside the namespace, with the traffic its NetworkPolicies allow and the
// registry the images come from.

const identity = (name: string, component: Tier): TierIdentity => ({ partOf: "shop", instance: "shop-test", name, component });
const tiers = { web: identity("web", "frontend"), api: identity("api", "backend"), db: identity("db", "database") };
const POLICY_ARGS = { frontend: tiers.web, backend: tiers.api, database: tiers.db, ingressNamespace: "ingress-nginx", backendEgress: [{ cidr: "203.0.113.0/24", port: 443 }] };

/** The NetworkPolicies the program creates for these tiers (components/networkPolicies.ts), as objects. */
function policies(specs = networkPolicySpecs(POLICY_ARGS)): KubeObject[] {
    return Object.entries(specs).map(([name, spec]) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: "shop" }, spec }));
}

/** A workload whose pods carry the tier's labels, and a Service selecting them. */
function labelled<T extends KubeObject>(object: T, tier: TierIdentity): T {
    if (object.kind === "Service") object.spec.selector = labelsFor(tier);
    else object.spec.template.metadata.labels = labelsFor(tier);
    return object;
}

function threeTiers(networkPolicies: KubeObject[] = policies()): KubeObject[] {
    const web = labelled(deployment("web", `localhost:5001/shop-web@${PLACEHOLDER_DIGEST}`, 2), tiers.web);
    const api = labelled(deployment("api", `localhost:5001/shop-api@sha256:${"0123456789ab".repeat(5)}0123`, 3), tiers.api);
    api.spec.template.spec.containers[0].env = [
        { name: "DB_HOST", value: "db" },
        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } } },
    ];
    const dbLabels = labelsFor(tiers.db);
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
        labelled(service("web"), tiers.web), labelled(service("api"), tiers.api), labelled(service("db", 5432, { clusterIP: "None" }), tiers.db),
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
        ...networkPolicies,
        { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "shop" }, spec: { minAvailable: 1 } },
    ];
}

const ORIGINS = new Map([["localhost:5001/shop-web", "built from apps/web"], ["localhost:5001/shop-api", "built from apps/api"]]);

const node = (model: DiagramModel, title: string) => {
    const found = model.nodes.find((n) => n.title === title);
    assert.ok(found, `no node ${title}; nodes: ${model.nodes.map((n) => n.title).join(", ")}`);
    return found;
};
const edge = (model: DiagramModel, from: string, to: string) => model.edges.find((e) => e.from === node(model, from).id && e.to === node(model, to).id);

describe("the diagram model", () => {
    const model = buildModel("test", threeTiers(), { origins: ORIGINS });

    it("routes the browser to the ingress controller by URL, and the controller to each Service by path", () => {
        assert.deepEqual(edge(model, "browser", "ingress controller"), { from: "user", to: "ingress_shop", label: "https://shop.example.com", kind: "traffic" });
        const controller = node(model, "ingress controller");
        assert.deepEqual(controller.details, ["class nginx", "in namespace ingress-nginx", "Ingress shop", "host shop.example.com", "TLS from Secret shop-tls"]);
        assert.equal(controller.inNamespace, false);
        assert.deepEqual(edge(model, "ingress controller", "Service api"), { from: "ingress_shop", to: "service_api", label: "/api", kind: "traffic" });
        assert.equal(edge(model, "ingress controller", "Service web")?.label, "/");
    });

    it("shows each Service's ports and links it to the workloads its selector matches, and only those", () => {
        assert.deepEqual(node(model, "Service db").details, [":5432 → http", "headless"]);
        assert.ok(edge(model, "Service web", "Deployment web"));
        assert.ok(!edge(model, "Service web", "Deployment api"));
        assert.ok(edge(model, "Service db", "StatefulSet db"));
    });

    it("shows replicas (or the autoscaler's range), the image and where it is built, and never a placeholder digest", () => {
        assert.deepEqual(node(model, "Deployment web").details, ["replicas 2", "image shop-web", "built from apps/web", "only from ingress controller"]);
        assert.deepEqual(node(model, "Deployment api").details, ["replicas 3–9 (autoscaled)", "image shop-api@sha256:0123456789ab…", "built from apps/api", "only from ingress controller"]);
        assert.ok(!JSON.stringify(model).includes("PLACEHOLDER"), JSON.stringify(model));
    });

    it("draws a workload with volume claims as the database, with its storage and the only tier that may connect", () => {
        const db = node(model, "StatefulSet db");
        assert.equal(db.kind, "database");
        assert.deepEqual(db.details, ["replicas 1", "image postgres:17", "volume data 5Gi (fast)", "only from api"]);
    });

    it("links a tier to the Service its environment names, and a Secret to the workloads that read it", () => {
        assert.deepEqual(edge(model, "Deployment api", "Service db"), { from: "deployment_api", to: "service_db", label: "DB_HOST", kind: "traffic" });
        assert.deepEqual(edge(model, "Secret db-credentials", "Deployment api"), { from: "secret_db_credentials", to: "deployment_api", label: "DB_PASSWORD", kind: "reference" });
    });

    it("says in a note what the NetworkPolicies allow beyond the arrows, and that they deny the rest", () => {
        const note = node(model, "6 NetworkPolicies");
        assert.deepEqual(note.details, ["allow the solid arrows", "and api → 203.0.113.0/24 :443", "and api, web → kube-system :53 (DNS)", "and deny all other traffic"]);
        assert.equal(note.inNamespace, true);
    });

    it("puts the app inside the namespace, and the browser, ingress controller and registries outside", () => {
        assert.equal(model.namespace, "namespace shop");
        assert.deepEqual(model.nodes.filter((n) => !n.inNamespace).map((n) => n.kind).sort(), ["ingress", "registry", "registry", "user"]);
        assert.deepEqual(node(model, "registry localhost:5001").details, ["images of api, web", "pulled by digest"]);
        assert.deepEqual(node(model, "registry docker.io").details, ["images of db", "pulled by tag"]);
    });

    it("counts the objects it does not draw, so none disappears silently", () => {
        assert.deepEqual(node(model, "also in the namespace").details, ["1 PodDisruptionBudget"]);
    });

    it("is the same whatever order the objects come in", () => {
        assert.deepEqual(buildModel("test", [...threeTiers()].reverse(), { origins: ORIGINS }), model);
    });

    it("splits image references into registry, name and what to show, leaving a placeholder digest out", () => {
        assert.deepEqual(splitImage(`ghcr.io/acme/app@${PLACEHOLDER_DIGEST}`), { registry: "ghcr.io/acme", name: "ghcr.io/acme/app", shown: "app", byDigest: true });
        assert.deepEqual(splitImage(`ghcr.io/acme/app@sha256:${"ab".repeat(32)}`), { registry: "ghcr.io/acme", name: "ghcr.io/acme/app", shown: "app@sha256:abababababab…", byDigest: true });
        assert.deepEqual(splitImage("localhost:5001/app:1.2"), { registry: "localhost:5001", name: "localhost:5001/app:1.2", shown: "app:1.2", byDigest: false });
        assert.deepEqual(splitImage("bitnami/postgresql:16"), { registry: "docker.io", name: "bitnami/postgresql:16", shown: "bitnami/postgresql:16", byDigest: false });
    });

    it("reads where each image comes from off the program's image resources", () => {
        const image = (name: string, state: Record<string, unknown>) => resource(IMAGE_TYPE, name, { apiVersion: "", kind: "", metadata: { name } }, true, { state });
        const origins = imageOrigins([
            image("web", { repository: "localhost:5001/shop-web", build: { context: "apps/web" }, ref: `localhost:5001/shop-web@${DIGEST}` }),
            image("db", { repository: "localhost:5001/shop-postgres", mirror: { source: "postgres:17" } }),
            resource("kubernetes:core/v1:Service", "svc", service("web"), true),
        ]);
        assert.deepEqual([...origins], [["localhost:5001/shop-web", "built from apps/web"], ["localhost:5001/shop-postgres", "mirrored from postgres:17"]]);
    });
});

describe("the diagram's traffic, from the NetworkPolicies", () => {
    const without = (...names: string[]) => {
        const specs = networkPolicySpecs(POLICY_ARGS);
        for (const name of names) delete specs[name];
        return policies(specs);
    };

    it("blocks the backend's route to the database when no policy lets the database accept it", () => {
        const model = buildModel("test", threeTiers(without("allow-backend-to-database")));
        assert.deepEqual(edge(model, "Deployment api", "Service db"), { from: "deployment_api", to: "service_db", label: "DB_HOST (blocked)", kind: "blocked" });
        assert.ok(node(model, "StatefulSet db").details.includes("no one may connect"));
        assert.ok(node(model, "5 NetworkPolicies").details.includes("and block the red dashed arrows"));
    });

    it("blocks it as well when the backend may not open the connection", () => {
        const model = buildModel("test", threeTiers(without("allow-backend-egress")));
        assert.equal(edge(model, "Deployment api", "Service db")?.kind, "blocked");
        assert.ok(node(model, "StatefulSet db").details.includes("no one may connect"), "the database's own policy admits the backend, but a connection needs both ends");
    });

    it("blocks the ingress controller's route to a web tier that admits nothing from outside", () => {
        const model = buildModel("test", threeTiers(without("allow-ingress-to-frontend")));
        assert.equal(edge(model, "ingress controller", "Service web")?.kind, "blocked");
        assert.equal(edge(model, "ingress controller", "Service api")?.kind, "traffic");
        assert.ok(node(model, "Deployment web").details.includes("no one may connect"));
    });

    it("names every tier that may connect to the database once both ends allow it, so a second client shows", () => {
        const dbAdmitsWeb = { podSelector: { matchLabels: labelsFor(tiers.db) }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: labelsFor(tiers.web) } }] }] };
        const webCallsDb = { podSelector: { matchLabels: labelsFor(tiers.web) }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: labelsFor(tiers.db) } }] }] };
        const halfOpen = buildModel("test", threeTiers([...policies(), ...policies({ "db-admits-web": dbAdmitsWeb })]));
        assert.ok(node(halfOpen, "StatefulSet db").details.includes("only from api"), "web's egress is still denied");
        const open = buildModel("test", threeTiers([...policies(), ...policies({ "db-admits-web": dbAdmitsWeb, "web-calls-db": webCallsDb })]));
        assert.ok(node(open, "StatefulSet db").details.includes("only from api, web"));
    });

    it("draws every route as allowed and says so when there is no NetworkPolicy", () => {
        const model = buildModel("test", threeTiers([]));
        assert.deepEqual(model.edges.filter((e) => e.kind === "blocked"), []);
        assert.deepEqual(node(model, "no NetworkPolicy").details, ["every pod may connect", "to every other"]);
        assert.ok(!node(model, "StatefulSet db").details.some((d) => d.startsWith("only from")));
        assert.deepEqual(node(model, "ingress controller").details, ["class nginx", "Ingress shop", "host shop.example.com", "TLS from Secret shop-tls"]);
    });

    it("says which tiers stay open when the policies isolate only some", () => {
        const model = buildModel("test", threeTiers(without("default-deny")));
        // Without the default deny, no policy limits where the database connects to.
        assert.deepEqual(node(model, "5 NetworkPolicies").details, ["allow the solid arrows", "and api → 203.0.113.0/24 :443", "and api, web → kube-system :53 (DNS)", "and let call anything: db"]);
        const open = buildModel("test", threeTiers(without("default-deny", "allow-backend-to-database")));
        assert.ok(node(open, "4 NetworkPolicies").details.includes("but leave open to all: db"));
    });
});

describe("reading NetworkPolicies", () => {
    const pod = (labels: Record<string, string>): KubeObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "shop", labels }, spec: {} });
    const objects = (...specs: object[]) => specs.map((spec, i): KubeObject => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: `p${i}`, namespace: "shop" }, spec }));

    it("matches label selectors as Kubernetes does, the empty one matching everything", () => {
        const labels = { tier: "web", team: "a" };
        assert.ok(matchesSelector({}, labels));
        assert.ok(matchesSelector({ matchLabels: { tier: "web" }, matchExpressions: [{ key: "team", operator: "In", values: ["a", "b"] }] }, labels));
        assert.ok(!matchesSelector({ matchExpressions: [{ key: "team", operator: "NotIn", values: ["a"] }] }, labels));
        assert.ok(matchesSelector({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }, { key: "tier", operator: "Exists" }] }, labels));
        assert.ok(!matchesSelector({ matchLabels: { tier: "api" } }, labels));
    });

    it("isolates a pod only in the directions a policy selecting it names (Ingress when it names none)", () => {
        const web = pod({ tier: "web" });
        const egressOnly = readNetworkPolicies(objects({ podSelector: {}, policyTypes: ["Egress"] }), "shop");
        assert.deepEqual([egressOnly.isolated(web, "Ingress"), egressOnly.isolated(web, "Egress")], [false, true]);
        const untyped = readNetworkPolicies(objects({ podSelector: { matchLabels: { tier: "web" } } }), "shop");
        assert.deepEqual([untyped.isolated(web, "Ingress"), untyped.isolated(web, "Egress")], [true, false]);
        assert.equal(untyped.isolated(pod({ tier: "api" }), "Ingress"), false);
    });

    it("allows a connection only when both ends' policies allow it, and pods of another namespace only by namespace", () => {
        const web = pod({ tier: "web" });
        const api = pod({ tier: "api" });
        const view = readNetworkPolicies(objects(
            { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            { podSelector: { matchLabels: { tier: "api" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { tier: "web" } } }, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "edge" } } }] }] },
        ), "shop");
        assert.equal(view.allows({ workload: web }, api), false, "web's egress is denied");
        assert.equal(view.allows({ namespace: "edge" }, api), true);
        assert.equal(view.allows({ namespace: "other" }, api), false);
        assert.deepEqual(view.outsideIngress(api), [{ where: "namespace edge", ports: "" }]);
        const opened = readNetworkPolicies(objects(
            { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            { podSelector: { matchLabels: { tier: "web" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { tier: "api" } } }] }] },
            { podSelector: { matchLabels: { tier: "api" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { tier: "web" } } }] }] },
        ), "shop");
        assert.equal(opened.allows({ workload: web }, api), true);
        assert.equal(opened.allows({ workload: api }, web), false);
    });

    it("ignores the policies of other namespaces", () => {
        const foreign = objects({ podSelector: {}, policyTypes: ["Ingress"] }).map((p) => ({ ...p, metadata: { ...p.metadata, namespace: "elsewhere" } }));
        const view = readNetworkPolicies(foreign, "shop");
        assert.equal(view.policies, 0);
        assert.equal(view.isolated(pod({}), "Ingress"), false);
    });
});

describe("the diagram as Mermaid and as Graphviz", () => {
    const model = buildModel("test", threeTiers(), { origins: ORIGINS });

    it("writes a top-to-bottom Mermaid flowchart with the namespace as a subgraph and quoted, escaped labels", () => {
        const text = toMermaid(buildModel("test", [...threeTiers(), service('say-"hi"')]));
        assert.match(text, /^flowchart TB\n/);
        assert.match(text, /\n {2}subgraph ns\["namespace shop"\]\n {4}direction TB\n/);
        assert.match(text, /\n {4}statefulset_db\[\("<b>StatefulSet db<\/b><br\/>replicas 1<br\/>image postgres:17<br\/>volume data 5Gi \(fast\)<br\/>only from api"\)\]:::database\n/);
        assert.match(text, /<b>Service say-#quot;hi#quot;<\/b>/);
    });

    it("draws allowed traffic thick, references dotted and blocked routes red, by each edge's place in the list", () => {
        const blocked = buildModel("test", threeTiers(policies(Object.fromEntries(Object.entries(networkPolicySpecs(POLICY_ARGS)).filter(([name]) => name !== "allow-backend-to-database")))));
        const text = toMermaid(blocked);
        const links = text.split("\n").filter((l) => / (==>|-\.->)/.test(l));
        const index = (pattern: RegExp) => links.findIndex((l) => pattern.test(l));
        assert.match(links[index(/^ {2}ingress_shop ==>\|"\/api"\| service_api$/)], /==>/);
        assert.ok(index(/^ {2}secret_db_credentials -\.->\|"DB_PASSWORD"\| deployment_api$/) >= 0);
        const red = index(/^ {2}deployment_api -\.->\|"DB_HOST \(blocked\)"\| service_db$/);
        assert.ok(red >= 0, text);
        assert.match(text, new RegExp(`\\n {2}linkStyle (\\d+,)*${red}(,\\d+)* stroke:#c5221f,`));
    });

    it("keeps the notes and the registries at the bottom, in both pictures", () => {
        assert.match(toMermaid(model), /\n {2}statefulset_db ~~~ network\n/);
        assert.match(toMermaid(model), /\n {2}also ~~~ registry_docker_io\n/);
        assert.match(toDot(model), /\n {2}network -> also \[style=invis, weight=8\];\n/);
    });

    it("lays the SVG out top to bottom, every box wider than its longest line in a wide fallback font", () => {
        const dot = toDot(model);
        assert.match(dot, /rankdir=TB/);
        const widest = Math.max(...["allow the solid arrows", "and api, web → kube-system :53 (DNS)"].map((t) => t.length)) * CHAR_WIDTH.regular * FONT_SIZE.node;
        const width = Number(/\n {4}network \[.*width=([\d.]+),/.exec(dot)?.[1]) * 72;
        assert.ok(width >= widest, `${width} < ${widest}`);
    });

    it("centres each line of a node on the node, whatever Graphviz estimated, and leaves edge labels alone", () => {
        const svg = [
            '<g id="node1" class="node"><title>a</title><polygon points="10,-5 110,-5 110,-40 10,-40 10,-5"/>',
            '<text xml:space="preserve" text-anchor="start" x="31.5" y="-20">wide</text></g>',
            '<g id="edge1" class="edge"><text xml:space="preserve" text-anchor="start" x="7" y="-3">label</text></g>',
        ].join("\n");
        const centred = centreNodeText(svg);
        assert.match(centred, /text-anchor="middle" x="60" y="-20">wide</);
        assert.match(centred, /text-anchor="start" x="7" y="-3">label</);
    });

    it("draws the same model as an SVG through Graphviz compiled to WebAssembly", async () => {
        const svg = await dotToSvg(toDot(model));
        assert.match(svg, /^<\?xml/);
        for (const text of ["namespace shop", "ingress controller", "Service api", "replicas 3–9 (autoscaled)", "volume data 5Gi (fast)", "registry localhost:5001", "only from api"]) {
            assert.ok(svg.includes(text), text);
        }
    });
});

/** The nodes of a Graphviz SVG: id, extent of the shape, and each text line with its centre and size. */
function svgNodes(svg: string): Map<string, { left: number; right: number; top: number; lines: { text: string; x: number; size: number; bold: boolean }[] }> {
    const nodes = new Map();
    for (const [, body] of svg.matchAll(/<g id="node\d+" class="node">([\s\S]*?)<\/g>/g)) {
        const id = /<title>([^<]*)<\/title>/.exec(body)![1];
        const xs: number[] = [];
        const ys: number[] = [];
        for (const [, d] of body.matchAll(/ (?:d|points)="([^"]*)"/g)) {
            for (const [, x, y] of d.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)) xs.push(Number(x)), ys.push(Number(y));
        }
        for (const [, cx, cy, rx, ry] of body.matchAll(/<ellipse[^>]* cx="([\d.-]+)" cy="([\d.-]+)" rx="([\d.]+)" ry="([\d.]+)"/g)) {
            xs.push(Number(cx) - Number(rx), Number(cx) + Number(rx));
            ys.push(Number(cy) - Number(ry));
        }
        const lines = [...body.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map(([, attributes, text]) => {
            assert.match(attributes, /text-anchor="middle"/, `${id}: "${text}" is not centred on its anchor`);
            return {
                text: text.replace(/&#45;/g, "-").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">"),
                x: Number(/ x="([\d.-]+)"/.exec(attributes)![1]),
                size: Number(/font-size="([\d.]+)"/.exec(attributes)![1]),
                bold: attributes.includes('font-weight="bold"'),
            };
        });
        nodes.set(id, { left: Math.min(...xs), right: Math.max(...xs), top: Math.min(...ys), lines });
    }
    return nodes;
}

describe("the README's picture (docs/launchpad-dev.svg and .mmd)", () => {
    const svg = fs.readFileSync(path.join(ROOT, "docs", "launchpad-dev.svg"), "utf8");
    const mermaid = fs.readFileSync(path.join(ROOT, "docs", "launchpad-dev.mmd"), "utf8");
    const nodes = svgNodes(svg);

    it("reads at 900 px wide: no text smaller than 14 px", () => {
        const width = Number(/viewBox="[\d.-]+ [\d.-]+ ([\d.]+) /.exec(svg)![1]);
        const sizes = [...svg.matchAll(/font-size="([\d.]+)"/g)].map(([, size]) => Number(size));
        const smallest = (Math.min(...sizes) * 900) / width;
        assert.ok(smallest >= 14, `the smallest text is ${smallest.toFixed(1)} px at 900 px (picture ${width} wide)`);
    });

    it("runs top to bottom: browser, ingress controller, Services, workloads, the database's Service, the database", () => {
        const order = ["user", "ingress_launchpad_ingress", "service_backend", "deployment_backend", "service_db", "statefulset_db", "registry_localhost_5001"];
        const tops = order.map((id) => nodes.get(id)?.top ?? NaN);
        // SVG y grows downwards.
        assert.deepEqual([...tops].sort((a, b) => a - b), tops, order.map((id, i) => `${id} ${tops[i]}`).join(", "));
        assert.equal(nodes.get("service_frontend")!.top, nodes.get("service_backend")!.top, "the two web tiers side by side");
    });

    it("fits every line inside its box even in a wide fallback font", () => {
        for (const [id, n] of nodes) {
            for (const line of n.lines) {
                const half = ([...line.text].length * (line.bold ? CHAR_WIDTH.bold : CHAR_WIDTH.regular) * line.size) / 2;
                const [start, end] = [line.x - half, line.x + half];
                assert.ok(start >= n.left && end <= n.right, `${id}: "${line.text}" spans ${start.toFixed(0)}–${end.toFixed(0)}, its box ${n.left}–${n.right}`);
            }
        }
    });

    it("shows no digest, placeholder or real, only where each image comes from", () => {
        for (const text of [svg, mermaid]) {
            assert.doesNotMatch(text, /PLACEHOLDER|sha256/);
            for (const origin of ["built from apps/frontend", "built from apps/backend", "mirrored from postgres:17"]) assert.ok(text.includes(origin), origin);
        }
    });

    it("draws as traffic exactly what the NetworkPolicies allow: browser → ingress controller → frontend and backend, backend → database", () => {
        const traffic = mermaid.split("\n").filter((l) => l.includes("==>")).map((l) => l.trim()).sort();
        assert.deepEqual(traffic, [
            "deployment_backend ==>|\"DB_HOST\"| service_db",
            "ingress_launchpad_ingress ==>|\"/\"| service_frontend",
            "ingress_launchpad_ingress ==>|\"/api\"| service_backend",
            "service_backend ==> deployment_backend",
            "service_db ==> statefulset_db",
            "service_frontend ==> deployment_frontend",
            "user ==>|\"http://launchpad.localhost\"| ingress_launchpad_ingress",
        ]);
        assert.ok(nodes.get("statefulset_db")!.lines.some((l) => l.text === "only from backend"));
        assert.ok(nodes.get("network")!.lines.some((l) => l.text === "and deny all other traffic"));
    });
});

describe("npm run diagram", () => {
    it("writes <app>-<stack>.mmd and .svg into --out", async () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-diagram-"));
        const result = await runDiagram(["--stack", "test", "--out", out], { loadStack: async () => ({ ...shop(), config: { appName: "shop" } }), toSvg: async () => "<svg/>" });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(fs.readdirSync(out).sort(), ["shop-test.mmd", "shop-test.svg"]);
        assert.match(fs.readFileSync(path.join(out, "shop-test.mmd"), "utf8"), /^%% .*\nflowchart TB\n/);
    });

    it("prints the Mermaid text with --print and writes nothing", async () => {
        const result = await runDiagram(["--stack", "test", "--print", "--out", "/nonexistent/never"], { loadStack: async () => shop() });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /\nflowchart TB\n[\s\S]*Deployment web/);
    });

    it("draws the dev stack when --stack is not given, as every command does", async () => {
        const asked: string[] = [];
        const result = await runDiagram(["--print"], { loadStack: async (stack) => (asked.push(stack), shop()) });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(asked, ["dev"]);
    });

    it("refuses an unknown stack with one line and the usage, exit code 2", async () => {
        const result = await runDiagram(["--stack", "staging"]);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /^diagram: unknown stack "staging": there is no Pulumi\.staging\.yaml .*\nUsage: npm run diagram -- .*\n$/);
    });
});
