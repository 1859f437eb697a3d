import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { highWaterKiB, parentOf, residentKiB, roleOf, sampleTree, sampleTreeTotal } from "../../dev/bench/processTree";
import { fleetNode } from "../../dev/bench/load";

describe("the load run's process tree sampler", () => {
    it("tells the processes of a real-engine deployment apart by their command lines", () => {
        assert.equal(roleOf(["/root/.cache/launchpad/testbed/bin/pulumi", "up", "--yes"]), "engine");
        assert.equal(roleOf(["/x/pulumi-language-nodejs", "-root=/p", "127.0.0.1:4000"]), "language host");
        assert.equal(roleOf(["/x/plugins/resource-kubernetes-v4.25.0/pulumi-resource-kubernetes", "127.0.0.1:4001"]), "kubernetes provider");
        assert.equal(roleOf(["/usr/bin/node", "/p/node_modules/@pulumi/pulumi/cmd/run", "127.0.0.1:4002", "/p"]), "program");
        assert.equal(roleOf(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"]), "dynamic provider");
        assert.equal(roleOf(["/bin/sh", "-c", "pulumi"]), "other");
        assert.equal(roleOf([]), "other");
    });

    it("reads the high-water mark from /proc/PID/status and the parent from /proc/PID/stat", () => {
        assert.equal(highWaterKiB("Name:\tnode\nVmPeak:\t 900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n"), 123456);
        assert.equal(highWaterKiB("Name:\tkthreadd\n"), undefined);
        assert.equal(parentOf("4242 (a (weird) name) S 17 4242 4242 0 -1"), 17);
    });

    it("samples a real child process's peak memory under its role", async () => {
        const child = spawn(process.execPath, ["-e", "const b = Buffer.alloc(64 * 1024 * 1024, 1); setTimeout(() => b.length, 400)"], { stdio: "ignore" });
        const sampler = sampleTree(child.pid!, 20);
        await new Promise((resolve) => child.once("close", resolve));
        const peaks = sampler.stop();
        assert.ok((peaks.other ?? 0) >= 64 * 1024, `a 64 MiB buffer was seen: ${JSON.stringify(peaks)}`);
    });
});

describe("the load run's simulated node", () => {
    it("carries the label the fleet selects and the taint it tolerates, and room for its pods", () => {
        const node = fleetNode() as unknown as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { taints: unknown[] }; status: { allocatable: Record<string, string> } };
        assert.equal(node.metadata.labels.pool, "apps");
        assert.deepEqual(node.spec.taints, [{ key: "dedicated", value: "apps", effect: "NoSchedule" }]);
        assert.equal(node.metadata.annotations["kwok.x-k8s.io/node"], "fake", "kwok manages it");
        assert.ok(Number(node.status.allocatable.pods) >= 200, "a hundred services of two replicas fit");
    });

    it("reads a process's resident memory now from /proc/PID/status", () => {
        assert.equal(residentKiB("Name:\tnode\nVmHWM:\t  123456 kB\nVmRSS:\t   1000 kB\n"), 1000);
        assert.equal(residentKiB("Name:\tkthreadd\n"), undefined);
    });

    it("samples the most memory a whole tree held at once: a parent and its child counted together", async () => {
        const grandchild = "const b = Buffer.alloc(48 * 1024 * 1024, 1); setTimeout(() => b.length, 600)";
        const script = `const b = Buffer.alloc(48 * 1024 * 1024, 1); require("child_process").spawn(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { stdio: "ignore" }).on("close", () => b.length)`;
        const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
        const sampler = sampleTreeTotal(child.pid!, 20);
        await new Promise((resolve) => child.once("close", resolve));
        const peak = sampler.stop();
        assert.ok(peak >= 96 * 1024, `both 48 MiB buffers were seen at once: ${peak} KiB`);
    });
});
