import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContextFile, buildContextDigest, contextDigest, dockerignoreFilter } from "../../components/buildContext";

// The digest that decides whether an image is built again: the files Docker sends, and the Dockerfile.

describe("build context digest", () => {
    let root: string;
    const write = (file: string, text: string, mode = 0o644) => {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), text);
        fs.chmodSync(path.join(root, file), mode);
    };
    const digest = () => buildContextDigest(path.join(root, "app"), path.join(root, "app", "Dockerfile"));

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-context-"));
        write("app/Dockerfile", "FROM scratch\nCOPY . /\n");
        write("app/.dockerignore", "node_modules\n*.md\ndocs/*\n!docs/keep.txt\n");
        write("app/src/main.js", "console.log('hi')\n");
        write("app/node_modules/dep/index.js", "module.exports = 1;\n");
        write("app/README.md", "# app\n");
        write("app/docs/notes.txt", "draft\n");
        write("app/docs/keep.txt", "kept\n");
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("is the same on every run over the same files", () => {
        assert.match(digest(), /^sha256:[0-9a-f]{64}$/);
        assert.equal(digest(), digest());
    });

    it("ignores what .dockerignore leaves out, however it changes", () => {
        const before = digest();
        write("app/node_modules/dep/index.js", "module.exports = 2;\n");
        write("app/README.md", "# changed\n");
        write("app/docs/notes.txt", "rewritten\n");
        assert.equal(digest(), before);
    });

    it("changes when a sent file is edited, added or made executable", () => {
        const before = digest();
        write("app/src/main.js", "console.log('bye')\n");
        const edited = digest();
        assert.notEqual(edited, before);
        write("app/src/extra.js", "");
        const added = digest();
        assert.notEqual(added, edited);
        fs.chmodSync(path.join(root, "app/src/extra.js"), 0o755);
        assert.notEqual(digest(), added);
    });

    it("counts a file a '!' exception brings back from an ignored folder", () => {
        const before = digest();
        write("app/docs/keep.txt", "changed\n");
        assert.notEqual(digest(), before);
    });

    it("counts the Dockerfile, also one outside the context", () => {
        const before = digest();
        write("app/Dockerfile", "FROM scratch\nCOPY src /src\n");
        assert.notEqual(digest(), before);
        write("shared/web.Dockerfile", "FROM scratch\n");
        const outside = () => buildContextDigest(path.join(root, "app"), path.join(root, "shared", "web.Dockerfile"));
        const first = outside();
        write("shared/web.Dockerfile", "FROM busybox\n");
        assert.notEqual(outside(), first);
    });

    it("honours <Dockerfile>.dockerignore over the context's, as BuildKit does", () => {
        write("app/Dockerfile.dockerignore", "src\n");
        const before = digest();
        write("app/src/main.js", "console.log('ignored now')\n");
        assert.equal(digest(), before);
    });

    it("hashes files in path order, so the listing order does not matter", () => {
        const files: ContextFile[] = [
            { path: "b.txt", type: "file", content: "b" },
            { path: "a/run.sh", type: "executable", content: "#!/bin/sh" },
        ];
        assert.equal(contextDigest(files, "FROM scratch"), contextDigest([...files].reverse(), "FROM scratch"));
        assert.notEqual(contextDigest(files, "FROM scratch"), contextDigest(files, "FROM busybox"));
    });

    it("matches paths with Docker's rules: a pattern anchors at the root, ** crosses folders, case counts", () => {
        const sends = dockerignoreFilter("abc\n**/*.log\nTMP\n");
        assert.equal(sends("abc"), false);
        assert.equal(sends("abc/file"), false);
        assert.equal(sends("sub/abc"), true);
        assert.equal(sends("sub/deep/x.log"), false);
        assert.equal(sends("tmp"), true);
        assert.equal(dockerignoreFilter(undefined)("anything"), true);
    });
});
