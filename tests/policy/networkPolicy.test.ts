import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { defaultDenyNetworkPolicy, isDefaultDeny } from "../../policy/rules";
import { DEFAULT_DENY, deployment, NAMESPACE, networkPolicy, service, statefulSet } from "./fixtures";
import { FakeResource, UNKNOWN_DURING_PREVIEW, validateStack } from "./harness";

const NetworkPolicy = k8s.networking.v1.NetworkPolicy;
const app: FakeResource[] = [
    { resourceClass: k8s.apps.v1.Deployment, props: deployment(undefined, "frontend") },
    { resourceClass: k8s.apps.v1.Deployment, props: deployment(undefined, "backend") },
    { resourceClass: k8s.apps.v1.StatefulSet, props: statefulSet() },
    { resourceClass: k8s.core.v1.Service, props: service("backend") },
];
const check = (...resources: FakeResource[]) => validateStack(defaultDenyNetworkPolicy, resources);

describe("isDefaultDeny", () => {
    it("accepts an empty pod selector with both policy types and no rules", () => {
        assert.equal(isDefaultDeny(DEFAULT_DENY), true);
        assert.equal(isDefaultDeny({ ...DEFAULT_DENY, podSelector: { matchLabels: {} } }), true);
    });

    it("rejects a policy that selects only some pods", () => {
        assert.equal(isDefaultDeny({ ...DEFAULT_DENY, podSelector: { matchLabels: { app: "db" } } }), false);
        assert.equal(isDefaultDeny({ ...DEFAULT_DENY,
            podSelector: { matchExpressions: [{ key: "app", operator: "Exists" }] } }), false);
    });

    it("rejects a policy that isolates only one direction", () => {
        assert.equal(isDefaultDeny({ podSelector: {}, policyTypes: ["Ingress"] }), false);
        assert.equal(isDefaultDeny({ podSelector: {} }), false);
    });

    it("rejects a policy whose empty rule lets all traffic back in", () => {
        assert.equal(isDefaultDeny({ ...DEFAULT_DENY, ingress: [{}] }), false);
        assert.equal(isDefaultDeny({ ...DEFAULT_DENY, egress: [{ to: [], ports: [] }] }), false);
    });

    it("still counts a select-all policy that allows only DNS egress", () => {
        assert.equal(isDefaultDeny({ ...DEFAULT_DENY,
            egress: [{ ports: [{ protocol: "UDP", port: 53 }] }] }), true);
    });
});

describe("policy default-deny-network-policy", () => {
    it("passes a namespace with a default-deny NetworkPolicy", async () => {
        const outcome = await check(...app, { resourceClass: NetworkPolicy, props: networkPolicy(DEFAULT_DENY) });
        assert.deepEqual(outcome.violations, []);
    });

    it("reports a namespace without one, naming it and its workloads once", async () => {
        const { violations } = await check(...app);
        assert.equal(violations.length, 1);
        assert.match(violations[0], new RegExp(`^Namespace "${NAMESPACE}" runs Deployment "frontend", `
            + 'Deployment "backend", StatefulSet "database" but has no default-deny NetworkPolicy'));
        assert.match(violations[0], /spec\.podSelector \{\} and spec\.policyTypes \["Ingress", "Egress"\]/);
    });

    it("does not count a NetworkPolicy that only selects some pods", async () => {
        const partial = networkPolicy({ ...DEFAULT_DENY, podSelector: { matchLabels: { "app.kubernetes.io/component": "database" } } });
        assert.equal((await check(...app, { resourceClass: NetworkPolicy, props: partial })).violations.length, 1);
    });

    it("does not count a default deny in another namespace", async () => {
        const elsewhere = networkPolicy(DEFAULT_DENY, "default-deny", "other");
        const { violations } = await check(...app, { resourceClass: NetworkPolicy, props: elsewhere });
        assert.equal(violations.length, 1);
        assert.match(violations[0], new RegExp(`^Namespace "${NAMESPACE}"`));
    });

    it("checks each namespace on its own", async () => {
        const other = deployment(undefined, "worker");
        other.metadata.namespace = "jobs";
        const { violations } = await check(...app, { resourceClass: k8s.apps.v1.Deployment, props: other },
            { resourceClass: NetworkPolicy, props: networkPolicy(DEFAULT_DENY) });
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^Namespace "jobs" runs Deployment "worker"/);
    });

    it("places resources without a namespace in their provider's namespace, else in default", async () => {
        const bare = deployment(undefined, "worker");
        delete (bare.metadata as { namespace?: string }).namespace;
        const viaProvider = await check(
            { resourceClass: k8s.apps.v1.Deployment, props: bare, providerProps: { namespace: NAMESPACE } },
            { resourceClass: NetworkPolicy, props: networkPolicy(DEFAULT_DENY) });
        assert.deepEqual(viaProvider.violations, []);

        const inDefault = await check({ resourceClass: k8s.apps.v1.Deployment, props: bare },
            { resourceClass: NetworkPolicy, props: networkPolicy(DEFAULT_DENY) });
        assert.equal(inDefault.violations.length, 1);
        assert.match(inDefault.violations[0], /^Namespace "default"/);
    });

    it("has nothing to report for a stack without workloads", async () => {
        assert.deepEqual((await check({ resourceClass: k8s.core.v1.Service, props: service("backend") })).violations, []);
    });

    it("defers to pulumi up when a NetworkPolicy's namespace is unknown during preview", async () => {
        const pending = networkPolicy(DEFAULT_DENY, "default-deny", UNKNOWN_DURING_PREVIEW);
        assert.deepEqual((await check(...app, { resourceClass: NetworkPolicy, props: pending })).violations, []);
    });
});
