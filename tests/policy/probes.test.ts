import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { containerProbes } from "../../policy/rules";
import { compliantContainer, compliantPodSpec, cronJob, deployment, job, pod, statefulSet } from "./fixtures";
import { ResourceClass, validate } from "./harness";

const check = (props: object, resourceClass: ResourceClass = k8s.apps.v1.Deployment) =>
    validate(containerProbes, { resourceClass, props });

describe("policy container-probes", () => {
    it("passes long-running containers with readiness and liveness probes", async () => {
        assert.deepEqual((await check(deployment())).violations, []);
        assert.deepEqual((await check(statefulSet(), k8s.apps.v1.StatefulSet)).violations, []);
    });

    it("reports each missing probe with the container's field path", async () => {
        const spec = compliantPodSpec(compliantContainer("api"), compliantContainer("proxy"));
        delete spec.containers[1].readinessProbe;
        delete spec.containers[1].livenessProbe;
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 2);
        assert.match(violations[0], /^Deployment "backend": container "proxy" has no readinessProbe: set spec\.template\.spec\.containers\[1\]\.readinessProbe/);
        assert.match(violations[1], /container "proxy" has no livenessProbe: set spec\.template\.spec\.containers\[1\]\.livenessProbe/);
    });

    it("requires probes on a StatefulSet's database container", async () => {
        const spec = compliantPodSpec(compliantContainer("postgres"));
        delete spec.containers[0].livenessProbe;
        const { violations } = await check(statefulSet(spec), k8s.apps.v1.StatefulSet);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^StatefulSet "database": container "postgres" has no livenessProbe/);
    });

    it("does not ask init containers for probes", async () => {
        const spec = compliantPodSpec();
        const migrate = compliantContainer("migrate");
        delete migrate.readinessProbe;
        delete migrate.livenessProbe;
        spec.initContainers = [migrate];
        assert.deepEqual((await check(deployment(spec))).violations, []);
    });

    it("does not apply to Jobs, CronJobs or run-to-completion Pods", async () => {
        const bare = compliantPodSpec();
        delete bare.containers[0].readinessProbe;
        delete bare.containers[0].livenessProbe;
        for (const [resourceClass, props] of [
            [k8s.batch.v1.Job, job(bare)],
            [k8s.batch.v1.CronJob, cronJob(bare)],
            [k8s.core.v1.Pod, pod({ ...bare, restartPolicy: "Never" })],
        ] as const) {
            const outcome = await check(props, resourceClass);
            assert.deepEqual(outcome.violations, []);
            assert.match(outcome.notApplicable ?? "", /runs to completion/);
        }
    });

    it("requires probes on a bare Pod that restarts forever", async () => {
        const spec = compliantPodSpec();
        delete spec.containers[0].readinessProbe;
        const { violations } = await check(pod(spec), k8s.core.v1.Pod);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^Pod "debug": container "api" has no readinessProbe: set spec\.containers\[0\]\.readinessProbe/);
    });
});
