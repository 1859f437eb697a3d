import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config";

const complete = { DB_HOST: "db", DB_NAME: "notes", DB_USER: "app", DB_PASSWORD: "s3cret" };

describe("backend config", () => {
  it("reads the database settings and defaults PORT to 3000 and DB_PORT to 5432", () => {
    assert.deepEqual(loadConfig(complete), {
      port: 3000,
      db: { host: "db", port: 5432, database: "notes", user: "app", password: "s3cret" },
    });
  });

  it("uses PORT and DB_PORT when they are set", () => {
    const config = loadConfig({ ...complete, PORT: "8081", DB_PORT: "6543" });
    assert.equal(config.port, 8081);
    assert.equal(config.db.port, 6543);
  });

  it("names the missing variable", () => {
    assert.throws(
      () => loadConfig({ ...complete, DB_PASSWORD: undefined }),
      (error: unknown) =>
        error instanceof ConfigError && error.message === "missing required environment variable: DB_PASSWORD",
    );
  });

  it("names every missing variable at once, treating empty values as missing", () => {
    assert.throws(() => loadConfig({ DB_NAME: "notes", DB_HOST: "" }), {
      name: "ConfigError",
      message: "missing required environment variables: DB_HOST, DB_USER, DB_PASSWORD",
    });
  });

  it("rejects a port that is not a number between 1 and 65535, naming the variable", () => {
    for (const bad of ["abc", "0", "70000", "80.5", "-1"]) {
      assert.throws(() => loadConfig({ ...complete, DB_PORT: bad }), {
        message: `DB_PORT must be a port number between 1 and 65535, got "${bad}"`,
      });
    }
  });
});
