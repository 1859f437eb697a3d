import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { NODES, REAL_NODE, SIMULATED_TAINT } from "../../dev/testbed/layout";
import { waitFor } from "../../dev/testbed/processes";
import { deployAfresh, kube, launchpad, NAMESPACE, ok, ROOT, run, STACK, useTestbed } from "./support";

type Kube = Awaited<ReturnType<typeof kube>>;

/** The cluster of PRODUCT.md's failure: lb nodes, a master, and two workers that stopped answering. */
const LB_TAINT = { key: "node-role.dkosv3.9rum.cc/lb", value: "true", effect: "NoSchedule" };
const MASTER_TAINT = { key: "node-role.kubernetes.io/master", effect: "NoSchedule" };
const GONE = ["testbed-gone-1", "testbed-gone-2"];

async function setTaints(k: Kube, node: string, taints: object[]): Promise<void> {
    await k.core.patchNode(
        { name: node, body: [{ op: "replace", path: "/spec/taints", value: taints }] },
        k.k8s.setHeaderOptions("Content-Type", k.k8s.PatchStrategy.JsonPatch),
    );
}


async function waitUntil(what: string, seconds: number, check: () => Promise<boolean>): Promise<void> {
    if (!(await waitFor(check, seconds, 1000))) throw new Error(`${what}: not within ${seconds} s`);
}

describe("e2e: npm run doctor against the real scheduler", function () {
    this.timeout(20 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Kube;
    const stackFile = path.join(ROOT, `Pulumi.${STACK}.yaml`);
    let committed: string;

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        committed = fs.readFileSync(stackFile, "utf8");
        await deployAfresh(env);
        // The real node (where the app runs and its data lives) and the first simulated one become lb nodes,
        // the second the master; two nodes no kwok answers for become unreachable, tainted so by the real node
        // lifecycle controller once their grace period is over.
        await setTaints(k, REAL_NODE.name, [LB_TAINT]);
        await setTaints(k, NODES[0].name, [LB_TAINT]);
        await setTaints(k, NODES[1].name, [MASTER_TAINT]);
        for (const name of GONE) {
            await k.core.createNode({ body: { metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux" } } } });
        }
        await waitUntil("the node controller taints the silent nodes unreachable", 180, async () => {
            const nodes = (await k.core.listNode()).items.filter((n) => GONE.includes(n.metadata!.name!));
            return nodes.length === 2 && nodes.every((n) => (n.spec?.taints ?? []).some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoSchedule"));
        });
    });

    after(async () => {
        if (committed !== undefined) fs.writeFileSync(stackFile, committed);
        if (k) {
            for (const node of NODES) await setTaints(k, node.name, [SIMULATED_TAINT]).catch(() => undefined);
            await setTaints(k, REAL_NODE.name, []).catch(() => undefined);
            for (const name of GONE) await k.core.deleteNode({ name }).catch(() => undefined);
        }
    });

    it("predicts the pods cannot schedule, in the words of the scheduler's FailedScheduling event; its fix makes them schedule for real", async () => {
        const doctor = await launchpad("doctor", ["--json"], env);
        assert.equal(doctor.code, 1, doctor.output);
        const report = JSON.parse(doctor.stdout) as { workloads: { kind: string; name: string; message: string | null; fixes: { configKey?: string; commands?: string[] }[] }[] };
        const frontend = report.workloads.find((w) => w.kind === "Deployment" && w.name.startsWith("launchpad-frontend-deployment"));
        assert.ok(frontend?.message, "the doctor finds the frontend unschedulable");

        // The real scheduler, for a real pod of the frontend: the one the ReplicaSet makes when its pod goes.
        const pods = () => k.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "app.kubernetes.io/component=frontend" });
        for (const pod of (await pods()).items) await k.core.deleteNamespacedPod({ namespace: NAMESPACE, name: pod.metadata!.name!, gracePeriodSeconds: 0 });
        let said = "";
        await waitUntil("the scheduler reports FailedScheduling for the frontend's new pod", 60, async () => {
            const pending = (await pods()).items.find((p) => p.status?.phase === "Pending" && !p.metadata?.deletionTimestamp);
            if (!pending) return false;
            const events = (await k.core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${pending.metadata!.name},reason=FailedScheduling` })).items;
            said = events.at(-1)?.message ?? "";
            return said !== "";
        });
        assert.equal(frontend.message, said, "the doctor's summary is the scheduler's message, word for word");

        // The fix the doctor names: tolerate the lb node's taint, through the stack's config.
        const fix = frontend.fixes.find((f) => f.configKey === "launchpad:tolerations");
        assert.ok(fix?.commands?.length, "a toleration set through config");
        for (const command of fix.commands) {
            const args = command.replace(/^\$ /, "").match(/'[^']*'|\S+/g)!.map((a) => a.replace(/^'(.*)'$/, "$1"));
            assert.equal(args[0], "pulumi");
            ok(await run("pulumi", [...args.slice(1), "--non-interactive"], env), command);
        }
        ok(await launchpad("up", [], env), "npm run up with the doctor's fix");
        const scheduled = (await pods()).items.filter((p) => !p.metadata?.deletionTimestamp);
        assert.ok(scheduled.length > 0);
        for (const p of scheduled) {
            assert.ok(([NODES[0].name, REAL_NODE.name] as string[]).includes(p.spec!.nodeName!), `on an lb node it now tolerates (${p.spec?.nodeName})`);
            assert.equal(p.status?.phase, "Running");
        }
    });
});
