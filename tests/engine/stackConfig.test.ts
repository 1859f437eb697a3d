import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PASSPHRASE, REGISTRY_PASSWORD } from "../../dev/testbed/layout";
import { passphraseKey, stackConfigFromFile } from "../../tools/engine/stackConfig";

const ROOT = path.resolve(__dirname, "..", "..");
/** Pulumi.testbed.yaml: its registry password was encrypted by the real Pulumi CLI with the testbed's passphrase. */
const TESTBED = fs.readFileSync(path.join(ROOT, "Pulumi.testbed.yaml"), "utf8");
const SALT = /^encryptionsalt: (.+)$/m.exec(TESTBED)![1];
const SEALED = /secure: (\S+)/.exec(TESTBED)![1];

describe("engine: a stack's config read from its file, as `pulumi config --show-secrets --json` gives it", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-test-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const stackFile = (text: string) => fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), text);

    it("opens a value the Pulumi CLI encrypted, with the passphrase it was encrypted with, and marks it secret", async () => {
        const config = await stackConfigFromFile(ROOT, "testbed", PASSPHRASE);
        assert.deepEqual(config?.["launchpad:registryPassword"], { value: REGISTRY_PASSWORD, secret: true });
        assert.deepEqual(config?.["launchpad:registry"], { value: "localhost:26500", secret: false });
    });

    it("gives Pulumi.yaml's defaults under the stack's values, and structured values as JSON text", async () => {
        stackFile("config:\n  launchpad:backendReplicas: 3\n  launchpad:autoscaling: false\n  launchpad:tolerations:\n    - key: gpu\n");
        const config = await stackConfigFromFile(dir, "s", "unused: no secrets");
        assert.deepEqual(config?.["launchpad:backendReplicas"], { value: "3", secret: false });
        assert.deepEqual(config?.["launchpad:autoscaling"], { value: "false", secret: false });
        assert.deepEqual(config?.["launchpad:tolerations"], { value: '[{"key":"gpu"}]', secret: false });
        assert.deepEqual(config?.["launchpad:frontendPort"], { value: "8080", secret: false }, "Pulumi.yaml's default");
    });

    it("leaves it to the CLI (undefined) when the passphrase is wrong, so that the CLI says so in its words", async () => {
        assert.equal(await stackConfigFromFile(ROOT, "testbed", "not the passphrase"), undefined);
        assert.equal(await passphraseKey("not the passphrase", SALT), undefined);
        assert.ok(await passphraseKey(PASSPHRASE, SALT));
    });

    it("leaves to the CLI what only it resolves: an ESC environment, another secrets provider, a secret inside a structured value, another format", async () => {
        const cases = {
            environment: `environment:\n  - team/dev\nconfig:\n  launchpad:registry: r\n`,
            "another secrets provider": `secretsprovider: awskms://alias/x\nconfig:\n  launchpad:registryPassword:\n    secure: ${SEALED}\nencryptionsalt: ${SALT}\n`,
            "a secret inside a list": `config:\n  launchpad:tolerations:\n    - key:\n        secure: ${SEALED}\nencryptionsalt: ${SALT}\n`,
            "a secret without a salt": `config:\n  launchpad:registryPassword:\n    secure: ${SEALED}\n`,
            "another salt format": `config:\n  launchpad:registryPassword:\n    secure: ${SEALED}\nencryptionsalt: v2:${SALT}\n`,
            "a value in another format": `config:\n  launchpad:registryPassword:\n    secure: v2:${SEALED}\nencryptionsalt: ${SALT}\n`,
            "a file that is not YAML": "config: [\n",
        };
        for (const [what, text] of Object.entries(cases)) {
            stackFile(text);
            assert.equal(await stackConfigFromFile(dir, "s", PASSPHRASE), undefined, what);
        }
        assert.equal(await stackConfigFromFile(dir, "no-such-stack", PASSPHRASE), undefined, "no stack file");
    });

    it("opens the passphrase stack's secrets when the stack file names the passphrase provider", async () => {
        stackFile(`secretsprovider: passphrase\nconfig:\n  launchpad:registryPassword:\n    secure: ${SEALED}\nencryptionsalt: ${SALT}\n`);
        assert.deepEqual((await stackConfigFromFile(dir, "s", PASSPHRASE))?.["launchpad:registryPassword"], { value: REGISTRY_PASSWORD, secret: true });
    });
});
