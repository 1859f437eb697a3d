import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { launchpadPolicies, packOptionsFrom, stackNameFrom } from "../../policy/rules";
import { compliantPodSpec, deployment } from "./fixtures";

const POLICY_DIR = path.join(__dirname, "..", "..", "policy");

describe("launchpad policy pack", () => {
    it("requires Ingress TLS only when the CLI runs it for the stack named prod", () => {
        assert.deepEqual(packOptionsFrom({ PULUMI_STACK: "prod" }), { requireTls: true });
        assert.deepEqual(packOptionsFrom({ PULUMI_STACK: "dev" }), { requireTls: false });
        assert.deepEqual(packOptionsFrom({ PULUMI_NODEJS_STACK: "prod" }), { requireTls: true });
        assert.deepEqual(packOptionsFrom({}), { requireTls: false });
        assert.deepEqual(packOptionsFrom({ PULUMI_STACK: "production" }), { requireTls: false });
    });

    it("reads the stack's own name from a fully qualified one", () => {
        assert.equal(stackNameFrom({ PULUMI_STACK: "acme/launchpad/prod" }), "prod");
    });

    it("gives every policy a unique name", () => {
        const names = launchpadPolicies({ requireTls: false }).map((p) => p.name);
        assert.equal(new Set(names).size, names.length, names.join(", "));
    });

    it("documents every policy with its enforcement level in policy/README.md", () => {
        const readme = fs.readFileSync(path.join(POLICY_DIR, "README.md"), "utf8");
        const documented = new Map([...readme.matchAll(/^\| `([a-z-]+)` \| (mandatory|advisory) \|/gm)]
            .map(([, name, level]) => [name, level]));
        const actual = new Map(launchpadPolicies({ requireTls: true }).map((p) => [p.name, p.enforcementLevel]));
        assert.deepEqual(documented, actual);
    });
});

/**
 * Starts policy/index.ts as the Pulumi CLI would (it prints the port of its gRPC analyzer server) and
 * sends it the requests `pulumi preview --policy-pack policy` sends, so the pack's wiring is tested too.
 */
describe("launchpad policy pack served over the analyzer protocol", function () {
    this.timeout(60_000);

    // The analyzer protocol's generated client, from the same @pulumi/pulumi the pack serves with.
    const fromPulumi = (id: string) => require(require.resolve(id, { paths: [require.resolve("@pulumi/pulumi")] }));
    const rpc = fromPulumi("@pulumi/pulumi/proto/analyzer_pb");
    const { AnalyzerClient } = fromPulumi("@pulumi/pulumi/proto/analyzer_grpc_pb");
    const grpc = fromPulumi("@grpc/grpc-js");
    const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb");
    const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb");

    let pack: ChildProcess | undefined;
    let client: any;

    before(async () => {
        pack = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "index.ts"], {
            cwd: POLICY_DIR,
            env: { ...process.env, PULUMI_STACK: "prod" },
            stdio: ["ignore", "pipe", "pipe"],
        });
        const port = await new Promise<string>((resolve, reject) => {
            let stderr = "";
            pack!.stderr!.on("data", (chunk) => (stderr += chunk));
            pack!.stdout!.once("data", (chunk) => resolve(String(chunk).trim()));
            pack!.once("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
        });
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        pack?.kill();
    });

    const call = <T>(method: string, request: unknown) => new Promise<T>((resolve, reject) =>
        client[method](request, (err: Error | null, response: T) => (err ? reject(err) : resolve(response))));

    function resource<R>(Message: new () => R, type: string, name: string, props: object): R {
        const r: any = new Message();
        r.setType(type);
        r.setName(name);
        r.setUrn(`urn:pulumi:prod::launchpad::${type}::${name}`);
        r.setProperties(Struct.fromJavaScript(props));
        const options = new rpc.AnalyzerResourceOptions();
        options.setCustomtimeouts(new rpc.AnalyzerResourceOptions.CustomTimeouts());
        r.setOptions(options);
        return r;
    }

    const levelName = (level: number) =>
        Object.entries(rpc.EnforcementLevel as Record<string, number>).find(([, v]) => v === level)![0].toLowerCase();
    const diagnostics = (response: any) => response.getDiagnosticsList().map((d: any) => ({
        policy: d.getPolicyname() as string, level: levelName(d.getEnforcementlevel()), message: d.getMessage() as string,
    }));

    it("announces every policy with its enforcement level", async () => {
        const info: any = await call("getAnalyzerInfo", new Empty());
        assert.equal(info.getName(), "launchpad");
        const served = info.getPoliciesList().map((p: any) => [p.getName(), levelName(p.getEnforcementlevel())]);
        const expected = launchpadPolicies({ requireTls: true }).map((p) => [p.name, p.enforcementLevel]);
        assert.deepEqual(served, expected);
    });

    it("blocks a Deployment whose container may escalate privileges, and passes a compliant one", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].securityContext!.allowPrivilegeEscalation = true;
        const bad = diagnostics(await call("analyze",
            resource(rpc.AnalyzeRequest, "kubernetes:apps/v1:Deployment", "backend", deployment(spec))));
        assert.equal(bad.length, 1);
        assert.equal(bad[0].policy, "pod-security-restricted");
        assert.equal(bad[0].level, "mandatory");
        assert.match(bad[0].message, /spec\.template\.spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation/);

        const good = diagnostics(await call("analyze",
            resource(rpc.AnalyzeRequest, "kubernetes:apps/v1:Deployment", "backend", deployment())));
        assert.deepEqual(good, []);
    });

    it("requires TLS on an Ingress because it was started for the prod stack", async () => {
        const ingress = { metadata: { name: "web" }, spec: { ingressClassName: "nginx", rules: [{ host: "app.example.com" }] } };
        const found = diagnostics(await call("analyze",
            resource(rpc.AnalyzeRequest, "kubernetes:networking.k8s.io/v1:Ingress", "web", ingress)));
        assert.deepEqual(found.map((d: { policy: string }) => d.policy), ["ingress-tls"]);
    });

    it("reports a namespace without a default-deny NetworkPolicy at the end of the stack", async () => {
        const request = new rpc.AnalyzeStackRequest();
        request.setResourcesList([
            resource(rpc.AnalyzerResource, "kubernetes:apps/v1:Deployment", "backend", deployment()),
        ]);
        const found = diagnostics(await call("analyzeStack", request));
        assert.equal(found.length, 1);
        assert.equal(found[0].policy, "default-deny-network-policy");
        // The engine puts the policy's description on the first line of the message.
        assert.match(found[0].message, /^Namespace "launchpad-dev" runs Deployment "backend"/m);
    });
});
