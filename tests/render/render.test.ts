import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { PULUMI_CONFIG_NOTE } from "../../components/config";
import { IMAGE_TYPE } from "../../components/image";
import { KubeObject, runStack, stackConfig } from "../../tools/harness";
import { checkObject, fieldPath } from "../../tools/render/check";
import { runRender } from "../../tools/render/main";
import { PLACEHOLDER_DIGEST, RenderInput, renderManifests, sortKeys, toYaml, writeManifests } from "../../tools/harness/manifests";
import { unifiedDiff } from "../../tools/render/golden";
import { DIGEST, PINNED, deployment, resource, shop } from "./fixtures";
import { stackRun } from "../stackRuns";

// The renderer on hand-built runs (naming, placeholders, determinism, check) and the command on the
// real program (exit codes, one-line errors, nothing written on a bad stack).

function tempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-render-"));
}

describe("render: manifests from a run", () => {
    it("names files like kubectl get all rows, using the name label or resource name where Pulumi picks the real name", () => {
        assert.deepEqual(renderManifests(shop()).map((m) => m.file), [
            "certificate-shop-tls.yaml",
            "deployment-web.yaml",
            "horizontalpodautoscaler-web.yaml",
            "ingress-shop-ingress.yaml",
            "namespace-shop.yaml",
            "networkpolicy-default-deny.yaml",
            "poddisruptionbudget-web.yaml",
            "secret-registry-credentials.yaml",
            "service-web.yaml",
        ]);
    });

    it("falls back to the Pulumi resource name when two objects would share a file", () => {
        const a = deployment("api", "registry.example.com/api:1");
        const b = { ...deployment("api", "registry.example.com/api:1"), metadata: { ...a.metadata, name: "shop-api-canary-deployment-5e6f7a8b" } };
        const input: RenderInput = {
            stack: "test",
            objects: [a, b],
            resources: [resource("kubernetes:apps/v1:Deployment", "shop-api-deployment", a, false), resource("kubernetes:apps/v1:Deployment", "shop-api-canary-deployment", b, false)],
        };
        assert.deepEqual(renderManifests(input).map((m) => m.file), ["deployment-shop-api-canary.yaml", "deployment-shop-api.yaml"]);
    });

    it("shows a digest only a real push can know as a marked placeholder on the real registry path", () => {
        const web = renderManifests(shop()).find((m) => m.file === "deployment-web.yaml")!;
        assert.equal(web.object.spec.template.spec.containers[0].image, `registry.example.com/team/web@${PLACEHOLDER_DIGEST}`);
        assert.ok(!web.text.includes(DIGEST));
        assert.match(web.text, /^# .*PLACEHOLDER.* marks an image digest that `pulumi up` learns/m);
    });

    it("keeps a digest the stack itself pinned, since it is real", () => {
        const input = shop();
        const pinned = deployment("cache", `docker.io/library/redis@${PINNED}`);
        const tagged: RenderInput = {
            stack: "test",
            objects: [...input.objects, pinned],
            resources: [
                ...input.resources,
                { type: IMAGE_TYPE, name: "cache-mirror", inputs: { mirror: { source: `docker.io/library/redis@${PINNED}` } }, state: { digest: PINNED, ref: `docker.io/library/redis@${PINNED}` }, options: input.resources[0].options },
                resource("kubernetes:apps/v1:Deployment", "shop-cache-deployment", pinned, false),
            ],
        };
        const cache = renderManifests(tagged).find((m) => m.file === "deployment-cache.yaml")!;
        assert.equal(cache.object.spec.template.spec.containers[0].image, `docker.io/library/redis@${PINNED}`);
    });

    it("says in each auto-named object's header that Pulumi picks its name's suffix at deploy", () => {
        const files = renderManifests(shop());
        assert.match(files.find((m) => m.file === "deployment-web.yaml")!.text, /Pulumi names this object at deploy: shop-web-deployment-<random suffix>/);
        assert.doesNotMatch(files.find((m) => m.file === "service-web.yaml")!.text, /Pulumi names this object/);
    });

    it("writes keys in sorted order at every level, keeps list order, and never uses YAML anchors", () => {
        const shared = { b: "1", a: "2" };
        const object = { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "x", labels: shared, annotations: shared }, data: { z: "last", m: "mid" }, list: ["b", "a"] } as unknown as KubeObject;
        const text = toYaml(object);
        assert.equal(text, "apiVersion: v1\ndata:\n  m: mid\n  z: last\nkind: ConfigMap\nlist:\n  - b\n  - a\nmetadata:\n  annotations:\n    a: \"2\"\n    b: \"1\"\n  labels:\n    a: \"2\"\n    b: \"1\"\n  name: x\n");
        assert.deepEqual(Object.keys(sortKeys({ b: 1, B: 2, a: 3 })), ["B", "a", "b"]);
    });

    it("writes what the program would apply: parsing a file gives back its object", () => {
        for (const m of renderManifests(shop())) assert.deepEqual(YAML.parse(m.text), m.object, m.file);
    });

    it("replaces the YAML files of a previous render, so a removed object disappears, and leaves other files alone", () => {
        const out = tempDir();
        fs.mkdirSync(path.join(out, "test"));
        fs.writeFileSync(path.join(out, "test", "deployment-gone.yaml"), "old");
        fs.writeFileSync(path.join(out, "test", "NOTES.md"), "mine");
        writeManifests(out, "test", renderManifests(shop()));
        const files = fs.readdirSync(path.join(out, "test"));
        assert.ok(!files.includes("deployment-gone.yaml"));
        assert.ok(files.includes("NOTES.md") && files.includes("deployment-web.yaml"));
    });
});

describe("render --check: objects against the Kubernetes OpenAPI schema", () => {
    const valid = () => deployment("web", "registry.example.com/web:1");

    it("passes a valid Deployment", () => {
        assert.deepEqual(checkObject(valid()), { skipped: false, errors: [] });
    });

    it("names the field path of a wrong type and of a missing required field", () => {
        const object = valid();
        object.spec.replicas = "two";
        delete object.spec.template.spec.containers[0].name;
        assert.deepEqual(checkObject(object).errors, [
            "spec.replicas: must be integer",
            "spec.template.spec.containers[0]: must have required property name",
        ]);
    });

    it("reports fields the Kubernetes API does not have, which the schema library lets through", () => {
        const object = valid();
        object.spec.template.spec.containers[0].imagePullPolicyy = "Always";
        object.spec.strategy = { rollingUpdate: { maxSurge: 1 }, tpye: "RollingUpdate" };
        object.spce = {};
        assert.deepEqual([...checkObject(object).errors].sort(), [
            "spce: is not a field of apps/v1 Deployment",
            "spec.strategy.tpye: is not a field of apps/v1 Deployment",
            "spec.template.spec.containers[0].imagePullPolicyy: is not a field of apps/v1 Deployment",
        ]);
    });

    it("does not mistake the keys of labels, annotations or selectors for unknown fields", () => {
        const object = valid();
        object.metadata.annotations = { "example.com/anything": "x" };
        assert.deepEqual(checkObject(object).errors, []);
    });

    it("skips a kind without an upstream schema instead of passing it", () => {
        assert.deepEqual(checkObject({ apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name: "tls" } }), { skipped: true, errors: [] });
    });

    it("writes field paths the way kubectl does", () => {
        assert.equal(fieldPath("/spec/template/spec/containers/0/image"), "spec.template.spec.containers[0].image");
        assert.equal(fieldPath("/metadata/labels/app.kubernetes.io~1name"), 'metadata.labels["app.kubernetes.io/name"]');
        assert.equal(fieldPath(""), "(object)");
    });
});

describe("npm run render", () => {
    it("writes one file per object of a stack under <out>/<stack>/ and lists them", async () => {
        const out = tempDir();
        const result = await runRender(["--stack", "test", "--out", out], { loadStack: async () => shop() });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(fs.readdirSync(path.join(out, "test")), renderManifests(shop()).map((m) => m.file));
        assert.match(result.stdout, /^test: 9 objects in .*\n  certificate-shop-tls.yaml\n/);
    });

    it("with --check, exits 1 naming each invalid object and the field path of each violation", async () => {
        const input = shop();
        input.objects[1].spec.replicas = -1.5;
        const result = await runRender(["--stack", "test", "--out", tempDir(), "--check"], { loadStack: async () => input });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /deployment-web\.yaml \(apps\/v1 Deployment shop-web-deployment-1a2b3c4d\):\n {4}spec\.replicas: must be integer/);
    });

    it("with --check, lists the kinds it could not check as skipped", async () => {
        const result = await runRender(["--stack", "test", "--out", tempDir(), "--check"], { loadStack: async () => shop() });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /check test: 8 valid, 1 skipped .*\n {2}skipped, no upstream schema to check it against: certificate-shop-tls\.yaml \(cert-manager\.io\/v1 Certificate shop-tls\)/);
    });

    for (const [what, argv, message] of [
        ["an unknown flag", ["--stack", "dev", "--outdir", "elsewhere"], /^render: unknown option "--outdir"; did you mean --out\?$/],
        ["a stack without a stack file", ["--stack", "staging"], /^render: unknown stack "staging": there is no Pulumi\.staging\.yaml \(stacks: .*dev.*\)$/],
        ["--out without a value", ["--stack", "dev", "--out"], /^render: --out needs a value: --out <dir>$/],
    ] as const) {
        it(`refuses ${what} with one line and the usage, exit code 2, writing nothing`, async () => {
            const out = tempDir();
            const result = await runRender([...((argv as readonly string[]).includes("--out") ? [] : ["--out", out]), ...argv]);
            assert.equal(result.code, 2);
            const [said, usage, ...rest] = result.stderr.trimEnd().split("\n");
            assert.match(said, message);
            assert.equal(usage, "Usage: npm run render -- [--stack <name> ... | --all] [--out <dir>] [--check]  (--help says what each option does)");
            assert.deepEqual(rest, []);
            assert.deepEqual(fs.readdirSync(out), []);
        });
    }

    it("renders the dev stack when --stack is not given, as every command does", async () => {
        const asked: string[] = [];
        const out = tempDir();
        const result = await runRender(["--out", out], { loadStack: async (stack) => (asked.push(stack), shop()) });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(asked, ["dev"]);
        assert.deepEqual(fs.readdirSync(out), ["dev"]);
    });

    it("refuses invalid config with every problem on its own line, as the program lists them, and exit code 1, writing nothing", async () => {
        const out = tempDir();
        const config = { ...stackConfig("dev"), "launchpad:backendReplicas": "-1", "launchpad:frontendReplica": "2" };
        const result = await runRender(["--stack", "dev", "--out", out], { loadStack: (stack) => runStack(stack, { config }) });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /^render: stack "dev" has 2 config problems; nothing was created\.\n/);
        assert.match(result.stderr, /\n {2}- launchpad:backendReplicas = "-1": must be at least 0\n {4}fix: Pulumi\.dev\.yaml: add launchpad:backendReplicas: 1 under config:\n {6}or: pulumi config set --stack dev backendReplicas 1\n/);
        assert.match(result.stderr, /\n {2}- launchpad:frontendReplica = "2": is not a launchpad setting; did you mean "frontendReplicas"\?\n {4}fix: Pulumi\.dev\.yaml: add launchpad:frontendReplicas: 2 under config:\n {6}or: pulumi config rm --stack dev frontendReplica && /);
        assert.ok(result.stderr.endsWith(`\n${PULUMI_CONFIG_NOTE}\n`), result.stderr);
        assert.equal(result.stderr.split("\n").length, 9, result.stderr);
        assert.deepEqual(fs.readdirSync(out), []);
    });

    it("renders the same commit byte for byte every time", async () => {
        const first = renderManifests(await stackRun("dev"));
        const second = renderManifests(await runStack("dev"));
        assert.deepEqual(second.map((m) => [m.file, m.text]), first.map((m) => [m.file, m.text]));
    });
});

describe("golden diffs", () => {
    it("show what changed as a unified diff with line numbers and context", () => {
        // Like the YAML files: every line ends in a newline.
        const before = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].map((l) => `${l}\n`).join("");
        const after = ["a", "b", "c", "d", "E", "f", "g", "h", "i", "j", "k"].map((l) => `${l}\n`).join("");
        assert.equal(unifiedDiff(before, after, { expected: "golden", actual: "render" }, 2), [
            "--- golden", "+++ render",
            "@@ -3,5 +3,5 @@", " c", " d", "-e", "+E", " f", " g",
            "@@ -9,2 +9,3 @@", " i", " j", "+k",
        ].join("\n"));
        assert.equal(unifiedDiff(before, before, { expected: "a", actual: "b" }), "");
    });

    it("show a lost final newline, which a line-by-line comparison would hide", () => {
        assert.match(unifiedDiff("a\n", "a", { expected: "golden", actual: "render" }), /^-a\n\+a\n\\ No newline at end of file$/m);
    });
});
