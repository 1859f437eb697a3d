import * as fs from "node:fs";
import { Failure } from "../cli";
import type { AppTarget } from "../appTarget";
import { fileFacts, humanSize, type ReadArchive } from "./archive";
import { ClusterError, type DatabaseCluster } from "./cluster";
import { causeOf, databaseContainer, describeTables, RESTORE_COMMAND, type Table, tablesOf } from "./database";

export interface RestoreOptions {
    readonly file: string;
    /** What the file's start says it is (archive.ts readStart), read before anything else. */
    readonly archive: ReadArchive;
    /** --force: replace a database that holds data. */
    readonly force: boolean;
    /** --force-stack: restore a backup of another stack, or one that names none. */
    readonly forceStack: boolean;
    readonly signal?: AbortSignal;
}

export interface RestoreResult {
    readonly pod: string;
    readonly bytes: number;
    readonly sha256: string;
    /** The tables that held rows before, which the backup replaced (only with --force). */
    readonly replaced: readonly Table[];
    /** The tables after the restore. */
    readonly tables: readonly Table[];
}

const NOTHING = "nothing was changed";

/** The stack check, made on the file alone: a backup of another stack, or a file that names none, needs --force-stack. */
export function checkArchive(target: AppTarget, options: RestoreOptions): void {
    const { archive, file } = options;
    if (archive.kind === "other") {
        throw new Failure(`${file} is not a backup: ${archive.why}; ${NOTHING}. Restore takes a file npm run backup wrote (or a pg_dump --format=custom archive, with --force-stack).`);
    }
    if (options.forceStack) return;
    if (archive.kind === "pg_dump") {
        throw new Failure(`${file} is a bare pg_dump archive that names no stack; ${NOTHING}. Add --force-stack to restore it into stack ${target.stack} all the same.`);
    }
    const { header } = archive;
    if (header.stack !== target.stack) {
        throw new Failure(
            `${file} is a backup of stack ${header.stack} (database ${header.database}, taken ${header.takenAt}), not of ${target.stack}; ${NOTHING}. ` +
                `Add --force-stack to restore it into stack ${target.stack} all the same.`,
        );
    }
}

function failed(e: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) {
        return new Failure("interrupted: pg_restore may still finish in the pod; it runs in one transaction, so the database holds either all of the backup or what it held before");
    }
    if (e instanceof ClusterError) return new Failure(`${e.message}; ${NOTHING}.${e.todo ? ` ${e.todo}` : ""}`);
    return e;
}

/**
 * Restores a backup into the stack's database with pg_restore in its container, the file sent through
 * the API server as the command's stdin. Refuses, changing nothing, a file of another stack (unless
 * --force-stack) and a database whose tables hold any row (unless --force): a fresh database, or one
 * whose app only created its empty tables, takes the backup as it is. pg_restore runs in one
 * transaction and drops each object of the backup that exists first, so it either replaces them all or
 * leaves the database as it was.
 */
export async function restoreBackup(target: AppTarget, cluster: DatabaseCluster, options: RestoreOptions): Promise<RestoreResult> {
    checkArchive(target, options);
    const again = `npm run restore -- --stack ${target.stack} ${options.file}`;
    try {
        const where = await databaseContainer(cluster, target, again);
        const withData = (await tablesOf(cluster, where)).filter((t) => t.rows > 0);
        if (withData.length > 0 && !options.force) {
            throw new Failure(
                `the database ${target.database.name} of stack ${target.stack} holds data: ${describeTables(withData)}; ${NOTHING}. ` +
                    `Add --force to replace it with the backup's (npm run backup -- --stack ${target.stack} keeps a copy of it first).`,
            );
        }
        const facts = await fileFacts(options.file);
        const archiveStart = options.archive.kind === "other" ? 0 : options.archive.archiveStart;
        const stdin = fs.createReadStream(options.file, { start: archiveStart });
        const result = await cluster.exec(where, RESTORE_COMMAND, { stdin, signal: options.signal });
        if (options.signal?.aborted) throw new ClusterError("interrupted");
        if (result.exitCode !== 0) {
            throw new Failure(
                `pg_restore failed in pod ${where.namespace}/${where.pod} (exit code ${result.exitCode}): ${causeOf(result.stderr)}; ` +
                    "it ran in one transaction, so the database is as it was",
            );
        }
        const tables = await tablesOf(cluster, where);
        return { pod: `${where.namespace}/${where.pod}`, ...facts, replaced: withData, tables };
    } catch (e) {
        throw failed(e, options.signal);
    }
}

/** What restore prints: the file and where it went, what it replaced, and the tables now. */
export function restoreReport(target: AppTarget, options: RestoreOptions, result: RestoreResult): string {
    const from = options.archive.kind === "backup" ? `the backup of stack ${options.archive.header.stack}, taken ${options.archive.header.takenAt}` : "a bare pg_dump archive";
    return [
        `restored ${options.file} (${from}; ${result.bytes} bytes (${humanSize(result.bytes)}), sha256 ${result.sha256})`,
        `  into database ${target.database.name} of stack ${target.stack} (pod ${result.pod})`,
        ...(result.replaced.length ? [`  replaced: ${describeTables(result.replaced)}`] : []),
        `  now: ${result.tables.length ? describeTables(result.tables) : "no tables"}`,
    ].join("\n") + "\n";
}
