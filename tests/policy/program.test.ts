import * as assert from "node:assert/strict";
import { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { listStacks, resolveSecrets, StackRun } from "../../tools/harness";
import { launchpadPolicies, packOptionsFrom, ResourceRule } from "../../policy/rules";
import { stackRun } from "../stackRuns";
import { FakeResource, validate, validateStack } from "./harness";

const isStackPolicy = (policy: Policies[number]): policy is StackValidationPolicy => "validateStack" in policy;

/**
 * launchpad's own program, run under mocks for every committed stack, passes its own policy pack:
 * what `pulumi preview --stack <stack> --policy-pack policy` would report, without the CLI. This is
 * where the program's pods are checked against the restricted Pod Security Standard, requests and
 * limits, probes and image pins: the pack's rules, not a second copy of them.
 */
for (const stack of listStacks()) {
    describe(`the ${stack} stack against the policy pack`, () => {
        let run: StackRun;
        const policies = launchpadPolicies(packOptionsFrom({ PULUMI_STACK: stack }));

        before(async () => {
            run = await stackRun(stack);
        });

        // The engine hands resource policies the inputs, and stack policies the outputs.
        const asInputs = () => run.resources.map((r): FakeResource => ({ resourceClass: r.type, name: r.name, props: resolveSecrets(r.inputs) }));
        const asOutputs = () => run.resources.map((r): FakeResource => ({ resourceClass: r.type, name: r.name, props: resolveSecrets(r.state) }));

        for (const policy of policies) {
            it(`raises no ${policy.enforcementLevel} violation of ${policy.name}`, async () => {
                const violations: string[] = [];
                if (isStackPolicy(policy)) {
                    violations.push(...(await validateStack(policy, asOutputs())).violations);
                } else {
                    for (const resource of asInputs()) {
                        violations.push(...(await validate(policy as ResourceValidationPolicy as ResourceRule, resource)).violations);
                    }
                }
                assert.deepEqual(violations, []);
            });
        }

        it("is checked by every resource rule (Ingress TLS only in prod) on at least one of its resources", async () => {
            const appliedToNone: string[] = [];
            for (const policy of policies.filter((p) => !isStackPolicy(p))) {
                const outcomes = await Promise.all(asInputs().map((r) => validate(policy as ResourceRule, r)));
                if (outcomes.every((o) => o.notApplicable !== undefined)) {
                    appliedToNone.push(policy.name);
                }
            }
            assert.deepEqual(appliedToNone, stack === "prod" ? [] : ["ingress-tls"]);
        });
    });
}
