import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { ingressClassRequired, ingressTls } from "../../policy/rules";
import { ingress } from "./fixtures";
import { UNKNOWN_DURING_PREVIEW, validate } from "./harness";

const Ingress = k8s.networking.v1.Ingress;
const TLS = [{ hosts: ["app.example.com"], secretName: "app-tls" }];

describe("policy ingress-class-required", () => {
    const check = (props: object) => validate(ingressClassRequired, { resourceClass: Ingress, props });

    it("passes an Ingress with spec.ingressClassName", async () => {
        assert.deepEqual((await check(ingress({ ingressClassName: "nginx" }))).violations, []);
    });

    it("rejects an Ingress without spec.ingressClassName and says how to find the class", async () => {
        const { violations } = await check(ingress({}));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^Ingress "frontend": spec\.ingressClassName is not set/);
        assert.match(violations[0], /kubectl get ingressclass/);
    });

    it("does not accept the deprecated kubernetes.io/ingress.class annotation instead", async () => {
        const props = ingress({});
        Object.assign(props.metadata, { annotations: { "kubernetes.io/ingress.class": "nginx" } });
        const { violations } = await check(props);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /the kubernetes\.io\/ingress\.class annotation "nginx" is deprecated/);
    });

    it("waits for a class name computed by another resource instead of failing the preview", async () => {
        assert.deepEqual((await check(ingress({ ingressClassName: UNKNOWN_DURING_PREVIEW }))).violations, []);
    });
});

describe("policy ingress-tls", () => {
    const check = (requireTls: boolean, props: object, config: object = {}) =>
        validate(ingressTls({ requireTls }), { resourceClass: Ingress, props }, config);

    it("does not apply outside prod", async () => {
        const outcome = await check(false, ingress({ ingressClassName: "nginx" }));
        assert.deepEqual(outcome.violations, []);
        assert.match(outcome.notApplicable ?? "", /only in the prod stack/);
    });

    it("in prod, rejects an Ingress without spec.tls", async () => {
        const { violations } = await check(true, ingress({ ingressClassName: "nginx" }));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^Ingress "frontend": spec\.tls is empty, so the app is served over plain HTTP: add spec\.tls/);
    });

    it("in prod, passes an Ingress whose TLS covers its host", async () => {
        assert.deepEqual((await check(true, ingress({ ingressClassName: "nginx", tls: TLS }))).violations, []);
    });

    it("in prod, names a rule host that no TLS entry covers", async () => {
        const props = ingress({ ingressClassName: "nginx", tls: TLS });
        props.spec.rules.push({ ...props.spec.rules[0], host: "api.example.org" });
        const { violations } = await check(true, props);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /spec\.rules\[1\]\.host "api\.example\.org" is in no spec\.tls\[\]\.hosts/);
    });

    it("lets a wildcard TLS host cover exactly one more label", async () => {
        const props = ingress({ ingressClassName: "nginx", tls: [{ hosts: ["*.example.com"], secretName: "wild" }] });
        props.spec.rules.push({ ...props.spec.rules[0], host: "a.b.example.com" });
        const { violations } = await check(true, props);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /spec\.rules\[1\]\.host "a\.b\.example\.com"/);
    });

    it("treats a TLS entry without hosts as the controller's default certificate for every host", async () => {
        const props = ingress({ ingressClassName: "nginx", tls: [{ secretName: "default-cert" }] });
        assert.deepEqual((await check(true, props)).violations, []);
    });

    it("lets policy config requireTls override the stack-derived flag both ways", async () => {
        const plain = ingress({ ingressClassName: "nginx" });
        assert.equal((await check(false, plain, { requireTls: true })).violations.length, 1);
        assert.ok((await check(true, plain, { requireTls: false })).notApplicable);
    });
});
