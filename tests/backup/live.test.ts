import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Readable, Writable } from "node:stream";
import { ClusterError, liveCluster } from "../../tools/backup/cluster";

// The live boundary against a local API server that speaks the exec WebSocket protocol as the real one
// does (channel byte, status on channel 3, v5's close-stdin frame), so the stream handling is tested here
// and the real API server is left to the e2e suite.

interface WsSocket {
    readonly protocol: string;
    send(data: Buffer | string): void;
    close(): void;
    on(event: "message", listener: (data: Buffer) => void): void;
}
interface WsServer {
    on(event: "connection", listener: (socket: WsSocket, req: http.IncomingMessage) => void): void;
    close(): void;
}
const { WebSocketServer } = require("ws") as {
    WebSocketServer: new (options: { server: http.Server; handleProtocols?: (protocols: Set<string>) => string | false }) => WsServer;
};

const frame = (channel: number, data: Buffer | string) => Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
const SUCCESS = JSON.stringify({ metadata: {}, status: "Success" });
const exitWith = (code: number) =>
    JSON.stringify({ metadata: {}, status: "Failure", message: `command terminated with non-zero exit code: error executing command [sh], exit code ${code}`, reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: String(code) }] } });

/** What the fake container does for each command (its last argument names it). */
function behave(socket: WsSocket, command: string): void {
    if (command === "dump") {
        for (let i = 0; i < 64; i++) socket.send(frame(1, Buffer.alloc(16 * 1024, i)));
        socket.send(frame(3, SUCCESS));
    } else if (command === "fail") {
        socket.send(frame(2, "pg_dump: error: connection failed\n"));
        socket.send(frame(3, exitWith(1)));
    } else if (command === "drop") {
        socket.send(frame(1, "half"));
        socket.close();
    } else if (command === "count") {
        let bytes = 0;
        socket.on("message", (data) => {
            if (data[0] === 0) bytes += data.length - 1;
            if (data[0] === 255 && data[1] === 0) {
                socket.send(frame(1, `${bytes}\n`));
                socket.send(frame(3, SUCCESS));
            }
        });
    }
}

describe("backup: the live boundary, against a local API server's exec WebSocket", () => {
    let server: http.Server;
    let wss: WsServer;
    let kubeconfig: string;
    let protocol = "v5.channel.k8s.io";

    before(async () => {
        server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://x");
            res.setHeader("Content-Type", "application/json");
            if (url.pathname === "/api/v1/namespaces/shop/pods") {
                res.end(JSON.stringify({
                    kind: "PodList", apiVersion: "v1", metadata: {},
                    items: [{ metadata: { name: "db-0" }, status: { phase: "Pending", conditions: [{ type: "Ready", status: "False" }], containerStatuses: [{ name: "postgres", ready: false, restartCount: 0, image: "p", imageID: "", state: { waiting: { reason: "ContainerCreating" } } }] } }],
                }));
            } else {
                res.statusCode = 403;
                res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "forbidden", reason: "Forbidden", code: 403 }));
            }
        });
        wss = new WebSocketServer({ server, handleProtocols: (offered) => (offered.has(protocol) ? protocol : false) });
        wss.on("connection", (socket, req) => {
            const commands = new URL(req.url ?? "/", "http://x").searchParams.getAll("command");
            behave(socket, commands[commands.length - 1]);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-kubeconfig-"));
        kubeconfig = path.join(dir, "config");
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        fs.writeFileSync(kubeconfig, [
            "apiVersion: v1", "kind: Config",
            "clusters:", "- name: fake", "  cluster:", `    server: ${url}`, "    insecure-skip-tls-verify: true",
            "contexts:", "- name: shop", "  context:", "    cluster: fake", "    user: me",
            "current-context: shop", "users:", "- name: me", "  user:", "    token: t",
        ].join("\n"));
    });

    after(() => {
        wss.close();
        server.closeAllConnections();
        server.close();
        fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
    });

    const where = { namespace: "shop", pod: "db-0", container: "postgres" };
    const sink = () => {
        const chunks: Buffer[] = [];
        const stream = new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk), done()) });
        return { stream, data: () => Buffer.concat(chunks) };
    };

    it("reads a pod's readiness in the cluster's words", async () => {
        assert.deepEqual(await liveCluster({ context: "shop", kubeconfig }).listPods("shop", "app=db"), [{ name: "db-0", ready: false, deleting: false, why: "Pending: ContainerCreating" }]);
    });

    it("streams a command's whole stdout, then says it exited 0", async () => {
        const out = sink();
        const result = await liveCluster({ context: "shop", kubeconfig }).exec(where, ["sh", "-c", "dump"], { stdout: out.stream });
        assert.deepEqual(result, { exitCode: 0, stderr: "" });
        assert.equal(out.data().length, 64 * 16 * 1024);
        assert.equal(out.data()[64 * 16 * 1024 - 1], 63);
    });

    it("says a command's exit code and its stderr", async () => {
        const result = await liveCluster({ context: "shop", kubeconfig }).exec(where, ["sh", "-c", "fail"], { stdout: sink().stream });
        assert.deepEqual(result, { exitCode: 1, stderr: "pg_dump: error: connection failed\n" });
    });

    it("sends a file as stdin and closes it alone (v5), so the command ends and answers", async () => {
        const out = sink();
        const input = Readable.from([Buffer.alloc(3 * 1024 * 1024, 1), Buffer.alloc(5, 2)]);
        const result = await liveCluster({ context: "shop", kubeconfig }).exec(where, ["sh", "-c", "count"], { stdin: input, stdout: out.stream });
        assert.deepEqual(result, { exitCode: 0, stderr: "" });
        assert.equal(out.data().toString(), `${3 * 1024 * 1024 + 5}\n`);
    });

    it("fails when the session closes before the command's status", async () => {
        await assert.rejects(
            liveCluster({ context: "shop", kubeconfig }).exec(where, ["sh", "-c", "drop"], { stdout: sink().stream }),
            (e: Error) => e instanceof ClusterError && e.message === "the session with pod shop/db-0 closed before the command ended",
        );
    });

    it("refuses to send stdin over an older protocol, which could only end it by closing the whole session", async () => {
        protocol = "v4.channel.k8s.io";
        try {
            await assert.rejects(
                liveCluster({ context: "shop", kubeconfig }).exec(where, ["sh", "-c", "count"], { stdin: Readable.from([Buffer.from("x")]) }),
                (e: Error) => e instanceof ClusterError && /^the API server speaks v4\.channel\.k8s\.io, which cannot close a command's input: restore needs v5\.channel\.k8s\.io/.test(e.message),
            );
        } finally {
            protocol = "v5.channel.k8s.io";
        }
    });

    it("names a context the kubeconfig does not have, and what to check", async () => {
        await assert.rejects(liveCluster({ context: "elsewhere", kubeconfig }).listPods("shop", "app=db"), (e: Error) => {
            assert.ok(e instanceof ClusterError);
            assert.equal(e.message, "the kubeconfig has no context elsewhere");
            assert.equal(e.todo, "Check launchpad:kubeContext (and launchpad:kubeconfig) in the stack file.");
            return true;
        });
    });

    it("says the API server refused to list pods, with the rights the kubeconfig's user needs", async () => {
        await assert.rejects(liveCluster({ context: "shop", kubeconfig }).listPods("other", "app=db"), (e: Error) => {
            assert.ok(e instanceof ClusterError);
            assert.equal(e.message, "the cluster of context shop refused to list the pods of namespace other (HTTP 403)");
            assert.equal(e.todo, "The kubeconfig's user needs get and list on pods and create on pods/exec in the app's namespace.");
            return true;
        });
    });
});
