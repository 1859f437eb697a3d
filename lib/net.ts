import * as net from "node:net";

/**
 * What a TCP connection to host:port finds within `timeoutMs`: something listening ("open"), nothing
 * ("refused"), or no answer either way ("unknown": a timeout or another error).
 */
export function probeTcp(host: string, port: number, timeoutMs = 1000): Promise<"open" | "refused" | "unknown"> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (found: "open" | "refused" | "unknown") => {
            socket.destroy();
            resolve(found);
        };
        socket.setTimeout(timeoutMs, () => done("unknown"));
        socket.once("connect", () => done("open"));
        socket.once("error", (error: NodeJS.ErrnoException) => done(error.code === "ECONNREFUSED" ? "refused" : "unknown"));
    });
}
