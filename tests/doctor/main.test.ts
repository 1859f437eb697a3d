import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PULUMI_CONFIG_NOTE } from "../../components/config";
import { helpText, UsageError } from "../../tools/cli";
import { COMMAND, StackRun, parseArgs, runDoctor } from "../../tools/doctor/main";
import type { DoctorReport } from "../../tools/doctor/report";
import { runStack, stackConfig } from "../../tools/harness";
import { FakeServer, startFakeApiServer, startFakeRegistry, writeKubeconfig } from "./fakes";
import { stackRun } from "../stackRuns";
import { fixtureItems, fixturePath, loadFixture } from "./helpers";
import { nodeObject } from "../../dev/testbed/cluster";
import { NODES } from "../../dev/testbed/layout";

const ROOT = path.resolve(__dirname, "..", "..");
/** The dev stack as the program renders it under mocks, injected so each test skips the run. */
const stack = (): Promise<StackRun> => stackRun("dev");
const inject = { loadStack: stack };

describe("doctor: the command line", () => {
    it("reads --stack, --nodes, --pods and --json, with or without '='", () => {
        assert.deepEqual(parseArgs(["--stack", "dev", "--nodes=n.json", "--pods", "p.json", "--json"]), { stack: "dev", nodes: "n.json", pods: "p.json", json: true });
    });
    it("takes the dev stack when --stack is not given, as every command does", () => {
        assert.deepEqual(parseArgs([]), { stack: "dev", json: false });
        assert.deepEqual(parseArgs(["--json"]), { stack: "dev", json: true });
    });
    const bad: [string[], RegExp][] = [
        [["--stack"], /^--stack needs a value/],
        [["--stack", "--json"], /^--stack needs a value/],
        [["--stack", "dev", "--node", "n.json"], /^unknown option "--node"; did you mean --nodes\?$/],
        [["--stack", "dev", "--pods", "p.json"], /^--pods needs --nodes/],
    ];
    for (const [argv, message] of bad) {
        it(`refuses ${JSON.stringify(argv)} with a one-line usage error`, () => {
            assert.throws(() => parseArgs(argv), (e: Error) => e instanceof UsageError && message.test(e.message) && !e.message.includes("\n"));
        });
    }

    it("exits 2 with the problem and the usage line on stderr for a usage error, and prints nothing on stdout", async () => {
        const out = await runDoctor(["--stack", "dev", "--bogus"], inject);
        assert.equal(out.code, 2);
        assert.equal(out.stdout, "");
        assert.equal(out.stderr, 'doctor: unknown option "--bogus"\nUsage: npm run doctor -- [--stack <name>] [--nodes <file> [--pods <file>]] [--json]  (--help says what each option does)\n');
    });

    it("prints its help for --help, explaining --nodes, and exits 0", async () => {
        const out = await runDoctor(["--help"], inject);
        assert.equal(out.code, 0);
        assert.equal(out.stdout, `${helpText(COMMAND)}\n`);
        assert.match(out.stdout, /\n {2}--nodes <file> +read the nodes from this file \(kubectl get nodes -o json\) instead of the live cluster/);
        assert.match(out.stdout, /--nodes \(and --pods\) let you check\na cluster you cannot reach from here/);
    });
});

describe("doctor: offline, from kubectl files (the stack injected)", () => {
    it("exits 1 on the four-node cluster and lists no schedulable node for any tier, with counts and fixes, in --json", async () => {
        const out = await runDoctor(["--stack", "dev", "--nodes", fixturePath("nodes-product-4.json"), "--json"], inject);
        assert.equal(out.code, 1, out.stderr);
        const report = JSON.parse(out.stdout) as DoctorReport;
        assert.equal(report.stack, "dev");
        assert.equal(report.ok, false);
        assert.deepEqual(report.nodes.map((n) => [n.name, n.ready]), [["dkos-master-01", "True"], ["dkos-worker-01", "Unknown"], ["dkos-worker-02", "Unknown"], ["dkos-lb-01", "True"]]);
        assert.deepEqual(report.workloads.map((w) => w.kind), ["Deployment", "Deployment", "StatefulSet"]);
        for (const w of report.workloads) {
            assert.deepEqual(Object.keys(w).filter((k) => ["kind", "name", "namespace", "schedulable", "message", "fixes"].includes(k)).sort(), ["fixes", "kind", "message", "name", "namespace", "schedulable"]);
            assert.deepEqual(w.schedulable, []);
            assert.match(w.message ?? "", /^0\/4 nodes are available: 1 node\(s\) had untolerated taint \{node-role\.dkosv3\.9rum\.cc\/lb: true\}, 1 node\(s\) had untolerated taint \{node-role\.kubernetes\.io\/master: \}, 2 node\(s\) had untolerated taint \{node\.kubernetes\.io\/unreachable: \}\.$/);
            assert.ok(w.fixes.some((f) => f.configKey === "launchpad:tolerations"));
            assert.ok(w.diagnosis.some((s) => s.startsWith("The cluster is unhealthy")));
        }
        assert.deepEqual(report.images, []);
        assert.deepEqual(report.skipped.map((s) => s.split(":")[0]), ["images", "IngressClass and StorageClass", "NetworkPolicy enforcement and the ingress controller's namespace"]);
    });

    it("prints the shared explanation once for tiers that fail alike, in text", async () => {
        const out = await runDoctor(["--stack", "dev", "--nodes", fixturePath("nodes-product-4.json")], inject);
        assert.equal(out.code, 1);
        assert.equal(out.stdout.match(/The cluster is unhealthy/g)?.length, 1);
        assert.match(out.stdout, /Why \(the same for launchpad-frontend-deployment-\w+, launchpad-backend-deployment-\w+, db\):/);
        assert.match(out.stdout, /\$ pulumi config set --stack dev --path 'tolerations\[0\]\.value' true --type string/);
        assert.match(out.stdout, /Would not work: 3 of 3 workloads would not schedule\.\n$/);
    });

    it("exits 0 on a healthy three-node cluster", async () => {
        const out = await runDoctor(["--stack", "dev", "--nodes", fixturePath("nodes-cloud-3.json"), "--json"], inject);
        assert.equal(out.code, 0, out.stdout);
        const report = JSON.parse(out.stdout) as DoctorReport;
        assert.ok(report.ok && report.workloads.every((w) => w.ok && w.schedulable.length === 3 && w.message === null && w.fixes.length === 0));
    });

    it("exits 1 when the pods already running leave no room, and says so", async () => {
        const out = await runDoctor(["--stack", "dev", "--nodes", fixturePath("nodes-kind.json"), "--pods", fixturePath("pods-kind-full.json")], inject);
        assert.equal(out.code, 1);
        assert.match(out.stdout, /✗ StatefulSet launchpad-dev\/db: 0 of 1 replica would be scheduled; the next stays Pending with\n\s+0\/1 nodes are available: 1 Insufficient cpu\./);
    });

    it("reads the files before running the program, so a wrong path fails at once", async () => {
        let ran = false;
        const out = await runDoctor(["--stack", "dev", "--nodes", "/no/such.json"], { loadStack: () => { ran = true; return stack(); } });
        assert.equal(out.code, 2);
        assert.match(out.stderr, /^doctor: --nodes \/no\/such\.json: cannot read it \(no such file\)\nUsage: /);
        assert.equal(ran, false);
    });

    it("exits 2 for a malformed file, with one line and no stack trace", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-main-"));
        const file = path.join(dir, "nodes.json");
        await fs.writeFile(file, '{"items": [');
        const out = await runDoctor(["--stack", "dev", "--nodes", file], inject);
        assert.equal(out.code, 2);
        assert.match(out.stderr, /^doctor: --nodes .*nodes\.json: not valid JSON .*\nUsage: .*\n$/);
        assert.ok(!out.stderr.includes("    at "));
    });

    it("exits 2 when a node's quantity is not a quantity, naming the value", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-main-"));
        const file = path.join(dir, "nodes.json");
        const nodes = loadFixture<{ items: { status: { allocatable: Record<string, string> } }[] }>("nodes-kind.json");
        nodes.items[0].status.allocatable.cpu = "eight";
        await fs.writeFile(file, JSON.stringify(nodes));
        const out = await runDoctor(["--stack", "dev", "--nodes", file], inject);
        assert.equal(out.code, 2);
        assert.match(out.stderr, /"eight" is not a Kubernetes quantity/);
    });

    it("exits 1 listing every config problem on its own line with its fix, as the program does", async () => {
        const config = { ...stackConfig("dev"), "launchpad:backendReplicas": "-1", "launchpd:frontendCpu": "lots" };
        const out = await runDoctor(["--stack", "dev", "--nodes", fixturePath("nodes-kind.json")], { loadStack: (name) => runStack(name, { config }) });
        assert.equal(out.code, 1);
        assert.equal(out.stdout, "");
        assert.equal(
            out.stderr,
            'doctor: stack "dev" has 2 config problems; nothing was created.\n' +
                '  - launchpad:backendReplicas = "-1": must be at least 0\n' +
                "    fix: Pulumi.dev.yaml: add launchpad:backendReplicas: 1 under config:\n" +
                "      or: pulumi config set --stack dev backendReplicas 1\n" +
                '  - launchpd:frontendCpu = "lots": is under "launchpd:", which no program reads; did you mean "launchpad:frontendCpu"?\n' +
                "    fix: Pulumi.dev.yaml: add launchpad:frontendCpu: 50m under config:\n" +
                "      or: pulumi config rm --stack dev launchpd:frontendCpu && pulumi config set --stack dev frontendCpu 50m\n" +
                `${PULUMI_CONFIG_NOTE}\n`,
        );
    });
});

describe("doctor: with the real program under mocks (tools/harness)", function () {
    this.timeout(60000);

    it("exits 2 for an unknown stack, naming the stacks there are", async () => {
        const out = await runDoctor(["--stack", "staging", "--nodes", fixturePath("nodes-kind.json")]);
        assert.equal(out.code, 2);
        assert.match(out.stderr, /^doctor: unknown stack "staging": there is no Pulumi\.staging\.yaml \(stacks: dev, prod, testbed\)\nUsage: /);
    });

    it("finds the prod stack's two replicas per tier fit the healthy cloud cluster, and exits 0", async () => {
        const out = await runDoctor(["--stack", "prod", "--nodes", fixturePath("nodes-cloud-3.json"), "--json"]);
        assert.equal(out.code, 0, out.stdout + out.stderr);
        const report = JSON.parse(out.stdout) as DoctorReport;
        assert.deepEqual(report.workloads.map((w) => w.placed), [2, 2, 1]);
    });

    it("runs as a process: `doctor --stack dev --nodes <four-node fixture> --json` exits 1 with JSON on stdout", () => {
        const res = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/doctor/main.ts", "--stack", "dev", "--nodes", fixturePath("nodes-product-4.json"), "--json"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(res.status, 1, res.stderr);
        assert.equal((JSON.parse(res.stdout) as DoctorReport).ok, false);
    });

    it("on the dev stack before any kind cluster exists (a real kubeconfig without its context), says so, and that `npm run up` creates it", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-no-kind-"));
        const kubeconfig = path.join(dir, "config");
        await fs.writeFile(kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: work\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: work\n  context:\n    cluster: work\n    user: me\ncurrent-context: work\nusers:\n- name: me\n  user: {}\n");
        try {
            const res = await runDoctor(["--stack", "dev"], {}, { ...process.env, KUBECONFIG: kubeconfig });
            assert.equal(res.code, 1, res.stderr);
            assert.equal(res.stdout, "");
            assert.equal(res.stderr, 'doctor: the kind cluster "launchpad" does not exist yet (the kubeconfig has no context kind-launchpad); `npm run up` creates it, or pass --nodes to check against kubectl\'s dumps of another cluster\n');
        } finally {
            await fs.rm(dir, { recursive: true, force: true });
        }
    });

    it("on a cloud stack without any kubeconfig, says there is none, names launchpad:kubeContext in Pulumi.prod.yaml and --nodes, and exits 1", async () => {
        const home = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-no-kubeconfig-"));
        try {
            const { KUBECONFIG: _, ...env } = process.env;
            const res = await runDoctor(["--stack", "prod"], {}, { ...env, HOME: home });
            assert.equal(res.code, 1, res.stderr);
            assert.match(res.stderr, new RegExp(`^doctor: there is no kubeconfig \\(${home.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\.kube/config does not exist\\), so the doctor cannot reach the cluster of context "prod-cluster" \\(launchpad:kubeContext in Pulumi\\.prod\\.yaml\\)`));
            assert.match(res.stderr, /check it offline with --nodes <file>/);
        } finally {
            await fs.rm(home, { recursive: true, force: true });
        }
    });

    it("runs as a process: a usage error exits 2 with its line and the usage line, and no stack trace", () => {
        const res = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/doctor/main.ts", "--stack", "dev", "--pods", "x.json"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(res.status, 2);
        assert.equal(res.stdout, "");
        assert.equal(res.stderr.trim().split("\n").length, 2);
        assert.match(res.stderr, /^doctor: --pods needs --nodes/);
    });
});

describe("doctor: online, against a fake API server and a fake registry over HTTP", function () {
    this.timeout(60000);
    const token = "api-token";
    let registry: FakeServer;
    let api: FakeServer;
    let kubeconfig: string;
    let dockerConfigDir: string;
    let run: StackRun;

    const kindPods = () => fixtureItems("pods-kind-full.json").filter((p) => !(p as { metadata: { name: string } }).metadata.name.startsWith("loadgen"));
    async function startApi(ingressClasses = [{ name: "nginx", controller: "k8s.io/ingress-nginx", isDefault: true }], nodes: unknown[] = fixtureItems("nodes-kind.json"), pods: unknown[] = kindPods()): Promise<void> {
        api = await startFakeApiServer({
            nodes,
            pods,
            ingressClasses,
            storageClasses: [{ name: "standard", provisioner: "rancher.io/local-path", isDefault: true }],
            token,
        });
        kubeconfig = await writeKubeconfig(api, "kind-launchpad", token);
    }

    before(async () => {
        registry = await startFakeRegistry({
            auth: "bearer",
            users: { ci: "pw" },
            repos: { "launchpad-frontend": ["dev"], "launchpad-backend": ["dev"], "launchpad-postgres": ["dev"] },
        });
        await startApi();
        dockerConfigDir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-docker-"));
        // The real dev program, pointed at the fake registry and the fake cluster.
        run = await runStack("dev", { config: { ...stackConfig("dev"), "launchpad:registry": registry.host, "launchpad:kubeconfig": kubeconfig } });
    });
    after(async () => {
        await registry.close();
        await api.close();
    });

    const env = () => ({ LAUNCHPAD_REGISTRY_USERNAME: "ci", LAUNCHPAD_REGISTRY_PASSWORD: "pw", DOCKER_CONFIG: dockerConfigDir });
    const withCluster = (r: StackRun): StackRun => ({ ...r, config: { ...r.config, cluster: { context: "kind-launchpad", kubeconfig } } });

    it("exits 0 when every tier fits, every image is in the registry and the classes exist", async () => {
        const out = await runDoctor(["--stack", "dev", "--json"], { loadStack: async () => withCluster(run) }, env());
        assert.equal(out.code, 0, out.stdout + out.stderr);
        const report = JSON.parse(out.stdout) as DoctorReport;
        assert.deepEqual(report.images.map((i) => [i.repository, i.status, i.pushedByStack]), [
            ["launchpad-frontend", "found", true],
            ["launchpad-backend", "found", true],
            ["launchpad-postgres", "found", true],
        ]);
        assert.deepEqual(report.routingAndStorage.map((c) => [c.check, c.name, c.ok]), [["ingressClass", "nginx", true], ["storageClass", "standard", true]]);
        // kind's kindnet: enforcement depends on the kind version; ingress-nginx runs where ingressNamespace says.
        assert.deepEqual(report.networkAndNodes.map((c) => [c.check, c.status]), [["architecture", "ok"], ["networkPolicy", "unknown"], ["ingressNamespace", "ok"]]);
        assert.deepEqual(report.skipped, []);
        assert.ok(registry.requests.some((r) => r.url.startsWith("/token")), "went through the token flow");
    });

    it("exits 1 when the registry refuses the credentials, saying so", async () => {
        const out = await runDoctor(["--stack", "dev"], { loadStack: async () => withCluster(run) }, { ...env(), LAUNCHPAD_REGISTRY_PASSWORD: "wrong" });
        assert.equal(out.code, 1);
        assert.match(out.stdout, /✗ .*launchpad-postgres: the token service refused the credentials for ci/);
        assert.match(out.stdout, /Would not work: 3 images cannot be pulled\./);
    });

    it("logs in with the registry's Docker credential helper when neither the environment nor auths hold a login", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "doctor-helper-"));
        await fs.writeFile(path.join(dir, "config.json"), JSON.stringify({ auths: {}, credHelpers: { [registry.host]: "fake" } }));
        await fs.writeFile(path.join(dir, "docker-credential-fake"), '#!/bin/sh\nread server\nprintf \'{"ServerURL":"%s","Username":"ci","Secret":"pw"}\' "$server"\n', { mode: 0o755 });
        const out = await runDoctor(["--stack", "dev", "--json"], { loadStack: async () => withCluster(run) }, { DOCKER_CONFIG: dir, PATH: dir });
        assert.equal(out.code, 0, out.stdout + out.stderr);
        assert.ok((JSON.parse(out.stdout) as DoctorReport).images.every((i) => i.status === "found"));
    });

    it("reports a mirrored image the registry lacks (404) without failing, since `pulumi up` pushes it", async () => {
        const emptyish = await startFakeRegistry({ auth: "bearer", users: { ci: "pw" }, repos: { "launchpad-frontend": ["dev"], "launchpad-backend": ["dev"] } });
        try {
            const moved = await runStack("dev", { config: { ...stackConfig("dev"), "launchpad:registry": emptyish.host } });
            const out = await runDoctor(["--stack", "dev"], { loadStack: async () => withCluster(moved) }, env());
            assert.equal(out.code, 0, out.stdout);
            assert.match(out.stdout, /! .*launchpad-postgres: the repository has no tags|! .*launchpad-postgres: not in the registry \(404\) \(the stack pushes it: expected before the first `pulumi up`\)/);
        } finally {
            await emptyish.close();
        }
    });

    it("fails an image from a registry the stack does not push to when it is missing", async () => {
        const other = await startFakeRegistry({ auth: "none", repos: {} });
        try {
            const r = withCluster(run);
            const objects = r.objects.map((o) => o.kind !== "Deployment" ? o : JSON.parse(JSON.stringify(o).replace(/"image":"[^"]*launchpad-frontend@[^"]*"/, `"image":"${other.host}/otel/collector:0.1"`)));
            const out = await runDoctor(["--stack", "dev", "--json"], { loadStack: async () => ({ ...r, objects }) }, env());
            assert.equal(out.code, 1);
            const report = JSON.parse(out.stdout) as DoctorReport;
            const missing = report.images.find((i) => i.repository === "otel/collector")!;
            assert.deepEqual([missing.status, missing.pushedByStack, missing.blocking], ["missing", false, true]);
        } finally {
            await other.close();
        }
    });

    it("exits 1 when the stack's IngressClass does not exist, naming the ones that do", async () => {
        await api.close();
        await startApi([{ name: "traefik", controller: "traefik.io/ingress-controller", isDefault: true }]);
        const out = await runDoctor(["--stack", "dev", "--json"], { loadStack: async () => withCluster(run) }, env());
        assert.equal(out.code, 1);
        const check = (JSON.parse(out.stdout) as DoctorReport).routingAndStorage.find((c) => c.check === "ingressClass")!;
        assert.equal(check.ok, false);
        assert.match(check.message, /IngressClass nginx does not exist, so the Ingress would never get an address \(the cluster has traefik \(default\)\)/);
    });
    it("exits 1 when every node is arm64 and the images are built for linux/amd64, naming the imagePlatform to set", async () => {
        await api.close();
        const arm64 = fixtureItems<{ metadata: { labels: Record<string, string> }; status: { nodeInfo: Record<string, string> } }>("nodes-kind.json").map((n) => ({
            ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, "kubernetes.io/arch": "arm64" } }, status: { ...n.status, nodeInfo: { ...n.status.nodeInfo, architecture: "arm64" } },
        }));
        await startApi(undefined, arm64);
        const out = await runDoctor(["--stack", "dev"], { loadStack: async () => withCluster(run) }, env());
        assert.equal(out.code, 1, out.stdout);
        assert.match(out.stdout, /\n {2}✗ the images are built for linux\/amd64 \(imagePlatform\), but the nodes the pods may run on are linux\/arm64 \(launchpad-control-plane\), .*: pulumi config set --stack dev imagePlatform linux\/arm64\n/);
        assert.match(out.stdout, /Would not work: the images' platform does not match the nodes\.\n$/);
    });

    it("on the testbed's own nodes, with no network plugin or ingress controller pod, passes and notes what it cannot tell", async () => {
        await api.close();
        // The kwok nodes as dev/testbed makes them, Ready as kwok keeps them, and without the taint that keeps the
        // testbed's app on its real node: a cluster of simulated nodes alone, where no pod runs in kube-system or ingress-nginx.
        const nodes = NODES.map((n) => {
            const o = nodeObject(n) as unknown as { status: Record<string, unknown> };
            return { ...o, spec: {}, status: { ...o.status, conditions: [{ type: "Ready", status: "True" }] } };
        });
        await startApi(undefined, nodes, []);
        const out = await runDoctor(["--stack", "dev"], { loadStack: async () => withCluster(run) }, env());
        assert.equal(out.code, 0, out.stdout);
        const section = out.stdout.split("Network and nodes\n")[1].split("\n\n")[0].split("\n");
        assert.deepEqual(section.map((l) => l.slice(0, 3)), ["  ✓", "  ?", "  ?"]);
        assert.match(section[0], /the platform of the nodes the pods may run on \(testbed-node-1, testbed-node-2\)$/);
        assert.match(section[1], /cannot tell whether the cluster enforces NetworkPolicies/);
        assert.match(section[2], /no pod runs in namespace ingress-nginx/);
    });
});
