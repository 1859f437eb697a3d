import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../components/config";
import { PROJECT } from "../../components/project";
import { KubeObject, REDACTED, StackRun, containsSecret, listStacks, resolveSecrets, runStack, stableHash, stackConfig } from "../../tools/harness";
import { validateObject } from "../../tools/harness/schema";
import { RecordedResource, installMocks } from "../mocks";
import { stackRun } from "../stackRuns";
import { CREDENTIALS_ANNOTATION, adoptPasswordScript, credentialsFingerprint } from "../../components/database";
import { IMAGE_TYPE } from "../../components/image";
import { PASSWORD_TYPE } from "../../components/password";

// Runs index.ts, the real composition root, for every committed stack file and checks the whole
// inventory and its wiring, the way a reviewer would read the manifests.

const ofKind = (run: StackRun, kind: string) => run.objects.filter((o) => o.kind === kind);
const one = (run: StackRun, kind: string, name: string) => {
    const found = run.objects.find((o) => o.kind === kind && o.metadata.name === name);
    assert.ok(found, `no ${kind} named ${name}`);
    return found;
};
const workloads = (run: StackRun) => run.objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
const podOf = (workload: KubeObject) => workload.spec.template;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);
/** A label selector (matchLabels and matchExpressions with In/NotIn/Exists/DoesNotExist) against labels. */
const selectorMatches = (selector: any, labels: Record<string, string>): boolean =>
    matches(selector.matchLabels ?? {}, labels) && (selector.matchExpressions ?? []).every((e: any) => {
        switch (e.operator) {
            case "In": return e.values.includes(labels[e.key]);
            case "NotIn": return !e.values.includes(labels[e.key]);
            case "Exists": return e.key in labels;
            default: return !(e.key in labels);
        }
    });
const resourceOf = (run: StackRun, type: string, namePart: string): RecordedResource => {
    const found = run.resources.find((r) => r.type === type && r.name.includes(namePart));
    assert.ok(found, `no ${type} named like ${namePart}`);
    return found;
};

for (const stack of listStacks()) {
    describe(`the ${stack} stack under mocks`, () => {
        let run: StackRun;
        before(async () => {
            run = await stackRun(stack);
        });

        it("creates a namespace, two Deployments, one StatefulSet, three Services, one Ingress and the database Secret", () => {
            const count = (kind: string) => ofKind(run, kind).length;
            assert.equal(count("Namespace"), 1);
            assert.equal(count("Deployment"), 2);
            assert.equal(count("StatefulSet"), 1);
            assert.equal(count("Service"), 3);
            assert.equal(count("Ingress"), 1);
            assert.ok(ofKind(run, "Secret").some((s) => s.metadata.name === "db-credentials"));
        });

        it("puts every object in the stack's namespace", () => {
            const namespace = ofKind(run, "Namespace")[0].metadata.name;
            assert.equal(namespace, run.config.namespace);
            for (const object of run.objects.filter((o) => o.kind !== "Namespace")) {
                assert.equal(object.metadata.namespace, namespace, `${object.kind} ${object.metadata.name}`);
            }
        });

        it("creates every Kubernetes object through the stack's own provider, never the ambient kubectl context", () => {
            const provider = resourceOf(run, "pulumi:providers:kubernetes", "cluster");
            assert.equal(provider.inputs.context, run.config.cluster.context);
            for (const resource of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
                assert.match(resource.options.provider, /pulumi:providers:kubernetes::launchpad-cluster::/, resource.name);
            }
        });

        it("validates every object against the Kubernetes API schema", () => {
            for (const object of run.objects) {
                const result = validateObject(object);
                assert.equal(result.skipped, false, `${object.kind} has no schema`);
                assert.deepEqual(result.errors, [], `${object.kind} ${object.metadata.name}`);
            }
        });

        // Pod security, requests and limits, probes and image pins are the policy pack's rules, run over
        // every stack in tests/policy/program.test.ts; what follows is what the pack does not check.
        it("gives every container a read-only root and no pod the service account's token", () => {
            for (const workload of workloads(run)) {
                for (const container of podOf(workload).spec.containers) {
                    assert.equal(container.securityContext.readOnlyRootFilesystem, true, container.name);
                }
                assert.equal(podOf(workload).spec.automountServiceAccountToken, false);
            }
        });

        it("pins every image by digest in the stack's registry, the database's too", () => {
            const digestRef = new RegExp(`^${run.config.registry.server.replace(/[.]/g, "\\.")}/[a-z0-9-]+@sha256:[0-9a-f]{64}$`);
            const images = workloads(run).flatMap((w) => podOf(w).spec.containers.map((c: any) => c.image));
            assert.equal(images.length, 3);
            for (const image of images) assert.match(image, digestRef);
            assert.equal(one(run, "StatefulSet", "db").spec.template.spec.containers[0].image, run.outputs.databaseImage);
        });

        it("points each Service at pods that exist, on a port those pods name", () => {
            for (const service of ofKind(run, "Service")) {
                const targets = workloads(run).filter((w) => matches(service.spec.selector, podOf(w).metadata.labels));
                assert.equal(targets.length, 1, `Service ${service.metadata.name} selects ${targets.length} workloads`);
                const portNames = podOf(targets[0]).spec.containers.flatMap((c: any) => c.ports.map((p: any) => p.name));
                for (const port of service.spec.ports) assert.ok(portNames.includes(port.targetPort), `${service.metadata.name} → ${port.targetPort}`);
            }
        });

        it("routes the Ingress to existing Services and ports: / to the frontend and /api to the backend", () => {
            const ingress = ofKind(run, "Ingress")[0];
            const paths = ingress.spec.rules[0].http.paths;
            for (const path of paths) {
                const service = one(run, "Service", path.backend.service.name);
                assert.ok(service.spec.ports.some((p: any) => p.port === path.backend.service.port.number));
            }
            const route = (p: string) => paths.find((x: any) => x.path === p).backend.service.name;
            assert.equal(route(run.config.ingress.frontendPath), "frontend");
            assert.equal(route(run.config.ingress.backendPath), "backend");
            assert.equal(ingress.spec.ingressClassName, run.config.ingress.className);
            assert.equal(ingress.spec.rules[0].host, run.config.ingress.host);
        });

        it("wires the backend to the database Service and its Secret by construction", () => {
            const backend = ofKind(run, "Deployment").find((d) => d.metadata.labels?.["app.kubernetes.io/component"] === "backend")!;
            const env = Object.fromEntries(podOf(backend).spec.containers[0].env.map((e: any) => [e.name, e]));
            const database = one(run, "StatefulSet", "db");
            const dbService = one(run, "Service", database.spec.serviceName);
            const dbEnv = Object.fromEntries(database.spec.template.spec.containers[0].env.map((e: any) => [e.name, e]));
            assert.equal(env.DB_HOST.value, dbService.metadata.name);
            assert.equal(env.DB_PORT.value, String(dbService.spec.ports[0].port));
            assert.equal(env.DB_NAME.value, dbEnv.POSTGRES_DB.value);
            assert.equal(env.DB_USER.value, dbEnv.POSTGRES_USER.value);
            assert.deepEqual(env.DB_PASSWORD.valueFrom, dbEnv.POSTGRES_PASSWORD.valueFrom);
            const secret = one(run, "Secret", env.DB_PASSWORD.valueFrom.secretKeyRef.name);
            assert.ok(env.DB_PASSWORD.valueFrom.secretKeyRef.key in secret.stringData);
        });

        it("keeps the database password a secret end to end and out of every other resource and output", () => {
            const password = resourceOf(run, PASSWORD_TYPE, "password");
            const secret = resourceOf(run, "kubernetes:core/v1:Secret", "database-credentials");
            assert.ok(containsSecret(secret.inputs.stringData), "the Secret's value is not a Pulumi secret");
            assert.equal(one(run, "Secret", "db-credentials").stringData.password, REDACTED);
            // The fake provider generates the password from the resource's name, as the mocks document.
            const revealed = stableHash(`password:${password.name}`, Number(password.inputs.length));
            assert.equal(resolveSecrets(secret.inputs.stringData, true).password, revealed);
            for (const resource of run.resources.filter((r) => r !== secret && r !== password)) {
                assert.ok(!JSON.stringify(resource.inputs).includes(revealed), `${resource.name} holds the password`);
            }
            assert.ok(!JSON.stringify(run.outputs).includes(revealed), "an output holds the password");
        });

        it("restarts the database and the backend on a new password: both pod templates carry its fingerprint, the frontend's none", () => {
            const password = resourceOf(run, PASSWORD_TYPE, "password");
            const fingerprint = credentialsFingerprint(stableHash(`password:${password.name}`, Number(password.inputs.length)));
            assert.equal(podOf(one(run, "StatefulSet", "db")).metadata.annotations[CREDENTIALS_ANNOTATION], fingerprint);
            const [backend, frontend] = ["backend", "frontend"].map((tier) => ofKind(run, "Deployment").find((d) => d.metadata.labels?.["app.kubernetes.io/component"] === tier)!);
            assert.equal(podOf(backend).metadata.annotations[CREDENTIALS_ANNOTATION], fingerprint);
            assert.equal(podOf(frontend).metadata.annotations, undefined);
            const db = podOf(one(run, "StatefulSet", "db")).spec.containers[0];
            assert.deepEqual(db.lifecycle.postStart.exec.command, ["/bin/sh", "-c", adoptPasswordScript()]);
        });

        it("keeps the database's data across pulumi destroy", () => {
            for (const [type, name] of [["kubernetes:apps/v1:StatefulSet", "statefulset"], ["kubernetes:core/v1:Secret", "credentials"], ["kubernetes:core/v1:Namespace", "namespace"]]) {
                const resource = resourceOf(run, type, name);
                assert.equal(resource.options.retainOnDelete, true, `${type} is deleted on destroy`);
                assert.equal(resource.options.protect, run.config.protect, `${type} protect`);
                // The next up re-applies them under a new field manager: without force, the API server
                // refuses the new password as a conflict (seen on the testbed).
                assert.equal(resource.inputs.metadata.annotations?.["pulumi.com/patchForce"], "true", `${type} is adopted by the next up`);
            }
            assert.equal(one(run, "StatefulSet", "db").spec.persistentVolumeClaimRetentionPolicy.whenDeleted, "Retain");
        });

        it("fails a stuck rollout within the configured timeout instead of Pulumi's ten minutes", () => {
            const timeout = run.config.rollout.timeoutSeconds;
            for (const workload of workloads(run)) {
                assert.equal(workload.metadata.annotations?.["pulumi.com/timeoutSeconds"], String(timeout), workload.metadata.name);
            }
            for (const deployment of ofKind(run, "Deployment")) {
                assert.ok(deployment.spec.progressDeadlineSeconds < timeout);
                assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
            }
        });

        it("does not wait on an Ingress address on kind, and does on a cloud cluster", () => {
            const annotations = ofKind(run, "Ingress")[0].metadata.annotations ?? {};
            assert.equal(annotations["pulumi.com/skipAwait"], run.config.platform === "kind" ? "true" : undefined);
        });

        it("exports the app URL, the namespace and each tier's image", () => {
            const scheme = run.config.ingress.tls ? "https" : "http";
            assert.equal(run.outputs.url, `${scheme}://${run.config.ingress.host}`);
            assert.equal(run.outputs.namespace, run.config.namespace);
            for (const key of ["frontendImage", "backendImage", "databaseImage"]) assert.match(String(run.outputs[key]), /@sha256:/);
        });

        it("labels the namespace to enforce, warn and audit the restricted Pod Security Standard", () => {
            const labels = ofKind(run, "Namespace")[0].metadata.labels ?? {};
            for (const mode of ["enforce", "warn", "audit"]) assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
        });

        it("denies all traffic by default and opens only what the tiers need", () => {
            const policies = ofKind(run, "NetworkPolicy");
            const selecting = (labels: Record<string, string>, type: string) => policies.filter((p) =>
                p.spec.policyTypes.includes(type) && selectorMatches(p.spec.podSelector, labels));
            const deny = policies.find((p) => p.metadata.name === "default-deny")!;
            assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

            const labelsOf = (component: string) => podOf(workloads(run).find((w) => w.metadata.labels?.["app.kubernetes.io/component"] === component)!).metadata.labels;
            const egressRules = (component: string) => selecting(labelsOf(component), "Egress").flatMap((p) => p.spec.egress ?? []);
            const ingressRules = (component: string) => selecting(labelsOf(component), "Ingress").flatMap((p) => p.spec.ingress ?? []);

            assert.deepEqual(egressRules("database"), [], "the database may reach nothing");
            assert.ok(egressRules("backend").some((r: any) => r.to.some((t: any) => t.podSelector && selectorMatches(t.podSelector, labelsOf("database"))) && r.ports[0].port === 5432));
            assert.ok(egressRules("frontend").every((r: any) => r.ports.every((p: any) => p.port === 53)), "the frontend may only resolve names");
            const dbIngress = ingressRules("database");
            assert.equal(dbIngress.length, 1);
            assert.ok(selectorMatches(dbIngress[0].from[0].podSelector, labelsOf("backend")));
            for (const tier of ["frontend", "backend"]) {
                const from = ingressRules(tier).flatMap((r: any) => r.from);
                assert.deepEqual(from, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], tier);
            }
        });

        it("lets the ingress controller reach cert-manager's HTTP-01 solver pods exactly when cert-manager issues the certificate", () => {
            const solver = { "acme.cert-manager.io/http01-solver": "true", "acme.cert-manager.io/http-domain": "1234" };
            const admitting = ofKind(run, "NetworkPolicy").filter((p) => p.spec.policyTypes.includes("Ingress") && selectorMatches(p.spec.podSelector, solver) && (p.spec.ingress ?? []).length > 0);
            if (run.config.ingress.tls?.issuer) {
                assert.equal(admitting.length, 1);
                assert.deepEqual(admitting[0].spec.ingress, [{
                    from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": run.config.network.ingressNamespace } } }],
                    ports: [{ protocol: "TCP", port: 8089 }],
                }]);
            } else {
                assert.deepEqual(admitting, [], "no issuer, no solver: default-deny keeps everything else out");
            }
        });

        it("spreads web pods across nodes and pauses before stopping so rolling updates drop no requests", () => {
            for (const deployment of ofKind(run, "Deployment")) {
                const pod = podOf(deployment).spec;
                assert.equal(pod.topologySpreadConstraints[0].topologyKey, "kubernetes.io/hostname");
                assert.deepEqual(pod.containers[0].lifecycle.preStop, { sleep: { seconds: 5 } });
                assert.ok(pod.terminationGracePeriodSeconds > 5);
            }
        });

        it("gives every tier that runs two or more pods a disruption budget, and an autoscaler when the stack enables it", () => {
            const budgets = ofKind(run, "PodDisruptionBudget");
            const autoscalers = ofKind(run, "HorizontalPodAutoscaler");
            for (const deployment of ofKind(run, "Deployment")) {
                const tier = deployment.metadata.labels?.["app.kubernetes.io/component"] as "frontend" | "backend";
                const min = run.config[tier].replicas;
                const budget = budgets.filter((b) => matches(b.spec.selector.matchLabels, podOf(deployment).metadata.labels));
                assert.equal(budget.length, min >= 2 ? 1 : 0, `${tier} budgets`);
                const scaler = autoscalers.filter((a) => a.spec.scaleTargetRef.name === deployment.metadata.name);
                if (run.config.autoscaling) {
                    assert.equal(scaler.length, 1, `${tier} autoscaler`);
                    assert.equal(scaler[0].spec.minReplicas, min);
                    assert.equal(scaler[0].spec.maxReplicas, run.config[tier].maxReplicas);
                    assert.equal(deployment.spec.replicas, undefined, "the autoscaler owns replicas");
                } else {
                    assert.equal(scaler.length, 0);
                    assert.equal(deployment.spec.replicas, min);
                }
            }
        });
    });
}

describe("a stack with registry credentials", () => {
    let run: StackRun;
    before(async () => {
        const config = { ...stackConfig("prod"), "launchpad:registryUsername": "ci-bot", "launchpad:registryPassword": "s3cret-token" };
        run = await runStack("prod", { config, secretKeys: ["launchpad:registryPassword"] });
    });

    it("creates a dockerconfigjson pull Secret whose content is a Pulumi secret", () => {
        const secret = run.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name.endsWith("-registry"));
        assert.ok(secret);
        assert.equal(secret.inputs.type, "kubernetes.io/dockerconfigjson");
        assert.ok(containsSecret(secret.inputs.stringData));
        assert.deepEqual(JSON.parse(resolveSecrets(secret.inputs.stringData, true)[".dockerconfigjson"]), {
            auths: { "ghcr.io": { username: "ci-bot", password: "s3cret-token" } },
        });
    });

    it("lets every pod pull with it", () => {
        for (const workload of workloads(run)) assert.deepEqual(podOf(workload).spec.imagePullSecrets, [{ name: "registry-credentials" }]);
    });

    it("gives every image push the registry login, the password as a secret", () => {
        const images = run.resources.filter((r) => r.type === IMAGE_TYPE);
        assert.equal(images.length, 3);
        for (const image of images) {
            assert.ok(containsSecret(image.inputs.login), `${image.name}'s login is not a secret`);
            assert.deepEqual(resolveSecrets(image.inputs.login, true), { host: "ghcr.io", username: "ci-bot", password: "s3cret-token" });
            assert.ok(!JSON.stringify(image.state).includes("s3cret-token"), `${image.name}'s state holds the token`);
        }
        assert.ok(!JSON.stringify(run.objects).includes("s3cret-token"), "a rendered object holds the token");
    });
});

describe("image builds", () => {
    const builds = (run: StackRun) => run.resources.filter((r) => r.type === IMAGE_TYPE && r.inputs.build !== undefined);

    it("run on Docker's default build network unless imageBuildNetwork names one", async () => {
        assert.ok(builds(await stackRun("dev")).every((image) => image.inputs.build.network === undefined));
    });

    it("run their RUN steps on the imageBuildNetwork, and the mirror has no build to give it to", async () => {
        const run = await runStack("dev", { config: { ...stackConfig("dev"), "launchpad:imageBuildNetwork": "host" } });
        assert.deepEqual(builds(run).map((image) => image.inputs.build.network), ["host", "host"]);
        const mirror = run.resources.find((r) => r.type === IMAGE_TYPE && r.inputs.mirror !== undefined);
        assert.equal(mirror?.inputs.build, undefined);
    });
});

describe("a stack config with problems, under pulumi up", () => {
    it("reaches the Pulumi CLI as a RunError, which it prints without a stack trace, with the ConfigError's message", async () => {
        await installMocks(PROJECT, "dev");
        pulumi.runtime.setAllConfig({ ...stackConfig("dev"), "launchpad:platform": "moon" }, []);
        const entry = require.resolve("../../index");
        delete require.cache[entry];
        try {
            assert.throws(() => require(entry), (error: Error) => {
                assert.ok(pulumi.RunError.isInstance(error), `expected a RunError, got ${error}`);
                assert.ok(error.cause instanceof ConfigError, `its cause is not the ConfigError: ${error.cause}`);
                assert.equal(error.message, error.cause.message);
                assert.match(error.message, /launchpad:platform = "moon"/);
                return true;
            });
        } finally {
            delete require.cache[entry];
            await pulumi.runtime.disconnect();
        }
    });
});
