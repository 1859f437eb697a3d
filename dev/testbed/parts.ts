import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { bins, gofakes3Build, hashFiles, HOST, type Layout, partDir, PATCHES, PORTS, traefikBuild, VERSIONS } from "./layout";
import { livePid, pidFileOf, startDaemon, stopPid, TestbedError } from "./processes";
import { NODE_IMAGES } from "./node";
import { KIND_NODE_IMAGE, kindDaemons, kindFiles, prepareKind, sweepKind } from "./kind";
import { dockerDaemon, hubMirrorDaemon, runFiles } from "./servers";

const HERE = __dirname;
const REPO = path.resolve(HERE, "..", "..");

/** One part of the testbed that `npm run testbed -- build` makes, and how to tell it is made. */
interface Part {
    readonly name: string;
    /** The folder under parts/ (name-version[-hash]) it is cached in. */
    readonly dir: string;
    /** A file whose presence means the part is complete. */
    readonly done: string;
    readonly make: (log: (line: string) => void) => void | Promise<void>;
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

/** The base images' recipe: the script and their folders (the real node's images and kind's have folders of their own). */
function imageRecipe(): string[] {
    return filesUnder(path.join(HERE, "images"), (f) => ![...NODE_IMAGE_FOLDERS, "kind"].some((d) => f.includes(`${path.sep}images${path.sep}${d}${path.sep}`)));
}

/** The real node's images, each built from dev/testbed/images/<folder>. */
const NODE_IMAGE_FOLDERS = ["pause", "coredns", "kube-router", "traefik", "probe"] as const;

function nodeImageRecipe(): string[] {
    return NODE_IMAGE_FOLDERS.flatMap((d) => filesUnder(path.join(HERE, "images", d)));
}

/** kind's node image: its folder (the recipe), and the runtime of the Engine that builds and runs it. */
function kindImageRecipe(): string[] {
    return [...filesUnder(path.join(HERE, "images", "kind")), path.join(HERE, "kind", "runc-without-sys-resource")];
}

function run(cmd: string, args: readonly string[], what: string, env: NodeJS.ProcessEnv = process.env, cwd = REPO): string {
    const r = spawnSync(cmd, [...args], { env, cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.error || r.status !== 0) {
        const said = `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").filter((l) => !l.startsWith("go: downloading")).slice(-12).join("\n    ");
        throw new TestbedError(`${what} failed${r.error ? ` (${r.error.message})` : ` (exit ${r.status})`}:\n    ${said}`);
    }
    return r.stdout;
}

/**
 * A part built by build.sh from Go modules, cached under its version, or under `key` when more than the
 * version decides what is built (our patches); `extra` is build.sh's fourth argument.
 */
function goPart(l: Layout, part: string, version: string, binary: string, opts: { extra?: string; key?: string } = {}): Part {
    const key = opts.key ?? version;
    const dir = partDir(l, part, key);
    const extra = opts.extra;
    return {
        name: `${part} ${key}`,
        dir,
        done: path.join(dir, binary),
        make: () => {
            run("bash", [path.join(HERE, "build.sh"), part, version, dir, ...(extra ? [extra] : [])], `building ${part} ${key} from its Go modules`);
        },
    };
}

/** Every part, in build order. */
export function parts(l: Layout): Part[] {
    const b = bins(l);
    const langhostDir = partDir(l, "langhost", `${VERSIONS.pulumi}-${hashFiles(langhostSources())}`);
    const pluginDir = path.join(l.pulumiHome, "plugins", `resource-kubernetes-v${VERSIONS.pulumiKubernetes.version}`);
    const imagesStamp = path.join(l.data, `images-${hashFiles(imageRecipe())}.done`);
    const nodeImagesStamp = path.join(l.data, `node-images-${hashFiles(nodeImageRecipe())}-${VERSIONS.kubernetes}-${VERSIONS.coredns}-${VERSIONS.kubeRouter}-${traefikBuild()}.done`);
    // Built from the node images too (pause, CoreDNS, Traefik), so their stamp is part of its key.
    const kindImageStamp = path.join(l.data, `kind-node-${hashFiles(kindImageRecipe())}-${VERSIONS.kind}-${VERSIONS.localPathProvisioner}-${path.basename(nodeImagesStamp, ".done")}.done`);
    return [
        goPart(l, "kubernetes", VERSIONS.kubernetes, "kube-proxy"),
        goPart(l, "etcd", VERSIONS.etcd, "etcd"),
        goPart(l, "kwok", VERSIONS.kwok, "kwok"),
        goPart(l, "pulumi", VERSIONS.pulumi, "pulumi"),
        goPart(l, "pulumi-kubernetes", VERSIONS.pulumiKubernetes.version, "pulumi-resource-kubernetes", { extra: VERSIONS.pulumiKubernetes.module }),
        goPart(l, "kubeadm", VERSIONS.kubernetes, "kubeadm"),
        goPart(l, "kind", VERSIONS.kind, "kind"),
        goPart(l, "local-path-provisioner", VERSIONS.localPathProvisioner, "local-path-provisioner"),
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
            done: path.join(b.pulumiDir, `.assembled-${path.basename(langhostDir)}-kind-${VERSIONS.kind}`),
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
            make: (log) => withImageServers(l, (env) => buildImages(l, env, imagesStamp, log)),
        },
        goPart(l, "coredns", VERSIONS.coredns, "coredns"),
        goPart(l, "kube-router", VERSIONS.kubeRouter, "kube-router"),
        goPart(l, "traefik", VERSIONS.traefik, "traefik", { extra: PATCHES, key: traefikBuild() }),
        goPart(l, "gofakes3", VERSIONS.gofakes3, "gofakes3", { extra: PATCHES, key: gofakes3Build() }),
        {
            name: "node images",
            dir: path.join(l.data, "docker"),
            done: nodeImagesStamp,
            make: (log) => withImageServers(l, (env) => buildNodeImages(l, env, nodeImagesStamp, log)),
        },
        {
            name: "kind node image",
            dir: kindFiles(l).dockerData,
            done: kindImageStamp,
            make: (log) => withImageServers(l, (env) => buildKindNodeImage(l, env, kindImageStamp, log), { kind: true }),
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
    fs.copyFileSync(bins(l).kind, path.join(dir, "kind"));
    const sdk = JSON.parse(run("go", ["mod", "download", "-json", `github.com/pulumi/pulumi/sdk/v3@v${VERSIONS.pulumi}`], "downloading Pulumi's sdk/v3 module")) as { Dir: string };
    const shim = path.join(dir, "pulumi-resource-pulumi-nodejs");
    fs.copyFileSync(path.join(sdk.Dir, "nodejs", "dist", "pulumi-resource-pulumi-nodejs"), shim);
    for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o755);
    fs.writeFileSync(path.join(dir, `.assembled-${path.basename(langhostDir)}-kind-${VERSIONS.kind}`), "");
}

/** The base images, built into the testbed's Docker Engine and served by the hub mirror under their Docker Hub names. */
export const BASE_IMAGES = ["node:22-alpine", "nginxinc/nginx-unprivileged:1.27-alpine", "postgres:15", "registry:3"] as const;

/** `node:22-alpine` → `library/node:22-alpine`: the repository Docker asks a Hub mirror for. */
export function hubPath(image: string): string {
    const [repo, tag] = image.split(":");
    return `${repo.includes("/") ? repo : `library/${repo}`}:${tag}`;
}

/**
 * Runs `body` with the testbed's Docker Engine and hub mirror (and with `kind`, the kind platform's
 * Engine too), starting each when the testbed is not running (and stopping it again afterwards).
 */
async function withImageServers(l: Layout, body: (env: NodeJS.ProcessEnv) => void, opts: { kind?: boolean } = {}): Promise<void> {
    const f = runFiles(l);
    fs.mkdirSync(l.run, { recursive: true });
    for (const d of ["docker", "hub-mirror"]) fs.mkdirSync(path.join(l.data, d), { recursive: true, mode: 0o700 });
    const ours: number[] = [];
    const kind = opts.kind === true && livePid(kindFiles(l).dockerPid) === undefined;
    try {
        for (const d of [hubMirrorDaemon(l), dockerDaemon(l)]) {
            if (livePid(d.pidFile ?? pidFileOf(l.run, d.name)) === undefined) ours.push(await startDaemon(l.run, d));
        }
        if (kind) {
            await prepareKind(l, () => undefined);
            for (const d of kindDaemons(l)) await startDaemon(l.run, d);
        }
        body({ ...process.env, DOCKER_HOST: `unix://${f.dockerSocket}`, DOCKER_BUILDKIT: "0", KIND_DOCKER_HOST: `unix://${kindFiles(l).dockerSocket}` });
    } finally {
        if (kind) await sweepKind(l);
        for (const pid of ours.reverse()) await stopPid(pid, 30);
    }
}

/** Pushes an image of the testbed's Docker Engine to the hub mirror under `name`. */
function pushToHubMirror(env: NodeJS.ProcessEnv, image: string, name: string): void {
    const mirrored = `${HOST}:${PORTS.hubMirror}/${name}`;
    run("docker", ["tag", image, mirrored], `tagging ${image}`, env);
    run("docker", ["push", mirrored], `pushing ${image} to the hub mirror`, env);
}

/**
 * Builds the base images (dev/testbed/images) in the testbed's Docker Engine and pushes them to the
 * hub mirror under their Docker Hub names.
 */
function buildImages(l: Layout, env: NodeJS.ProcessEnv, stamp: string, log: (line: string) => void): void {
    run("bash", [path.join(HERE, "images", "build.sh"), path.join(l.data, "rootfs")], "building the base images", env);
    for (const image of BASE_IMAGES) pushToHubMirror(env, image, hubPath(image));
    fs.writeFileSync(stamp, new Date().toISOString() + "\n");
    log(`testbed: base images ${BASE_IMAGES.join(", ")} built and served by the hub mirror`);
}

/**
 * The real node's images (dev/testbed/images/<name>): pause, compiled here from Kubernetes' C source,
 * and the binaries built above, each put beside its Dockerfile in a scratch context; built FROM scratch
 * or the Debian base, and pushed to the hub mirror, which the node pulls them from.
 */
function buildNodeImages(l: Layout, env: NodeJS.ProcessEnv, stamp: string, log: (line: string) => void): void {
    const scratch = fs.mkdtempSync(path.join(l.data, "node-images."));
    try {
        const k8s = JSON.parse(run("go", ["mod", "download", "-json", `k8s.io/kubernetes@v${VERSIONS.kubernetes}`], "downloading the Kubernetes module")) as { Dir: string };
        const pause = path.join(scratch, "pause.bin");
        run("gcc", ["-Os", "-static", "-Wall", "-Werror", `-DVERSION=v${NODE_IMAGES.pause.split(":")[1]}-launchpad`, "-o", pause, path.join(k8s.Dir, "build", "pause", "linux", "pause.c")], "compiling pause", env);
        const binaries: Record<keyof typeof NODE_IMAGES, { folder: string; file?: [string, string] }> = {
            pause: { folder: "pause", file: [pause, "pause"] },
            coredns: { folder: "coredns", file: [bins(l).coredns, "coredns"] },
            kubeRouter: { folder: "kube-router", file: [bins(l).kubeRouter, "kube-router"] },
            traefik: { folder: "traefik", file: [bins(l).traefik, "traefik"] },
            probe: { folder: "probe" },
        };
        for (const [key, { folder, file }] of Object.entries(binaries) as [keyof typeof NODE_IMAGES, { folder: string; file?: [string, string] }][]) {
            const context = path.join(scratch, folder);
            fs.cpSync(path.join(HERE, "images", folder), context, { recursive: true });
            if (file) fs.copyFileSync(file[0], path.join(context, file[1]));
            const image = NODE_IMAGES[key];
            run("docker", ["build", "--network", "host", "--tag", image, context], `building the image ${image}`, env);
            pushToHubMirror(env, image, image);
        }
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
    fs.writeFileSync(stamp, new Date().toISOString() + "\n");
    log(`testbed: node images ${Object.values(NODE_IMAGES).join(", ")} built and served by the hub mirror`);
}

/**
 * kind's node image (dev/testbed/images/kind), from the Kubernetes binaries, etcd, local-path-provisioner
 * and the node images built above, by kind's own `kind build node-image`, into the kind platform's
 * Engine; Traefik's image goes in too, for the kind stack's ingress controller (kindIngressManifest).
 */
function buildKindNodeImage(l: Layout, env: NodeJS.ProcessEnv, stamp: string, log: (line: string) => void): void {
    const b = bins(l);
    run("bash", [
        path.join(HERE, "images", "kind", "build.sh"),
        KIND_NODE_IMAGE,
        b.kind,
        partDir(l, "kubernetes", VERSIONS.kubernetes),
        path.dirname(b.kubeadm),
        path.dirname(b.etcd),
        path.dirname(b.localPathProvisioner),
        path.join(l.data, "kind-image.work"),
        NODE_IMAGES.traefik,
    ], "building kind's node image", { ...env, PAUSE_IMAGE: NODE_IMAGES.pause, COREDNS_IMAGE: NODE_IMAGES.coredns });
    fs.writeFileSync(stamp, new Date().toISOString() + "\n");
    log(`testbed: kind's node image ${KIND_NODE_IMAGE} built`);
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
    { tool: "gcc", provides: "apt-get install gcc libc6-dev (the pods' pause binary is built statically)" },
    { tool: "containerd", provides: "apt-get install containerd (the real node's runtime, with runc)" },
    { tool: "runc", provides: "apt-get install runc" },
    { tool: "/usr/lib/cni/bridge", provides: "apt-get install containernetworking-plugins (the real node's pod network)" },
    { tool: "nsenter", provides: "apt-get install util-linux" },
    { tool: "ip", provides: "apt-get install iproute2" },
    { tool: "iptables", provides: "apt-get install iptables (kube-proxy on the real node)" },
    { tool: "conntrack", provides: "apt-get install conntrack (kube-proxy on the real node)" },
    { tool: "jq", provides: "apt-get install jq (kind's node image and its Docker Engine's runtime)" },
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
export async function buildParts(l: Layout, log: (line: string) => void): Promise<{ built: string[]; seconds: number }> {
    const t0 = Date.now();
    const tools = missingTools(onPath);
    if (tools.length > 0) throw new TestbedError(`the testbed build needs: ${tools.join("; ")}. Install them, then run \`npm run testbed -- build\` again.`);
    const locked = lockedVersion("@pulumi/kubernetes");
    if (locked !== VERSIONS.pulumiKubernetes.version) {
        throw new TestbedError(
            `package-lock.json installs @pulumi/kubernetes ${locked ?? "(none)"}, but the testbed builds its plugin ${VERSIONS.pulumiKubernetes.version} ` +
                "(dev/testbed/versions.json): the engine would look for a plugin it does not have. Pin the same version in both.",
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
