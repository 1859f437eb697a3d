import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HOST, type Layout, PORTS, VERSIONS } from "./layout";
import { livePid, pidFileOf, startDaemon, stopPid, TestbedError } from "./processes";
import { bins, dockerDaemon, hubMirrorDaemon, partDir, runFiles } from "./servers";

const HERE = __dirname;
const REPO = path.resolve(HERE, "..", "..");

/** One thing `build` makes, and how to tell it is made. */
interface Part {
    readonly name: string;
    /** The folder under parts/ (name-version[-hash]) it is cached in. */
    readonly dir: string;
    /** A file whose presence means the part is complete. */
    readonly done: string;
    readonly make: (log: (line: string) => void) => void | Promise<void>;
}

/** A hash of files' contents, so a part built from our own sources is rebuilt when they change. */
export function hashFiles(files: readonly string[]): string {
    const h = createHash("sha256");
    for (const f of [...files].sort()) h.update(path.relative(REPO, f)).update("\0").update(fs.readFileSync(f)).update("\0");
    return h.digest("hex").slice(0, 12);
}

function filesUnder(dir: string, keep: (f: string) => boolean = () => true): string[] {
    return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name))
        .filter(keep);
}

/** The version of @pulumi/kubernetes the lock file installs: the plugin must be exactly that. */
export function lockedVersion(pkg: string, lockFile = path.join(REPO, "package-lock.json")): string | undefined {
    const lock = JSON.parse(fs.readFileSync(lockFile, "utf8")) as { packages?: Record<string, { version?: string }> };
    return lock.packages?.[`node_modules/${pkg}`]?.version;
}

function langhostSources(): string[] {
    return filesUnder(path.join(HERE, "langhost"), (f) => /\.(go|mod|sum)$/.test(f) && !f.endsWith("_test.go"));
}

function imageRecipe(): string[] {
    return filesUnder(path.join(HERE, "images"));
}

function run(cmd: string, args: readonly string[], what: string, env: NodeJS.ProcessEnv = process.env, cwd = REPO): string {
    const r = spawnSync(cmd, [...args], { env, cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.error || r.status !== 0) {
        const said = `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").filter((l) => !l.startsWith("go: downloading")).slice(-12).join("\n    ");
        throw new TestbedError(`${what} failed${r.error ? ` (${r.error.message})` : ` (exit ${r.status})`}:\n    ${said}`);
    }
    return r.stdout;
}

function goPart(l: Layout, part: string, version: string, binary: string, extra?: string): Part {
    const dir = partDir(l, part, version);
    return {
        name: `${part} ${version}`,
        dir,
        done: path.join(dir, binary),
        make: () => {
            run("bash", [path.join(HERE, "build.sh"), part, version, dir, ...(extra ? [extra] : [])], `building ${part} ${version} from its Go modules`);
        },
    };
}

/** Every part, in build order. */
export function parts(l: Layout): Part[] {
    const b = bins(l);
    const langhostDir = partDir(l, "langhost", `${VERSIONS.pulumi}-${hashFiles(langhostSources())}`);
    const pluginDir = path.join(l.pulumiHome, "plugins", `resource-kubernetes-v${VERSIONS.pulumiKubernetes.version}`);
    const imagesStamp = path.join(l.data, `images-${hashFiles(imageRecipe())}.done`);
    return [
        goPart(l, "kubernetes", VERSIONS.kubernetes, "kubectl"),
        goPart(l, "etcd", VERSIONS.etcd, "etcd"),
        goPart(l, "kwok", VERSIONS.kwok, "kwok"),
        goPart(l, "pulumi", VERSIONS.pulumi, "pulumi"),
        goPart(l, "pulumi-kubernetes", VERSIONS.pulumiKubernetes.version, "pulumi-resource-kubernetes", VERSIONS.pulumiKubernetes.module),
        {
            name: "language host",
            dir: langhostDir,
            done: path.join(langhostDir, "pulumi-language-nodejs"),
            make: () => {
                fs.rmSync(`${langhostDir}.tmp`, { recursive: true, force: true });
                run("go", ["build", "-trimpath", "-ldflags", `-s -w -X main.version=${VERSIONS.pulumi}-launchpad-testbed`, "-o", path.join(`${langhostDir}.tmp`, "pulumi-language-nodejs"), "."],
                    "building the testbed's Node.js language host", { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" }, path.join(HERE, "langhost"));
                fs.renameSync(`${langhostDir}.tmp`, langhostDir);
            },
        },
        {
            name: "bin folder",
            dir: b.pulumiDir,
            done: path.join(b.pulumiDir, `.assembled-${path.basename(langhostDir)}`),
            make: () => assemblePulumiBin(l, langhostDir),
        },
        {
            name: `plugin kubernetes ${VERSIONS.pulumiKubernetes.version}`,
            dir: pluginDir,
            done: path.join(`${pluginDir}.lock`),
            make: () => {
                const binary = path.join(partDir(l, "pulumi-kubernetes", VERSIONS.pulumiKubernetes.version), "pulumi-resource-kubernetes");
                run(path.join(b.pulumiDir, "pulumi"), ["plugin", "install", "resource", "kubernetes", VERSIONS.pulumiKubernetes.version, "--file", binary],
                    "installing the kubernetes plugin", { ...process.env, PULUMI_HOME: l.pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true" });
                fs.writeFileSync(`${pluginDir}.lock`, "");
            },
        },
        {
            name: "base images",
            dir: path.join(l.data, "docker"),
            done: imagesStamp,
            make: (log) => buildImages(l, imagesStamp, log),
        },
    ];
}

/**
 * The folder the env file puts first on PATH: the Pulumi CLI, the testbed's language host beside it
 * (Pulumi looks there first), the dynamic-provider shim that Pulumi's release archives carry (taken
 * from the Node SDK in the same sdk/v3 module), and kubectl.
 */
function assemblePulumiBin(l: Layout, langhostDir: string): void {
    const dir = bins(l).pulumiDir;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(partDir(l, "pulumi", VERSIONS.pulumi), "pulumi"), path.join(dir, "pulumi"));
    fs.copyFileSync(path.join(langhostDir, "pulumi-language-nodejs"), path.join(dir, "pulumi-language-nodejs"));
    fs.copyFileSync(path.join(partDir(l, "kubernetes", VERSIONS.kubernetes), "kubectl"), path.join(dir, "kubectl"));
    const sdk = JSON.parse(run("go", ["mod", "download", "-json", `github.com/pulumi/pulumi/sdk/v3@v${VERSIONS.pulumi}`], "downloading Pulumi's sdk/v3 module")) as { Dir: string };
    const shim = path.join(dir, "pulumi-resource-pulumi-nodejs");
    fs.copyFileSync(path.join(sdk.Dir, "nodejs", "dist", "pulumi-resource-pulumi-nodejs"), shim);
    for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o755);
    fs.writeFileSync(path.join(dir, `.assembled-${path.basename(langhostDir)}`), "");
}

/** The base images, built into the testbed's Docker Engine and served by the hub mirror under their Docker Hub names. */
export const BASE_IMAGES = ["node:22-alpine", "nginxinc/nginx-unprivileged:1.27-alpine", "postgres:15"] as const;

/** `node:22-alpine` → `library/node:22-alpine`: the repository Docker asks a Hub mirror for. */
export function hubPath(image: string): string {
    const [repo, tag] = image.split(":");
    return `${repo.includes("/") ? repo : `library/${repo}`}:${tag}`;
}

/**
 * Builds the base images (tools/testbed/images) in the testbed's Docker Engine and pushes them to the
 * hub mirror under their Docker Hub names, starting the two servers for the build when the testbed is
 * not running (and stopping them again).
 */
async function buildImages(l: Layout, stamp: string, log: (line: string) => void): Promise<void> {
    const f = runFiles(l);
    fs.mkdirSync(l.run, { recursive: true });
    for (const d of ["docker", "hub-mirror"]) fs.mkdirSync(path.join(l.data, d), { recursive: true, mode: 0o700 });
    const servers = [hubMirrorDaemon(l), dockerDaemon(l)];
    const ours: number[] = [];
    try {
        for (const d of servers) {
            if (livePid(d.pidFile ?? pidFileOf(l.run, d.name)) === undefined) ours.push(await startDaemon(l.run, d));
        }
        const env = { ...process.env, DOCKER_HOST: `unix://${f.dockerSocket}`, DOCKER_BUILDKIT: "0" };
        run("bash", [path.join(HERE, "images", "build.sh"), path.join(l.data, "rootfs")], "building the base images", env);
        for (const image of BASE_IMAGES) {
            const mirrored = `${HOST}:${PORTS.hubMirror}/${hubPath(image)}`;
            run("docker", ["tag", image, mirrored], `tagging ${image}`, env);
            run("docker", ["push", mirrored], `pushing ${image} to the hub mirror`, env);
        }
    } finally {
        for (const pid of ours.reverse()) await stopPid(pid, 30);
    }
    fs.writeFileSync(stamp, new Date().toISOString() + "\n");
    log(`testbed: base images ${BASE_IMAGES.join(", ")} built and served by the hub mirror`);
}

/** Parts not (completely) built for the pinned versions. */
export function missingParts(l: Layout): string[] {
    return parts(l).filter((p) => !fs.existsSync(p.done)).map((p) => p.name);
}

/** What the build needs from the machine, each with the package or step that provides it. */
const TOOLS: readonly { tool: string; provides: string }[] = [
    { tool: "go", provides: "Go 1.26 or newer (https://go.dev/dl/; Debian: golang-go from backports)" },
    { tool: "curl", provides: "apt-get install curl" },
    { tool: "openssl", provides: "apt-get install openssl" },
    { tool: "dockerd", provides: "apt-get install docker.io" },
    { tool: "docker", provides: "apt-get install docker.io (or Docker's own docker-ce-cli)" },
    { tool: "docker-registry", provides: "apt-get install docker-registry" },
    { tool: "htpasswd", provides: "apt-get install apache2-utils" },
    { tool: "debootstrap", provides: "apt-get install debootstrap" },
];

export function missingTools(has: (tool: string) => boolean): string[] {
    return TOOLS.filter((t) => !has(t.tool)).map((t) => `${t.tool} (${t.provides})`);
}

/** Whether a command is on PATH. */
export function onPath(tool: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

/** Removes cached parts of versions no longer pinned (and leftovers of interrupted builds). */
function pruneStale(l: Layout, keep: readonly Part[], log: (line: string) => void): void {
    if (!fs.existsSync(l.parts)) return;
    const wanted = new Set(keep.map((p) => p.dir));
    for (const entry of fs.readdirSync(l.parts)) {
        const full = path.join(l.parts, entry);
        if (wanted.has(full)) continue;
        fs.rmSync(full, { recursive: true, force: true });
        log(`testbed: removed ${entry} from the cache (not a pinned version)`);
    }
}

/**
 * Builds whatever is missing, in order, each part timed; idempotent (a complete part is skipped).
 * Refuses with one line when a tool is missing or the lock file asks for a plugin version the pins do
 * not build.
 */
export async function build(l: Layout, log: (line: string) => void): Promise<{ built: string[]; seconds: number }> {
    const t0 = Date.now();
    const tools = missingTools(onPath);
    if (tools.length > 0) throw new TestbedError(`the testbed build needs: ${tools.join("; ")}. Install them, then run \`npm run testbed -- build\` again.`);
    const locked = lockedVersion("@pulumi/kubernetes");
    if (locked !== VERSIONS.pulumiKubernetes.version) {
        throw new TestbedError(
            `package-lock.json installs @pulumi/kubernetes ${locked ?? "(none)"}, but the testbed builds its plugin ${VERSIONS.pulumiKubernetes.version} ` +
                "(tools/testbed/versions.json): the engine would look for a plugin it does not have. Pin the same version in both.",
        );
    }
    fs.mkdirSync(l.parts, { recursive: true });
    const all = parts(l);
    pruneStale(l, all.filter((p) => p.dir.startsWith(l.parts + path.sep)), log);
    const built: string[] = [];
    for (const p of all) {
        if (fs.existsSync(p.done)) continue;
        const s0 = Date.now();
        log(`testbed: building ${p.name} …`);
        await p.make(log);
        built.push(p.name);
        log(`testbed: ${p.name} done in ${((Date.now() - s0) / 1000).toFixed(0)} s`);
    }
    return { built, seconds: (Date.now() - t0) / 1000 };
}
