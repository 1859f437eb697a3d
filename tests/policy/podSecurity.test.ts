import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { podSecurityRestricted } from "../../policy/rules";
import { compliantContainer, compliantPodSpec, cronJob, deployment, job, pod, statefulSet } from "./fixtures";
import { ResourceClass, validate } from "./harness";

const check = (props: object, resourceClass: ResourceClass = k8s.apps.v1.Deployment) => validate(podSecurityRestricted, { resourceClass, props });

describe("policy pod-security-restricted", () => {
    it("passes a Deployment and a StatefulSet that meet the restricted standard", async () => {
        assert.deepEqual((await check(deployment())).violations, []);
        assert.deepEqual((await check(statefulSet(), k8s.apps.v1.StatefulSet)).violations, []);
    });

    it("does not apply to resources without a pod template", async () => {
        const outcome = await check({ metadata: { name: "settings" }, data: {} }, k8s.core.v1.ConfigMap);
        assert.match(outcome.notApplicable ?? "", /pod template/);
    });

    it("accepts runAsNonRoot and seccomp set on every container instead of on the pod", async () => {
        const container = compliantContainer();
        container.securityContext = {
            ...container.securityContext,
            runAsNonRoot: true,
            seccompProfile: { type: "Localhost", localhostProfile: "profiles/api.json" },
        };
        const spec = compliantPodSpec(container);
        spec.securityContext = {};
        assert.deepEqual((await check(deployment(spec))).violations, []);
    });

    it("names the container and the pod field when runAsNonRoot is set nowhere", async () => {
        const spec = compliantPodSpec();
        delete spec.securityContext!.runAsNonRoot;
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^Deployment "backend": container "api" may run as root/);
        assert.match(violations[0], /spec\.template\.spec\.securityContext\.runAsNonRoot to true/);
        assert.match(violations[0], /spec\.template\.spec\.containers\[0\]\.securityContext\.runAsNonRoot/);
    });

    it("rejects a container whose runAsNonRoot: false overrides the pod's true", async () => {
        const spec = compliantPodSpec(compliantContainer("api"), compliantContainer("sidecar"));
        spec.containers[1].securityContext!.runAsNonRoot = false;
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /container "sidecar".*containers\[1\]\.securityContext\.runAsNonRoot is false/);
    });

    it("rejects runAsUser 0 on the pod and on a container", async () => {
        const spec = compliantPodSpec();
        spec.securityContext!.runAsUser = 0;
        spec.containers[0].securityContext!.runAsUser = 0;
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 2);
        assert.match(violations[0], /spec\.template\.spec\.securityContext\.runAsUser is 0/);
        assert.match(violations[1], /containers\[0\]\.securityContext\.runAsUser is 0/);
    });

    it("requires allowPrivilegeEscalation: false to be explicit on each container", async () => {
        const spec = compliantPodSpec();
        delete spec.containers[0].securityContext!.allowPrivilegeEscalation;
        const { violations } = await check(deployment(spec));
        assert.deepEqual(violations, [
            'Deployment "backend": container "api" may gain more privileges than its parent process: '
            + "set spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation to false.",
        ]);
    });

    it("checks init containers too, by their own field path", async () => {
        const spec = compliantPodSpec();
        const migrate = compliantContainer("migrate");
        migrate.securityContext = { allowPrivilegeEscalation: true, capabilities: { drop: ["ALL"] } };
        spec.initContainers = [migrate];
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /init container "migrate".*initContainers\[0\]\.securityContext\.allowPrivilegeEscalation/);
    });

    it("rejects privileged containers", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].securityContext!.privileged = true;
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /is privileged \(spec\.template\.spec\.containers\[0\]\.securityContext\.privileged is true\)/);
    });

    it("requires capabilities to drop ALL", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].securityContext!.capabilities = { drop: ["NET_RAW"] };
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /set spec\.template\.spec\.containers\[0\]\.securityContext\.capabilities\.drop to \["ALL"\]/);
    });

    it("allows adding NET_BIND_SERVICE but no other capability", async () => {
        const allowed = compliantPodSpec();
        allowed.containers[0].securityContext!.capabilities = { drop: ["ALL"], add: ["NET_BIND_SERVICE"] };
        assert.deepEqual((await check(deployment(allowed))).violations, []);

        const extra = compliantPodSpec();
        extra.containers[0].securityContext!.capabilities = { drop: ["ALL"], add: ["NET_BIND_SERVICE", "SYS_ADMIN"] };
        const { violations } = await check(deployment(extra));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /adds SYS_ADMIN in spec\.template\.spec\.containers\[0\]\.securityContext\.capabilities\.add/);
    });

    it("requires a RuntimeDefault or Localhost seccomp profile on the pod or the container", async () => {
        const none = compliantPodSpec();
        delete none.securityContext!.seccompProfile;
        const missing = await check(deployment(none));
        assert.equal(missing.violations.length, 1);
        assert.match(missing.violations[0], /has no seccomp profile: set spec\.template\.spec\.securityContext\.seccompProfile\.type/);

        const unconfinedPod = compliantPodSpec();
        unconfinedPod.securityContext!.seccompProfile = { type: "Unconfined" };
        const podLevel = await check(deployment(unconfinedPod));
        assert.equal(podLevel.violations.length, 1);
        assert.match(podLevel.violations[0], /"Unconfined" \(spec\.template\.spec\.securityContext\.seccompProfile\.type\)/);
    });

    it("lets a container's Unconfined seccomp profile override the pod's RuntimeDefault, and reports it", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].securityContext!.seccompProfile = { type: "Unconfined" };
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /"Unconfined" \(spec\.template\.spec\.containers\[0\]\.securityContext\.seccompProfile\.type\)/);
    });

    it("rejects hostNetwork, hostPID and hostIPC", async () => {
        const spec = compliantPodSpec();
        Object.assign(spec, { hostNetwork: true, hostPID: true, hostIPC: true });
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 3);
        assert.match(violations[0], /spec\.template\.spec\.hostNetwork is true/);
        assert.match(violations[1], /spec\.template\.spec\.hostPID is true/);
        assert.match(violations[2], /spec\.template\.spec\.hostIPC is true/);
    });

    it("accepts host namespaces explicitly set to false", async () => {
        const spec = compliantPodSpec();
        Object.assign(spec, { hostNetwork: false, hostPID: false, hostIPC: false });
        assert.deepEqual((await check(deployment(spec))).violations, []);
    });

    it("rejects hostPath volumes and names the volume", async () => {
        const spec = compliantPodSpec();
        spec.volumes!.push({ name: "docker-sock", hostPath: { path: "/var/run/docker.sock" } });
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /volume "docker-sock" mounts a directory of the node \(spec\.template\.spec\.volumes\[1\]\.hostPath\)/);
    });

    it("rejects volume types the restricted standard does not list", async () => {
        const spec = compliantPodSpec();
        spec.volumes!.push({ name: "share", nfs: { server: "nfs.local", path: "/export" } });
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /spec\.template\.spec\.volumes\[1\]\.nfs/);
    });

    it("rejects hostPort on any container port", async () => {
        const spec = compliantPodSpec();
        spec.containers[0].ports = [{ containerPort: 8080 }, { containerPort: 9090, hostPort: 9090 }];
        const { violations } = await check(deployment(spec));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /binds port 9090 on the node \(spec\.template\.spec\.containers\[0\]\.ports\[1\]\.hostPort\)/);
    });

    it("checks bare Pods, Jobs and CronJobs at their own pod spec paths", async () => {
        const spec = () => {
            const s = compliantPodSpec();
            s.containers[0].securityContext!.privileged = true;
            return s;
        };
        const cases = [
            { resourceClass: k8s.core.v1.Pod, props: pod(spec()), path: /\(spec\.containers\[0\]/ },
            { resourceClass: k8s.batch.v1.Job, props: job(spec()), path: /\(spec\.template\.spec\.containers\[0\]/ },
            { resourceClass: k8s.batch.v1.CronJob, props: cronJob(spec()), path: /\(spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]/ },
        ];
        for (const { resourceClass, props, path } of cases) {
            const { violations } = await check(props, resourceClass);
            assert.equal(violations.length, 1, `${resourceClass.name}: ${violations.join("\n")}`);
            assert.match(violations[0], path);
        }
    });

    it("checks DaemonSets and ReplicaSets", async () => {
        const spec = compliantPodSpec();
        spec.hostNetwork = true;
        for (const resourceClass of [k8s.apps.v1.DaemonSet, k8s.apps.v1.ReplicaSet]) {
            const { violations } = await check(deployment(spec), resourceClass);
            assert.equal(violations.length, 1);
        }
    });
});
