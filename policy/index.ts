import { PolicyPack } from "@pulumi/policy";
import { launchpadPolicies, packOptionsFrom } from "./rules";

// The pack's composition root: the only place that reads the environment. The Pulumi CLI starts the
// pack with PULUMI_STACK set to the stack being previewed or updated, so `--stack prod` requires TLS.
new PolicyPack("launchpad", {
    description: "launchpad guardrails for a three-tier app on Kubernetes.",
    provider: "kubernetes",
    tags: ["kubernetes", "pod-security", "launchpad"],
    policies: launchpadPolicies(packOptionsFrom(process.env)),
});
