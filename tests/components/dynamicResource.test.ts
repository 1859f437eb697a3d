import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { programCodeKey, serializeKept } from "../../components/dynamicResource";
import { imageProvider } from "../../components/image";
import { PASSWORD_TYPE, Password, passwordProvider } from "../../components/password";
import { installMocks, settled } from "../mocks";

describe("dynamic resources and their serialized providers", () => {
    const temps: string[] = [];
    const tempDir = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-providers-"));
        temps.push(dir);
        return dir;
    };
    after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("send, byte for byte, the __provider text pulumi.dynamic.Resource sends, under the same type", async () => {
        const mocks = await installMocks("launchpad", "test");
        class SdkPassword extends pulumi.dynamic.Resource {
            constructor(name: string) {
                super(passwordProvider, name, { length: 32, result: undefined }, {}, "launchpad", "Password");
            }
        }
        new SdkPassword("by-the-sdk");
        new Password("by-launchpad");
        await settled();
        const [sdk, ours] = ["by-the-sdk", "by-launchpad"].map((name) => mocks.resources.find((r) => r.name === name)!);
        assert.equal(ours.type, PASSWORD_TYPE);
        assert.equal(ours.type, sdk.type);
        assert.equal(ours.inputs.__provider, sdk.inputs.__provider);
    });

    it("keep the text under the program's key, read it back instead of serializing again, and serialize again under another key", async () => {
        const dir = tempDir();
        const provider = imageProvider();
        const text = await serializeKept(provider, { dir, name: "Image", key: "k1" });
        assert.deepEqual(fs.readdirSync(dir), ["Image-k1.js"]);
        assert.equal(fs.readFileSync(path.join(dir, "Image-k1.js"), "utf8"), text);
        // What is on disk is what a later run sends: a planted text shows it was read, not re-made.
        fs.writeFileSync(path.join(dir, "Image-k1.js"), "planted");
        assert.equal(await serializeKept(provider, { dir, name: "Image", key: "k1" }), "planted");
        assert.equal(await serializeKept(provider, { dir, name: "Image", key: "k2" }), text);
        assert.deepEqual(fs.readdirSync(dir), ["Image-k2.js"], "the old key's text is gone");
    });

    it("still serialize when the folder cannot be written", async () => {
        const file = path.join(tempDir(), "a-file");
        fs.writeFileSync(file, "");
        assert.match(await serializeKept(passwordProvider, { dir: file, name: "Password", key: "k" }), /exports\.handler/);
    });

    it("key the program by every compiled file under its root, and by the SDK and Node", () => {
        const root = tempDir();
        fs.mkdirSync(path.join(root, "components"));
        fs.writeFileSync(path.join(root, "components", "image.js"), "one");
        const key = programCodeKey(root);
        assert.match(key, /^[0-9a-f]{32}$/);
        assert.equal(programCodeKey(root), key, "the same code, the same key");
        fs.writeFileSync(path.join(root, "components", "image.js.map"), "{}");
        assert.equal(programCodeKey(root), key, "only JavaScript counts");
        fs.writeFileSync(path.join(root, "components", "image.js"), "two");
        const changed = programCodeKey(root);
        assert.notEqual(changed, key, "a changed file");
        fs.writeFileSync(path.join(root, "index.js"), "");
        assert.notEqual(programCodeKey(root), changed, "an added file");
    });
});
