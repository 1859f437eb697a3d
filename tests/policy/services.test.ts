import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { internalTiersNotExposed } from "../../policy/rules";
import { service } from "./fixtures";
import { validate } from "./harness";

const check = (props: object) => validate(internalTiersNotExposed, { resourceClass: k8s.core.v1.Service, props });

describe("policy internal-tiers-not-exposed", () => {
    it("passes ClusterIP and headless Services of the backend and database", async () => {
        assert.deepEqual((await check(service("backend"))).violations, []);
        assert.deepEqual((await check(service("backend", "ClusterIP"))).violations, []);
        const headless = service("database");
        Object.assign(headless.spec, { clusterIP: "None" });
        assert.deepEqual((await check(headless)).violations, []);
    });

    it("rejects a LoadBalancer Service for the database, naming the field and the fix", async () => {
        const { violations } = await check(service("database", "LoadBalancer", "db"));
        assert.deepEqual(violations, [
            'Service "db": spec.type is "LoadBalancer", which exposes the database tier '
            + '(spec.selector["app.kubernetes.io/component"]) outside the cluster: remove spec.type so it is a '
            + "ClusterIP Service; outside traffic enters through the Ingress.",
        ]);
    });

    it("rejects a NodePort Service for the backend", async () => {
        const { violations } = await check(service("backend", "NodePort"));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /spec\.type is "NodePort", which exposes the backend tier/);
    });

    it("identifies the tier from the Service's labels when its selector has no component", async () => {
        const props = service("database", "NodePort");
        props.spec.selector = { "app.kubernetes.io/name": "postgres" } as typeof props.spec.selector;
        const { violations } = await check(props);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /database tier \(metadata\.labels\["app\.kubernetes\.io\/component"\]\)/);
    });

    it("allows a LoadBalancer Service for the frontend", async () => {
        assert.deepEqual((await check(service("frontend", "LoadBalancer"))).violations, []);
    });

    it("does not apply to other resource types", async () => {
        const outcome = await validate(internalTiersNotExposed, { resourceClass: k8s.core.v1.ConfigMap, props: { metadata: { name: "x" } } });
        assert.ok(outcome.notApplicable);
    });
});
