import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import { up } from "../../tools/up/commands";
import { endOrphanedPlugins, orphanedPluginEngine, type PluginProcess, pluginName, processTableLive } from "../../tools/engine/orphans";
import { harness } from "./fakes";

const dynamicProvider = (pid: number, ppid: number, port: number): PluginProcess => ({
    pid, ppid, pgid: pid, args: ["node", "/work/app/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", `127.0.0.1:${port}`],
});

describe("up: the Pulumi plugins a killed run left running", () => {
    it("are plugins reparented to init, started for an engine on this machine", () => {
        assert.equal(orphanedPluginEngine(dynamicProvider(10, 1, 4000)), "127.0.0.1:4000");
        assert.equal(orphanedPluginEngine({ pid: 11, ppid: 1, pgid: 11, args: ["/home/a/.pulumi/plugins/resource-kubernetes-v4.25.0/pulumi-resource-kubernetes", "127.0.0.1:4001"] }), "127.0.0.1:4001");
        const shim: PluginProcess = { pid: 15, ppid: 1, pgid: 15, args: ["/bin/sh", "/usr/local/bin/pulumi-resource-pulumi-nodejs", "127.0.0.1:4002"] };
        assert.equal(orphanedPluginEngine(shim), "127.0.0.1:4002", "Pulumi's shell shim for Node's dynamic provider");
        assert.equal(pluginName(shim), "pulumi-resource-pulumi-nodejs");
        assert.equal(pluginName(dynamicProvider(10, 1, 4000)), "dynamic-provider");
        assert.equal(orphanedPluginEngine(dynamicProvider(12, 4242, 4000)), undefined, "its engine's process is still its parent");
        assert.equal(orphanedPluginEngine({ pid: 13, ppid: 1, pgid: 13, args: ["node", "server.js", "127.0.0.1:8080"] }), undefined, "not a plugin");
        assert.equal(orphanedPluginEngine({ pid: 14, ppid: 1, pgid: 14, args: ["pulumi-resource-kubernetes", "10.0.0.5:4001"] }), undefined, "not on this machine");
    });

    it("are ended only when their engine no longer answers", async () => {
        const ended: number[] = [];
        const table = {
            list: () => [dynamicProvider(10, 1, 4000), dynamicProvider(11, 1, 4001), dynamicProvider(12, 77, 4000)],
            answers: async (address: string) => address === "127.0.0.1:4001",
            end: (p: PluginProcess) => void ended.push(p.pid),
        };
        assert.deepEqual((await endOrphanedPlugins(table)).map((p) => p.pid), [10]);
        assert.deepEqual(ended, [10]);
    });

    it("are named in one line by up, before it asks Pulumi anything", async () => {
        const h = harness({ env: { PULUMI_CONFIG_PASSPHRASE: "p" } });
        const ended: number[] = [];
        const processes = { list: () => [dynamicProvider(10, 1, 4000)], answers: async () => false, end: (p: PluginProcess) => void ended.push(p.pid) };
        await up({ ...h.deps, processes }, { stack: "prod" });
        const line = "launchpad: recovered: ended a Pulumi plugin process a killed run left running, its engine gone (pid 10 dynamic-provider).";
        assert.ok(h.lines.includes(line), h.lines.join("\n"));
        assert.ok(h.journal.indexOf(`info: ${line}`) < h.journal.indexOf("ws: open"));
        assert.deepEqual(ended, [10]);
    });

    it("reads the real process table, and tells an address that answers from one that refuses", async function () {
        this.timeout(10_000);
        const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 5000)", "pulumi-resource-test", "127.0.0.1:1"]);
        try {
            await new Promise((resolve) => child.once("spawn", resolve));
            const seen = processTableLive.list().find((p) => p.pid === child.pid);
            assert.deepEqual(seen, { pid: child.pid, ppid: process.pid, pgid: seen?.pgid, args: [process.execPath, "-e", "setTimeout(() => {}, 5000)", "pulumi-resource-test", "127.0.0.1:1"] });
            assert.equal(seen!.pgid, Number(require("node:fs").readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1].split(" ")[2]), "in this process's group");
        } finally {
            child.kill();
        }
        const server = net.createServer().listen(0, "127.0.0.1");
        await new Promise((resolve) => server.once("listening", resolve));
        const port = (server.address() as net.AddressInfo).port;
        assert.equal(await processTableLive.answers(`127.0.0.1:${port}`), true);
        await new Promise((resolve) => server.close(resolve));
        assert.equal(await processTableLive.answers(`127.0.0.1:${port}`), false);
    });
});
