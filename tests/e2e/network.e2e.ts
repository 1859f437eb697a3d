import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { V1NetworkPolicy } from "@kubernetes/client-node";
import { INGRESS_NAMESPACE } from "../../dev/testbed/addons";
import { NODES, REGISTRY_PASSWORD } from "../../dev/testbed/layout";
import { appPods, connects, deleteThrowAwayPods, kubectl, throughIngress, throwAwayPod } from "./inCluster";
import { kube, launchpad, NAMESPACE, ok, useTestbed } from "./support";

type Kube = Awaited<ReturnType<typeof kube>>;

/** A namespace of nobody's: where a stranger's pod and an address outside the backend's egress rules live. */
const ELSEWHERE = "launchpad-e2e-elsewhere";
const LISTENER_PORT = 8080;

/** The labels of a tier's pods that the policies select by (the controller's own pod-template-hash left out, so no ReplicaSet adopts the impostor). */
function tierLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
    const { "pod-template-hash": _hash, "controller-revision-hash": _revision, "statefulset.kubernetes.io/pod-name": _pod, ...rest } = labels;
    return rest;
}

describe("e2e: the app's NetworkPolicies, enforced on the real node by kube-router", function () {
    this.timeout(20 * 60_000);
    let env: NodeJS.ProcessEnv;
    let k: Kube;
    const pod = { asFrontend: "e2e-as-frontend", asBackend: "e2e-as-backend", stranger: "e2e-stranger", listener: "e2e-listener" };
    let db: { name: string; ip: string };
    let backend: { ip: string; port: number };
    let listenerIp: string;

    before(async () => {
        env = await useTestbed();
        k = await kube(env);
        ok(await launchpad("up", [], env), "npm run up");
        const pods = await appPods(k, NAMESPACE);
        const byTier = (tier: string) => pods.find((p) => p.tier === tier)!;
        db = { name: byTier("database").name, ip: byTier("database").ip! };
        const backendPod = await k.core.readNamespacedPod({ namespace: NAMESPACE, name: byTier("backend").name });
        backend = { ip: byTier("backend").ip!, port: backendPod.spec!.containers[0].ports![0].containerPort };
        await k.core.createNamespace({ body: { metadata: { name: ELSEWHERE } } }).catch((e: { code?: number }) => {
            if (e.code !== 409) throw e;
        });
        await deleteThrowAwayPods(k, NAMESPACE);
        await deleteThrowAwayPods(k, ELSEWHERE);
        await Promise.all([
            throwAwayPod(k, { namespace: NAMESPACE, name: pod.asFrontend, labels: tierLabels(byTier("frontend").labels) }),
            throwAwayPod(k, { namespace: NAMESPACE, name: pod.asBackend, labels: tierLabels(byTier("backend").labels) }),
            throwAwayPod(k, { namespace: ELSEWHERE, name: pod.stranger }),
            throwAwayPod(k, { namespace: ELSEWHERE, name: pod.listener, serve: LISTENER_PORT }),
        ]);
        listenerIp = (await k.core.readNamespacedPod({ namespace: ELSEWHERE, name: pod.listener })).status!.podIP!;
    });

    after(async () => {
        if (k) {
            await deleteThrowAwayPods(k, NAMESPACE);
            await k.core.deleteNamespace({ name: ELSEWHERE }).catch(() => undefined);
        }
    });

    it("refuses the frontend, another namespace and the backend's unlisted egress, and lets the allowed pairs through, each measured", async () => {
        const inApp = (name: string) => ({ namespace: NAMESPACE, pod: name });
        const elsewhere = (name: string) => ({ namespace: ELSEWHERE, pod: name });
        const pairs: { what: string; expect: boolean; got: () => Promise<boolean> }[] = [
            { what: "frontend → db:5432", expect: false, got: () => connects(env, inApp(pod.asFrontend), db.ip, 5432) },
            { what: "backend → db:5432", expect: true, got: () => connects(env, inApp(pod.asBackend), db.ip, 5432) },
            { what: `a pod in ${ELSEWHERE} → backend:${backend.port}`, expect: false, got: () => connects(env, elsewhere(pod.stranger), backend.ip, backend.port) },
            { what: `the ingress controller (${INGRESS_NAMESPACE}) → backend`, expect: true, got: async () => (await throughIngress("/api/notes")).status === 200 },
            { what: `backend → ${listenerIp}:${LISTENER_PORT}, outside backendEgress`, expect: false, got: () => connects(env, inApp(pod.asBackend), listenerIp, LISTENER_PORT) },
            { what: `a pod in ${ELSEWHERE} → ${listenerIp}:${LISTENER_PORT} (the same listener, no policy there)`, expect: true, got: () => connects(env, elsewhere(pod.stranger), listenerIp, LISTENER_PORT) },
        ];
        const seen: string[] = [];
        for (const p of pairs) seen.push(`${p.what}: ${(await p.got()) ? "connected" : "refused"} (expected ${p.expect ? "connected" : "refused"})`);
        console.log(`      ${seen.join("\n      ")}`);
        assert.deepEqual(seen.filter((line) => /connected \(expected refused\)|refused \(expected connected\)/.test(line)), []);
    });

    it("resolves Service names through the cluster DNS from the tiers that may: the frontend and the backend", async () => {
        for (const name of [pod.asFrontend, pod.asBackend]) {
            const r = await kubectl(["exec", "-n", NAMESPACE, name, "--", "getent", "hosts", "db"], env);
            assert.equal(r.code, 0, `${name}: ${r.output}`);
            const service = await k.core.readNamespacedService({ namespace: NAMESPACE, name: "db" });
            const clusterIp = service.spec?.clusterIP;
            const expected = clusterIp && clusterIp !== "None" ? clusterIp : db.ip;
            assert.match(r.stdout, new RegExp(`^${expected.replace(/\./g, "\\.")}\\s+db\\.${NAMESPACE}\\.svc\\.cluster\\.local`), `${name} resolved db to its Service`);
        }
    });

    it("lets the frontend reach the database once the policies are gone: the refusal was the policies', not the network's", async () => {
        const saved = (await k.networking.listNamespacedNetworkPolicy({ namespace: NAMESPACE })).items;
        assert.ok(saved.length >= 5, `the app has its NetworkPolicies (${saved.length})`);
        try {
            for (const p of saved) await k.networking.deleteNamespacedNetworkPolicy({ namespace: NAMESPACE, name: p.metadata!.name! });
            let open = false;
            for (let i = 0; i < 20 && !open; i++) open = await connects(env, { namespace: NAMESPACE, pod: pod.asFrontend }, db.ip, 5432);
            assert.ok(open, "without the policies, frontend → db connects");
        } finally {
            for (const p of saved) await k.networking.createNamespacedNetworkPolicy({ namespace: NAMESPACE, body: policyAsCreated(p) });
        }
        let closed = false;
        for (let i = 0; i < 20 && !closed; i++) closed = !(await connects(env, { namespace: NAMESPACE, pod: pod.asFrontend }, db.ip, 5432));
        assert.ok(closed, "with them back, frontend → db is refused again");
    });

    it("has the doctor say the policies are enforced here, by kube-router, and not on the simulated nodes alone", async () => {
        // With the registry's password as a user gives it to the doctor, which has no passphrase to decrypt the stack's.
        const withLogin = { ...env, LAUNCHPAD_REGISTRY_PASSWORD: REGISTRY_PASSWORD };
        const live = JSON.parse(ok(await launchpad("doctor", ["--json"], withLogin), "npm run doctor -- --json: the healthy cluster passes").stdout) as DoctorReport;
        const here = live.networkAndNodes.find((c) => c.check === "networkPolicy");
        assert.equal(here?.status, "ok", JSON.stringify(here));
        assert.match(here!.message, /enforced by kube-router/);

        // The same cluster as the doctor sees it through files: the simulated nodes and their pods only.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-e2e-kwok-only-"));
        const kwokNames = new Set<string>(NODES.map((n) => n.name));
        const nodes = JSON.parse(ok(await kubectl(["get", "nodes", "-o", "json"], env), "kubectl get nodes").stdout) as { items: { metadata: { name: string } }[] };
        const pods = JSON.parse(ok(await kubectl(["get", "pods", "-A", "-o", "json"], env), "kubectl get pods -A").stdout) as { items: { spec: { nodeName?: string } }[] };
        fs.writeFileSync(path.join(dir, "nodes.json"), JSON.stringify({ ...nodes, items: nodes.items.filter((n) => kwokNames.has(n.metadata.name)) }));
        fs.writeFileSync(path.join(dir, "pods.json"), JSON.stringify({ ...pods, items: pods.items.filter((p) => !p.spec.nodeName || kwokNames.has(p.spec.nodeName)) }));
        const offline = await launchpad("doctor", ["--json", "--nodes", path.join(dir, "nodes.json"), "--pods", path.join(dir, "pods.json")], env);
        const report = JSON.parse(offline.stdout) as DoctorReport;
        const there = report.networkAndNodes.find((c) => c.check === "networkPolicy");
        assert.notEqual(there?.status, "ok", JSON.stringify(there));
        assert.match(there!.message, /cannot tell whether the cluster enforces NetworkPolicies/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

interface DoctorReport {
    networkAndNodes: { check: string; status: string; message: string }[];
}

/** A NetworkPolicy as it was created: its spec, name and labels, without what the API server added. */
function policyAsCreated(p: V1NetworkPolicy): V1NetworkPolicy {
    return { metadata: { name: p.metadata!.name, labels: p.metadata!.labels, annotations: p.metadata!.annotations }, spec: p.spec };
}
