import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { headerLine } from "../../tools/backup/archive";
import { describeTables, parseTables, RESTORE_COMMAND, TABLES_COMMAND, TABLES_SQL } from "../../tools/backup/database";
import { COMMANDS, parseArgs, runBackupCommand } from "../../tools/backup/main";
import { helpText, UsageError } from "../../tools/cli";
import { ARCHIVE, type Behaviour, FakeCluster, TARGET } from "./fakes";
import { removeTemps, tempDir } from "../up/fakes";

after(removeTemps);

const TAKEN = "2026-12-07T07:29:01Z";

/** A backup file as `npm run backup` writes one, of the given stack. */
function backupFile(stack = "staging", name = `${stack}-notes-20261207T072901Z.dump`): { file: string; data: Buffer } {
    const file = path.join(tempDir(), name);
    const data = Buffer.concat([Buffer.from(headerLine({ stack, namespace: `notes-${stack}`, database: "notes", takenAt: TAKEN })), ARCHIVE]);
    fs.writeFileSync(file, data);
    return { file, data };
}

function restore(argv: string[], cluster: FakeCluster) {
    return runBackupCommand(["restore", ...argv], { target: () => TARGET, cluster: () => cluster, now: () => new Date() });
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const EMPTY: Behaviour = { tables: ["0 public.notes"], tablesAfter: ["3 public.notes"] };

describe("restore: the command line", () => {
    it("takes the file before or after the options", () => {
        const parsed = { command: "restore", stack: "prod", file: "b.dump", force: false, forceStack: false };
        assert.deepEqual(parseArgs(["restore", "--stack", "prod", "b.dump"]), parsed);
        assert.deepEqual(parseArgs(["restore", "b.dump", "--stack=prod"]), parsed);
        assert.deepEqual(parseArgs(["restore", "b.dump", "--force", "--force-stack"]), { ...parsed, stack: "dev", force: true, forceStack: true });
    });
    const bad: [string[], string][] = [
        [["restore", "--stack", "prod"], "name the backup file to restore: npm run restore -- --stack <name> <file>"],
        [["restore", "a.dump", "b.dump"], "restore takes one file; got 2: a.dump, b.dump"],
        [["restore", "a.dump", "--stack"], "--stack needs a value: --stack <name>"],
        [["restore", "a.dump", "--forse"], 'unknown option "--forse"; did you mean --force?'],
    ];
    for (const [argv, message] of bad) {
        it(`refuses ${JSON.stringify(argv.slice(1))}: ${message}`, () => {
            assert.throws(() => parseArgs(argv), (e: Error) => e instanceof UsageError && e.message === message);
        });
    }

    it("exits 2 for a file it cannot read, asking the cluster nothing", async () => {
        const cluster = new FakeCluster();
        const missing = path.join(tempDir(), "none.dump");
        assert.deepEqual(await restore(["--stack", "staging", missing], cluster), {
            code: 2,
            stdout: "",
            stderr: `restore: cannot read ${missing}: no such file\nUsage: npm run restore -- [--stack <name>] <file> [--force] [--force-stack]  (--help says what each option does)\n`,
        });
        assert.deepEqual(cluster.listed, []);
    });

    it("prints its help", async () => {
        assert.deepEqual(await restore(["--help"], new FakeCluster()), { code: 0, stdout: `${helpText(COMMANDS.restore)}\n`, stderr: "" });
    });
});

describe("restore: into the stack's database", () => {
    it("sends the archive without its header to pg_restore when no table holds a row, and says what the database holds now", async () => {
        const { file, data } = backupFile();
        const cluster = new FakeCluster(undefined, EMPTY);
        const out = await restore(["--stack", "staging", file], cluster);
        assert.deepEqual(out, {
            code: 0,
            stdout:
                `restored ${file} (the backup of stack staging, taken ${TAKEN}; ${data.length} bytes (${data.length} B), sha256 ${sha256(data)})\n` +
                "  into database notes of stack staging (pod notes-staging/db-0)\n" +
                "  now: public.notes (3 rows)\n",
            stderr: "",
        });
        assert.deepEqual(cluster.ran.map((r) => r.command), [TABLES_COMMAND, RESTORE_COMMAND, TABLES_COMMAND]);
        assert.deepEqual(cluster.ran[1].stdin, ARCHIVE);
    });

    it("restores into a database without tables", async () => {
        const { file } = backupFile();
        const out = await restore(["--stack", "staging", file], new FakeCluster(undefined, { tables: [], tablesAfter: ["1 public.notes"] }));
        assert.equal(out.code, 0);
        assert.match(out.stdout, /\n {2}now: public\.notes \(1 row\)\n$/);
    });

    it("refuses a database whose tables hold rows, naming them, and runs no pg_restore", async () => {
        const { file } = backupFile();
        const cluster = new FakeCluster(undefined, { tables: ["2 public.notes", "0 public.tags", "1001 audit.log"] });
        const out = await restore(["--stack", "staging", file], cluster);
        assert.deepEqual(out, {
            code: 1,
            stdout: "",
            stderr:
                "restore: the database notes of stack staging holds data: public.notes (2 rows), audit.log (1000+ rows); nothing was changed. " +
                "Add --force to replace it with the backup's (npm run backup -- --stack staging keeps a copy of it first).\n",
        });
        assert.deepEqual(cluster.ran.map((r) => r.command), [TABLES_COMMAND]);
    });

    it("replaces what the database holds with --force, and says what it replaced", async () => {
        const { file } = backupFile();
        const cluster = new FakeCluster(undefined, { tables: ["1 public.notes"], tablesAfter: ["3 public.notes"] });
        const out = await restore(["--stack", "staging", file, "--force"], cluster);
        assert.equal(out.code, 0);
        assert.match(out.stdout, /\n {2}replaced: public\.notes \(1 row\)\n {2}now: public\.notes \(3 rows\)\n$/);
        assert.deepEqual(cluster.ran.map((r) => r.command), [TABLES_COMMAND, RESTORE_COMMAND, TABLES_COMMAND]);
    });

    it("refuses a backup of another stack, whatever the file is called, before it asks the cluster anything", async () => {
        const { file } = backupFile("prod", "staging-notes-renamed.dump");
        const cluster = new FakeCluster(undefined, EMPTY);
        const out = await restore(["--stack", "staging", file], cluster);
        assert.deepEqual(out, {
            code: 1,
            stdout: "",
            stderr: `restore: ${file} is a backup of stack prod (database notes, taken ${TAKEN}), not of staging; nothing was changed. Add --force-stack to restore it into stack staging all the same.\n`,
        });
        assert.deepEqual(cluster.listed, []);
    });

    it("restores a backup of another stack with --force-stack, still refusing a database with data", async () => {
        const { file } = backupFile("prod");
        assert.equal((await restore(["--stack", "staging", file, "--force-stack"], new FakeCluster(undefined, EMPTY))).code, 0);
        const withData = await restore(["--stack", "staging", file, "--force-stack"], new FakeCluster(undefined, { tables: ["5 public.notes"] }));
        assert.match(withData.stderr, /^restore: the database notes of stack staging holds data: public\.notes \(5 rows\); nothing was changed\./);
    });

    it("takes a bare pg_dump archive only with --force-stack, all of it", async () => {
        const file = path.join(tempDir(), "elsewhere.dump");
        fs.writeFileSync(file, ARCHIVE);
        const refused = await restore(["--stack", "staging", file], new FakeCluster(undefined, EMPTY));
        assert.equal(refused.stderr, `restore: ${file} is a bare pg_dump archive that names no stack; nothing was changed. Add --force-stack to restore it into stack staging all the same.\n`);
        const cluster = new FakeCluster(undefined, EMPTY);
        const out = await restore(["--stack", "staging", file, "--force-stack"], cluster);
        assert.equal(out.code, 0);
        assert.match(out.stdout, new RegExp(`^restored ${file} \\(a bare pg_dump archive; `));
        assert.deepEqual(cluster.ran[1].stdin, ARCHIVE);
    });

    it("refuses a file that is no backup, even with --force-stack", async () => {
        const file = path.join(tempDir(), "notes.sql");
        fs.writeFileSync(file, "CREATE TABLE notes ();\n");
        const out = await restore(["--stack", "staging", file, "--force-stack", "--force"], new FakeCluster(undefined, EMPTY));
        assert.equal(
            out.stderr,
            `restore: ${file} is not a backup: it starts with neither a launchpad-backup line nor a pg_dump custom-format archive; nothing was changed. ` +
                "Restore takes a file npm run backup wrote (or a pg_dump --format=custom archive, with --force-stack).\n",
        );
    });

    it("says pg_restore's error line when it fails, and that its one transaction left the database as it was", async () => {
        const { file } = backupFile();
        const stderr = "pg_restore: while PROCESSING TOC:\npg_restore: error: could not execute query: ERROR:  permission denied for schema public\nCommand was: CREATE TABLE public.notes ();\n";
        const out = await restore(["--stack", "staging", file], new FakeCluster(undefined, { ...EMPTY, restore: { exitCode: 1, stderr } }));
        assert.deepEqual(out, {
            code: 1,
            stdout: "",
            stderr: "restore: pg_restore failed in pod notes-staging/db-0 (exit code 1): pg_restore: error: could not execute query: ERROR:  permission denied for schema public; it ran in one transaction, so the database is as it was\n",
        });
    });

    it("says there is no database pod, changing nothing", async () => {
        const { file } = backupFile();
        const out = await restore(["--stack", "staging", file], new FakeCluster([], EMPTY));
        assert.equal(out.stderr, "restore: stack staging has no database pod in namespace notes-staging of context staging-cluster; nothing was changed. Deploy it with npm run up -- --stack staging.\n");
    });
});

describe("restore: reading the database's tables", () => {
    it("lists the database's own tables with their rows, leaving out the catalogs' and extensions'", () => {
        assert.match(TABLES_SQL, /NOT IN \('pg_catalog', 'information_schema'\)/);
        assert.match(TABLES_SQL, /d\.deptype = 'e'/);
        assert.match(TABLES_SQL, /LIMIT 1001/);
        assert.deepEqual(parseTables("3 public.notes\n0 \"Odd Schema\".\"my table\"\n\n"), [
            { name: "public.notes", rows: 3 },
            { name: '"Odd Schema"."my table"', rows: 0 },
        ]);
        assert.throws(() => parseTables("psql: warning\n"), /psql printed a line that is no table: psql: warning/);
    });

    it("names at most five tables, then how many more", () => {
        const tables = [1, 2, 3, 4, 5, 6, 7].map((n) => ({ name: `public.t${n}`, rows: n }));
        assert.equal(describeTables(tables), "public.t1 (1 row), public.t2 (2 rows), public.t3 (3 rows), public.t4 (4 rows), public.t5 (5 rows), 2 more");
    });
});
