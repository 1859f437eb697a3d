import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { ConfigError, loadConfig } from "../../components/config";
import { containerResources, imagePinned } from "../../policy/rules";
import { parseImageRef } from "../../lib/registry";
import { podRequests } from "../../tools/doctor/schedule";
import { compliantContainer, compliantPodSpec, deployment } from "../policy/fixtures";
import { validate } from "../policy/harness";

// The same hostile values, fed to every consumer of a parser: the stack's config, the policy pack and
// the doctor must agree on what is a Kubernetes quantity and what is an image reference.

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

/** The config's complaint about `key` when it is set to `value`, or undefined when it loads. */
function configProblem(key: string, value: string): string | undefined {
    try {
        loadConfig({ [`launchpad:${key}`]: value }, { stack: "dev" });
        return undefined;
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        return error.problems.find((problem) => problem.key === key)?.message;
    }
}

async function policyViolations(container: ReturnType<typeof compliantContainer>, rule = containerResources): Promise<string[]> {
    return (await validate(rule, { resourceClass: k8s.apps.v1.Deployment, props: deployment(compliantPodSpec(container)) })).violations;
}

describe("one quantity parser: config, policy and doctor agree", () => {
    // value, whether Kubernetes' resource.ParseQuantity accepts it
    const cases: [string, boolean][] = [
        ["+1", true], ["1e3", true], ["0.5Gi", true], ["-1", true], ["1E", true], ["1E3", true], [".5", true],
        ["1.", true], ["+.5m", true], ["250m", true],
        ["1Ki ", false], [" 1", false], ["1 Ki", false], ["1KiB", false], ["1e", false], ["1.2.3", false],
        ["--1", false], ["1k8", false], ["Mi", false], ["", false],
    ];
    for (const [value, isQuantity] of cases) {
        const verdict = isQuantity ? "a quantity" : "not a quantity";
        it(`all three call ${JSON.stringify(value)} ${verdict}`, async () => {
            const config = configProblem("backendCpu", value);
            // A quantity may still be refused as a request (negative, zero), but not as malformed.
            assert.equal(config === undefined || /^is (negative|zero);/.test(config), isQuantity, `config: ${config}`);

            const container = compliantContainer();
            container.resources = { requests: { cpu: value, memory: "128Mi" }, limits: { memory: "256Mi" } };
            const policy = (await policyViolations(container)).filter((v) => /is not a Kubernetes quantity/.test(v));
            assert.equal(policy.length === 0, isQuantity, `policy: ${policy}`);

            let doctor: unknown;
            try {
                podRequests({ containers: [{ name: "api", resources: { requests: { cpu: value } } }] });
            } catch (error) {
                doctor = error;
            }
            assert.equal(doctor === undefined, isQuantity, `doctor: ${doctor}`);
        });
    }

    it("config still refuses quantities no request may have: negative or zero", () => {
        assert.match(configProblem("backendCpu", "-1") ?? "", /negative/);
        assert.match(configProblem("backendCpu", "0") ?? "", /zero/);
    });
});

describe("one image reference parser: config, policy and doctor agree", () => {
    // value, whether the distribution reference grammar (with sha256 digests of 64 hex) accepts it
    const cases: [string, boolean][] = [
        ["postgres:17", true], ["localhost:5001/app:1.0", true], ["team/app:1", true], ["team/app", true], [`postgres@${DIGEST}`, true],
        [`repo:tag@${DIGEST}`, true], [`ghcr.io/acme/db:17@${DIGEST}`, true], ["Registry.Example.com/team/db:1", true],
        [`postgres@sha512:${"ab".repeat(64)}`, false], [`postgres@${DIGEST.toUpperCase()}`, false],
        [`postgres@sha256:${"ab".repeat(31)}`, false], [`postgres@md5:${"ab".repeat(16)}`, false],
        ["UPPER/case:tag", false], ["localhost:5001/Launchpad:1", false], ["postgres:", false], [" postgres:17", false],
        ["post gres:17", false], ["postgres:-17", false], [`${"a".repeat(256)}:1`, false],
    ];
    for (const [value, isReference] of cases) {
        const verdict = isReference ? "an image reference" : "not an image reference";
        it(`all three call ${JSON.stringify(value.length > 80 ? `${value.slice(0, 20)}…` : value)} ${verdict}`, async () => {
            const config = configProblem("dbImage", value);
            // A reference may still be refused as unpinned ("team/app"), but not as malformed.
            assert.equal(config === undefined || /no tag or digest|'latest'/.test(config), isReference, `config: ${config}`);

            const container = compliantContainer();
            container.image = value;
            const policy = (await policyViolations(container, imagePinned)).filter((v) => /is not a valid reference/.test(v));
            assert.equal(policy.length === 0, isReference, `policy: ${policy}`);

            assert.equal((() => {
                try {
                    parseImageRef(value);
                    return true;
                } catch {
                    return false;
                }
            })(), isReference, "doctor");
        });
    }
});
