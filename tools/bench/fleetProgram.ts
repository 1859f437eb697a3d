import * as pulumi from "@pulumi/pulumi";
import { createFleet } from "./fleet";

// The benchmark's second Pulumi program (the first is index.ts): `bench:webServices` web services.
// `npm run bench` starts it with tools/bench/host.js, compiled by tools/launch like index.ts.

const count = new pulumi.Config("bench").requireNumber("webServices");
export const services = createFleet(count).length;
