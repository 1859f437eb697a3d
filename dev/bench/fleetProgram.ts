import * as pulumi from "@pulumi/pulumi";
import { createFleet } from "./fleet";

// The benchmark's second Pulumi program (the first is index.ts): `bench:webServices` web services, on
// the cluster of `bench:kubeContext` (the load run on the testbed: dev/bench/load.ts). `npm run bench`
// starts it through Pulumi's runtime entry with dev/bench/launch.js, as index.ts is started.

const config = new pulumi.Config("bench");
export const services = createFleet(config.requireNumber("webServices"), config.get("kubeContext")).length;
