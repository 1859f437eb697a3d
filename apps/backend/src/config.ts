/**
 * Runtime settings, parsed from environment variables by a pure function so that a
 * misconfigured pod fails at startup with a message naming what is missing.
 */

/** Where the PostgreSQL database is and how to log in. */
export interface DbConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

export interface Config {
  /** TCP port the HTTP server listens on. */
  readonly port: number;
  readonly db: DbConfig;
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_DB_PORT = 5432;

/** Variables without a default: the app cannot reach its database without them. */
export const REQUIRED_VARIABLES = ["DB_HOST", "DB_NAME", "DB_USER", "DB_PASSWORD"] as const;

/** A setting is missing or malformed; the message names the variable and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the settings from `env` (e.g. `process.env`), reporting every missing variable at once. */
export function loadConfig(env: Env): Config {
  const missing = REQUIRED_VARIABLES.filter((name) => (env[name] ?? "") === "");
  if (missing.length > 0) {
    throw new ConfigError(
      `missing required environment variable${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`,
    );
  }
  return {
    port: parsePort(env, "PORT", DEFAULT_PORT),
    db: {
      host: env.DB_HOST as string,
      port: parsePort(env, "DB_PORT", DEFAULT_DB_PORT),
      database: env.DB_NAME as string,
      user: env.DB_USER as string,
      password: env.DB_PASSWORD as string,
    },
  };
}

function parsePort(env: Env, name: string, fallback: number): number {
  const raw = env[name] ?? "";
  if (raw === "") return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new ConfigError(`${name} must be a port number between 1 and 65535, got "${raw}"`);
  }
  return port;
}
