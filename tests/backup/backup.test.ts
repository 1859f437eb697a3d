import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { backupPath, checksumLine, defaultFileName, fileFacts, headerLine, humanSize, parseStart } from "../../tools/backup/archive";
import { DUMP_COMMAND, RESTORE_COMMAND, TABLES_COMMAND } from "../../tools/backup/database";
import { COMMANDS, parseArgs, runBackupCommand } from "../../tools/backup/main";
import { helpText } from "../../tools/cli";
import { ARCHIVE, FakeCluster, READY_DB, TARGET } from "./fakes";
import { removeTemps, tempDir } from "../up/fakes";

after(removeTemps);

const NOW = new Date("2026-12-07T07:29:01.482Z");
const HEADER = 'launchpad-backup v1 {"stack":"staging","namespace":"notes-staging","database":"notes","takenAt":"2026-12-07T07:29:01Z","format":"pg_dump custom"}\n';
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

function backup(argv: string[], cluster: FakeCluster, signal?: AbortSignal) {
    return runBackupCommand(["backup", ...argv], { target: () => TARGET, cluster: () => cluster, now: () => NOW, signal });
}

describe("backup: the file, its name and its header", () => {
    it("names a backup after the stack, the database and the UTC time, without colons", () => {
        assert.equal(defaultFileName("staging", "notes", NOW), "staging-notes-20261207T072901Z.dump");
        assert.equal(defaultFileName("prod", "app", new Date("2027-01-02T03:04:05Z")), "prod-app-20270102T030405Z.dump");
    });

    it("writes into the current folder, to --out as a file, or inside --out when it is a folder", () => {
        const dir = tempDir();
        assert.equal(backupPath(undefined, "staging", "notes", NOW), "staging-notes-20261207T072901Z.dump");
        assert.equal(backupPath(dir, "staging", "notes", NOW), path.join(dir, "staging-notes-20261207T072901Z.dump"));
        assert.equal(backupPath(path.join(dir, "nightly.dump"), "staging", "notes", NOW), path.join(dir, "nightly.dump"));
    });

    it("reads back the stack, namespace, database and time from the header, and where the archive starts", () => {
        const header = { stack: "staging", namespace: "notes-staging", database: "notes", takenAt: "2026-12-07T07:29:01Z" };
        assert.equal(headerLine(header), HEADER);
        assert.deepEqual(parseStart(Buffer.concat([Buffer.from(HEADER), ARCHIVE])), { kind: "backup", header, archiveStart: Buffer.byteLength(HEADER) });
    });

    it("tells a bare pg_dump archive and anything else from a backup", () => {
        assert.deepEqual(parseStart(ARCHIVE), { kind: "pg_dump", archiveStart: 0 });
        const other = (text: string | Buffer) => parseStart(Buffer.isBuffer(text) ? text : Buffer.from(text));
        assert.deepEqual(other("CREATE TABLE notes ();\n"), { kind: "other", why: "it starts with neither a launchpad-backup line nor a pg_dump custom-format archive" });
        assert.deepEqual(other(HEADER.replace(" v1 ", " v9 ")), { kind: "other", why: "its launchpad-backup line is of version v9; this launchpad reads v1" });
        assert.deepEqual(other(HEADER), { kind: "other", why: "no pg_dump custom-format archive follows its launchpad-backup line" });
        assert.deepEqual(other(HEADER.slice(0, 40)), { kind: "other", why: "its launchpad-backup line has no end" });
        assert.deepEqual(other('launchpad-backup v1 {"stack":""}\nPGDMP'), { kind: "other", why: "its launchpad-backup line names no stack or database" });
        assert.deepEqual(other("launchpad-backup v1 {nope}\nPGDMP"), { kind: "other", why: "its launchpad-backup line cannot be read" });
    });

    it("says sizes in bytes, KiB, MiB and GiB", () => {
        assert.deepEqual([0, 1023, 1024, 3276, 5 * 1024 * 1024 + 1, 3 * 1024 ** 3].map(humanSize), ["0 B", "1023 B", "1.0 KiB", "3.2 KiB", "5.0 MiB", "3.0 GiB"]);
    });

    it("reads a file's size and SHA-256 back from the disk, and prints the checksum as sha256sum does", async () => {
        const file = path.join(tempDir(), "f.dump");
        const data = Buffer.concat([Buffer.from(HEADER), ARCHIVE]);
        fs.writeFileSync(file, data);
        assert.deepEqual(await fileFacts(file), { bytes: data.length, sha256: sha256(data) });
        assert.equal(checksumLine("f.dump", "ab12"), "ab12  f.dump");
    });
});

describe("backup: what runs in the database's pod", () => {
    it("runs pg_dump in custom format with the container's own user, database and password, named only as variables", () => {
        assert.deepEqual(DUMP_COMMAND, [
            "sh", "-c",
            'PGPASSWORD="$POSTGRES_PASSWORD" exec pg_dump --format=custom --host=127.0.0.1 --port=5432 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" --no-password',
        ]);
        assert.deepEqual(RESTORE_COMMAND, [
            "sh", "-c",
            'PGPASSWORD="$POSTGRES_PASSWORD" exec pg_restore --single-transaction --exit-on-error --clean --if-exists --no-owner --no-acl ' +
                '--host=127.0.0.1 --port=5432 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" --no-password',
        ]);
        assert.equal(TABLES_COMMAND[2], 'PGPASSWORD="$POSTGRES_PASSWORD" exec psql -X -q -A -t -v ON_ERROR_STOP=1 --host=127.0.0.1 --port=5432 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" --no-password -c "$1"');
    });
});

describe("backup: the command", () => {
    it("streams pg_dump's archive behind the header into the file, and prints its size and checksum", async () => {
        const dir = tempDir();
        const cluster = new FakeCluster();
        const out = await backup(["--stack", "staging", "--out", dir], cluster);
        const file = path.join(dir, "staging-notes-20261207T072901Z.dump");
        const data = Buffer.concat([Buffer.from(HEADER), ARCHIVE]);
        assert.deepEqual(fs.readFileSync(file), data);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600, "readable by its owner only");
        assert.deepEqual(out, {
            code: 0,
            stdout: `${file}: database notes of stack staging (pod notes-staging/db-0), ${data.length} bytes (${data.length} B)\n${sha256(data)}  ${file}\n`,
            stderr: "",
        });
        assert.deepEqual(cluster.listed, [{ namespace: "notes-staging", selector: "app.kubernetes.io/instance=notes-staging,app.kubernetes.io/name=db" }]);
        assert.deepEqual(cluster.ran.map((r) => [r.where, r.command]), [[{ namespace: "notes-staging", pod: "db-0", container: "postgres" }, DUMP_COMMAND]]);
        assert.deepEqual(fs.readdirSync(dir), ["staging-notes-20261207T072901Z.dump"]);
    });

    it("takes the Ready pod when a rollout leaves a terminating one beside it", async () => {
        const dir = tempDir();
        const cluster = new FakeCluster([{ name: "db-0", ready: false, deleting: true, why: "Running" }, { ...READY_DB, name: "db-1" }]);
        assert.equal((await backup(["--stack", "staging", "--out", dir], cluster)).code, 0);
        assert.equal(cluster.ran[0].where.pod, "db-1");
    });

    it("refuses to overwrite a file, before it asks the cluster anything", async () => {
        const file = path.join(tempDir(), "kept.dump");
        fs.writeFileSync(file, "an earlier backup");
        const cluster = new FakeCluster();
        const out = await backup(["--stack", "staging", "--out", file], cluster);
        assert.deepEqual(out, { code: 1, stdout: "", stderr: `backup: ${file} exists; no file was written. Name another file with --out, or move that one away.\n` });
        assert.equal(fs.readFileSync(file, "utf8"), "an earlier backup");
        assert.deepEqual(cluster.listed, []);
    });

    it("says there is no database pod, and how to deploy one", async () => {
        const dir = tempDir();
        const out = await backup(["--stack", "staging", "--out", dir], new FakeCluster([]));
        assert.deepEqual(out, {
            code: 1,
            stdout: "",
            stderr: "backup: stack staging has no database pod in namespace notes-staging of context staging-cluster; no file was written. Deploy it with npm run up -- --stack staging.\n",
        });
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("says the database pod is not Ready, in the cluster's words, and to try again once it is", async () => {
        const dir = tempDir();
        const out = await backup(["--stack", "staging", "--out", dir], new FakeCluster([{ name: "db-0", ready: false, deleting: false, why: "Pending: ContainerCreating" }]));
        assert.equal(out.stderr, "backup: the database pod notes-staging/db-0 is not Ready (Pending: ContainerCreating); no file was written. Wait until it is (npm run up -- --stack staging waits for it), then run npm run backup -- --stack staging again.\n");
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("removes the partial file when pg_dump fails, and says pg_dump's error line", async () => {
        const dir = tempDir();
        const stderr = 'pg_dump: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "app"\n';
        const out = await backup(["--stack", "staging", "--out", dir], new FakeCluster(undefined, { dump: { stdout: Buffer.alloc(0), exitCode: 1, stderr } }));
        assert.deepEqual(out, {
            code: 1,
            stdout: "",
            stderr: 'backup: pg_dump failed in pod notes-staging/db-0 (exit code 1): pg_dump: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "app"; no file was written.\n',
        });
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("removes the partial file when the session with the pod breaks in the middle", async () => {
        const dir = tempDir();
        const out = await backup(["--stack", "staging", "--out", dir], new FakeCluster(undefined, { dump: { breakAfter: 3 } }));
        assert.equal(out.stderr, "backup: the session with pod notes-staging/db-0 closed before the command ended; no file was written.\n");
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("refuses what pg_dump wrote when it is no custom-format archive", async () => {
        const dir = tempDir();
        const out = await backup(["--stack", "staging", "--out", dir], new FakeCluster(undefined, { dump: { stdout: Buffer.from("-- PostgreSQL database dump\n") } }));
        assert.equal(out.stderr, "backup: pg_dump in pod notes-staging/db-0 exited 0 but wrote no custom-format archive; no file was written.\n");
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("removes the partial file on Ctrl-C", async () => {
        const dir = tempDir();
        const interrupt = new AbortController();
        const cluster = new FakeCluster(undefined, { dump: { breakAfter: 2 } }, () => interrupt.abort());
        const out = await backup(["--stack", "staging", "--out", dir], cluster, interrupt.signal);
        assert.deepEqual(out, { code: 1, stdout: "", stderr: "backup: interrupted; no file was written (the partial file was removed)\n" });
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("says a folder it cannot write to, before pg_dump runs", async () => {
        const file = path.join(tempDir(), "missing", "b.dump");
        const cluster = new FakeCluster();
        const out = await backup(["--stack", "staging", "--out", file], cluster);
        assert.equal(out.stderr, `backup: cannot write ${file}.partial: ENOENT; no file was written. Choose another place with --out.\n`);
        assert.deepEqual(cluster.ran, []);
    });

    it("reads --stack and --out, and takes the dev stack without --stack", () => {
        assert.deepEqual(parseArgs(["backup", "--stack", "prod", "--out=b.dump"]), { command: "backup", stack: "prod", out: "b.dump" });
        assert.deepEqual(parseArgs(["backup"]), { command: "backup", stack: "dev" });
    });

    it("prints its help, and exits 2 for an argument it does not take", async () => {
        const help = await backup(["--help"], new FakeCluster());
        assert.deepEqual(help, { code: 0, stdout: `${helpText(COMMANDS.backup)}\n`, stderr: "" });
        const wrong = await backup(["--stack", "staging", "b.dump"], new FakeCluster());
        assert.deepEqual(wrong, {
            code: 2,
            stdout: "",
            stderr: 'backup: unexpected argument "b.dump": backup takes only options\nUsage: npm run backup -- [--stack <name>] [--out <file or folder>]  (--help says what each option does)\n',
        });
    });
});
