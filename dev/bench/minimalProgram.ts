import * as k8s from "@pulumi/kubernetes";

// The smallest Kubernetes program in TypeScript: one Namespace. What any TypeScript program on
// @pulumi/kubernetes pays to be loaded as `pulumi up` loads launchpad's program (tools/launch, one
// registration), against which launchpad's own program is read in bench/RESULTS.md.

export const namespace = new k8s.core.v1.Namespace("minimal", { metadata: { name: "minimal" } }).metadata.name;
