// `npm run backup` and `npm run restore`: see COMMANDS.
//
// One folder for both: they share the file's format (archive.ts), the boundary to the cluster
// (cluster.ts) and what runs in the database's container (database.ts); as two commands of two folders
// those would have to move into the commands' shared parts, for these two alone. Both reach the database
// only by exec into its pod through the API server: no port is opened, no password leaves the pod.
// Exit 0: done. 1: refused or failed, changing nothing (the message says why and what to do). 2: wrong
// usage, including a backup file that cannot be read (tools/cli.ts EXIT_RULE).

import { type AppTarget, appTarget } from "../appTarget";
import { type CommandSpec, errorOutcome, exitWith, helpOutcome, type Outcome, readCommandLine, runCommand, single, stackOf, STACK_OPTION, UsageError } from "../cli";
import { type ReadArchive, readStart } from "./archive";
import { backupReport, takeBackup } from "./backup";
import { type DatabaseCluster, liveCluster } from "./cluster";
import { restoreBackup, restoreReport } from "./restore";

export type Command = "backup" | "restore";

export const COMMANDS: Readonly<Record<Command, CommandSpec>> = {
    backup: {
        name: "backup",
        synopsis: "[--stack <name>] [--out <file or folder>]",
        about:
            "Dumps the stack's database with pg_dump (custom format, compressed, one consistent snapshot) run in its pod through\n" +
            "the API server, into a local file named after the stack, the database and the UTC time; prints its size and SHA-256.\n" +
            "No port is opened and the password never leaves the pod. A failed backup leaves no file behind.",
        options: [
            STACK_OPTION,
            { flag: "--out", value: "<file or folder>", doc: "where the backup goes (default: <stack>-<database>-<UTC time>.dump in the current folder; a folder gets that name inside it)" },
        ],
    },
    restore: {
        name: "restore",
        synopsis: "[--stack <name>] <file> [--force] [--force-stack]",
        about:
            "Restores a file npm run backup wrote into the stack's database, with pg_restore in one transaction run in its pod through\n" +
            "the API server. Refuses, changing nothing, when the database holds data or the file is another stack's backup.",
        options: [
            STACK_OPTION,
            { flag: "--force", doc: "replace what the database holds (each object of the backup is dropped and restored)" },
            { flag: "--force-stack", doc: "restore a backup of another stack, or a bare pg_dump --format=custom archive" },
        ],
    },
};

export type ParsedArgs =
    | { readonly command: "backup"; readonly stack: string; readonly out?: string }
    | { readonly command: "restore"; readonly stack: string; readonly file: string; readonly force: boolean; readonly forceStack: boolean };

function commandOf(argv: readonly string[]): Command {
    const [command] = argv;
    if (command === "backup" || command === "restore") return command;
    throw new UsageError(command === undefined ? "missing command: backup or restore" : `unknown command "${command}": use backup or restore`);
}

/** Restore's one argument that is no option (the file), and the options around it. */
function splitFile(argv: readonly string[], spec: CommandSpec): { files: string[]; options: string[] } {
    const takesValue = new Set(spec.options.filter((o) => o.value !== undefined).map((o) => o.flag));
    const files: string[] = [];
    const options: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("-") || arg === "-") files.push(arg);
        else {
            options.push(arg);
            if (takesValue.has(arg) && i + 1 < argv.length) options.push(argv[++i]);
        }
    }
    return { files, options };
}

/** Parses the command line (the command, then its options); "help" for --help. Throws UsageError. */
export function parseArgs(argv: readonly string[]): ParsedArgs | "help" {
    const command = commandOf(argv);
    const spec = COMMANDS[command];
    if (command === "backup") {
        const flags = readCommandLine(argv.slice(1), spec);
        if (flags === "help") return "help";
        const out = single(flags, "--out");
        return { command, stack: stackOf(flags), ...(out !== undefined && { out }) };
    }
    const { files, options } = splitFile(argv.slice(1), spec);
    const flags = readCommandLine(options, spec);
    if (flags === "help") return "help";
    if (files.length === 0) throw new UsageError("name the backup file to restore: npm run restore -- --stack <name> <file>");
    if (files.length > 1) throw new UsageError(`restore takes one file; got ${files.length}: ${files.join(", ")}`);
    return { command, stack: stackOf(flags), file: files[0], force: flags.has("--force"), forceStack: flags.has("--force-stack") };
}

export interface BackupDeps {
    /** Where the stack's app runs (tools/appTarget.ts). */
    target(stack: string): AppTarget;
    /** The boundary to the stack's cluster. */
    cluster(target: AppTarget): DatabaseCluster;
    now(): Date;
    /** Ctrl-C. */
    readonly signal?: AbortSignal;
}

const liveDeps: BackupDeps = { target: (stack) => appTarget(stack), cluster: liveCluster, now: () => new Date() };

/** Reads a backup file's start; a file that cannot be read is wrong usage (exit 2), as for every command. */
function readArchive(file: string): ReadArchive {
    try {
        return readStart(file);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : (e as Error).message;
        throw new UsageError(`cannot read ${file}: ${why}`);
    }
}

/** The commands as a function: argv (the command first) in, exit code and output out. `deps` replaces the cluster (tests). */
export async function runBackupCommand(argv: readonly string[], deps: Partial<BackupDeps> = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    const { target: targetOf, cluster: clusterOf, now, signal } = { ...liveDeps, ...deps };
    let command: Command;
    try {
        command = commandOf(argv);
    } catch (e) {
        return errorOutcome(COMMANDS.backup, e, env);
    }
    const spec = COMMANDS[command];
    return runCommand(spec, async () => {
        const args = parseArgs(argv);
        if (args === "help") return helpOutcome(spec);
        if (args.command === "backup") {
            const target = targetOf(args.stack);
            const result = await takeBackup(target, clusterOf(target), { out: args.out, now: now(), signal });
            return { code: 0, stdout: backupReport(target, result), stderr: "" };
        }
        const archive = readArchive(args.file);
        const target = targetOf(args.stack);
        const options = { file: args.file, archive, force: args.force, forceStack: args.forceStack, signal };
        const result = await restoreBackup(target, clusterOf(target), options);
        return { code: 0, stdout: restoreReport(target, options, result), stderr: "" };
    }, env);
}

if (require.main === module) {
    // Ctrl-C ends the session with the pod and lets the command clean up (a backup's partial file); a
    // second one stops at once.
    const interrupt = new AbortController();
    process.once("SIGINT", () => interrupt.abort());
    exitWith(runBackupCommand(process.argv.slice(2), { signal: interrupt.signal }));
}
