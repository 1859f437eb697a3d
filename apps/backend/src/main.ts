/** Entry point: reads the environment, connects to PostgreSQL, serves HTTP, shuts down on SIGTERM. */
import { ConfigError, loadConfig } from "./config";
import { connectPostgres } from "./postgres";
import { closeServer, createServer } from "./server";

/** How long in-flight requests may take to finish after SIGTERM (under the pod's 30 s grace period). */
const DRAIN_MS = 10_000;
const MAX_RETRY_DELAY_MS = 10_000;

function log(message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), message, ...fields }));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`launchpad-backend: ${error.message}`);
    process.exit(1);
  }

  const db = connectPostgres(config.db, (error) => log("idle database client failed", { error: error.message }));
  let schemaReady = false;
  let schemaError = "not attempted yet";
  let stopping = false;

  const server = createServer({
    store: db.notes,
    checkReady: async () => {
      if (stopping) throw new Error("shutting down");
      if (!schemaReady) throw new Error(`notes table not created yet: ${schemaError}`);
      await db.ping();
    },
    logError: (message, error) => log(message, { error: describe(error) }),
  });
  server.listen(config.port, () => log("listening", { port: config.port }));

  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  async function shutdown(signal: string): Promise<void> {
    stopping = true;
    log("shutting down", { signal });
    try {
      await closeServer(server, DRAIN_MS);
      await db.close();
      log("stopped");
      process.exit(0);
    } catch (error) {
      log("unclean shutdown", { error: describe(error) });
      process.exit(1);
    }
  }

  // The database may start after the backend (e.g. on a fresh `pulumi up`): keep serving
  // /healthz, stay unready, and retry with backoff until the table exists.
  for (let attempt = 1; !stopping; attempt++) {
    try {
      await db.migrate();
      schemaReady = true;
      log("database schema ready", { host: config.db.host, database: config.db.database });
      return;
    } catch (error) {
      schemaError = describe(error);
      const delay = Math.min(attempt * 1_000, MAX_RETRY_DELAY_MS);
      log("database not reachable yet, retrying", { attempt, delayMs: delay, error: schemaError });
      await sleep(delay);
    }
  }
}

main().catch((error: unknown) => {
  console.error("launchpad-backend: fatal:", error);
  process.exit(1);
});
