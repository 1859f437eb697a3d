import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recycleVolumes } from "../../dev/testbed/cluster";
import { launchpad, ok, pulumi, ROOT, run, useTestbed } from "./support";

describe("e2e: the CrossGuard policy pack with the real engine", function () {
    this.timeout(20 * 60_000);
    let env: NodeJS.ProcessEnv;

    before(async () => {
        env = await useTestbed();
        // As policy/README.md says: the pack's own dependencies, once.
        if (!fs.existsSync(path.join(ROOT, "policy", "node_modules"))) ok(await run("npm", ["--prefix", "policy", "ci", "--no-audit", "--no-fund"], env), "npm --prefix policy ci");
        await recycleVolumes(env.KUBECONFIG!);
        ok(await launchpad("up", [], env), "npm run up");
    });

    it("passes the stack: pulumi preview --policy-pack policy", async () => {
        const r = ok(await pulumi(["preview", "--policy-pack", "policy"], env), "pulumi preview --policy-pack policy");
        assert.match(r.output, /Policies:\n\s+✅ launchpad@v[\d.]+ \(local: policy\)/);
    });

    it("refuses, by the rule's name, a stack that violates one: TLS required, none configured", async () => {
        const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-e2e-policy-")), "policy-config.json");
        fs.writeFileSync(config, JSON.stringify({ "ingress-tls": { requireTls: true } }));
        const r = await pulumi(["preview", "--policy-pack", "policy", "--policy-pack-config", config], env);
        assert.notEqual(r.code, 0, "the preview fails");
        assert.match(r.output, /❌ launchpad@v[\d.]+ \(local: policy\)\n\s+- \[mandatory\] \[severity: high\]\s+ingress-tls\s+\(kubernetes:networking\.k8s\.io\/v1:Ingress: launchpad-ingress-ingress\)/);
        assert.match(r.output, /Ingress "launchpad-ingress-ingress-[0-9a-f]+": spec\.tls is empty, so the app is served over plain HTTP: add spec\.tls/);
        assert.doesNotMatch(r.output, /\s(pod-security-restricted|container-resources|image-pinned|internal-tiers-not-exposed|ingress-class-required|default-deny-network-policy)\s/, "no other rule");
    });
});
