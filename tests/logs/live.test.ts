import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { AppTarget } from "../../tools/appTarget";
import { liveLogCluster, type LogCluster, type PodState } from "../../tools/logs/cluster";
import { tick } from "./fakeCluster";

const NS = "launchpad-staging";
const SELECTOR = "app.kubernetes.io/instance=launchpad-staging";

const v1Pod = (name: string, rv: string) => ({
    metadata: { name, uid: `uid-${name}`, resourceVersion: rv, labels: { "app.kubernetes.io/name": "backend" } },
    spec: { containers: [{ name: "backend" }] },
    status: { containerStatuses: [{ name: "backend", image: "i", imageID: "i", ready: true, restartCount: 0, containerID: `containerd://${name}`, state: { running: {} } }] },
});

/**
 * An API server on 127.0.0.1 that answers what `npm run logs` asks: the pod list, a pod watch the test
 * writes events to, and pod logs (a followed one stays open, its chunks written by the test).
 */
async function fakeApiServer() {
    const requests: URL[] = [];
    const watches: http.ServerResponse[] = [];
    const follows: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        requests.push(url);
        if (url.pathname === `/api/v1/namespaces/${NS}/pods` && url.searchParams.get("watch") === "true") {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.flushHeaders();
            watches.push(res);
            return;
        }
        if (url.pathname === `/api/v1/namespaces/${NS}/pods`) {
            const body = JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "10" }, items: [v1Pod("backend-a", "9")] });
            res.writeHead(200, { "Content-Type": "application/json" }).end(body);
            return;
        }
        if (url.pathname === `/api/v1/namespaces/${NS}/pods/backend-b/log`) {
            const status = { kind: "Status", apiVersion: "v1", status: "Failure", message: 'container "backend" in pod "backend-b" is waiting to start: ContainerCreating', code: 400 };
            res.writeHead(400, { "Content-Type": "application/json" }).end(JSON.stringify(status));
            return;
        }
        if (url.pathname === `/api/v1/namespaces/${NS}/pods/backend-a/log`) {
            res.writeHead(200, { "Content-Type": "text/plain" });
            if (url.searchParams.get("follow") === "true") {
                res.flushHeaders();
                follows.push(res);
                return;
            }
            res.end("2026-12-07T07:30:00.5Z listening\n2026-12-07T07:30:01Z database schema ready\n");
            return;
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        port, requests, watches, follows,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

describe("logs: the live boundary against an API server", () => {
    let api: Awaited<ReturnType<typeof fakeApiServer>>;
    let dir: string;
    let cluster: LogCluster;

    before(async () => {
        api = await fakeApiServer();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "logs-live-"));
        const kubeconfig = path.join(dir, "kubeconfig");
        fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: { server: "http://127.0.0.1:${api.port}", insecure-skip-tls-verify: true }\nusers:\n- name: u\n  user: { token: t }\ncontexts:\n- name: staging\n  context: { cluster: c, user: u }\n`);
        const target: AppTarget = { stack: "staging", context: "staging", kubeconfig, namespace: NS, instance: "launchpad-staging", database: { name: "app", user: "app" } };
        cluster = await liveLogCluster(target, SELECTOR);
    });
    after(async () => {
        await api.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("lists the pods by the stack's selector", async () => {
        assert.deepEqual((await cluster.listPods()).map((p) => p.name), ["backend-a"]);
        assert.equal(api.requests.at(-1)?.searchParams.get("labelSelector"), SELECTOR);
    });

    it("reads a log with its timestamps, asking for the container, --since and the previous container as told", async () => {
        assert.deepEqual(await cluster.readLog({ pod: "backend-a", container: "backend", sinceSeconds: 600 }), ["2026-12-07T07:30:00.5Z listening", "2026-12-07T07:30:01Z database schema ready"]);
        const asked = api.requests.at(-1)!;
        assert.deepEqual(Object.fromEntries(asked.searchParams), { container: "backend", timestamps: "true", sinceSeconds: "600" });
        await cluster.readLog({ pod: "backend-a", container: "backend", previous: true, tailLines: 10 });
        assert.deepEqual(Object.fromEntries(api.requests.at(-1)!.searchParams), { container: "backend", timestamps: "true", previous: "true", tailLines: "10" });
    });

    it("gives the API server's reason when it refuses a log", async () => {
        await assert.rejects(cluster.readLog({ pod: "backend-b", container: "backend" }), { message: '400 container "backend" in pod "backend-b" is waiting to start: ContainerCreating' });
    });

    it("follows a log, joining a line cut between chunks, until the server ends it", async () => {
        const lines: string[] = [];
        const following = cluster.followLog({ pod: "backend-a", container: "backend", sinceTime: "2026-12-07T07:30:01Z" }, (l) => lines.push(l));
        await tick(100);
        assert.equal(api.requests.at(-1)?.searchParams.get("follow"), "true");
        assert.equal(api.requests.at(-1)?.searchParams.get("sinceTime"), "2026-12-07T07:30:01Z");
        const res = api.follows.at(-1)!;
        res.write("2026-12-07T07:30:02Z GET /api/no");
        res.write("tes failed\n2026-12-07T07:30:03Z ");
        await tick(50);
        assert.deepEqual(lines, ["2026-12-07T07:30:02Z GET /api/notes failed"]);
        res.end("again\n");
        assert.equal(await following.ended, "end");
        assert.deepEqual(lines, ["2026-12-07T07:30:02Z GET /api/notes failed", "2026-12-07T07:30:03Z again"]);
    });

    it("stops following when told, and the follow ends", async () => {
        const following = cluster.followLog({ pod: "backend-a", container: "backend" }, () => undefined);
        await tick(100);
        following.stop();
        assert.equal(await following.ended, "cut");
    });

    it("watches the pods: every pod first, then each change and deletion", async () => {
        const changed: PodState[] = [];
        const deleted: string[] = [];
        const watch = cluster.watchPods({ changed: (p) => changed.push(p), deleted: (p) => deleted.push(p.name), trouble: (why) => assert.fail(why) });
        await tick(200);
        assert.deepEqual(changed.map((p) => p.name), ["backend-a"]);
        const res = api.watches.at(-1)!;
        res.write(`${JSON.stringify({ type: "ADDED", object: v1Pod("backend-c", "11") })}\n`);
        res.write(`${JSON.stringify({ type: "DELETED", object: v1Pod("backend-a", "12") })}\n`);
        await tick(100);
        watch.stop();
        assert.deepEqual(changed.map((p) => p.name), ["backend-a", "backend-c"]);
        assert.deepEqual(deleted, ["backend-a"]);
    });
});
