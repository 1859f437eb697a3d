// The backup file: one header line that names the stack it was taken from, then pg_dump's custom-format
// archive as pg_dump wrote it. The header makes restore's other-stack check real even after the file is
// renamed; `tail -n +2 FILE > plain.dump` gives pg_restore the archive alone.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The first word of every backup file. */
export const HEADER_MAGIC = "launchpad-backup";
/** The format of the header's fields; a reader refuses any other. */
export const HEADER_VERSION = "v1";
/** The first bytes of every pg_dump custom-format archive. */
export const PG_DUMP_MAGIC = "PGDMP";
/** How far into a file restore looks for the header's end. */
const HEADER_MAX_BYTES = 4096;

/** What a backup says about itself. */
export interface BackupHeader {
    readonly stack: string;
    readonly namespace: string;
    readonly database: string;
    /** When pg_dump started, ISO 8601 in UTC. */
    readonly takenAt: string;
}

/** The header line, newline included. */
export function headerLine(header: BackupHeader): string {
    const fields = { stack: header.stack, namespace: header.namespace, database: header.database, takenAt: header.takenAt, format: "pg_dump custom" };
    return `${HEADER_MAGIC} ${HEADER_VERSION} ${JSON.stringify(fields)}\n`;
}

/** A file as restore reads it: whose backup it is (none for a bare pg_dump archive), and where the archive starts. */
export type ReadArchive =
    | { readonly kind: "backup"; readonly header: BackupHeader; readonly archiveStart: number }
    | { readonly kind: "pg_dump"; readonly archiveStart: 0 }
    | { readonly kind: "other"; readonly why: string };

/** Reads what a file's first bytes say it is: a launchpad backup, a bare pg_dump custom archive, or neither. */
export function parseStart(start: Buffer): ReadArchive {
    if (start.subarray(0, PG_DUMP_MAGIC.length).toString("latin1") === PG_DUMP_MAGIC) return { kind: "pg_dump", archiveStart: 0 };
    if (start.subarray(0, HEADER_MAGIC.length + 1).toString("latin1") !== `${HEADER_MAGIC} `) {
        return { kind: "other", why: "it starts with neither a launchpad-backup line nor a pg_dump custom-format archive" };
    }
    const end = start.indexOf(0x0a);
    if (end < 0) return { kind: "other", why: "its launchpad-backup line has no end" };
    const line = start.subarray(0, end).toString("utf8");
    const match = /^launchpad-backup (\S+) (\{.*\})$/.exec(line);
    if (!match) return { kind: "other", why: "its launchpad-backup line cannot be read" };
    if (match[1] !== HEADER_VERSION) return { kind: "other", why: `its launchpad-backup line is of version ${match[1]}; this launchpad reads ${HEADER_VERSION}` };
    let fields: Record<string, unknown>;
    try {
        fields = JSON.parse(match[2]) as Record<string, unknown>;
    } catch {
        return { kind: "other", why: "its launchpad-backup line cannot be read" };
    }
    const text = (key: string) => (typeof fields[key] === "string" ? (fields[key] as string) : "");
    if (!text("stack") || !text("database")) return { kind: "other", why: "its launchpad-backup line names no stack or database" };
    if (start.subarray(end + 1, end + 1 + PG_DUMP_MAGIC.length).toString("latin1") !== PG_DUMP_MAGIC) {
        return { kind: "other", why: "no pg_dump custom-format archive follows its launchpad-backup line" };
    }
    return {
        kind: "backup",
        header: { stack: text("stack"), namespace: text("namespace"), database: text("database"), takenAt: text("takenAt") },
        archiveStart: end + 1,
    };
}

/** Reads a file's start (throws the file system's error when it cannot be read). */
export function readStart(file: string): ReadArchive {
    const fd = fs.openSync(file, "r");
    try {
        const start = Buffer.alloc(HEADER_MAX_BYTES);
        const read = fs.readSync(fd, start, 0, start.length, 0);
        return parseStart(start.subarray(0, read));
    } finally {
        fs.closeSync(fd);
    }
}

/** `20261207T072901Z`: a UTC time as it goes into a file name (no colons, sorts as it reads). */
export function fileTime(when: Date): string {
    return when.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

/** The name a backup gets when --out names none: `<stack>-<database>-<UTC time>.dump`. */
export function defaultFileName(stack: string, database: string, when: Date): string {
    return `${stack}-${database}-${fileTime(when)}.dump`;
}

/** Where a backup goes: --out as a file, inside --out when it is a folder, or the default name in the current folder. */
export function backupPath(out: string | undefined, stack: string, database: string, when: Date): string {
    const name = defaultFileName(stack, database, when);
    if (out === undefined) return name;
    return fs.existsSync(out) && fs.statSync(out).isDirectory() ? path.join(out, name) : out;
}

/** A size as people read it: bytes below 1 KiB, then KiB, MiB, GiB with one decimal. */
export function humanSize(bytes: number): string {
    if (bytes < 1024) return `${bytes} B`;
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let value = bytes / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${value.toFixed(1)} ${units[unit]}`;
}

/** A file's size and SHA-256, read back from the disk. */
export async function fileFacts(file: string): Promise<{ bytes: number; sha256: string }> {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of fs.createReadStream(file)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
    }
    return { bytes, sha256: hash.digest("hex") };
}

/** A file's checksum line as `sha256sum FILE` prints it, so that `sha256sum -c` can check the file later. */
export function checksumLine(file: string, sha256: string): string {
    return `${sha256}  ${file}`;
}
