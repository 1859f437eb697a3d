// What backup and restore do inside the database's container: find the Ready pod, and the commands they
// run there. Every command signs in as the container's own environment says (POSTGRES_USER,
// POSTGRES_DB, and POSTGRES_PASSWORD from the Secret), over TCP to 127.0.0.1 as the probes do: the
// password goes from the container's environment to the client's, and never into a command line, a
// log or this machine.

import { Writable } from "node:stream";
import { POSTGRES_PORT } from "../../components/defaults";
import { type AppTarget, podSelector } from "../appTarget";
import { ClusterError, type ContainerRef, type DatabaseCluster } from "./cluster";

/** The database's container in its StatefulSet's pod (components/database.ts postgresContainer). */
export const DB_CONTAINER = "postgres";

const AS_THE_APP = 'PGPASSWORD="$POSTGRES_PASSWORD" exec';
const CONNECTION = `--host=127.0.0.1 --port=${POSTGRES_PORT} --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" --no-password`;

/**
 * pg_dump's custom format: compressed, and what pg_restore needs to drop and recreate each object in one
 * transaction. pg_dump reads the whole database in one snapshot, so the dump is consistent while the app
 * keeps writing.
 */
export const DUMP_COMMAND: readonly string[] = ["sh", "-c", `${AS_THE_APP} pg_dump --format=custom ${CONNECTION}`];

/**
 * pg_restore from stdin in one transaction (all of the backup or nothing), first dropping each object the
 * backup holds where it exists; owners and grants become the stack's own user, so a backup of another
 * stack (another user) restores too.
 */
export const RESTORE_COMMAND: readonly string[] = [
    "sh", "-c", `${AS_THE_APP} pg_restore --single-transaction --exit-on-error --clean --if-exists --no-owner --no-acl ${CONNECTION}`,
];

/** Rows are counted up to this many; more reads as "1000+". */
const COUNT_CAP = 1000;

/**
 * Every table of the database's own (not the catalogs', not an extension's), one per line: its row count
 * (up to COUNT_CAP + 1, so a large table costs no full scan), a space, its quoted name.
 */
export const TABLES_SQL = [
    `SELECT (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM (SELECT FROM %s LIMIT ${COUNT_CAP + 1}) AS s', c.oid::regclass), false, true, '')))[1]::text`,
    "       || ' ' || format('%I.%I', n.nspname, c.relname)",
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
    "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'",
    "  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')",
    "ORDER BY n.nspname, c.relname",
].join("\n");

export const TABLES_COMMAND: readonly string[] = ["sh", "-c", `${AS_THE_APP} psql -X -q -A -t -v ON_ERROR_STOP=1 ${CONNECTION} -c "$1"`, "sh", TABLES_SQL];

/** A table and how many rows it holds (COUNT_CAP + 1 meaning more than COUNT_CAP). */
export interface Table {
    readonly name: string;
    readonly rows: number;
}

/** Reads TABLES_COMMAND's output. */
export function parseTables(output: string): Table[] {
    return output.split("\n").filter((line) => line.trim() !== "").map((line) => {
        const match = /^(\d+) (.+)$/.exec(line.trim());
        if (!match) throw new ClusterError(`psql printed a line that is no table: ${line.trim()}`);
        return { name: match[2], rows: Number(match[1]) };
    });
}

/** "public.notes (3 rows), public.tags (1 row)": at most five tables named, then how many more. */
export function describeTables(tables: readonly Table[]): string {
    const rows = (n: number) => (n > COUNT_CAP ? `${COUNT_CAP}+ rows` : n === 1 ? "1 row" : `${n} rows`);
    const named = tables.slice(0, 5).map((t) => `${t.name} (${rows(t.rows)})`);
    const more = tables.length - named.length;
    return [...named, ...(more > 0 ? [`${more} more`] : [])].join(", ");
}

/** The first line of a client's stderr that says what went wrong (its error line), or its last line. */
export function causeOf(stderr: string): string {
    const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
    return lines.find((l) => /\b(error|FATAL|ERROR):/.test(l)) ?? lines[lines.length - 1] ?? "it printed nothing";
}

/**
 * The stack's database container, once its pod is Ready. Throws ClusterError when there is none or it
 * is not Ready, with what to do; `again` is the command to run once it is.
 */
export async function databaseContainer(cluster: DatabaseCluster, target: AppTarget, again: string): Promise<ContainerRef> {
    const pods = (await cluster.listPods(target.namespace, podSelector(target, "db"))).filter((p) => !p.deleting).sort((a, b) => a.name.localeCompare(b.name));
    const ready = pods.find((p) => p.ready);
    if (ready) return { namespace: target.namespace, pod: ready.name, container: DB_CONTAINER };
    if (pods.length === 0) {
        throw new ClusterError(`stack ${target.stack} has no database pod in namespace ${target.namespace} of context ${target.context}`, `Deploy it with npm run up -- --stack ${target.stack}.`);
    }
    const pod = pods[0];
    throw new ClusterError(`the database pod ${target.namespace}/${pod.name} is not Ready (${pod.why})`, `Wait until it is (npm run up -- --stack ${target.stack} waits for it), then run ${again} again.`);
}

/** The database's tables and their rows, read by psql in its container. */
export async function tablesOf(cluster: DatabaseCluster, where: ContainerRef): Promise<Table[]> {
    let output = "";
    const collect = new Writable({
        write(chunk: Buffer, _encoding, done) {
            output += chunk.toString("utf8");
            done();
        },
    });
    const result = await cluster.exec(where, TABLES_COMMAND, { stdout: collect });
    if (result.exitCode !== 0) {
        throw new ClusterError(`psql could not list the tables in pod ${where.namespace}/${where.pod} (exit code ${result.exitCode}): ${causeOf(result.stderr)}`);
    }
    return parseTables(output);
}
