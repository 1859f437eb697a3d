import * as pulumi from "@pulumi/pulumi";
import { createFleet } from "./fleet";

// The benchmark's second Pulumi program (the first is index.ts): `bench:webServices` web services.
// `npm run bench` starts it through Pulumi's runtime entry with tools/bench/launch.js, as index.ts is started.

const count = new pulumi.Config("bench").requireNumber("webServices");
export const services = createFleet(count).length;
