import type { Readable, Writable } from "node:stream";
import type { AppTarget } from "../../tools/appTarget";
import { ClusterError, type ContainerRef, type DatabaseCluster, type ExecIo, type ExecResult, type PodState } from "../../tools/backup/cluster";
import { DUMP_COMMAND, RESTORE_COMMAND, TABLES_COMMAND } from "../../tools/backup/database";

/** The stack the tests back up and restore: what appTarget would read from a stack file. */
export const TARGET: AppTarget = {
    stack: "staging",
    context: "staging-cluster",
    namespace: "notes-staging",
    instance: "notes-staging",
    database: { name: "notes", user: "app" },
};

/** A custom-format archive as far as the commands look into one: pg_dump's magic, then anything. */
export const ARCHIVE = Buffer.concat([Buffer.from("PGDMP"), Buffer.from([1, 14, 0, 4, 8, 1, 0, 255, 254, 10, 0, 13])]);

export const READY_DB: PodState = { name: "db-0", ready: true, deleting: false, why: "Running" };

/** What the fake's database does when a command runs in it. */
export interface Behaviour {
    /** pg_dump: what it writes, how it exits. */
    dump?: { stdout?: Buffer; exitCode?: number; stderr?: string; breakAfter?: number };
    /** psql listing the tables: "<rows> <name>" lines. */
    tables?: string[];
    /** The tables after a restore. */
    tablesAfter?: string[];
    restore?: { exitCode?: number; stderr?: string };
}

/** Each command run in the fake cluster, with what its stdin carried. */
export interface Ran {
    readonly where: ContainerRef;
    readonly command: readonly string[];
    readonly stdin?: Buffer;
}

async function readAll(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
}

function end(stdout: Writable | undefined, data?: Buffer): Promise<void> {
    if (!stdout) return Promise.resolve();
    return new Promise((resolve, reject) => {
        stdout.once("error", reject);
        stdout.end(data ?? Buffer.alloc(0), () => resolve());
    });
}

/** The boundary replaced: pods as given, and a database that answers the three commands as told. */
export class FakeCluster implements DatabaseCluster {
    readonly listed: { namespace: string; selector: string }[] = [];
    readonly ran: Ran[] = [];
    private restored = false;

    constructor(
        readonly pods: PodState[] = [READY_DB],
        readonly behaviour: Behaviour = {},
        private readonly onExec?: (command: readonly string[], io: ExecIo) => void,
    ) {}

    async listPods(namespace: string, selector: string): Promise<PodState[]> {
        this.listed.push({ namespace, selector });
        return this.pods;
    }

    async exec(where: ContainerRef, command: readonly string[], io: ExecIo): Promise<ExecResult> {
        const stdin = io.stdin ? await readAll(io.stdin) : undefined;
        this.ran.push({ where, command, ...(stdin && { stdin }) });
        this.onExec?.(command, io);
        if (command === DUMP_COMMAND) {
            const dump = this.behaviour.dump ?? {};
            const data = dump.stdout ?? ARCHIVE;
            if (dump.breakAfter !== undefined) {
                io.stdout?.write(data.subarray(0, dump.breakAfter));
                throw new ClusterError(`the session with pod ${where.namespace}/${where.pod} closed before the command ended`);
            }
            await end(io.stdout, data);
            return { exitCode: dump.exitCode ?? 0, stderr: dump.stderr ?? "" };
        }
        if (command === TABLES_COMMAND) {
            const lines = (this.restored ? this.behaviour.tablesAfter : undefined) ?? this.behaviour.tables ?? [];
            await end(io.stdout, Buffer.from(lines.map((l) => `${l}\n`).join("")));
            return { exitCode: 0, stderr: "" };
        }
        if (command === RESTORE_COMMAND) {
            this.restored = (this.behaviour.restore?.exitCode ?? 0) === 0;
            return { exitCode: this.behaviour.restore?.exitCode ?? 0, stderr: this.behaviour.restore?.stderr ?? "" };
        }
        throw new Error(`the fake database knows no command ${JSON.stringify(command)}`);
    }
}
