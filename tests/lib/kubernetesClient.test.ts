import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { type Connection, getFromCluster, simpleConnection } from "../../lib/kubernetesClient";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("lib: a cluster's connection read from its kubeconfig, without the Kubernetes client", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfig-test-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = (cluster: object, user: object, name = "config") => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, JSON.stringify({ "current-context": "b", contexts: [{ name: "a", context: { cluster: "c1", user: "u1" } }, { name: "b", context: { cluster: "c2", user: "u2" } }], clusters: [{ name: "c1", cluster }, { name: "c2", cluster: { server: "https://other:6443" } }], users: [{ name: "u1", user }, { name: "u2", user: {} }] }));
        return file;
    };

    it("reads kind's context: the server, its CA and the client certificate, from the file's data fields", () => {
        const file = kubeconfig({ server: "https://127.0.0.1:6443/", "certificate-authority-data": b64("CA") }, { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") });
        const c = simpleConnection({ context: "a", kubeconfig: file }, {});
        assert.equal(c?.server, "https://127.0.0.1:6443");
        assert.deepEqual([String(c?.tls.ca), String(c?.tls.cert), String(c?.tls.key), c?.tls.rejectUnauthorized], ["CA", "CERT", "KEY", true]);
        assert.deepEqual(c?.headers, {});
    });

    it("reads files named relative to the kubeconfig, a token file, skip-verify and the TLS server name; KUBECONFIG or the context the file selects", () => {
        fs.writeFileSync(path.join(dir, "ca.crt"), "CA FILE");
        fs.writeFileSync(path.join(dir, "token"), "s3cret\n");
        const file = kubeconfig({ server: "https://h:6443", "certificate-authority": "ca.crt", "insecure-skip-tls-verify": true, "tls-server-name": "api.internal" }, { tokenFile: "token" });
        const c = simpleConnection({ context: "a" }, { KUBECONFIG: file });
        assert.equal(String(c?.tls.ca), "CA FILE");
        assert.equal(c?.tls.rejectUnauthorized, false);
        assert.equal(c?.tls.servername, "api.internal");
        assert.deepEqual(c?.headers, { Authorization: "Bearer s3cret" });
        assert.equal(simpleConnection({ context: "" }, { KUBECONFIG: file })?.server, "https://other:6443", "the file's current-context");
    });

    it("leaves to the Kubernetes client what it does not know: an exec or auth-provider login, a proxy, several files, a missing context or file", () => {
        const cases: [string, () => ReturnType<typeof simpleConnection>][] = [
            ["exec", () => simpleConnection({ context: "a", kubeconfig: kubeconfig({ server: "https://h" }, { exec: { command: "aws" } }) }, {})],
            ["auth-provider", () => simpleConnection({ context: "a", kubeconfig: kubeconfig({ server: "https://h" }, { "auth-provider": { name: "gcp" } }) }, {})],
            ["proxy", () => simpleConnection({ context: "a", kubeconfig: kubeconfig({ server: "https://h", "proxy-url": "http://p:3128" }, {}) }, {})],
            ["several files", () => simpleConnection({ context: "a" }, { KUBECONFIG: [kubeconfig({ server: "https://h" }, {}, "one"), kubeconfig({ server: "https://h" }, {}, "two")].join(path.delimiter) })],
            ["no such context", () => simpleConnection({ context: "nope", kubeconfig: kubeconfig({ server: "https://h" }, {}) }, {})],
            ["no such file", () => simpleConnection({ context: "a", kubeconfig: path.join(dir, "missing") }, {})],
        ];
        for (const [what, read] of cases) assert.equal(read(), undefined, what);
    });
});

describe("lib: a GET of the cluster's API", function () {
    this.timeout(20_000);
    let dir: string;
    let server: https.Server;
    let connection: Connection;
    const seen: { url?: string; auth?: string }[] = [];
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-get-test-"));
        const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
        execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
        server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
            seen.push({ url: req.url, auth: req.headers.authorization });
            if (req.url === "/slow") return;
            if (req.url === "/text") return void res.end("plain words");
            res.writeHead(req.url === "/api/v1/namespaces/gone" ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify({ kind: "Status", path: req.url }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        connection = { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, tls: { ca: fs.readFileSync(cert) }, headers: { Authorization: "Bearer t" } };
    });
    after(() => {
        server.closeAllConnections();
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("answers with the status and the JSON body, sending the login, trusting the kubeconfig's CA", async () => {
        assert.deepEqual(await getFromCluster(connection, "/version"), { status: 200, body: { kind: "Status", path: "/version" } });
        assert.deepEqual((await getFromCluster(connection, "/api/v1/namespaces/gone")).status, 404);
        assert.deepEqual(await getFromCluster(connection, "/text"), { status: 200, body: "plain words" });
        assert.equal(seen[0].auth, "Bearer t");
    });

    it("rejects with Node's code when nothing answers, within its timeout when the server hangs, and on a CA it does not trust", async () => {
        const port = (server.address() as AddressInfo).port;
        await assert.rejects(getFromCluster({ ...connection, server: "https://127.0.0.1:1" }, "/version"), (e: NodeJS.ErrnoException) => e.code === "ECONNREFUSED");
        await assert.rejects(getFromCluster(connection, "/slow", 300), (e: NodeJS.ErrnoException) => e.code === "timeout" && /no answer within 0.3 s/.test(e.message));
        await assert.rejects(getFromCluster({ ...connection, server: `https://127.0.0.1:${port}`, tls: {} }, "/version"), /self-signed|self signed/);
    });
});
