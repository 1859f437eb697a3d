import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REGISTRY } from "../../dev/testbed/layout";
import { waitFor } from "../../dev/testbed/processes";
import { deployAfresh, kube, launchpad, NAMESPACE, ok, pulumi, ROOT, run, STACK, useTestbed, withFileChanged } from "./support";

type Kube = Awaited<ReturnType<typeof kube>>;

/** What a rollout or an adoption would change, per workload tier. */
async function workloads(k: Kube) {
    const byTier: Record<string, { name: string; image: string; generation: number; uid: string }> = {};
    const deployments = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items;
    const statefulSets = (await k.apps.listNamespacedStatefulSet({ namespace: NAMESPACE })).items;
    for (const w of [...deployments, ...statefulSets]) {
        byTier[w.metadata!.labels!["app.kubernetes.io/component"]] = {
            name: w.metadata!.name!,
            image: w.spec!.template.spec!.containers[0].image!,
            generation: w.metadata!.generation!,
            uid: w.metadata!.uid!,
        };
    }
    return byTier;
}

describe("e2e: the app's life on the testbed: changes, down and up again", function () {
    this.timeout(30 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Kube;

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        await deployAfresh(env);
    });

    it("rolls out a change in the backend's source as a new digest, to the backend only", async () => {
        const before = await workloads(k);
        const update = await withFileChanged("apps/backend/src/main.ts", (text) => `${text}\n// e2e: a change in the backend's source\n`, () => launchpad("up", [], env));
        ok(update, "npm run up after a change in apps/backend");
        const after = await workloads(k);
        assert.notEqual(after.backend.image, before.backend.image, "the backend runs a new image");
        assert.match(after.backend.image.slice(REGISTRY.length), /^\/launchpad-backend@sha256:[0-9a-f]{64}$/);
        assert.ok(after.backend.image.startsWith(REGISTRY), "from the team registry");
        assert.equal(after.backend.uid, before.backend.uid, "the same Deployment, updated in place (a rolling update)");
        assert.equal(after.backend.generation, before.backend.generation + 1);
        assert.deepEqual(after.frontend, before.frontend, "the frontend is untouched");
        assert.deepEqual(after.database, before.database, "the database is untouched");
        const backend = await k.apps.readNamespacedDeployment({ namespace: NAMESPACE, name: after.backend.name });
        assert.equal(backend.spec?.strategy?.type, "RollingUpdate");
        assert.equal(backend.status?.updatedReplicas, backend.spec?.replicas);
        assert.equal(backend.status?.availableReplicas, backend.spec?.replicas);
        // Back to the committed source: the first image's digest again (the build is reproducible from the context).
        ok(await launchpad("up", [], env), "npm run up with the source restored");
        assert.equal((await workloads(k)).backend.image, before.backend.image);
    });

    it("keeps the database's volume claim, Secret and StatefulSet across down, and the next up adopts them", async () => {
        const claim = (await k.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: "data-db-0" }));
        const before = await workloads(k);
        const secret = await k.core.readNamespacedSecret({ namespace: NAMESPACE, name: "db-credentials" });

        const down = ok(await launchpad("down", [], env), "npm run down");
        assert.match(down.output, /the database's data is kept/);
        const deployments = (await k.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items;
        assert.deepEqual(deployments, [], "the app is gone");
        const kept = await k.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: "data-db-0" });
        assert.equal(kept.metadata?.uid, claim.metadata?.uid, "the same claim");
        assert.equal(kept.spec?.volumeName, claim.spec?.volumeName, "on the same volume");
        assert.equal((await k.core.readNamespacedSecret({ namespace: NAMESPACE, name: "db-credentials" })).metadata?.uid, secret.metadata?.uid);
        assert.equal((await workloads(k)).database.uid, before.database.uid);

        ok(await launchpad("up", [], env), "npm run up after down");
        const after = await workloads(k);
        assert.equal(after.database.uid, before.database.uid, "the kept StatefulSet is adopted, not made anew");
        const adopted = await k.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: "data-db-0" });
        assert.equal(adopted.metadata?.uid, claim.metadata?.uid, "and its claim with it");
        assert.equal(adopted.status?.phase, "Bound");
        const password = (await k.core.readNamespacedSecret({ namespace: NAMESPACE, name: "db-credentials" })).data?.password;
        assert.equal(password, secret.data?.password, "the same database password: the data is not left behind a rotated one");
        ok(await pulumi(["preview", "--expect-no-changes"], env), "pulumi preview --expect-no-changes after the adoption");
    });

    it("refuses a config change that would replace the database, unless allowDataReplacement is set", async () => {
        const stackFile = `Pulumi.${STACK}.yaml`;
        const lock = `appName=launchpad namespace=${NAMESPACE} storageClass=standard storageSize=1Gi`;
        const current = (await run("pulumi", ["config", "get", "dbStorageSize", "--stack", STACK], env)).stdout.trim();
        assert.ok(current === "" || current === "1Gi", `the testbed stack's dbStorageSize is the default (${current})`);
        await withFileChanged(stackFile, (text) => `${text}`, async () => {
            ok(await pulumi(["config", "set", "dataLock", lock], env), "pulumi config set dataLock");
            ok(await pulumi(["config", "set", "dbStorageSize", "2Gi"], env), "pulumi config set dbStorageSize");
            const before = await workloads(k);
            const refused = await launchpad("up", [], env);
            assert.equal(refused.code, 1);
            assert.match(refused.output, /launchpad:dataLock = .*differs from the config \(dbStorageSize 1Gi → 2Gi\): that change makes Kubernetes replace the database and its volume/);
            assert.match(refused.output, /nothing was created/);
            assert.deepEqual(await workloads(k), before, "nothing changed in the cluster");
            // Set for the one deploy that should replace it, the change goes through: the engine plans the replacement.
            ok(await pulumi(["config", "set", "allowDataReplacement", "true"], env), "pulumi config set allowDataReplacement");
            const plan = ok(await launchpad("preview", [], env), "npm run preview with allowDataReplacement");
            assert.match(plan.output, /\+-\s+kubernetes:apps\/v1:StatefulSet launchpad-database-statefulset replace/);
        });
        // The file is back as committed: the stack deploys as before.
        ok(await pulumi(["preview", "--expect-no-changes"], env), "pulumi preview --expect-no-changes with the stack file restored");
    });

    it("fails a rollout that cannot succeed within rolloutTimeoutSeconds, with the scheduler's own words", async () => {
        const timeout = 60;
        const t0 = Date.now();
        const failed = await withFileChanged(`Pulumi.${STACK}.yaml`, (text) => text, async () => {
            ok(await pulumi(["config", "set", "rolloutTimeoutSeconds", String(timeout)], env), "pulumi config set rolloutTimeoutSeconds");
            // More CPU than any node has, for the frontend only. (Not a nodeSelector for every tier: a StatefulSet
            // whose new pod never started stays stuck on it even after the fix, until the pod is deleted by hand:
            // Kubernetes' known "forced rollback" limitation of OrderedReady StatefulSets.)
            ok(await pulumi(["config", "set", "frontendCpu", "64"], env), "pulumi config set frontendCpu");
            return launchpad("up", [], env);
        });
        const seconds = (Date.now() - t0) / 1000;
        assert.equal(failed.code, 1);
        assert.ok(seconds < timeout + 90, `failed after ${seconds.toFixed(0)} s, not Pulumi's default ten minutes`);
        // No node has 64 CPUs to give (the real node has too few, the simulated ones are tainted): the real
        // kube-scheduler says so, and up repeats it.
        const pods = (await k.core.listNamespacedPod({ namespace: NAMESPACE, fieldSelector: "status.phase=Pending" })).items;
        assert.ok(pods.length > 0, "pods are pending");
        const events = (await k.core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${pods[0].metadata!.name},reason=FailedScheduling` })).items;
        assert.ok(events.length > 0, "the scheduler reported FailedScheduling");
        const said = events[events.length - 1].message!;
        assert.match(said, /^0\/3 nodes are available: 1 Insufficient cpu, 2 node\(s\) had untolerated taint\(s\)\./);
        const tier = pods[0].metadata!.labels!["app.kubernetes.io/component"];
        assert.equal(tier, "frontend");
        assert.match(failed.output, new RegExp(`\n  ${tier}: \\d+ pods? not scheduled: ${said.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`));
        assert.match(failed.output, /A workload could not start; the cause is above\. `npm run doctor -- --stack testbed`/);
        // The committed config deploys again.
        ok(await launchpad("up", [], env), "npm run up with the stack file restored");
    });

    it("deletes the data with down --delete-data", async () => {
        const claim = await k.core.readNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, name: "data-db-0" });
        const stackFile = fs.readFileSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), "utf8");
        ok(await launchpad("down", ["--delete-data"], env), "npm run down -- --delete-data");
        assert.equal(fs.readFileSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), "utf8"), stackFile, "the stack file is as it was");
        const gone = async () => {
            const namespaces = (await k.core.listNamespace()).items.filter((n) => n.metadata?.name === NAMESPACE);
            return namespaces.length === 0;
        };
        assert.ok(await waitFor(gone, 20), "the namespace, and with it the claim and the Secret, is gone");
        const volume = await k.core.readPersistentVolume({ name: claim.spec!.volumeName! });
        assert.equal(volume.status?.phase, "Released", "the volume lost its claim");
    });
});
