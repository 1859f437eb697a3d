import assert from "node:assert/strict";
import * as net from "node:net";
import { probeTcp } from "../../lib/net";

describe("probeTcp", () => {
    it("finds a port listened on open, and the same port refused once it is closed", async () => {
        const server = net.createServer().listen(0, "127.0.0.1");
        await new Promise((resolve) => server.once("listening", resolve));
        const port = (server.address() as net.AddressInfo).port;
        assert.equal(await probeTcp("127.0.0.1", port), "open");
        await new Promise((resolve) => server.close(resolve));
        assert.equal(await probeTcp("127.0.0.1", port), "refused");
    });
});
