/** The PostgreSQL side of the app: the only module that imports `pg`. */
import { Pool } from "pg";
import type { DbConfig } from "./config";
import type { Note, NotesStore } from "./notes";

/** A connection pool with the operations the app needs from its database. */
export interface Database {
  readonly notes: NotesStore;
  /** Creates the `notes` table if it does not exist yet. */
  migrate(): Promise<void>;
  /** Resolves if `SELECT 1` succeeds, rejects with the driver's error otherwise. */
  ping(): Promise<void>;
  /** Waits for checked-out clients and closes the pool. */
  close(): Promise<void>;
}

const CREATE_NOTES_TABLE = `CREATE TABLE IF NOT EXISTS notes (
  id serial PRIMARY KEY,
  text text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

interface NoteRow {
  id: number;
  text: string;
  created_at: Date;
}

const toNote = (row: NoteRow): Note => ({ id: row.id, text: row.text, createdAt: row.created_at.toISOString() });

export function connectPostgres(config: DbConfig, onIdleError: (error: Error) => void): Database {
  const pool = new Pool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    max: 10,
    // Fail quickly when the database is unreachable, so /readyz answers within a probe's timeout.
    connectionTimeoutMillis: 3_000,
    query_timeout: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (e.g. the database restarting) must not crash the process.
  pool.on("error", onIdleError);

  const notes: NotesStore = {
    async list(limit) {
      const { rows } = await pool.query<NoteRow>(
        "SELECT id, text, created_at FROM notes ORDER BY created_at DESC, id DESC LIMIT $1",
        [limit],
      );
      return rows.map(toNote);
    },
    async add(text) {
      const { rows } = await pool.query<NoteRow>(
        "INSERT INTO notes (text) VALUES ($1) RETURNING id, text, created_at",
        [text],
      );
      return toNote(rows[0]);
    },
  };

  return {
    notes,
    migrate: async () => {
      await pool.query(CREATE_NOTES_TABLE);
    },
    ping: async () => {
      await pool.query("SELECT 1");
    },
    close: () => pool.end(),
  };
}
