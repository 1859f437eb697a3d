import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PULUMI_CONFIG_NOTE } from "../../components/config";
import { backendUrl, describeBackend, localPaths } from "../../tools/engine/backend";
import { dropForeignSalt, readStackFile, resolvePassphrase } from "../../tools/up/state";
import { removeTemps, tempDir, tempProject } from "./fakes";

after(removeTemps);

describe("up: where local state and the passphrase live", () => {
    it("keeps both under .launchpad/ in the project, the path the project's .gitignore ignores", () => {
        const root = tempDir();
        assert.deepEqual(localPaths(root), {
            dir: path.join(root, ".launchpad"),
            state: path.join(root, ".launchpad", "state"),
            passphrase: path.join(root, ".launchpad", "passphrase"),
        });
    });

    it("uses a file backend in .launchpad/state and creates the directory", () => {
        const root = tempDir();
        assert.equal(backendUrl(root, {}), `file://${root}/.launchpad/state`);
        assert.ok(fs.statSync(path.join(root, ".launchpad", "state")).isDirectory());
    });

    it("uses PULUMI_BACKEND_URL instead when it is set, creating nothing", () => {
        const root = tempDir();
        assert.equal(backendUrl(root, { PULUMI_BACKEND_URL: "s3://team-bucket/launchpad" }), "s3://team-bucket/launchpad");
        assert.ok(!fs.existsSync(path.join(root, ".launchpad")));
    });

    it("creates the folder of a file:// PULUMI_BACKEND_URL, which the CLI refuses to open while it is missing", () => {
        const root = tempDir();
        const dir = path.join(tempDir(), "shared", "state");
        assert.equal(backendUrl(root, { PULUMI_BACKEND_URL: `file://${dir}` }), `file://${dir}`);
        assert.ok(fs.statSync(dir).isDirectory());
        assert.ok(!fs.existsSync(path.join(root, ".launchpad")));
    });

    it("shows a state folder inside the project relative to it, and one outside by its own path", () => {
        const root = tempDir();
        assert.equal(describeBackend(root, `file://${root}/.launchpad/state`), path.join(".launchpad", "state"));
        assert.equal(describeBackend(root, "file:///var/lib/state"), "/var/lib/state");
        assert.equal(describeBackend(root, "file://~/state"), path.join(os.homedir(), "state"));
        assert.equal(describeBackend(root, "s3://team-bucket/launchpad"), "s3://team-bucket/launchpad");
    });
});

describe("up: the secrets passphrase", () => {
    it("uses PULUMI_CONFIG_PASSPHRASE when set, for any stack, and writes no file", () => {
        const root = tempDir();
        assert.deepEqual(resolvePassphrase("prod", root, { PULUMI_CONFIG_PASSPHRASE: "team" }), { value: "team", source: "env" });
        assert.deepEqual(resolvePassphrase("dev", root, { PULUMI_CONFIG_PASSPHRASE: "mine" }), { value: "mine", source: "env" });
        assert.ok(!fs.existsSync(path.join(root, ".launchpad")));
    });

    it("generates a random dev passphrase into .launchpad/passphrase with mode 0600 and a one-line notice", () => {
        const root = tempDir();
        const p = resolvePassphrase("dev", root, {});
        const file = path.join(root, ".launchpad", "passphrase");
        assert.equal(p.source, "generated");
        assert.ok(p.value.length >= 40, "32 random bytes, base64url");
        assert.equal(fs.readFileSync(file, "utf8"), `${p.value}\n`);
        if (process.platform !== "win32") assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(p.notice?.split("\n").length, 1);
        assert.match(p.notice ?? "", /generated a passphrase for the dev stack's secrets in \.launchpad\/passphrase/);
    });

    it("reuses the generated dev passphrase without a notice", () => {
        const root = tempDir();
        const first = resolvePassphrase("dev", root, {});
        const second = resolvePassphrase("dev", root, {});
        assert.deepEqual(second, { value: first.value, source: "file" });
    });

    it("never generates the same passphrase for two projects", () => {
        assert.notEqual(resolvePassphrase("dev", tempDir(), {}).value, resolvePassphrase("dev", tempDir(), {}).value);
    });

    it("tightens a passphrase file that others can read back to 0600", function () {
        if (process.platform === "win32") this.skip();
        const root = tempDir();
        resolvePassphrase("dev", root, {});
        const file = path.join(root, ".launchpad", "passphrase");
        fs.chmodSync(file, 0o644);
        resolvePassphrase("dev", root, {});
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    });

    it("refuses a non-dev stack without PULUMI_CONFIG_PASSPHRASE, saying how to set it", () => {
        const root = tempDir();
        assert.throws(() => resolvePassphrase("prod", root, {}), /^UpError: PULUMI_CONFIG_PASSPHRASE is not set: it encrypts stack prod's secrets[\s\S]*export PULUMI_CONFIG_PASSPHRASE=[\s\S]*in CI, take it from a secret/);
        assert.throws(() => resolvePassphrase("prod", root, { PULUMI_CONFIG_PASSPHRASE: "" }), /PULUMI_CONFIG_PASSPHRASE is not set/);
        assert.ok(!fs.existsSync(path.join(root, ".launchpad")));
    });
});

describe("up: reading a stack file", () => {
    it("reads the platform and kubeconfig context from Pulumi.<stack>.yaml", () => {
        const root = tempProject();
        assert.equal(readStackFile(root, "dev").platform, "kind");
        const prod = readStackFile(root, "prod");
        assert.equal(prod.platform, "cloud");
        assert.equal(prod.kubeContext, "prod-cluster");
    });

    it("treats a dev stack without a file as kind", () => {
        const root = tempDir();
        assert.deepEqual(readStackFile(root, "dev"), { path: path.join(root, "Pulumi.dev.yaml"), exists: false, platform: "kind" });
    });

    it("defaults the platform to kind when the file does not set it", () => {
        const root = tempProject({ "Pulumi.test.yaml": "config:\n  launchpad:host: test.localhost\n" });
        assert.equal(readStackFile(root, "test").platform, "kind");
    });

    it("rejects an unknown stack with the list of known ones", () => {
        const root = tempProject();
        assert.throws(() => readStackFile(root, "staging"), (e: Error & { exitCode: number }) => e.exitCode === 2 && e.message === 'unknown stack "staging": there is no Pulumi.staging.yaml (stacks: dev, prod)');
        assert.throws(() => readStackFile(root, "prd"), { message: 'unknown stack "prd": there is no Pulumi.prd.yaml; did you mean --stack prod? (stacks: dev, prod)' });
    });

    it("rejects a platform other than kind or cloud", () => {
        const root = tempProject({ "Pulumi.dev.yaml": "config:\n  launchpad:platform: minikube\n" });
        assert.throws(() => readStackFile(root, "dev"), {
            message: 'stack "dev" has 1 config problem; nothing was created.\n  - launchpad:platform = "minikube": must be one of "kind", "cloud"\n    fix: Pulumi.dev.yaml line 2: launchpad:platform: kind\n      or: pulumi config set --stack dev platform kind\n' + PULUMI_CONFIG_NOTE,
        });
    });
});

describe("up: another machine's encryption salt", () => {
    it("removes only the encryptionsalt line", () => {
        const file = path.join(tempDir(), "Pulumi.dev.yaml");
        fs.writeFileSync(file, "config:\n  launchpad:platform: kind\nencryptionsalt: v1:abc:def\n");
        assert.equal(dropForeignSalt(file), true);
        assert.equal(fs.readFileSync(file, "utf8"), "config:\n  launchpad:platform: kind\n");
    });

    it("leaves a file without a salt untouched", () => {
        const file = path.join(tempDir(), "Pulumi.dev.yaml");
        fs.writeFileSync(file, "config:\n  launchpad:platform: kind\n");
        assert.equal(dropForeignSalt(file), false);
        assert.equal(dropForeignSalt(path.join(tempDir(), "missing.yaml")), false);
    });

    it("refuses when the file holds values encrypted with that salt", () => {
        const file = path.join(tempDir(), "Pulumi.dev.yaml");
        const text = "encryptionsalt: v1:abc:def\nconfig:\n  launchpad:registryPassword:\n    secure: v1:xyz\n";
        fs.writeFileSync(file, text);
        assert.throws(() => dropForeignSalt(file), /encrypted \(secure:\) values from another passphrase[\s\S]*PULUMI_CONFIG_PASSPHRASE/);
        assert.equal(fs.readFileSync(file, "utf8"), text);
    });
});
