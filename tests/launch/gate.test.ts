import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { GATE, openGate, passGate } from "../../tools/launch/gate";
import { launch } from "../../tools/launch/program";

describe("tools/launch: the gate between up's checks and the program", () => {
    it("lets the program on when the command says go, also one that asks after the verdict", async () => {
        const gate = await openGate();
        try {
            const early = passGate(gate.path);
            gate.open();
            await early;
            await passGate(gate.path);
            assert.deepEqual(await gate.verdict, { go: true });
        } finally {
            gate.close();
        }
    });

    it("stops the program with the command's reason, on one line; the first verdict stands", async () => {
        const gate = await openGate();
        try {
            const asking = passGate(gate.path);
            gate.shut("the registry does not answer:\n  localhost:5001");
            gate.open();
            await assert.rejects(asking, /^Error: the registry does not answer: localhost:5001$/);
            assert.deepEqual(await gate.verdict, { go: false, reason: "the registry does not answer: localhost:5001" });
        } finally {
            gate.close();
        }
    });

    it("stops the program when the command is gone, and leaves no socket behind once closed", async () => {
        const gate = await openGate();
        gate.close();
        assert.equal(fs.existsSync(path.dirname(gate.path)), false);
        await assert.rejects(passGate(gate.path), /launchpad's command cannot be asked at/);
    });

    describe("the program, started with a gate", () => {
        let root: string;
        const before = process.cwd();
        beforeEach(() => {
            root = fs.mkdtempSync(path.join(os.tmpdir(), "launch-gate-test-"));
            fs.mkdirSync(path.join(root, "lib"));
            // Each file says when it ran: the entry declares the resources, what it imports only loads.
            fs.writeFileSync(path.join(root, "lib", "index.ts"), 'export const loaded = ((globalThis as any).gateTestRan ??= []).push("lib");\n');
            fs.writeFileSync(path.join(root, "index.ts"), 'import "./lib";\n((globalThis as any).gateTestRan ??= []).push("index");\nexport const url = "http://x";\n');
            (globalThis as { gateTestRan?: string[] }).gateTestRan = [];
        });
        afterEach(() => {
            delete process.env[GATE];
            process.chdir(before);
            fs.rmSync(root, { recursive: true, force: true });
        });
        const ran = () => (globalThis as { gateTestRan?: string[] }).gateTestRan;

        it("loads what the entry imports at once, runs the entry only after go, and its exports are the outputs", async () => {
            const gate = await openGate();
            try {
                process.env[GATE] = gate.path;
                const exports = launch(root, "index.ts") as Promise<{ url: string }>;
                assert.deepEqual(ran(), ["lib"]);
                await new Promise((r) => setTimeout(r, 50));
                assert.deepEqual(ran(), ["lib"], "the entry waits at the gate");
                gate.open();
                assert.equal((await exports).url, "http://x");
                assert.deepEqual(ran(), ["lib", "index"]);
            } finally {
                gate.close();
            }
        });

        it("never runs the entry when told to stop: a RunError (printed without a stack trace) with the reason", async () => {
            const gate = await openGate();
            try {
                process.env[GATE] = gate.path;
                const exports = launch(root, "index.ts") as Promise<unknown>;
                gate.shut("the cluster of context kind-launchpad does not answer");
                await assert.rejects(exports, (e: unknown) => pulumi.RunError.isInstance(e) && /^launchpad stopped this update before it changed anything: the cluster of context kind-launchpad does not answer$/.test((e as Error).message));
                assert.deepEqual(ran(), ["lib"]);
            } finally {
                gate.close();
            }
        });
    });
});
