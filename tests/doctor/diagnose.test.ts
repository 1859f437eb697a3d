import * as assert from "node:assert/strict";
import { DiagnoseContext, Diagnosis, diagnose, tierOf } from "../../tools/doctor/diagnose";
import type { StackRun } from "../../tools/doctor/main";
import { KubeNode, KubePod, NodeState, WorkloadVerdict, nodeStates, scheduleWorkloads, workloadsOf } from "../../tools/doctor/schedule";
import type { KubeObject } from "../../tools/harness";
import { stackRun } from "../stackRuns";
import { fixtureItems, node, podSpec, requiredAffinity, runningPod } from "./helpers";

// The doctor reads the objects the dev stack really renders (the program under mocks, as `npm run
// doctor` runs it), so a change to the program's workloads shows up here.
let dev: readonly KubeObject[];
async function loadDev(): Promise<void> {
    dev = (await stackRun("dev")).objects;
}

function run(nodes: KubeNode[], pods: KubePod[] = [], objects: StackRun["objects"] = dev, ctx: Partial<DiagnoseContext> = {}) {
    const states = nodeStates(nodes, pods);
    const verdicts = scheduleWorkloads(workloadsOf(objects), states);
    const context: DiagnoseContext = { stack: "dev", platform: "kind", ...ctx };
    return verdicts.map((v) => ({ v, d: diagnose(v, states, context), tier: tierOf(v.workload) }));
}

function text(d: Diagnosis): string {
    return d.summary.join("\n");
}

const PRODUCT_MESSAGE =
    "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.dkosv3.9rum.cc/lb: true}, " +
    "1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.";

describe("doctor: the four-node cluster from the product brief", () => {
    let results: ReturnType<typeof run>;
    before(async () => {
        await loadDev();
        results = run(fixtureItems<KubeNode>("nodes-product-4.json"));
    });

    it("finds the frontend, the backend and the database", () => {
        assert.deepEqual(results.map((r) => r.tier), ["frontend", "backend", "db"]);
    });

    for (const tier of ["frontend", "backend", "db"]) {
        it(`leaves the ${tier} with no schedulable node and the scheduler's 0/4 message and counts`, () => {
            const r = results.find((x) => x.tier === tier)!;
            assert.equal(r.v.ok, false);
            assert.deepEqual(r.v.schedulable, []);
            assert.equal(r.v.message, PRODUCT_MESSAGE);
        });
    }

    it("says the cluster is unhealthy and that this is the operator's problem, not the app's", () => {
        const d = text(results[0].d);
        assert.match(d, /The cluster is unhealthy: 2 of 4 nodes cannot run pods\. dkos-worker-01 and dkos-worker-02 are unreachable \(Ready=Unknown/);
        assert.match(d, /tainted them node\.kubernetes\.io\/unreachable/);
        assert.match(d, /an operator's problem, not the app's/);
        assert.match(results[0].d.fixes[0].title, /operator repair or replace dkos-worker-01 and dkos-worker-02/);
        assert.ok(results[0].d.fixes[0].commands?.includes("kubectl describe node dkos-worker-01"));
    });

    it("names the toleration that would use the lb node and says why that is rarely right", () => {
        const d = text(results[0].d);
        assert.match(d, /dkos-lb-01 is set aside for load balancers \(taint node-role\.dkosv3\.9rum\.cc\/lb=true:NoSchedule\)/);
        assert.ok(d.includes('{"key":"node-role.dkosv3.9rum.cc/lb","operator":"Equal","value":"true","effect":"NoSchedule"}'));
        assert.match(d, /That is rarely right: the taint is there to keep ordinary pods off that node, so load balancers keep the capacity and network they need; and with every other node ruled out, all of the app's tiers would crowd onto this one node with no redundancy/);
    });

    it("offers the lb toleration as a cautious fix: the config key, the value and exact commands", () => {
        const fix = results[0].d.fixes.find((f) => f.configKey === "launchpad:tolerations")!;
        assert.deepEqual(fix.value, { key: "node-role.dkosv3.9rum.cc/lb", operator: "Equal", value: "true", effect: "NoSchedule" });
        assert.match(fix.title, /^Only if the operator agrees/);
        assert.ok(fix.caution);
        assert.deepEqual(fix.commands, [
            "pulumi config set --stack dev --path 'tolerations[0].key' node-role.dkosv3.9rum.cc/lb",
            "pulumi config set --stack dev --path 'tolerations[0].operator' Equal",
            "pulumi config set --stack dev --path 'tolerations[0].value' true --type string",
            "pulumi config set --stack dev --path 'tolerations[0].effect' NoSchedule",
        ]);
        assert.equal(
            fix.yaml,
            ["# Pulumi.dev.yaml", "config:", "  launchpad:tolerations:", "    - key: node-role.dkosv3.9rum.cc/lb", "      operator: Equal", '      value: "true"', "      effect: NoSchedule"].join("\n"),
        );
    });

    it("names the toleration that would use the master and why that is rarely right, without offering it", () => {
        const d = text(results[0].d);
        assert.match(d, /dkos-master-01 is a control-plane node \(taint node-role\.kubernetes\.io\/master:NoSchedule\)/);
        assert.ok(d.includes('{"key":"node-role.kubernetes.io/master","operator":"Exists","effect":"NoSchedule"}'));
        assert.match(d, /rarely right: the app would compete with the control plane/);
        assert.ok(!results[0].d.fixes.some((f) => JSON.stringify(f).includes("node-role.kubernetes.io/master")), "no fix touches the master");
    });

    it("puts the cluster's repair before any toleration", () => {
        assert.match(results[0].d.summary.at(-1)!, /^Fix the cluster first/);
    });

    it("appends a new toleration after the ones the stack already has", () => {
        const [r] = run(fixtureItems<KubeNode>("nodes-product-4.json"), [], dev, { existingTolerations: 2 });
        const fix = r.d.fixes.find((f) => f.configKey === "launchpad:tolerations")!;
        assert.ok(fix.commands?.every((c) => c.includes("'tolerations[2]")));
        assert.match(fix.yaml ?? "", /append to the existing launchpad:tolerations list/);
    });
});

describe("doctor: healthy clusters", () => {
    before(loadDev);

    it("places every tier on the kind node, whose control-plane taint kind removed", () => {
        const results = run(fixtureItems<KubeNode>("nodes-kind.json"));
        assert.ok(results.every((r) => r.v.ok && r.v.schedulable.join() === "launchpad-control-plane"));
        assert.ok(results.every((r) => r.d.summary.length === 0 && r.d.fixes.length === 0));
    });

    it("places every tier on the three-node cloud cluster", () => {
        const results = run(fixtureItems<KubeNode>("nodes-cloud-3.json"), [], dev, { platform: "cloud" });
        assert.ok(results.every((r) => r.v.ok && r.v.schedulable.length === 3));
    });
});

describe("doctor: resources already taken", () => {
    before(loadDev);
    const nodes = fixtureItems<KubeNode>("nodes-kind.json");
    const pods = fixtureItems<KubePod>("pods-kind-full.json");

    it("subtracts what the running pods request (and not the finished ones) from the kind node", () => {
        const [state] = nodeStates(nodes, pods);
        assert.equal(state.requested.milliCpu, 7850);
        assert.equal(state.requested.pods, 9);
    });

    it("lets the first tiers take the last 150m and says the database would stay Pending", () => {
        const results = run(nodes, pods);
        const db = results.find((r) => r.tier === "db")!;
        assert.deepEqual(results.map((r) => r.v.ok), [true, true, false]);
        assert.equal(db.v.message, "0/1 nodes are available: 1 Insufficient cpu.");
        assert.deepEqual(db.v.schedulable, ["launchpad-control-plane"], "alone it would have fitted");
        assert.match(text(db.d), /Only 0 of 1 replicas find room once the stack's other pods are placed/);
        assert.match(text(db.d), /each db pod requests 100m, and the roomiest eligible node \(launchpad-control-plane\) has 0 of its 8 free after what already runs there: 100m short/);
        assert.match(text(db.d), /No eligible node has any cpu left, so lowering dbCpu alone will not help/);
    });

    it("says how much cpu is missing and which key lowers the request", () => {
        const objects = dev.filter((o) => o.kind !== "Deployment" || o.metadata.labels?.["app.kubernetes.io/component"] === "backend");
        const backendOnly = objects.filter((o) => o.kind !== "StatefulSet");
        const results = run([node("n", { cpu: "1" })], [runningPod("busy", "n", { cpu: "940m" })], backendOnly);
        const [r] = results;
        assert.equal(r.v.message, "0/1 nodes are available: 1 Insufficient cpu.");
        assert.match(text(r.d), /each launchpad-backend-deployment-\w+ pod requests 100m, and the roomiest eligible node \(n\) has 60m of its 1 free after what already runs there: 40m short/);
        const fix = r.d.fixes.find((f) => f.configKey === "launchpad:backendCpu")!;
        assert.deepEqual(fix.commands, ["pulumi config set --stack dev backendCpu 60m"]);
        assert.equal(fix.yaml, "# Pulumi.dev.yaml\nconfig:\n  launchpad:backendCpu: 60m");
    });

    it("says how much memory is missing, in Mi, and offers the memory key", () => {
        const w = { kind: "Deployment", metadata: { name: "frontend", labels: { "app.kubernetes.io/component": "frontend" } }, spec: { replicas: 1, template: { spec: podSpec({ cpu: "10m", memory: "512Mi" }) } } };
        const [r] = run([node("n", { memory: "1Gi" })], [runningPod("busy", "n", { memory: "700Mi" })], [w]);
        assert.match(text(r.d), /Not enough memory: each frontend pod requests 512Mi, and the roomiest eligible node \(n\) has 324Mi of its 1Gi free after what already runs there: 188Mi short/);
        assert.ok(r.d.fixes.some((f) => f.commands?.[0] === "pulumi config set --stack dev frontendMemory 324Mi"));
    });

    it("offers fewer replicas when only some fit", () => {
        const w = { kind: "Deployment", metadata: { name: "backend" }, spec: { replicas: 3, template: { spec: podSpec({ cpu: "400m" }) } } };
        const [r] = run([node("n", { cpu: "1" })], [], [w]);
        assert.equal(r.v.placements.length, 2);
        const fix = r.d.fixes.find((f) => f.configKey === "launchpad:backendReplicas")!;
        assert.deepEqual(fix.value, 2);
        assert.equal(fix.yaml, "# Pulumi.dev.yaml\nconfig:\n  launchpad:backendReplicas: 2");
    });
});

describe("doctor: selectors, cordons and sick nodes in plain words", () => {
    const cloud = fixtureItems<KubeNode>("nodes-cloud-3.json");
    const deployment = (spec: ReturnType<typeof podSpec>) => [{ kind: "Deployment", metadata: { name: "web", labels: { "app.kubernetes.io/component": "frontend" } }, spec: { replicas: 1, template: { spec } } }];

    it("says which label values the nodes carry when the nodeSelector matches none, and how to select one", () => {
        const [r] = run(cloud, [], deployment(podSpec({ nodeSelector: { pool: "batch" } })), { platform: "cloud" });
        assert.equal(r.v.message, "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
        assert.match(text(r.d), /do not match the pod's nodeSelector pool=batch \(set by launchpad:nodeSelector \/ launchpad:affinity\): pool is apps there\./);
        assert.ok(r.d.fixes.some((f) => f.commands?.[0] === `pulumi config set --stack dev --path 'nodeSelector["pool"]' apps`));
        assert.ok(r.d.fixes.some((f) => f.commands?.[0] === "pulumi config rm --stack dev nodeSelector"));
    });

    it("describes required affinity terms and offers to loosen launchpad:affinity", () => {
        const [r] = run(cloud, [], deployment(podSpec({ affinity: requiredAffinity(["topology.kubernetes.io/zone In eu-west-1z"]) })), { platform: "cloud" });
        assert.match(text(r.d), /required node affinity \(topology\.kubernetes\.io\/zone In eu-west-1z\)/);
        assert.ok(r.d.fixes.some((f) => f.configKey === "launchpad:affinity"));
    });

    it("calls a cordoned node the operator's call", () => {
        const [r] = run([node("n", { unschedulable: true })], [], deployment(podSpec()));
        assert.equal(r.v.message, "0/1 nodes are available: 1 node(s) were unschedulable.");
        assert.match(text(r.d), /n is cordoned/);
        assert.deepEqual(r.d.fixes[0].commands, ["kubectl uncordon n"]);
    });

    it("calls a NotReady node not ready, with its reason, and the cluster unhealthy", () => {
        const sick = node("n", { ready: "False" });
        sick.status!.conditions = [{ type: "Ready", status: "False", reason: "KubeletNotReady" }];
        const [r] = run([sick], [], deployment(podSpec()));
        assert.equal(r.v.message, "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.");
        assert.match(text(r.d), /The cluster is unhealthy: 1 of 1 nodes cannot run pods\. n is not ready \(Ready=False: KubeletNotReady\)/);
    });

    it("on a one-node kind cluster that kept its control-plane taint, offers to remove the taint", () => {
        const cp = fixtureItems<KubeNode>("nodes-kind.json")[0];
        cp.spec = { ...cp.spec, taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] };
        const [r] = run([cp], [], deployment(podSpec()));
        assert.match(text(r.d), /kind normally removes this taint/);
        assert.deepEqual(r.d.fixes[0].commands, ["kubectl taint nodes launchpad-control-plane node-role.kubernetes.io/control-plane:NoSchedule-"]);
    });

    it("says nothing for a workload whose replicas all fit", () => {
        const states: NodeState[] = nodeStates([node("n")]);
        const [v]: WorkloadVerdict[] = scheduleWorkloads(workloadsOf(deployment(podSpec())), states);
        assert.deepEqual(diagnose(v, states, { stack: "dev" }), { summary: [], fixes: [] });
    });
});

describe("doctor: telling the tiers apart", () => {
    const cases: [string, Record<string, string>, string, string | undefined][] = [
        ["Deployment", { "app.kubernetes.io/component": "frontend" }, "launchpad-frontend-deployment-3a38a9ee", "frontend"],
        ["Deployment", { "app.kubernetes.io/component": "backend" }, "x", "backend"],
        ["StatefulSet", { "app.kubernetes.io/component": "database" }, "db", "db"],
        ["Deployment", {}, "shop-api", "backend"],
        ["Deployment", {}, "shop-ui", "frontend"],
        ["StatefulSet", {}, "store", "db"],
        ["Deployment", {}, "worker", undefined],
    ];
    for (const [kind, labels, name, tier] of cases) {
        it(`takes ${kind} ${name} ${JSON.stringify(labels)} for ${tier ?? "no tier"}`, () => {
            assert.equal(tierOf({ kind, name, labels }), tier);
        });
    }
});
