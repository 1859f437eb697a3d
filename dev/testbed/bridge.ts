import * as fs from "node:fs";
import * as net from "node:net";

/**
 * The real node lives in a network namespace of its own, so its bridge, veths, iptables rules and
 * ipsets never touch the host's network; the control plane and registries stay on the host's
 * 127.0.0.1. This program joins the two through Unix sockets, which both namespaces see as files. It
 * runs twice: on the host (a Unix socket to a host port) and inside the node's namespace (a port there
 * to a Unix socket, and an HTTP CONNECT proxy on a Unix socket that the API server's egress selector
 * uses to reach the kubelet).
 */

/** Where a connection arrives: a TCP address, or a Unix socket file. */
export type Endpoint = { readonly host: string; readonly port: number } | { readonly unix: string };

/** One forwarding rule. `to: "connect"` answers HTTP CONNECT requests and dials their target here. */
export interface Route {
    readonly listen: Endpoint;
    readonly to: Endpoint | "connect";
}

export interface BridgeSpec {
    readonly routes: readonly Route[];
    /** Written once every route listens: how a starter in another namespace knows it is ready. */
    readonly readyFile: string;
}

function describe(e: Endpoint): string {
    return "unix" in e ? e.unix : `${e.host}:${e.port}`;
}

function dial(e: Endpoint): net.Socket {
    return "unix" in e ? net.connect({ path: e.unix }) : net.connect({ host: e.host, port: e.port });
}

/** Pipes two sockets both ways; either side closing or failing ends both. */
function join(a: net.Socket, b: net.Socket): void {
    const end = () => {
        a.destroy();
        b.destroy();
    };
    a.on("error", end).on("close", end);
    b.on("error", end).on("close", end);
    a.pipe(b);
    b.pipe(a);
}

/** `CONNECT host:port HTTP/1.1` → the target; anything else is not a CONNECT request. */
export function connectTarget(head: string): { host: string; port: number } | undefined {
    const m = /^CONNECT (\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d{1,5}) HTTP\/1\.[01]\r\n/.exec(head);
    if (!m) return undefined;
    const port = Number(m[2]);
    return port > 0 && port < 65536 ? { host: m[1].replace(/^\[|\]$/g, ""), port } : undefined;
}

/** Reads a CONNECT request up to its blank line, dials its target, answers 200 and then forwards bytes. */
function proxyConnect(client: net.Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
            if (head.length > 16 * 1024) client.destroy();
            return;
        }
        client.off("data", onData);
        client.pause();
        const target = connectTarget(head.subarray(0, end + 4).toString("latin1"));
        if (!target) {
            client.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
            return;
        }
        const upstream = net.connect(target);
        upstream.once("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
        upstream.once("connect", () => {
            client.write("HTTP/1.1 200 Connection established\r\n\r\n");
            const rest = head.subarray(end + 4);
            if (rest.length > 0) upstream.write(rest);
            join(client, upstream);
            client.resume();
        });
    };
    client.on("data", onData);
    client.on("error", () => client.destroy());
}

function listen(route: Route, open: Set<net.Socket>): Promise<net.Server> {
    const server = net.createServer({ pauseOnConnect: route.to !== "connect" }, (client) => {
        open.add(client);
        client.once("close", () => open.delete(client));
        if (route.to === "connect") return proxyConnect(client);
        const upstream = dial(route.to);
        join(client, upstream);
        client.resume();
    });
    return new Promise((resolve, reject) => {
        server.once("error", (e) => reject(new Error(`cannot listen on ${describe(route.listen)}: ${e.message}`)));
        if ("unix" in route.listen) {
            fs.rmSync(route.listen.unix, { force: true });
            server.listen(route.listen.unix, () => resolve(server));
        } else server.listen(route.listen.port, route.listen.host, () => resolve(server));
    });
}

/** Starts every route; resolves with a function that closes them all, open connections included. */
export async function startBridge(spec: BridgeSpec): Promise<() => Promise<void>> {
    const open = new Set<net.Socket>();
    const servers = await Promise.all(spec.routes.map((r) => listen(r, open)));
    fs.writeFileSync(spec.readyFile, `${process.pid}\n`);
    return async () => {
        fs.rmSync(spec.readyFile, { force: true });
        const closed = servers.map((s) => new Promise((resolve) => s.close(resolve)));
        for (const socket of open) socket.destroy();
        await Promise.all(closed);
    };
}

if (require.main === module) {
    const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as BridgeSpec;
    startBridge(spec).then(
        (close) => {
            for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void close().then(() => process.exit(0)));
        },
        (e: Error) => {
            console.error(`bridge: ${e.message}`);
            process.exit(1);
        },
    );
}
