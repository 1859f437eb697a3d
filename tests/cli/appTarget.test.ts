import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../../components/config";
import { appTarget, podSelector, TIER_NAMES } from "../../tools/appTarget";

describe("the app's target, read from the stack file alone", () => {
    let root: string;
    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "app-target-"));
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: launchpad\nruntime: nodejs\n");
        fs.writeFileSync(
            path.join(root, "Pulumi.staging.yaml"),
            "config:\n  launchpad:platform: cloud\n  launchpad:kubeContext: staging-cluster\n  launchpad:kubeconfig: ~/.kube/staging\n  launchpad:registry: registry.example.com/team\n" +
                "  launchpad:host: staging.example.com\n  launchpad:appName: notes\n  launchpad:dbName: notes\n  launchpad:registryUsername: ci\n  launchpad:registryPassword:\n    secure: v1:abc\n",
        );
        fs.writeFileSync(path.join(root, "Pulumi.broken.yaml"), "config:\n  launchpad:platform: moon\n");
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("names the cluster, the namespace, the instance label and the database, without the secret's value", () => {
        assert.deepEqual(appTarget("staging", root), {
            stack: "staging",
            context: "staging-cluster",
            kubeconfig: "~/.kube/staging",
            namespace: "notes-staging",
            instance: "notes-staging",
            database: { name: "notes", user: "app" },
        });
    });

    it("refuses a stack file with bad config, as up does", () => {
        assert.throws(() => appTarget("broken", root), (e: Error) => e instanceof ConfigError && /launchpad:platform/.test(e.message));
    });

    it("selects the stack's pods, of one tier by its name label", () => {
        const target = appTarget("staging", root);
        assert.equal(podSelector(target), "app.kubernetes.io/instance=notes-staging");
        assert.equal(podSelector(target, "db"), "app.kubernetes.io/instance=notes-staging,app.kubernetes.io/name=db");
        assert.deepEqual(TIER_NAMES, ["frontend", "backend", "db"]);
    });
});
