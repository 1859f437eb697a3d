// @ts-check
"use strict";
// The benchmark's baseline: the objects launchpad renders for the testbed stack (tests/golden/testbed), each
// created as a plain @pulumi/kubernetes resource of its kind, in its own namespace. No components, no
// config validation, no image builds: the images are the digests the testbed stack pushed (config
// `images`, a JSON map of repository to reference). What it costs the engine is the floor launchpad is
// measured against.
const fs = require("fs");
const path = require("path");
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");
const YAML = require("yaml");

const config = new pulumi.Config();
const namespace = config.require("namespace");
const images = JSON.parse(config.require("images"));
const golden = path.join(__dirname, "..", "..", "..", "tests", "golden", "testbed");

const classes = {
    Namespace: k8s.core.v1.Namespace,
    Secret: k8s.core.v1.Secret,
    Service: k8s.core.v1.Service,
    Deployment: k8s.apps.v1.Deployment,
    StatefulSet: k8s.apps.v1.StatefulSet,
    Ingress: k8s.networking.v1.Ingress,
    NetworkPolicy: k8s.networking.v1.NetworkPolicy,
};

/** The rendered object, moved to the baseline's namespace, with real images and secret values. */
function adapt(value, key) {
    if (Array.isArray(value)) return value.map((v) => adapt(v));
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, adapt(v, k)]));
    if (typeof value !== "string") return value;
    if (value === "launchpad-testbed") return namespace;
    if (value.endsWith("@sha256:PLACEHOLDER-set-by-pulumi-up")) return images[value.split("@")[0]];
    if (value === "[secret]") return key === ".dockerconfigjson" ? JSON.stringify({ auths: {} }) : "plain-baseline-value";
    return value;
}

const provider = new k8s.Provider("testbed", { context: config.require("kubeContext") });
const made = {};
// The namespace first: everything else is in it.
const files = fs.readdirSync(golden).sort((a, b) => Number(!a.startsWith("namespace-")) - Number(!b.startsWith("namespace-")) || a.localeCompare(b));
for (const file of files) {
    const object = adapt(YAML.parse(fs.readFileSync(path.join(golden, file), "utf8")));
    const Resource = classes[object.kind];
    if (!Resource) throw new Error(`${file}: no class for ${object.kind}`);
    const dependsOn = object.kind === "Namespace" ? [] : [made.Namespace];
    made[object.kind] = new Resource(file.replace(/\.yaml$/, ""), object, { provider, dependsOn });
}
exports.namespace = namespace;
