import * as pulumi from "@pulumi/pulumi";
import { DynamicResource, dynamicType } from "./dynamicResource";

// An image in a registry, built or mirrored through the Docker CLI by a Pulumi dynamic provider.
//
// Pulumi serializes the provider object into the state and runs it in another process, also for a
// `destroy` without the program. So the provider, and every function it calls, uses only Node's
// built-ins (required inside the function) and the plain functions of this file: never an import,
// which would drag a module (or a captured credential) into the state.

/** The type token Pulumi gives the Image resource. */
export const IMAGE_TYPE = dynamicType("Image");

/** Build from a Dockerfile: `docker build` with these, then push. */
export interface ImageBuild {
    /** Build context, relative to the project. */
    readonly context: string;
    /** The Dockerfile, as `docker build -f` takes it (relative to the project). */
    readonly dockerfile: string;
    /** Multi-stage target; the last stage when absent. */
    readonly target?: string;
    /** Build args. @default {} */
    readonly args?: Readonly<Record<string, string>>;
    /** `docker build --network` for the RUN steps, e.g. "host"; Docker's default when absent. */
    readonly network?: string;
    /** `contextDigest` of the context and the Dockerfile: an edited file means a new build. */
    readonly contextDigest: string;
    /**
     * The project's folder on this machine, which `context` and `dockerfile` are relative to (the
     * provider's working directory when absent). Where a checkout lives is not part of the image: a
     * diff never compares it, so teammates sharing a stack do not rebuild each other's images.
     */
    readonly root?: string;
}

/** Copy an upstream image: pull, tag, push. */
export interface ImageMirror {
    /** The upstream reference, e.g. "postgres:17". */
    readonly source: string;
}

/** A registry login for the push. */
export interface RegistryCredentials {
    /** The registry host, e.g. "ghcr.io" or "localhost:5001". */
    readonly host: string;
    readonly username: string;
    readonly password: string;
}

/** What the provider is given: exactly one of build and mirror. */
export interface ImageInputs {
    /** "<registry>/<repository>", without tag or digest. */
    readonly repository: string;
    /** The tag pushed, e.g. the stack's name. */
    readonly tag: string;
    /** e.g. "linux/amd64". */
    readonly platform: string;
    readonly build?: ImageBuild;
    readonly mirror?: ImageMirror;
    /** Credentials for the push; Docker's own login when absent. */
    readonly login?: RegistryCredentials;
}

/** What the state keeps: the inputs without the login, and what the push produced. */
export interface ImageOutputs extends Omit<ImageInputs, "login"> {
    /** "sha256:…" of the pushed tag. */
    readonly digest: string;
    /** "<repository>@sha256:…" */
    readonly ref: string;
}

/** One run of the Docker CLI. */
export interface DockerResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** The Docker CLI boundary: `docker <args>` with extra environment variables; never throws. */
export type DockerRun = (args: readonly string[], env?: Readonly<Record<string, string>>) => Promise<DockerResult>;

/** Runs `docker` from PATH in the user's environment (DOCKER_HOST and all), keeping the tail of its output. */
export function runDocker(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<DockerResult> {
    const { spawn } = require("node:child_process");
    // A build's progress can run to megabytes; what explains a failure is at the end.
    const keep = 64 * 1024;
    return new Promise((resolve) => {
        let stdout = "";
        let stderr = "";
        const child = spawn("docker", args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        child.stdout.on("data", (chunk: Buffer) => { stdout = (stdout + chunk.toString()).slice(-keep); });
        child.stderr.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-keep); });
        child.on("error", (error: NodeJS.ErrnoException) => {
            resolve({ code: 127, stdout, stderr: error.code === "ENOENT" ? "docker: command not found" : error.message });
        });
        child.on("close", (code: number | null) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

/** "ghcr.io/acme" → "ghcr.io": the host a login is for. */
export function registryHost(registry: string): string {
    return registry.split("/")[0];
}

/** "repo@sha256:…" from a repository and a digest ("sha256:…"). */
export function digestRef(repository: string, digest: string): string {
    return `${repository}@${digest}`;
}

/** The argv of `docker build` for an image (build args in key order, so the command is stable). */
export function buildCommand(inputs: ImageInputs & { build: ImageBuild }): string[] {
    const { build } = inputs;
    const args = build.args ?? {};
    const { resolve } = require("node:path");
    const inProject = (relative: string): string => (build.root === undefined ? relative : resolve(build.root, relative));
    return [
        "build",
        "--platform", inputs.platform,
        "-f", inProject(build.dockerfile),
        ...(build.target !== undefined ? ["--target", build.target] : []),
        ...Object.keys(args).sort().flatMap((key) => ["--build-arg", `${key}=${args[key]}`]),
        ...(build.network !== undefined ? ["--network", build.network] : []),
        "-t", `${inputs.repository}:${inputs.tag}`,
        inProject(build.context),
    ];
}

/** The digest `docker push` reports for `tag` ("<tag>: digest: sha256:… size: …"), if it does. */
export function pushedDigest(stdout: string, tag: string): string | undefined {
    for (const line of stdout.split(/\r?\n/)) {
        const prefix = `${tag}: digest: `;
        const digest = line.trim().startsWith(prefix) ? line.trim().slice(prefix.length).split(/\s/)[0] : "";
        if (/^sha256:[0-9a-f]{64}$/.test(digest)) return digest;
    }
    return undefined;
}

/** The lines of Docker's complaint worth reading: the last few, without BuildKit's frames and listings. */
export function meaningfulLines(stderr: string, most = 3): string[] {
    const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) =>
        line !== "" && !/^[-=]+$/.test(line) && !/^(>>>)?\s*\d+ \|/.test(line) && !/^Dockerfile:\d+$/.test(line));
    return lines.slice(-most).map((line) => (line.length > 300 ? `${line.slice(0, 297)}...` : line));
}

/** What to do about a failed docker command, when its complaint says. */
export function dockerFix(step: "build" | "pull" | "tag" | "push", stderr: string, registry: string): string | undefined {
    if (/command not found/.test(stderr)) return "install the Docker CLI (https://docs.docker.com/get-docker/) and put `docker` on PATH";
    if (/permission denied while trying to connect to the Docker daemon/i.test(stderr)) {
        return "your user may not use the Docker daemon: sudo usermod -aG docker $USER, then log in again";
    }
    if (/Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i.test(stderr)) {
        return "start Docker (Docker Desktop, or on Linux: sudo systemctl start docker), then check with: docker info";
    }
    if (step === "build" && /EAI_AGAIN|ENOTFOUND|Temporary failure in name resolution|Could not resolve host|Network is unreachable/i.test(stderr)) {
        return "a RUN step could not reach the network; behind a proxy or firewall, build on the host's: launchpad:imageBuildNetwork: host in the stack's Pulumi.<stack>.yaml";
    }
    if (step === "pull" && /dial tcp|no such host|network is unreachable|i\/o timeout|TLS handshake timeout/i.test(stderr)) {
        return "Docker could not reach the image's registry; behind a mirror or offline, name the mirror's copy (launchpad:dbImage for the database) or give Docker a registry mirror (registry-mirrors in its daemon.json)";
    }
    if (step === "push" && /unauthorized|denied|authentication required/i.test(stderr)) {
        return `log in to ${registry}: launchpad:registryUsername: <user> in the stack's Pulumi.<stack>.yaml, and the password with pulumi config set --secret registryPassword <token>`;
    }
    if (step === "push" && /connection refused|no such host/i.test(stderr)) {
        return `nothing answers at ${registry}: check launchpad:registry (on kind, npm run up starts the registry at localhost:5001)`;
    }
    if (step !== "push" && /unauthorized|denied|authentication required/i.test(stderr)) {
        return "check the image's name and tag, or log in to its registry with docker login";
    }
    return undefined;
}

/** One docker command of an image's making. */
interface DockerStep {
    readonly step: "build" | "pull" | "tag" | "push";
    /** The image it works on, as the error names it. */
    readonly image: string;
    readonly args: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    /** A value that must never reach an error message. */
    readonly secret?: string;
}

/** Runs one docker command; a failure becomes an Error saying what failed, Docker's words, and the fix. */
async function docker(run: DockerRun, { step, image, args, env, secret }: DockerStep): Promise<DockerResult> {
    const result = await run(args, env);
    if (result.code === 0) return result;
    const complaint = result.stderr || result.stdout;
    const fix = dockerFix(step, complaint, registryHost(image));
    const lines = [`docker ${step} of ${image} failed (exit ${result.code})`, ...meaningfulLines(complaint).map((line) => `  ${line}`), ...(fix ? [`  fix: ${fix}`] : [])];
    const message = lines.join("\n");
    throw new Error(secret ? message.split(secret).join("[secret]") : message);
}

/** How long a build waits for another build of its tag on this machine before it runs beside it. */
export const BUILD_LOCK_WAIT_MS = 10 * 60_000;

/** The lock file of an image tag's builds on this machine. */
export function buildLockFile(image: string): string {
    const { createHash } = require("node:crypto");
    const { join } = require("node:path");
    const { tmpdir } = require("node:os");
    return join(tmpdir(), `launchpad-build-${createHash("sha256").update(image).digest("hex").slice(0, 16)}.lock`);
}

/**
 * Runs `body` holding this machine's build lock of an image tag: a build of the same tag under way (the
 * dev loop's prebuild, another process's update) is waited for, so this one starts from the steps it
 * left in Docker's cache instead of repeating them beside it. A lock whose process is gone is taken
 * over; one held past `waitMs` is not waited for any longer. (The provider may import nothing, so the
 * liveness check restates lib/process.ts's processAlive.)
 */
export async function withBuildLock<T>(image: string, body: () => Promise<T>, waitMs: number = BUILD_LOCK_WAIT_MS, pollMs = 50): Promise<T> {
    const fs = require("node:fs");
    const file = buildLockFile(image);
    const alive = (pid: number): boolean => {
        try {
            process.kill(pid, 0);
            return true;
        } catch (e) {
            return (e as NodeJS.ErrnoException).code === "EPERM";
        }
    };
    const mine = `${process.pid}\n`;
    const until = Date.now() + waitMs;
    let held = false;
    while (!held) {
        try {
            fs.writeFileSync(file, mine, { flag: "wx", mode: 0o600 });
            held = true;
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") break;
            let holder = NaN;
            try {
                holder = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
            } catch {
                continue;
            }
            if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
                fs.rmSync(file, { force: true });
                continue;
            }
            if (Date.now() > until) break;
            await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
    }
    try {
        return await body();
    } finally {
        if (held) {
            try {
                if (fs.readFileSync(file, "utf8") === mine) fs.rmSync(file, { force: true });
            } catch {
                // Gone already: taken over as stale, or removed by hand.
            }
        }
    }
}

/** The key Docker looks a registry's credentials up by: Docker Hub's is its old index URL. */
export function authKey(host: string): string {
    return ["docker.io", "index.docker.io", "registry-1.docker.io"].includes(host) ? "https://index.docker.io/v1/" : host;
}

/**
 * Runs `body` with a fresh Docker config directory (mode 0700) that holds only this login, and removes
 * it afterwards whatever happens. The password goes into the file, never onto a command line.
 */
async function withLoginConfig<T>(login: RegistryCredentials, body: (dir: string) => Promise<T>): Promise<T> {
    const fs = require("node:fs");
    const os = require("node:os");
    const path = require("node:path");
    const dir: string = fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-docker-"));
    try {
        fs.chmodSync(dir, 0o700);
        const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
        fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ auths: { [authKey(login.host)]: { auth } } }), { mode: 0o600 });
        return await body(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * Pushes `repository:tag` and returns the digest Docker reports. With a login, the push (and only the
 * push) runs with DOCKER_CONFIG at a throw-away directory; the daemon it talks to stays the one the
 * user's Docker context names, which that directory would otherwise not know.
 */
async function push(run: DockerRun, repository: string, tag: string, login?: RegistryCredentials): Promise<string> {
    const image = `${repository}:${tag}`;
    let result: DockerResult;
    if (login === undefined) {
        result = await docker(run, { step: "push", image, args: ["push", image] });
    } else {
        const endpoint = await run(["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"]);
        const daemon: Record<string, string> = endpoint.code === 0 && endpoint.stdout.trim() !== "" ? { DOCKER_HOST: endpoint.stdout.trim() } : {};
        result = await withLoginConfig(login, (dir) => docker(run, { step: "push", image, args: ["push", image], env: { ...daemon, DOCKER_CONFIG: dir }, secret: login.password }));
    }
    const digest = pushedDigest(result.stdout, tag);
    if (digest === undefined) {
        throw new Error(`docker push of ${image} printed no "${tag}: digest: sha256:…" line, so the pushed image cannot be pinned; docker said:\n  ${meaningfulLines(result.stdout).join("\n  ")}`);
    }
    return digest;
}

/** Builds or mirrors the image, pushes it, and returns what the state keeps. */
async function produce(run: DockerRun, inputs: ImageInputs): Promise<ImageOutputs> {
    const target = `${inputs.repository}:${inputs.tag}`;
    if (inputs.build !== undefined) {
        const build = inputs.build;
        await withBuildLock(target, () => docker(run, { step: "build", image: target, args: buildCommand({ ...inputs, build }) }));
    } else if (inputs.mirror !== undefined) {
        const { source } = inputs.mirror;
        await docker(run, { step: "pull", image: source, args: ["pull", "--platform", inputs.platform, source] });
        await docker(run, { step: "tag", image: target, args: ["tag", source, target] });
    } else {
        throw new Error(`image ${target} has neither build nor mirror`);
    }
    const digest = await push(run, inputs.repository, inputs.tag, inputs.login);
    const { login: _credentials, ...kept } = inputs;
    return { ...kept, digest, ref: digestRef(inputs.repository, digest) };
}

/** Everything that makes another image, one string each: what a diff compares. */
function imageFacts(image: Omit<ImageInputs, "login">): Record<string, string> {
    const args = image.build?.args ?? {};
    return {
        repository: image.repository,
        tag: image.tag,
        platform: image.platform,
        context: image.build?.context ?? "",
        dockerfile: image.build?.dockerfile ?? "",
        target: image.build?.target ?? "",
        args: JSON.stringify(Object.keys(args).sort().map((key) => [key, args[key]])),
        network: image.build?.network ?? "",
        contextDigest: image.build?.contextDigest ?? "",
        source: image.mirror?.source ?? "",
    };
}

/** The facts that differ between the image in the state and the one asked for (never the login). */
export function imageChanges(olds: Omit<ImageInputs, "login">, news: Omit<ImageInputs, "login">): string[] {
    const [before, after] = [imageFacts(olds), imageFacts(news)];
    return Object.keys(after).filter((fact) => before[fact] !== after[fact]);
}

/**
 * The provider: create and update build (or mirror) and push; a change is an update, never a replace,
 * since the repository keeps every pushed image anyway. Delete leaves the image in the registry, as
 * pulumi-docker's Image does. `run` is the Docker CLI; tests pass a fake.
 */
export function imageProvider(run: DockerRun = runDocker): pulumi.dynamic.ResourceProvider<ImageInputs, ImageOutputs> {
    return {
        async create(inputs) {
            const outs = await produce(run, inputs);
            return { id: `${inputs.repository}:${inputs.tag}`, outs };
        },
        async diff(_id, olds, news) {
            return { changes: imageChanges(olds, news).length > 0, replaces: [] };
        },
        async update(_id, _olds, news) {
            return { outs: await produce(run, news) };
        },
        async delete() {
            // The registry keeps the image: workloads of other stacks or rollbacks may still run it.
        },
    };
}

/** One provider object for every image, so Pulumi serializes it once per run. */
const provider = imageProvider();

/** What the program gives an Image: the inputs, with the password still a Pulumi secret. */
export type ImageArgs = Omit<ImageInputs, "login"> & {
    readonly login?: { readonly host: string; readonly username: string; readonly password: pulumi.Input<string> };
};

/** An image pushed to a registry, built or mirrored by the Docker CLI; `ref` pins what was pushed. */
export class Image extends DynamicResource {
    declare public readonly ref: pulumi.Output<string>;
    declare public readonly digest: pulumi.Output<string>;

    constructor(name: string, args: ImageArgs, opts?: pulumi.CustomResourceOptions) {
        super("Image", provider, name, { ...args, digest: undefined, ref: undefined }, opts);
    }
}
