"use strict";
// The floor of the cmd/run rows of `npm run bench`: a Pulumi program that only loads the two SDKs every
// TypeScript program on Kubernetes loads, and registers nothing of its own (the runtime adds the Stack).

require("@pulumi/pulumi");
require("@pulumi/kubernetes");
