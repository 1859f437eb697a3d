import * as fs from "node:fs";
import { Failure } from "../cli";
import type { AppTarget } from "../appTarget";
import { backupPath, checksumLine, fileFacts, headerLine, humanSize, readStart } from "./archive";
import { ClusterError, type DatabaseCluster } from "./cluster";
import { causeOf, databaseContainer, DUMP_COMMAND } from "./database";

export interface BackupOptions {
    /** --out: a file, or a folder for the default name; the current folder when absent. */
    readonly out?: string;
    /** The time the backup is named after and its header records. */
    readonly now: Date;
    /** Ctrl-C. */
    readonly signal?: AbortSignal;
}

/** What a backup wrote. */
export interface BackupResult {
    readonly file: string;
    readonly bytes: number;
    readonly sha256: string;
    readonly pod: string;
}

const NOTHING = "no file was written";

/** A failure of the cluster or of pg_dump, as the one line the command prints. */
function failed(e: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) return new Failure(`interrupted; ${NOTHING} (the partial file was removed)`);
    if (e instanceof ClusterError) return new Failure(`${e.message}; ${NOTHING}.${e.todo ? ` ${e.todo}` : ""}`);
    return e;
}

/**
 * Dumps the stack's database with pg_dump in its container, through the API server, into a local file:
 * a header naming the stack, then the custom-format archive. It is written under `<file>.partial` and
 * renamed once pg_dump succeeded and its output reads as an archive; on any failure the partial file is
 * removed, so a file with the final name is always a whole backup.
 */
export async function takeBackup(target: AppTarget, cluster: DatabaseCluster, options: BackupOptions): Promise<BackupResult> {
    const file = backupPath(options.out, target.stack, target.database.name, options.now);
    if (fs.existsSync(file)) throw new Failure(`${file} exists; ${NOTHING}. Name another file with --out, or move that one away.`);
    const where = await databaseContainer(cluster, target, `npm run backup -- --stack ${target.stack}`).catch((e: unknown) => {
        throw failed(e);
    });

    const partial = `${file}.partial`;
    const takenAt = options.now.toISOString().replace(/\.\d+Z$/, "Z");
    let out: fs.WriteStream | undefined;
    try {
        // Readable by its owner only: a backup holds everything the database does.
        const stream = (out = fs.createWriteStream(partial, { mode: 0o600 }));
        await new Promise<void>((resolve, reject) => stream.once("open", () => resolve()).once("error", reject)).catch((e: NodeJS.ErrnoException) => {
            throw new Failure(`cannot write ${partial}: ${e.code ?? e.message}; ${NOTHING}. Choose another place with --out.`);
        });
        stream.write(headerLine({ stack: target.stack, namespace: target.namespace, database: target.database.name, takenAt }));
        const result = await cluster.exec(where, DUMP_COMMAND, { stdout: stream, signal: options.signal }).catch((e: NodeJS.ErrnoException) => {
            if (e instanceof ClusterError || options.signal?.aborted) throw e;
            throw new Failure(`cannot write ${partial}: ${e.code ?? e.message}; ${NOTHING}. Free some space, or choose another place with --out.`);
        });
        if (options.signal?.aborted) throw new ClusterError("interrupted");
        if (result.exitCode !== 0) {
            throw new Failure(`pg_dump failed in pod ${where.namespace}/${where.pod} (exit code ${result.exitCode}): ${causeOf(result.stderr)}; ${NOTHING}.`);
        }
        if (readStart(partial).kind !== "backup") {
            throw new Failure(`pg_dump in pod ${where.namespace}/${where.pod} exited 0 but wrote no custom-format archive; ${NOTHING}.`);
        }
        fs.renameSync(partial, file);
    } catch (e) {
        out?.destroy();
        fs.rmSync(partial, { force: true });
        throw failed(e, options.signal);
    }
    const facts = await fileFacts(file);
    return { file, ...facts, pod: `${where.namespace}/${where.pod}` };
}

/** What backup prints: the file, whose and how big; then its checksum as `sha256sum` prints it. */
export function backupReport(target: AppTarget, result: BackupResult): string {
    return [
        `${result.file}: database ${target.database.name} of stack ${target.stack} (pod ${result.pod}), ${result.bytes} bytes (${humanSize(result.bytes)})`,
        checksumLine(result.file, result.sha256),
    ].join("\n") + "\n";
}
