import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError, loadConfig } from "../../components/config";
import { INGRESS_NGINX, ingressNginxManifestUrl, type KindSettings } from "../../lib/kind";
import {
    BROUGHT_CLASS_WAIT,
    defaultKindSettings,
    ensureKindPlatform,
    inspectKindPlatform,
    manifestProblem,
    manifestTargets,
    workloadState,
} from "../../tools/up/kind";
import { up } from "../../tools/up/commands";
import { UpError } from "../../tools/up/errors";
import { FakeMachine, freshMachine, harness, KIND_DEFAULT_NODE_IMAGE, readyMachine, removeTemps, tempProject } from "./fakes";

after(removeTemps);

const FIXTURES = path.join(__dirname, "fixtures");
/** The local copy of the pinned upstream manifest, and the same with its images from a mirror. */
const PINNED_COPY = path.join(FIXTURES, "ingress-nginx-kind.yaml");
const MIRROR_COPY = path.join(FIXTURES, "ingress-nginx-kind-mirror.yaml");

const res = (code: number, stdout = "", stderr = "") => ({ code, stdout, stderr });

/** A kind stack's raw config, as Pulumi hands it over. */
function kindRaw(keys: Record<string, string> = {}): Record<string, string> {
    return { "launchpad:platform": "kind", ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`launchpad:${k}`, v])) };
}

const cloudRaw = (keys: Record<string, string> = {}) =>
    kindRaw({ platform: "cloud", kubeContext: "prod-cluster", registry: "ghcr.io/acme", host: "app.example.com", ...keys });

/** Every path exists but those named. */
const filesBut = (...missing: string[]) => (p: string) => !missing.includes(p);

function problemsOf(raw: Record<string, string>, fileExists = filesBut()): ConfigError {
    try {
        loadConfig(raw, { stack: "dev", fileExists });
    } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
    }
    assert.fail("the config was accepted");
}

function settings(over: Partial<KindSettings> = {}): KindSettings {
    return { ...defaultKindSettings(), ...over };
}

const mirrorManifest = { controller: "manifest", manifest: MIRROR_COPY } as const;

describe("config: the kind platform's mirror settings", () => {
    it("gives a kind stack that sets none of them kind's node image, registry:3 and the pinned ingress-nginx", () => {
        assert.deepEqual(loadConfig(kindRaw(), { stack: "dev" }).kind, {
            nodeImage: undefined,
            registryImage: "registry:3",
            ingress: { controller: "manifest", manifest: ingressNginxManifestUrl() },
            ingressClass: "nginx",
            ingressNamespace: "ingress-nginx",
        });
    });

    it("hands up the node image, the registry image and the manifest a kind stack names", () => {
        const kind = loadConfig(
            kindRaw({ kindNodeImage: "mirror.example.com/kindest/node:v1.33.1", registryImage: "mirror.example.com/library/registry:3", ingressManifest: "deploy/ingress.yaml" }),
            { stack: "dev", fileExists: filesBut() },
        ).kind;
        assert.equal(kind?.nodeImage, "mirror.example.com/kindest/node:v1.33.1");
        assert.equal(kind?.registryImage, "mirror.example.com/library/registry:3");
        assert.deepEqual(kind?.ingress, { controller: "manifest", manifest: "deploy/ingress.yaml" });
    });

    it("takes an https URL of a mirror for the manifest, and ingressController: none", () => {
        assert.deepEqual(loadConfig(kindRaw({ ingressManifest: "https://mirror.example.com/ingress/deploy.yaml" }), { stack: "dev" }).kind?.ingress, {
            controller: "manifest",
            manifest: "https://mirror.example.com/ingress/deploy.yaml",
        });
        assert.deepEqual(loadConfig(kindRaw({ ingressController: "none" }), { stack: "dev" }).kind?.ingress, { controller: "none" });
    });

    it("lists every bad value at once, one line each naming the key, the value and the fix", () => {
        const error = problemsOf(
            kindRaw({ kindNodeImage: "kindest/node", registryImage: "registry:latest", ingressManifest: "http://mirror.example.com/deploy.yaml", ingressController: "traefik" }),
        );
        const byKey = new Map(error.problems.map((p) => [p.key, p]));
        assert.deepEqual([...byKey.keys()].sort(), ["ingressController", "ingressManifest", "kindNodeImage", "registryImage"]);
        assert.match(byKey.get("kindNodeImage")!.message, /no tag or digest, .*pin a tag such as kindest\/node:v1\.33\.1/);
        assert.match(byKey.get("registryImage")!.message, /'latest'/);
        assert.match(byKey.get("ingressManifest")!.message, /not https/);
        assert.match(byKey.get("ingressController")!.message, /one of "manifest", "none"/);
        assert.match(error.message, /^stack "dev" has 4 config problems; nothing was created\./);
        assert.match(error.message, /launchpad:kindNodeImage = "kindest\/node": .*\n    fix: /);
        assert.match(error.message, /launchpad:ingressController = "traefik": .*\n    fix: .*launchpad:ingressController: manifest/);
    });

    it("refuses a manifest path that does not exist, before anything is created", () => {
        const error = problemsOf(kindRaw({ ingressManifest: "deploy/ingress.yaml" }), filesBut("deploy/ingress.yaml"));
        assert.equal(error.problems.length, 1);
        assert.equal(error.problems[0].key, "ingressManifest");
        assert.match(error.problems[0].message, /was not found \(a path is relative to the project folder\)/);
        assert.match(error.problems[0].fix, /pulumi config rm --stack dev ingressManifest/);
    });

    it("refuses a path that is not a YAML or JSON file", () => {
        assert.match(problemsOf(kindRaw({ ingressManifest: "deploy/ingress" })).problems[0].message, /neither an https URL nor the path of a \.yaml/);
    });

    it("refuses a manifest with ingressController: none, which would install nothing", () => {
        const error = problemsOf(kindRaw({ ingressController: "none", ingressManifest: "deploy/ingress.yaml" }));
        assert.deepEqual(error.problems.map((p) => [p.key, p.message]), [["ingressManifest", "is set, but ingressController is none, so nothing installs it"]]);
    });

    for (const [key, value] of [
        ["kindNodeImage", "kindest/node:v1.33.1"],
        ["registryImage", "registry:3"],
        ["ingressManifest", "https://mirror.example.com/deploy.yaml"],
        ["ingressController", "none"],
    ]) {
        it(`refuses ${key} on a cloud stack, whose platform up never builds, with its removal as the fix`, () => {
            const error = problemsOf(cloudRaw({ [key]: value }));
            assert.equal(error.problems.length, 1);
            assert.equal(error.problems[0].key, key);
            assert.match(error.problems[0].message, /is only read when platform is kind/);
            assert.equal(error.problems[0].fix, `pulumi config rm --stack dev ${key}`);
        });
    }

    it("refuses an ingressClass or ingressNamespace the pinned ingress-nginx does not provide, and takes them with a manifest of the user's", () => {
        const error = problemsOf(kindRaw({ ingressClass: "traefik", ingressNamespace: "traefik" }));
        assert.deepEqual(error.problems.map((p) => p.key), ["ingressClass", "ingressNamespace"]);
        assert.match(error.problems[0].message, /is not nginx, the only IngressClass of the ingress-nginx that up installs on kind/);
        assert.match(error.problems[0].fix, /pulumi config set --stack dev ingressClass nginx; or pulumi config set --stack dev ingressController none/);
        assert.match(error.problems[1].message, /is not ingress-nginx, where the ingress-nginx that up installs on kind runs/);
        const own = loadConfig(kindRaw({ ingressClass: "traefik", ingressNamespace: "traefik", ingressController: "none" }), { stack: "dev" }).kind;
        assert.deepEqual([own?.ingressClass, own?.ingressNamespace], ["traefik", "traefik"]);
        assert.equal(loadConfig(cloudRaw({ ingressClass: "traefik" }), { stack: "prod" }).ingress.className, "traefik");
    });

    it("gives a cloud stack no kind platform", () => {
        assert.equal(loadConfig(cloudRaw(), { stack: "prod" }).kind, undefined);
    });
});

describe("the pinned ingress-nginx, against a local copy of its manifest", () => {
    const text = fs.readFileSync(PINNED_COPY, "utf8");
    const targets = manifestTargets(text);

    it("is the release INGRESS_NGINX pins: the controller's label and image tag", () => {
        const deployment = parseAllDocuments(text)
            .map((d) => d.toJS())
            .find((o) => o?.kind === "Deployment");
        assert.equal(deployment.metadata.labels["app.kubernetes.io/version"], INGRESS_NGINX.version);
        assert.deepEqual(targets.workloads[0].images, [`registry.k8s.io/ingress-nginx/controller:v${INGRESS_NGINX.version}`]);
        assert.ok(ingressNginxManifestUrl().includes(`/controller-v${INGRESS_NGINX.version}/deploy/static/provider/kind/`));
    });

    it("declares exactly the controller, admission Jobs, namespace and IngressClass that up waits for by name", () => {
        assert.deepEqual(targets.workloads.map((w) => [w.kind, w.namespace, w.name]), [["Deployment", INGRESS_NGINX.namespace, INGRESS_NGINX.deployment]]);
        assert.deepEqual(targets.jobs, INGRESS_NGINX.admissionJobs.map((name) => ({ namespace: INGRESS_NGINX.namespace, name })));
        assert.deepEqual(targets.ingressClasses, [INGRESS_NGINX.ingressClass]);
        assert.equal(manifestProblem(targets, defaultKindSettings()), undefined, "the dev stack's ingressClass and ingressNamespace are the manifest's");
    });

    it("schedules the controller on the node up labels ingress-ready, on the host ports up maps", () => {
        const spec = parseAllDocuments(text).map((d) => d.toJS()).find((o) => o?.kind === "Deployment").spec.template.spec;
        assert.equal(spec.nodeSelector["ingress-ready"], "true");
        assert.deepEqual(spec.containers[0].ports.filter((p: { hostPort?: number }) => p.hostPort).map((p: { hostPort: number }) => p.hostPort), [80, 443]);
    });
});

describe("up: reading an ingress controller's manifest", () => {
    it("reads kubectl's List output as well as YAML documents", () => {
        const list = JSON.stringify({
            kind: "List",
            items: [
                { kind: "DaemonSet", metadata: { name: "traefik", namespace: "traefik" }, spec: { template: { spec: { containers: [{ image: "mirror.example.com/traefik:v3.5" }] } } } },
                { kind: "IngressClass", metadata: { name: "traefik" } },
            ],
        });
        assert.deepEqual(manifestTargets(list), {
            workloads: [{ kind: "DaemonSet", namespace: "traefik", name: "traefik", images: ["mirror.example.com/traefik:v3.5"] }],
            jobs: [],
            ingressClasses: ["traefik"],
        });
    });

    it("says why a manifest's controller cannot be waited for: no workload, no such class, another namespace", () => {
        const ns = { ingressClass: "nginx", ingressNamespace: "ingress-nginx" };
        const workload = { kind: "Deployment", namespace: "ingress-nginx", name: "c", images: [] } as const;
        assert.match(manifestProblem({ workloads: [], jobs: [], ingressClasses: ["nginx"] }, ns)!, /declares no Deployment or DaemonSet/);
        assert.match(manifestProblem({ workloads: [workload], jobs: [], ingressClasses: ["traefik"] }, ns)!, /no IngressClass named nginx .*it declares traefik: set launchpad:ingressClass/);
        assert.match(manifestProblem({ workloads: [{ ...workload, namespace: "edge" }], jobs: [], ingressClasses: ["nginx"] }, ns)!, /namespace edge, but launchpad:ingressNamespace is ingress-nginx/);
    });

    it("tells a missing controller, one on other images, an unready one and a ready one apart", () => {
        const w = { kind: "Deployment", namespace: "n", name: "c", images: ["mirror.example.com/c:1"] } as const;
        const live = (image: string, status: object) => res(0, JSON.stringify({ spec: { template: { spec: { containers: [{ image }] } } }, status }));
        assert.equal(workloadState(res(1, "", "NotFound"), w), "absent");
        assert.equal(workloadState(live("registry.k8s.io/c:1", { readyReplicas: 1 }), w), "other");
        assert.equal(workloadState(live("mirror.example.com/c:1", {}), w), "unready");
        assert.equal(workloadState(live("mirror.example.com/c:1", { readyReplicas: 1 }), w), "ready");
        const ds = { ...w, kind: "DaemonSet" } as const;
        assert.equal(workloadState(live("mirror.example.com/c:1", { numberReady: 1, desiredNumberScheduled: 2 }), ds), "unready");
        assert.equal(workloadState(live("mirror.example.com/c:1", { numberReady: 2, desiredNumberScheduled: 2 }), ds), "ready");
    });
});

describe("up: the kind platform from a mirror", () => {
    it("creates the cluster from launchpad:kindNodeImage and the registry from launchpad:registryImage", async () => {
        const m = new FakeMachine(freshMachine());
        await ensureKindPlatform(m, undefined, { settings: settings({ nodeImage: "mirror.example.com/kindest/node:v1.33.1", registryImage: "mirror.example.com/library/registry:3" }) });
        assert.ok(m.calls.includes("kind create cluster --name launchpad --config - --image mirror.example.com/kindest/node:v1.33.1"), m.calls.join("\n"));
        assert.ok(m.calls.includes("docker run -d --restart=always -p 127.0.0.1:5001:5000 --network bridge --name kind-registry mirror.example.com/library/registry:3"));
    });

    it("lets kind choose its node image when launchpad:kindNodeImage is unset", async () => {
        const m = new FakeMachine(freshMachine());
        await ensureKindPlatform(m);
        assert.ok(m.calls.includes("kind create cluster --name launchpad --config -"));
        assert.ok(!m.calls.some((c) => c.includes("--image") || c.includes("{{.Config.Image}} launchpad-control-plane")));
    });

    it("says that an existing cluster runs another node image, with the fix, and leaves it", async () => {
        const lines: string[] = [];
        const m = new FakeMachine(readyMachine());
        await ensureKindPlatform(m, { info: (l) => lines.push(l) }, { settings: settings({ nodeImage: "mirror.example.com/kindest/node:v1.33.1" }) });
        assert.deepEqual(m.mutations(), []);
        const line = lines.find((l) => l.includes("kind cluster launchpad"));
        assert.equal(
            line,
            `  [ok  ] kind cluster launchpad: exists, but from ${KIND_DEFAULT_NODE_IMAGE}, not launchpad:kindNodeImage mirror.example.com/kindest/node:v1.33.1: ` +
                "the image is chosen when the cluster is created; to recreate it (the cluster's data goes too): npm run down -- --cluster --delete-data, then npm run up",
        );
    });

    it("says nothing about a cluster made from the node image the stack names", async () => {
        const lines: string[] = [];
        await ensureKindPlatform(new FakeMachine(readyMachine({ nodeImage: "mirror.example.com/kindest/node:v1.33.1" })), { info: (l) => lines.push(l) }, {
            settings: settings({ nodeImage: "mirror.example.com/kindest/node:v1.33.1" }),
        });
        assert.ok(lines.includes("  [ok  ] kind cluster launchpad: exists"), lines.join("\n"));
    });

    it("says that the running registry was made from another image, and keeps it", async () => {
        const lines: string[] = [];
        const m = new FakeMachine(readyMachine());
        await ensureKindPlatform(m, { info: (l) => lines.push(l) }, { settings: settings({ registryImage: "mirror.example.com/library/registry:3" }) });
        assert.deepEqual(m.mutations(), []);
        assert.match(lines.find((l) => l.includes("registry kind-registry"))!, /running at localhost:5001, but from registry:3, not launchpad:registryImage mirror\.example\.com\/library\/registry:3/);
    });
});

describe("up: an ingress controller from launchpad:ingressManifest", () => {
    const mirrorText = fs.readFileSync(MIRROR_COPY, "utf8");

    it("applies the manifest it read, then waits for the Jobs and the controller the manifest names", async () => {
        const lines: string[] = [];
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        await ensureKindPlatform(m, { info: (l) => lines.push(l) }, { settings: settings({ ingress: mirrorManifest }) });
        assert.deepEqual(m.mutations(), ["kubectl --context kind-launchpad apply -f -"]);
        assert.equal(m.inputs.get("kubectl --context kind-launchpad apply -f -"), mirrorText);
        assert.ok(!m.calls.some((c) => c.includes("https://")), "nothing is downloaded");
        assert.deepEqual(
            m.calls.filter((c) => / wait | rollout status /.test(c)),
            [
                "kubectl --context kind-launchpad -n ingress-nginx wait --for=condition=complete job/ingress-nginx-admission-create --timeout=300s",
                "kubectl --context kind-launchpad -n ingress-nginx wait --for=condition=complete job/ingress-nginx-admission-patch --timeout=300s",
                "kubectl --context kind-launchpad -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s",
            ],
        );
        assert.ok(lines.includes(`  [done] ingress controller from ${MIRROR_COPY}: applied, controller ready, IngressClass nginx`), lines.join("\n"));
    });

    it("changes nothing on a second run, every step [ok]", async () => {
        const m = new FakeMachine(freshMachine());
        const options = { settings: settings({ ingress: mirrorManifest, nodeImage: "mirror.example.com/kindest/node:v1.33.1", registryImage: "mirror.example.com/library/registry:3" }) };
        await ensureKindPlatform(m, undefined, options);
        const second = new FakeMachine(m.state);
        const steps = await ensureKindPlatform(second, undefined, options);
        assert.deepEqual(second.mutations(), []);
        assert.ok(steps.every((s) => s.state === "ok"), JSON.stringify(steps));
        assert.ok(steps.every((s) => !s.detail.includes(", but from")), JSON.stringify(steps));
    });

    it("applies the manifest again when its controller is not ready, before waiting: a fix made to the manifest since takes effect", async () => {
        const m = new FakeMachine(freshMachine());
        const options = { settings: settings({ ingress: mirrorManifest }) };
        await ensureKindPlatform(m, undefined, options);
        m.state.workloads.get("Deployment/ingress-nginx/ingress-nginx-controller")!.ready = false;
        const lines: string[] = [];
        const again = new FakeMachine(m.state);
        await ensureKindPlatform(again, { info: (l) => lines.push(l) }, options);
        assert.deepEqual(again.mutations(), ["kubectl --context kind-launchpad apply -f -"]);
        assert.ok(again.calls.indexOf("kubectl --context kind-launchpad apply -f -") < again.calls.findIndex((c) => / rollout status /.test(c)), "applied before the wait");
        assert.ok(lines.includes(`  [done] ingress controller from ${MIRROR_COPY}: applied, controller ready, IngressClass nginx`), lines.join("\n"));
    });

    it("reads a path relative to the project folder", async () => {
        const root = tempProject({ "deploy/ingress.yaml": mirrorText });
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        await ensureKindPlatform(m, undefined, { settings: settings({ ingress: { controller: "manifest", manifest: "deploy/ingress.yaml" } }), projectRoot: root });
        assert.equal(m.inputs.get("kubectl --context kind-launchpad apply -f -"), mirrorText);
    });

    it("reapplies a manifest whose controller runs other images, replacing its finished Jobs first", async () => {
        const m = new FakeMachine(freshMachine());
        await ensureKindPlatform(m, undefined, { settings: settings({ ingress: mirrorManifest }) });
        const upstream = new FakeMachine(m.state);
        await ensureKindPlatform(upstream, undefined, { settings: settings({ ingress: { controller: "manifest", manifest: PINNED_COPY } }) });
        assert.deepEqual(upstream.mutations(), [
            "kubectl --context kind-launchpad -n ingress-nginx delete job ingress-nginx-admission-create --ignore-not-found",
            "kubectl --context kind-launchpad -n ingress-nginx delete job ingress-nginx-admission-patch --ignore-not-found",
            "kubectl --context kind-launchpad apply -f -",
        ]);
        assert.deepEqual(m.state.workloads.get("Deployment/ingress-nginx/ingress-nginx-controller")?.images, ["registry.k8s.io/ingress-nginx/controller:v1.14.3"]);
    });

    it("reads a URL through kubectl, and applies what kubectl read", async () => {
        const url = "https://mirror.example.com/ingress-nginx/kind/deploy.yaml";
        const m = new FakeMachine(readyMachine({ ingress: undefined, urlManifests: new Map([[url, mirrorText]]) }));
        await ensureKindPlatform(m, undefined, { settings: settings({ ingress: { controller: "manifest", manifest: url } }) });
        assert.ok(m.calls.includes(`kubectl --context kind-launchpad create --dry-run=client -o yaml -f ${url}`));
        assert.equal(m.inputs.get("kubectl --context kind-launchpad apply -f -"), mirrorText);
    });

    it("says how to do without a URL kubectl cannot read, changing nothing", async () => {
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        const url = "https://mirror.example.com/missing.yaml";
        await assert.rejects(ensureKindPlatform(m, undefined, { settings: settings({ ingress: { controller: "manifest", manifest: url } }) }), (e: Error) => {
            assert.ok(e instanceof UpError);
            assert.match(e.message, /reading launchpad:ingressManifest https:\/\/mirror\.example\.com\/missing\.yaml[\s\S]*404[\s\S]*set launchpad:ingressManifest to its path/);
            return true;
        });
        assert.deepEqual(m.mutations(), []);
    });

    it("refuses, installing nothing, a manifest without the IngressClass the app's Ingress names", async () => {
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        await assert.rejects(
            ensureKindPlatform(m, undefined, { settings: settings({ ingress: mirrorManifest, ingressClass: "traefik" }) }),
            /declares no IngressClass named traefik \(launchpad:ingressClass\); it declares nginx: set launchpad:ingressClass to the controller's class\. Nothing was installed\./,
        );
        assert.deepEqual(m.mutations(), []);
    });

    it("names the manifest whose YAML it cannot read, installing nothing", async () => {
        const root = tempProject({ "deploy/ingress.yaml": "kind: Deployment\nmetadata: [unclosed\n" });
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        await assert.rejects(
            ensureKindPlatform(m, undefined, { settings: settings({ ingress: { controller: "manifest", manifest: "deploy/ingress.yaml" } }), projectRoot: root }),
            /^UpError: launchpad:ingressManifest deploy\/ingress\.yaml is not valid YAML: .*\. Nothing was installed\.$/,
        );
        assert.deepEqual(m.mutations(), []);
    });

    it("in a check, reports the controller missing and neither applies nor waits", async () => {
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        const steps = await inspectKindPlatform(m, undefined, { settings: settings({ ingress: mirrorManifest }) });
        assert.deepEqual(steps.filter((s) => s.state === "missing").map((s) => s.detail), ["not installed"]);
        assert.deepEqual(m.mutations(), []);
        assert.ok(!m.calls.some((c) => / wait | rollout status /.test(c)));
    });
});

describe("up: launchpad:ingressController none", () => {
    const none = () => settings({ ingress: { controller: "none" } });

    it("installs nothing when the cluster has the IngressClass", async () => {
        const lines: string[] = [];
        const m = new FakeMachine(readyMachine({ ingress: undefined, ingressClasses: new Set(["nginx"]) }));
        const steps = await ensureKindPlatform(m, { info: (l) => lines.push(l) }, { settings: none() });
        assert.deepEqual(m.mutations(), []);
        assert.ok(steps.every((s) => s.state === "ok"));
        assert.ok(lines.includes("  [ok  ] IngressClass nginx: present (launchpad:ingressController is none: your controller)"), lines.join("\n"));
        assert.ok(!m.calls.some((c) => c.includes("ingress-nginx")), "ingress-nginx is not looked for");
    });

    it("waits for the IngressClass the user's controller makes", async () => {
        const pauses: number[] = [];
        const m = new FakeMachine(readyMachine({ ingress: undefined, ingressClassAppearsAfter: { name: "nginx", asks: 3 } }));
        const steps = await ensureKindPlatform(m, undefined, { settings: none(), pause: async (ms) => void pauses.push(ms) });
        assert.deepEqual(pauses, [BROUGHT_CLASS_WAIT.everyMs, BROUGHT_CLASS_WAIT.everyMs]);
        assert.deepEqual(steps[steps.length - 1], { name: "IngressClass nginx", state: "done", detail: "appeared (your controller)" });
        assert.deepEqual(m.mutations(), []);
    });

    it("stops after a bounded wait, naming the fix, when no IngressClass appears", async () => {
        const pauses: number[] = [];
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        await assert.rejects(ensureKindPlatform(m, undefined, { settings: settings({ ingress: { controller: "none" }, ingressClass: "traefik" }), pause: async (ms) => void pauses.push(ms) }), (e: Error) => {
            assert.ok(e instanceof UpError);
            assert.match(e.message, /IngressClass traefik did not appear in the cluster of context kind-launchpad within 300 s; nothing was deployed/);
            assert.match(e.message, /install yours .* with an IngressClass named traefik \(or set launchpad:ingressClass to its class\), or remove launchpad:ingressController/);
            return true;
        });
        assert.equal(pauses.reduce((a, b) => a + b, 0), BROUGHT_CLASS_WAIT.seconds * 1000);
        assert.deepEqual(m.mutations(), []);
    });

    it("in a check, reports the IngressClass missing without waiting", async () => {
        const m = new FakeMachine(readyMachine({ ingress: undefined }));
        const steps = await inspectKindPlatform(m, undefined, { settings: none(), pause: async () => assert.fail("a check does not wait") });
        assert.deepEqual(steps.filter((s) => s.state === "missing").map((s) => s.name), ["IngressClass nginx"]);
    });
});

describe("up: npm run up with a stack's mirror settings", () => {
    it("builds the kind platform from what Pulumi.dev.yaml names", async () => {
        const root = tempProject({
            "Pulumi.dev.yaml": [
                "config:",
                "  launchpad:platform: kind",
                "  launchpad:kindNodeImage: mirror.example.com/kindest/node:v1.33.1",
                "  launchpad:registryImage: mirror.example.com/library/registry:3",
                "  launchpad:ingressManifest: deploy/ingress-nginx-kind.yaml",
                "",
            ].join("\n"),
            "deploy/ingress-nginx-kind.yaml": fs.readFileSync(MIRROR_COPY, "utf8"),
        });
        const h = harness({ root });
        await up(h.deps, { stack: "dev" });
        assert.ok(h.machine.calls.includes("kind create cluster --name launchpad --config - --image mirror.example.com/kindest/node:v1.33.1"));
        assert.ok(h.machine.calls.some((c) => c.endsWith("--name kind-registry mirror.example.com/library/registry:3")));
        assert.ok(h.lines.includes("  [done] ingress controller from deploy/ingress-nginx-kind.yaml: applied, controller ready, IngressClass nginx"), h.lines.join("\n"));
    });

    it("refuses a manifest path that is not in the project before creating anything", async () => {
        const root = tempProject({ "Pulumi.dev.yaml": "config:\n  launchpad:platform: kind\n  launchpad:ingressManifest: deploy/ingress.yaml\n" });
        const h = harness({ root });
        await assert.rejects(up(h.deps, { stack: "dev" }), /launchpad:ingressManifest = "deploy\/ingress\.yaml": was not found/);
        assert.deepEqual(h.machine.mutations(), []);
    });
});

// The fixture stays a manifest kubectl would take: every document a Kubernetes object.
describe("the local manifest copies", () => {
    for (const file of [PINNED_COPY, MIRROR_COPY]) {
        it(`${path.basename(file)} holds only Kubernetes objects`, () => {
            for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
                const o = doc.toJS();
                assert.ok(typeof o.apiVersion === "string" && typeof o.kind === "string" && typeof o.metadata?.name === "string", JSON.stringify(o).slice(0, 80));
            }
        });
    }

    it("differ only in where the images come from", () => {
        const withoutImages = (file: string) => fs.readFileSync(file, "utf8").replace(/^#.*\n/gm, "").replace(/image: \S+\//g, "image: ");
        assert.equal(withoutImages(PINNED_COPY), withoutImages(MIRROR_COPY));
    });
});
