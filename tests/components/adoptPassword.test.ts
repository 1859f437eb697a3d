import assert from "node:assert/strict";
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { adoptPasswordScript } from "../../components/database";

// The database's postStart hook against a real PostgreSQL server, set up as the official image sets
// it up: the user created by initdb with the first password, local (socket) connections trusted,
// TCP connections by password (scram-sha-256). Needs PostgreSQL 15+ server binaries (Debian's
// postgresql package); as root, the server runs as the postgres user, as PostgreSQL insists.

function postgresBin(): string {
    const onPath = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
    if (onPath) return path.dirname(fs.realpathSync(onPath));
    const versions = fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a)) : [];
    const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((dir) => fs.existsSync(path.join(dir, "initdb")));
    if (!found) throw new Error("these tests need PostgreSQL's server binaries (initdb, pg_ctl): apt-get install postgresql");
    return found;
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        }).on("error", reject);
    });
}

/** How to run a PostgreSQL server command: as the postgres user when we are root (the server refuses root). */
function serverCommand(bin: string, command: string, args: string[]): [string, string[]] {
    return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", path.join(bin, command), ...args]] : [path.join(bin, command), args];
}

/** A PostgreSQL server command; rejects with its stderr when it fails. */
function pg(bin: string, command: string, args: string[]): Promise<void> {
    const [file, argv] = serverCommand(bin, command, args);
    return new Promise((resolve, reject) => {
        execFile(file, argv, (error, _stdout, stderr) => (error ? reject(new Error(`${command} failed: ${stderr || error.message}`)) : resolve()));
    });
}

interface Server { readonly bin: string; readonly dir: string; readonly port: number }

/** initdb and start a server in a new folder. */
async function startServer(): Promise<Server> {
    const bin = postgresBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-pg-"));
    fs.chmodSync(dir, 0o777);
    process.on("exit", () => {
        // However the run ends (even with these tests filtered out), no server is left behind.
        if (fs.existsSync(path.join(dir, "data", "postmaster.pid"))) {
            spawnSync(...serverCommand(bin, "pg_ctl", ["-D", path.join(dir, "data"), "-m", "immediate", "stop"]));
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });
    const port = await freePort();
    fs.writeFileSync(path.join(dir, "first-password"), "first password\n", { mode: 0o644 });
    await pg(bin, "initdb", ["-D", path.join(dir, "data"), "-U", "app", `--pwfile=${path.join(dir, "first-password")}`, "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]);
    await pg(bin, "pg_ctl", ["-D", path.join(dir, "data"), "-l", path.join(dir, "server.log"), "-w", "-o", `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
    return { bin, dir, port };
}

// Started as mocha loads this file, so that the server comes up on the other core while earlier test
// files run; the tests wait for it.
const starting: Promise<Server | Error> = startServer().catch((error: Error) => error);

describe("the database adopts the password in its Secret when it starts (a real PostgreSQL)", function () {
    this.timeout(30_000);
    let bin: string;
    let dir: string;
    let port: number;

    /** Whether `password` logs in over TCP, as the backend does. */
    const logsIn = (password: string) =>
        spawnSync(path.join(bin, "psql"), ["-X", "-h", "127.0.0.1", "-p", String(port), "-U", "app", "-d", "postgres", "-tAc", "select 1"], {
            env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" }, encoding: "utf8",
        }).status === 0;

    /** Runs the hook as the container would, with the Secret's values in its environment. */
    const hook = (env: Record<string, string>, options: Parameters<typeof adoptPasswordScript>[0] = {}) => {
        const log = path.join(dir, "hook.log");
        fs.rmSync(log, { force: true });
        const script = adoptPasswordScript({ socketDir: dir, port, logTo: log, ...options });
        const run = spawnSync("/bin/sh", ["-c", script], { env: { PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: "utf8" });
        return { code: run.status, log: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "" };
    };

    before(async () => {
        const server = await starting;
        if (server instanceof Error) throw server;
        ({ bin, dir, port } = server);
    });

    it("sets the user's password to the Secret's, so the new one logs in and the old one no longer does", () => {
        assert.ok(logsIn("first password"), "the server starts with the password of its first install");
        assert.deepEqual(hook({ POSTGRES_USER: "app", POSTGRES_PASSWORD: "from the new Secret" }), { code: 0, log: "" });
        assert.ok(logsIn("from the new Secret"));
        assert.ok(!logsIn("first password"));
    });
    it("takes any characters in the password as data, never as SQL or shell", () => {
        const hostile = `it's "quoted" \\ $HOME $(touch ${dir}/pwned) ; DROP ROLE app; --`;
        assert.equal(hook({ POSTGRES_USER: "app", POSTGRES_PASSWORD: hostile }).code, 0);
        assert.ok(logsIn(hostile));
        assert.ok(!fs.existsSync(path.join(dir, "pwned")));
    });
    it("never puts the password on a command line: psql reads it from the environment", () => {
        assert.doesNotMatch(adoptPasswordScript(), /\$\{?POSTGRES_PASSWORD/);
        assert.match(adoptPasswordScript(), /\\getenv password POSTGRES_PASSWORD/);
    });
    it("exits 0 and says why in the container's log when it cannot apply the password", () => {
        const run = hook({ POSTGRES_USER: "nobody", POSTGRES_PASSWORD: "x" });
        assert.equal(run.code, 0, "a failing postStart hook would kill the container");
        assert.match(run.log, /^launchpad: could not apply the password in the Secret: .*"nobody"/);
    });
    it("gives up waiting for a server that does not answer, exiting 0", () => {
        const run = hook({ POSTGRES_USER: "app", POSTGRES_PASSWORD: "x" }, { port: port + 1, waitSeconds: 0 });
        assert.equal(run.code, 0);
        assert.equal(run.log, "launchpad: the server did not answer within 0 s; the password in the Secret was not applied\n");
    });
});
