import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { parseQuantity } from "../../lib/quantity";
import { containerResources } from "../../policy/rules";
import { compliantContainer, compliantPodSpec, deployment, statefulSet } from "./fixtures";
import { ResourceClass, validate } from "./harness";

const check = (props: object, resourceClass: ResourceClass = k8s.apps.v1.Deployment) =>
    validate(containerResources, { resourceClass, props });

describe("parseQuantity", () => {
    it("reads decimal, binary, milli and exponent quantities in base units", () => {
        assert.equal(parseQuantity("250m"), 0.25);
        assert.equal(parseQuantity("2"), 2);
        assert.equal(parseQuantity("1.5"), 1.5);
        assert.equal(parseQuantity("128Mi"), 128 * 2 ** 20);
        assert.equal(parseQuantity("1Gi"), 2 ** 30);
        assert.equal(parseQuantity("1G"), 1e9);
        assert.equal(parseQuantity("1k"), 1000);
        assert.equal(parseQuantity("1e3"), 1000);
        assert.equal(parseQuantity(3), 3);
    });

    it("reads a bare E as exa and E followed by digits as an exponent", () => {
        assert.equal(parseQuantity("1E"), 1e18);
        assert.equal(parseQuantity("1E3"), 1000);
    });

    it("gives 300m exactly the value of 0.3, so equal quantities compare equal", () => {
        assert.equal(parseQuantity("300m"), parseQuantity("0.3"));
    });

    it("rejects text that is not a quantity", () => {
        for (const bad of ["", "lots", "1 Gi", "1GB", "Mi", "1.2.3"]) {
            assert.equal(parseQuantity(bad), undefined, bad);
        }
    });
});

describe("policy container-resources", () => {
    it("passes containers with cpu and memory requests and a memory limit", async () => {
        assert.deepEqual((await check(deployment())).violations, []);
        assert.deepEqual((await check(statefulSet(), k8s.apps.v1.StatefulSet)).violations, []);
    });

    it("does not require a cpu limit", async () => {
        const spec = compliantPodSpec();
        delete spec.containers[0].resources!.limits!.cpu;
        assert.deepEqual((await check(deployment(spec))).violations, []);
    });

    it("names every missing request and limit of a container in one message", async () => {
        const spec = compliantPodSpec();
        delete spec.containers[0].resources;
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        const at = "spec.template.spec.containers[0].resources";
        assert.match(violations[0], /^Deployment "backend": container "api" has no /);
        for (const field of [`${at}.requests.cpu`, `${at}.requests.memory`, `${at}.limits.memory`]) {
            assert.ok(violations[0].includes(field), `missing ${field} in: ${violations[0]}`);
        }
    });

    it("reports a missing memory limit alone", async () => {
        const spec = compliantPodSpec();
        delete spec.containers[0].resources!.limits!.memory;
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /has no spec\.template\.spec\.containers\[0\]\.resources\.limits\.memory: set it/);
    });

    it("checks init containers", async () => {
        const spec = compliantPodSpec();
        const migrate = compliantContainer("migrate");
        delete migrate.resources!.requests!.cpu;
        spec.initContainers = [migrate];
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /init container "migrate" has no spec\.template\.spec\.initContainers\[0\]\.resources\.requests\.cpu/);
    });

    it("rejects a memory request above the memory limit, across units", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].resources = { requests: { cpu: "100m", memory: "1Gi" }, limits: { memory: "512Mi" } };
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /requests more memory than its limit/);
        assert.match(violations[0], /resources\.requests\.memory "1Gi" > spec\.template\.spec\.containers\[0\]\.resources\.limits\.memory "512Mi"/);
    });

    it("rejects a cpu request above the cpu limit", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].resources = { requests: { cpu: "1", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } };
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /requests more cpu than its limit/);
    });

    it("accepts a request equal to its limit written in other units", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].resources = { requests: { cpu: "0.5", memory: "1Gi" }, limits: { cpu: "500m", memory: "1024Mi" } };
        assert.deepEqual((await check(deployment(spec))).violations, []);
    });

    it("reports a quantity Kubernetes cannot parse, with its field path", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].resources!.limits!.memory = "256MB";
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /spec\.template\.spec\.containers\[0\]\.resources\.limits\.memory "256MB" is not a Kubernetes quantity/);
    });
});
