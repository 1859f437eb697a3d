import * as fs from "node:fs";
import * as path from "node:path";
import { projectStateFolders, stackStateFile } from "../engine/backend";

// The disk under a file backend's state. The engine writes the stack's state after every step of an
// update (a temporary file renamed over the old one, plus a backup and a copy in the history), so a
// read-only or full disk stops it. Before an update launchpad checks that the folder can be written and
// has room, changing nothing when it cannot; when the disk fills during an update, the engine's failure
// is said in one line: the state it saved last is whole (the rename over it never happens), and the next
// run applies what was left unfinished.

/** What launchpad learns of the disk under a file backend's state folder. */
export interface StateDisk {
    /** Why a file cannot be written in the folder (e.g. "read-only file system"); undefined when it can. */
    readonly unwritable?: string;
    /** Bytes free for this user on the folder's file system. */
    readonly freeBytes: number;
    /** The size of the stack's state file (0 before the first update). */
    readonly stateBytes: number;
}

/** Looks at the disk under `dir` for `stack`'s state; the live boundary, replaced in unit tests. */
export type CheckStateDisk = (dir: string, stack: string) => StateDisk;

const REASONS: Record<string, string> = {
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
    EDQUOT: "disk quota exceeded",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
};

/** Writes and removes a small file in `dir`, and asks the file system for its free space. */
export const stateDiskLive: CheckStateDisk = (dir, stack) => {
    let unwritable: string | undefined;
    const probe = path.join(dir, `.launchpad-write-check-${process.pid}`);
    try {
        fs.writeFileSync(probe, "launchpad checks that the state can be written\n");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        unwritable = REASONS[code] ?? ((error as Error).message.split("\n")[0] || code);
    } finally {
        fs.rmSync(probe, { force: true });
    }
    let freeBytes = 0;
    try {
        const stats = fs.statfsSync(dir);
        freeBytes = stats.bavail * stats.bsize;
    } catch {
        // a folder that cannot be written is reported as such; its space does not matter then
    }
    let stateBytes = 0;
    try {
        stateBytes = fs.statSync(stackStateFile(dir, stack)).size;
    } catch {
        // no state yet: the first update
    }
    return { unwritable, freeBytes, stateBytes };
};

const MiB = 1024 * 1024;

/** Room an update needs beside the state: its new copy, the backup, the history's copy, and slack for the lock and logs. */
export function neededBytes(stateBytes: number): number {
    return 16 * MiB + 4 * stateBytes;
}

/** Bytes in KiB or MiB (one decimal), rounded down for what a disk has and up for what an update needs. */
function size(bytes: number, round: (x: number) => number): string {
    return bytes >= MiB ? `${(round((bytes / MiB) * 10) / 10).toFixed(1)} MiB` : `${round(bytes / 1024)} KiB`;
}

/**
 * One line when the state folder cannot take an update (unwritable, or too little room), naming the
 * folder and the fix; undefined when it can.
 */
export function stateDiskLine(disk: StateDisk, dir: string, stack: string, command: string): string | undefined {
    const again = `then run npm run ${command} -- --stack ${stack} again.`;
    if (disk.unwritable !== undefined) {
        return (
            `launchpad: the state of stack ${stack} cannot be written in ${dir}: ${disk.unwritable}; nothing was changed. ` +
            `Make that folder writable (remount its disk read-write, or fix its owner and permissions), or set PULUMI_BACKEND_URL to one that is, ${again}`
        );
    }
    const need = neededBytes(disk.stateBytes);
    if (disk.freeBytes < need) {
        return (
            `launchpad: only ${size(disk.freeBytes, Math.floor)} is free on the disk that holds the state of stack ${stack} (${dir}), and an update needs about ` +
            `${size(need, Math.ceil)} there to save it after each step; nothing was changed. Free space on that disk, or set PULUMI_BACKEND_URL to a folder elsewhere, ${again}`
        );
    }
    return undefined;
}

/** The engine's words when it could not write a file backend's state: which folder, and why. */
const STATE_WRITE = /(?:open|write|rename|mkdir|remove) (\/\S*?)\/\.pulumi\/\S*(?: \S+)?: (no space left on device|read-only file system|disk quota exceeded|permission denied)/i;

/**
 * The engine failure of an update or destroy that could not save the state, as one line: where, why,
 * that the state saved before is whole, and the fix. Undefined for any other failure.
 */
export function stateWriteFailureLine(message: string, what: string, stack: string): string | undefined {
    const m = STATE_WRITE.exec(message);
    if (!m) return undefined;
    const [, dir, reason] = m;
    const atStart = /\/\.pulumi\/locks\//.test(m[0]);
    return atStart
        ? `launchpad: ${what} of stack ${stack} could not start: its state cannot be written in ${dir} (${reason.toLowerCase()}); nothing was changed. ` +
              "Free space on that disk or make it writable, then run the command again."
        : `launchpad: ${what} of stack ${stack} stopped: its state could not be saved in ${dir} (${reason.toLowerCase()}). The state saved before ` +
              "is whole, and the next run applies what this one left unfinished: free space on that disk or make it writable, then run the command again.";
}

/**
 * The attribute files a killed run can leave broken. Pulumi's file backend (gocloud's fileblob) writes
 * `<file>.attrs` beside every file it saves by truncating it and then writing a line of JSON, before it
 * renames the new file into place; a run killed between the two leaves the `.attrs` empty and the file
 * itself as it was, and every later command on the project fails with "error: EOF", `pulumi stack ls`
 * included. A missing `.attrs` is read as no attributes, so an empty or unreadable one is removed. Looked at: the project's stack files and its locks.
 */
export function repairStateAttributes(dir: string): string[] {
    const { stacks, locks } = projectStateFolders(dir);
    const removed: string[] = [];
    const visit = (folder: string, depth: number) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
        } catch {
            return; // no such folder yet
        }
        for (const entry of entries) {
            const file = path.join(folder, entry.name);
            if (entry.isDirectory() && depth > 0) visit(file, depth - 1);
            else if (entry.isFile() && entry.name.endsWith(".attrs") && !readableJson(file)) {
                try {
                    fs.rmSync(file, { force: true });
                    removed.push(path.relative(dir, file));
                } catch {
                    // a folder that cannot be written: the state disk's check says so next
                }
            }
        }
    };
    visit(stacks, 0);
    visit(locks, 1);
    return removed;
}

function readableJson(file: string): boolean {
    try {
        JSON.parse(fs.readFileSync(file, "utf8"));
        return true;
    } catch {
        return false;
    }
}
