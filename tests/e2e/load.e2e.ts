import * as assert from "node:assert/strict";
import { LOAD_SERVICES } from "../../dev/bench/main";
import { FLEET_NAMESPACE, LoadResult, runLoad, writeLoadSection } from "../../dev/bench/load";
import { waitFor } from "../../dev/testbed/processes";
import { kube, useTestbed } from "./support";

const MiB = 1024;
/** Peak memory the load run may reach per process, about twice what it took when this test was written. */
const LIMITS_KIB = { engine: 512 * MiB, program: 768 * MiB, "kubernetes provider": 512 * MiB } as const;

describe(`e2e: load: ${LOAD_SERVICES} web services on the real engine`, function () {
    this.timeout(20 * 60_000);
    let env: NodeJS.ProcessEnv;

    before(async () => {
        env = await useTestbed();
    });

    it(`rolls out ${LOAD_SERVICES} web services, changes nothing on a second up, destroys them all, within its memory limits; figures in bench/RESULTS.md`, async () => {
        const k = await kube(env);
        const result: LoadResult = await runLoad(env, LOAD_SERVICES, (line) => console.log(`      ${line}`), async () => {
            // The engine awaited each rollout; the Deployments' own status follows within moments (the
            // deployment controller writes it after the ReplicaSet's, and a busy testbed lags).
            let notReady: string[] = [];
            const rolledOut = await waitFor(async () => {
                const deployments = (await k.apps.listNamespacedDeployment({ namespace: FLEET_NAMESPACE })).items;
                assert.equal(deployments.length, LOAD_SERVICES, "one Deployment per web service");
                notReady = deployments
                    .filter((d) => d.status?.availableReplicas !== d.spec?.replicas || d.status?.updatedReplicas !== d.spec?.replicas)
                    .map((d) => `${d.metadata?.name}: ${JSON.stringify({ ...d.status, conditions: d.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}`) })}`);
                return notReady.length === 0;
            }, 60, 1000);
            assert.ok(rolledOut, `every Deployment rolled out; not after 60 s:\n${notReady.join("\n")}`);
            const services = (await k.core.listNamespacedService({ namespace: FLEET_NAMESPACE })).items;
            assert.equal(services.length, LOAD_SERVICES, "one Service per web service");
        });
        assert.deepEqual(result.runs.map((r) => [r.id, r.code]), [["first-up", 0], ["noop-up", 0], ["destroy", 0]]);
        const namespaces = (await k.core.listNamespace()).items.map((n) => n.metadata?.name);
        assert.ok(!namespaces.includes(FLEET_NAMESPACE), "destroy removed the fleet's namespace");
        for (const run of result.runs) {
            for (const [role, limit] of Object.entries(LIMITS_KIB) as [keyof typeof LIMITS_KIB, number][]) {
                const peak = run.memory[role];
                if (role === "program" && run.id === "destroy") continue; // destroy runs no program
                assert.ok(peak !== undefined && peak > 0, `${run.label}: the ${role}'s memory was sampled`);
                assert.ok(peak <= limit, `${run.label}: the ${role} peaked at ${(peak / MiB).toFixed(0)} MiB, over its ${limit / MiB} MiB`);
            }
        }
        writeLoadSection(result);
    });
});
