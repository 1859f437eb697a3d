import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { humanSize } from "../../tools/backup/archive";
import { recycleVolumes } from "../../dev/testbed/cluster";
import { listedNotes, type Note, throughIngress } from "./inCluster";
import { deployAfresh, launchpad, NAMESPACE, ok, ROOT, run, type Run, STACK, useTestbed } from "./support";

/** `npm run backup|restore -- --stack testbed …`, as a user runs them. */
async function command(name: "backup" | "restore", args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
    const r = await run("npm", ["run", "--silent", name, "--", "--stack", STACK, ...args], env, ROOT);
    // What the user saw, in the run's log.
    for (const line of r.output.trimEnd().split("\n")) console.log(`      | ${line}`);
    return r;
}

const NOTES = ["kept across down --delete-data", "restored by npm run restore", "ünïcödé and 'quotes' survive too"];

describe("e2e: backup and restore of the database, on the real node", function () {
    this.timeout(30 * 60_000);
    let env: NodeJS.ProcessEnv;
    let dir: string;
    let file: string;
    let written: Note[];

    before(async () => {
        env = await useTestbed();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-backup-e2e-"));
        await deployAfresh(env);
        assert.deepEqual(await listedNotes(), [], "a fresh database lists no notes");
        for (const text of NOTES) {
            const r = await throughIngress("/api/notes", { method: "POST", body: JSON.stringify({ text }) });
            assert.equal(r.status, 201, `POST /api/notes: ${r.body}`);
        }
        written = await listedNotes();
        assert.equal(written.length, NOTES.length);
    });

    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("writes a backup named after the stack, the database and the UTC time, and prints its size and SHA-256", async () => {
        const r = ok(await command("backup", ["--out", dir], env), "npm run backup");
        const files = fs.readdirSync(dir);
        assert.equal(files.length, 1, `one file in ${dir}: ${files.join(", ")}`);
        assert.match(files[0], /^testbed-app-\d{8}T\d{6}Z\.dump$/);
        file = path.join(dir, files[0]);
        const data = fs.readFileSync(file);
        const sha256 = createHash("sha256").update(data).digest("hex");
        assert.equal(
            r.stdout,
            `${file}: database app of stack testbed (pod ${NAMESPACE}/db-0), ${data.length} bytes (${humanSize(data.length)})\n${sha256}  ${file}\n`,
        );
        assert.equal(r.stderr, "");
        const header = data.subarray(0, data.indexOf(0x0a)).toString("utf8");
        assert.match(header, /^launchpad-backup v1 \{"stack":"testbed","namespace":"launchpad-testbed","database":"app","takenAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","format":"pg_dump custom"\}$/);
        assert.equal(data.subarray(header.length + 1, header.length + 6).toString("latin1"), "PGDMP", "pg_dump's custom-format archive follows the header");
    });

    it("refuses to restore into the database that holds the notes, changing nothing", async () => {
        const r = await command("restore", [file], env);
        assert.equal(r.code, 1, r.output);
        assert.equal(
            r.stderr,
            "restore: the database app of stack testbed holds data: public.notes (3 rows); nothing was changed. " +
                "Add --force to replace it with the backup's (npm run backup -- --stack testbed keeps a copy of it first).\n",
        );
        assert.deepEqual(await listedNotes(), written);
    });

    it("refuses a backup whose header names another stack, whatever its file name says", async () => {
        const data = fs.readFileSync(file);
        const other = path.join(dir, path.basename(file).replace(/\.dump$/, "-copy.dump"));
        fs.writeFileSync(other, Buffer.concat([Buffer.from(data.subarray(0, data.indexOf(0x0a)).toString("utf8").replace('"stack":"testbed"', '"stack":"dev"')), data.subarray(data.indexOf(0x0a))]));
        const r = await command("restore", [other, "--force"], env);
        assert.equal(r.code, 1, r.output);
        assert.match(r.stderr, new RegExp(`^restore: ${other.replace(/[.]/g, "\\.")} is a backup of stack dev \\(database app, taken [^)]+\\), not of testbed; nothing was changed\\. Add --force-stack to restore it into stack testbed all the same\\.\\n$`));
        assert.deepEqual(await listedNotes(), written);
        fs.rmSync(other);
    });

    it("after down --delete-data: says there is no database pod to back up, and leaves no file", async () => {
        ok(await launchpad("down", ["--delete-data"], env), "npm run down -- --delete-data");
        const empty = fs.mkdtempSync(path.join(dir, "none-"));
        const r = await command("backup", ["--out", empty], env);
        assert.equal(r.code, 1, r.output);
        assert.equal(
            r.stderr,
            `backup: stack testbed has no database pod in namespace ${NAMESPACE} of context launchpad-testbed; no file was written. Deploy it with npm run up -- --stack testbed.\n`,
        );
        assert.deepEqual(fs.readdirSync(empty), []);
    });

    it("restores the backup into the fresh database of the next up, and the API lists the same notes", async () => {
        await recycleVolumes(env.KUBECONFIG as string);
        ok(await launchpad("up", [], env), "npm run up");
        assert.deepEqual(await listedNotes(), [], "the data went with down --delete-data");
        const r = ok(await command("restore", [file], env), "npm run restore");
        const data = fs.readFileSync(file);
        assert.equal(
            r.stdout,
            `restored ${file} (the backup of stack testbed, taken ${/"takenAt":"([^"]+)"/.exec(data.toString("latin1"))![1]}; ${data.length} bytes (${humanSize(data.length)}), ` +
                `sha256 ${createHash("sha256").update(data).digest("hex")})\n  into database app of stack testbed (pod ${NAMESPACE}/db-0)\n  now: public.notes (3 rows)\n`,
        );
        assert.deepEqual(await listedNotes(), written, "the same notes, ids and times");
    });

    it("refuses a second restore into the database it filled, and with --force replaces it, without doubling a note", async () => {
        const refused = await command("restore", [file], env);
        assert.equal(refused.code, 1, refused.output);
        assert.match(refused.stderr, /^restore: the database app of stack testbed holds data: public\.notes \(3 rows\); nothing was changed\./);
        const added = await throughIngress("/api/notes", { method: "POST", body: JSON.stringify({ text: "written after the backup" }) });
        assert.equal(added.status, 201);
        const forced = ok(await command("restore", [file, "--force"], env), "npm run restore -- --force");
        assert.match(forced.stdout, /\n {2}replaced: public\.notes \(4 rows\)\n {2}now: public\.notes \(3 rows\)\n$/);
        assert.deepEqual(await listedNotes(), written);
        const next = await throughIngress("/api/notes", { method: "POST", body: JSON.stringify({ text: "the app writes on" }) });
        assert.equal(next.status, 201, `the backend writes after the restore, its sequence restored too: ${next.body}`);
        assert.ok((JSON.parse(next.body) as Note).id > Math.max(...written.map((n) => n.id)));
    });
});
