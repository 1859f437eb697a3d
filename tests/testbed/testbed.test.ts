import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { hubPath, lockedVersion, missingTools, parts } from "../../dev/testbed/parts";
import { bootstrapObjects, KWOK_NODE_ANNOTATION, releasedVolumes, VOLUME_LABEL } from "../../dev/testbed/cluster";
import { bins, CONTEXT, gofakes3Build, type Layout, layout, patchedBuild, NODES, PASSPHRASE, PORTS, REAL_NODE, REGISTRY, REGISTRY_PASSWORD, REGISTRY_USER, S3_BUCKET, s3BackendUrl, SIMULATED_TAINT, VERSIONS, VOLUMES } from "../../dev/testbed/layout";
import { envFileText, serverStates, start, stop, testbedEnv } from "../../dev/testbed/lifecycle";
import { main, USAGE } from "../../dev/testbed/main";
import { PKI_FILES } from "../../dev/testbed/pki";
import { pidFileOf, startDaemon, stopPid, TestbedError } from "../../dev/testbed/processes";
import { processAlive } from "../../lib/process";
import { kwokConfig, runFiles, s3Credentials, s3Daemon } from "../../dev/testbed/servers";

const ROOT = path.resolve(__dirname, "..", "..");

function tempHome(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "launchpad-testbed-test-"));
}

/** Marks every part as built, so `start` goes past its "not built" refusal. */
function fakeBuilt(home: string): void {
    const l = layout({ LAUNCHPAD_TESTBED_HOME: home });
    for (const p of parts(l)) {
        fs.mkdirSync(path.dirname(p.done), { recursive: true });
        fs.writeFileSync(p.done, "");
    }
    fs.mkdirSync(bins(l).kwokStages, { recursive: true });
}

/**
 * Stands in for what `start` needs of the machine before it checks its ports: the tools it looks for on
 * PATH (dockerd, docker-registry, openssl, htpasswd; none of them runs), and the PKI openssl would make.
 * The unit suite needs none of the testbed's Debian packages installed. Returns the PATH to restore.
 */
function fakeMachine(l: Layout): string | undefined {
    const bin = path.join(l.home, "fake-bin");
    fs.mkdirSync(bin, { recursive: true });
    for (const tool of ["dockerd", "docker-registry", "openssl"]) fs.writeFileSync(path.join(bin, tool), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "htpasswd"), `#!/bin/sh\necho "${REGISTRY_USER}:fake"\n`, { mode: 0o755 });
    const pki = runFiles(l).pki;
    fs.mkdirSync(pki, { recursive: true });
    for (const file of PKI_FILES) fs.writeFileSync(path.join(pki, file), "");
    const saved = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${saved ?? ""}`;
    return saved;
}

async function runMain(args: string[]): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const code = await main(args, (line) => lines.push(line));
    return { code, out: lines.join("\n") };
}

describe("testbed: layout and the stack file", () => {
    it("keeps everything under LAUNCHPAD_TESTBED_HOME, or ~/.cache/launchpad/testbed", () => {
        assert.equal(layout({ LAUNCHPAD_TESTBED_HOME: "/x" }).parts, "/x/parts");
        assert.equal(layout({ XDG_CACHE_HOME: "/c" }).home, "/c/launchpad/testbed");
        assert.equal(layout({}).home, path.join(os.homedir(), ".cache", "launchpad", "testbed"));
    });

    it("pins the plugin at the version the lock file installs", () => {
        assert.equal(lockedVersion("@pulumi/kubernetes"), VERSIONS.pulumiKubernetes.version);
    });

    it("reads a package's version from a lock file, and nothing for a package it lacks", () => {
        const dir = tempHome();
        const lock = path.join(dir, "package-lock.json");
        fs.writeFileSync(lock, JSON.stringify({ packages: { "node_modules/@pulumi/kubernetes": { version: "4.9.0" } } }));
        assert.equal(lockedVersion("@pulumi/kubernetes", lock), "4.9.0");
        assert.equal(lockedVersion("@pulumi/docker", lock), undefined);
    });

    it("has Pulumi.testbed.yaml deploy to the testbed's context and registry", () => {
        const config = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.testbed.yaml"), "utf8")).config;
        assert.equal(config["launchpad:kubeContext"], CONTEXT);
        assert.equal(config["launchpad:registry"], REGISTRY);
        assert.equal(config["launchpad:registryUsername"], REGISTRY_USER);
        assert.ok(config["launchpad:registryPassword"].secure, "the registry password is an encrypted secret");
    });

    it("listens only on ports below this machine's ephemeral range, which its own clients' source ports come from", () => {
        const [low] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
        const inRange = Object.entries(PORTS).filter(([, port]) => port >= low);
        assert.deepEqual(inRange, [], `ports at or above ${low} can be taken as a connection's source port before the server binds them`);
    });
});

describe("testbed: what it builds and serves", () => {
    it("names the base images' Docker Hub repositories as a mirror is asked for them", () => {
        assert.equal(hubPath("node:22-alpine"), "library/node:22-alpine");
        assert.equal(hubPath("postgres:15"), "library/postgres:15");
        assert.equal(hubPath("nginxinc/nginx-unprivileged:1.27-alpine"), "nginxinc/nginx-unprivileged:1.27-alpine");
    });

    it("lists every missing tool with the package that provides it", () => {
        const missing = missingTools((tool) => !["debootstrap", "htpasswd"].includes(tool));
        assert.deepEqual(missing, ["htpasswd (apt-get install apache2-utils)", "debootstrap (apt-get install debootstrap)"]);
        assert.deepEqual(missingTools(() => true), []);
    });

    it("bootstraps tainted simulated nodes kwok manages, a default StorageClass with local Retain volumes on the real node, and the IngressClass", () => {
        const objects = bootstrapObjects("/v");
        const nodes = objects.filter((o) => o.kind === "Node") as unknown as { metadata: { name: string; annotations: Record<string, string> }; spec: { taints: object[] } }[];
        assert.deepEqual(nodes.map((n) => n.metadata.name), NODES.map((n) => n.name));
        for (const n of nodes) {
            assert.equal(n.metadata.annotations[KWOK_NODE_ANNOTATION], "fake");
            assert.deepEqual(n.spec.taints, [SIMULATED_TAINT], "only pods that tolerate it land on a simulated node");
        }
        type Volume = { metadata: { name: string }; spec: { persistentVolumeReclaimPolicy: string; storageClassName: string; local: { path: string }; nodeAffinity: unknown } };
        const volumes = objects.filter((o) => o.kind === "PersistentVolume") as unknown as Volume[];
        assert.equal(volumes.length, VOLUMES.count);
        for (const v of volumes) {
            assert.equal(v.spec.persistentVolumeReclaimPolicy, "Retain");
            assert.equal(v.spec.storageClassName, VOLUMES.storageClass);
            assert.equal(v.spec.local.path, `/v/${v.metadata.name}`, "a folder of its own");
            assert.deepEqual(v.spec.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [REAL_NODE.name] }] }] } });
        }
        const sc = objects.find((o) => o.kind === "StorageClass");
        assert.equal(sc?.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"], "true");
        assert.ok(objects.some((o) => o.kind === "IngressClass" && o.metadata.name === "nginx"));
    });

    it("recycles only its own volumes whose claim is gone", () => {
        const pv = (name: string, phase: string, ours = true) => ({ metadata: { name, labels: ours ? { [VOLUME_LABEL]: "true" } : ({} as Record<string, string>) }, status: { phase } });
        assert.deepEqual(releasedVolumes([pv("a", "Bound"), pv("b", "Released"), pv("c", "Available"), pv("d", "Released", false), pv("e", "Released")]), ["b", "e"]);
    });

    it("gives kwok its stock stages, in order, and nothing else", () => {
        const dir = tempHome();
        fs.writeFileSync(path.join(dir, "b.yaml"), "kind: Stage\nmetadata:\n  name: b\n");
        fs.writeFileSync(path.join(dir, "a.yaml"), "kind: Stage\nmetadata:\n  name: a\n");
        fs.writeFileSync(path.join(dir, "README.md"), "not a stage");
        const docs = parseAllDocuments(kwokConfig(dir)).map((d) => d.toJS());
        assert.deepEqual(docs.map((d) => d.metadata.name), ["a", "b"]);
    });
});

describe("testbed: the env file", () => {
    const l = layout({ LAUNCHPAD_TESTBED_HOME: "/home/u/tb it's" });

    it("exports what a shell needs to use the testbed, quoted for the shell", () => {
        const text = envFileText(l);
        for (const key of ["KUBECONFIG", "DOCKER_HOST", "PATH", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
            "LAUNCHPAD_TESTBED_REGISTRY", "LAUNCHPAD_TESTBED_REGISTRY_USER", "LAUNCHPAD_TESTBED_REGISTRY_PASSWORD"]) {
            assert.match(text, new RegExp(`^export ${key}=`, "m"), key);
        }
        assert.match(text, /^export PULUMI_HOME='\/home\/u\/tb it'\\''s\/pulumi-home'$/m);
        assert.match(text, /^export PATH="\/home\/u\/tb it's\/bin:.*:\$PATH"$/m);
    });

    it("gives a process the same values the shell would see", () => {
        const env = testbedEnv(l, { PATH: "/usr/bin", HOME: "/root" });
        assert.equal(env.PULUMI_HOME, "/home/u/tb it's/pulumi-home");
        assert.equal(env.PULUMI_BACKEND_URL, "file:///home/u/tb it's/state");
        assert.equal(env.PULUMI_CONFIG_PASSPHRASE, PASSPHRASE);
        assert.equal(env.LAUNCHPAD_TESTBED_REGISTRY, REGISTRY);
        assert.equal(env.LAUNCHPAD_TESTBED_REGISTRY_PASSWORD, REGISTRY_PASSWORD);
        assert.equal(env.DOCKER_HOST, "unix:///home/u/tb it's/run/docker.sock");
        assert.ok(env.PATH?.startsWith("/home/u/tb it's/bin:") && env.PATH.endsWith(":/usr/bin"), env.PATH);
        assert.equal(env.HOME, "/root");
    });
});

describe("testbed: the S3-compatible bucket for a team's shared state", () => {
    let home: string;
    let l: Layout;
    beforeEach(() => {
        home = tempHome();
        l = layout({ LAUNCHPAD_TESTBED_HOME: home });
    });
    afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

    it("builds gofakes3 from its Go module with our patch, cached under its pinned version and the patch's hash", () => {
        const part = parts(l).find((p) => p.name.startsWith("gofakes3 "));
        assert.ok(part, "a gofakes3 part");
        assert.match(gofakes3Build(), new RegExp(`^${VERSIONS.gofakes3.replace(/\./g, "\\.")}-[0-9a-f]{12}$`));
        assert.equal(part.name, `gofakes3 ${gofakes3Build()}`);
        assert.equal(part.dir, path.join(home, "parts", `gofakes3-${gofakes3Build()}`));
        assert.equal(part.done, bins(l).gofakes3);
        assert.notEqual(gofakes3Build(), patchedBuild("gofakes3-none", VERSIONS.gofakes3), "the patch is in the key");
        const script = fs.readFileSync(path.join(ROOT, "dev/testbed/build.sh"), "utf8");
        assert.match(script, /for p in "\$extra"\/gofakes3-\*\.patch; do patch /);
        assert.ok(fs.readdirSync(path.join(ROOT, "dev/testbed/patches")).some((f) => f.startsWith("gofakes3-")));
    });

    it("names the bucket as Pulumi's s3 driver reads it: the endpoint on loopback, path-style, a region", () => {
        assert.equal(s3BackendUrl(), `s3://${S3_BUCKET}?endpoint=http://127.0.0.1:${PORTS.s3}&use_path_style=true&region=us-east-1`);
        const url = new URL(s3BackendUrl(9));
        assert.equal(url.protocol, "s3:");
        assert.equal(url.host, S3_BUCKET);
        assert.equal(url.searchParams.get("endpoint"), "http://127.0.0.1:9");
    });

    it("runs the server on 127.0.0.1 with the bolt backend under the data folder, making the bucket at start; stopped with the others", () => {
        const d = s3Daemon(l);
        assert.equal(d.command, bins(l).gofakes3);
        assert.deepEqual(d.args, ["-backend", "bolt", "-bolt.db", path.join(home, "data", "s3", "buckets.bolt"), "-initialbucket", S3_BUCKET, "-host", `127.0.0.1:${PORTS.s3}`]);
        assert.deepEqual(d.ports, [PORTS.s3]);
        assert.ok(serverStates(l).some((st) => st.name === "s3"), "status lists it, and stop ends it by its pid file");
    });

    it("generates the bucket's access key once (mode 0600) and exports it, with the backend URL, under names of its own", () => {
        assert.equal(s3Credentials(l), undefined, "none before the first start");
        assert.doesNotMatch(envFileText(l), /S3_ACCESS_KEY_ID/);
        const made = s3Credentials(l, true)!;
        assert.match(made.accessKeyId, /^LPTB[0-9A-F]{16}$/);
        assert.ok(made.secretAccessKey.length >= 40);
        assert.equal(fs.statSync(runFiles(l).s3Credentials).mode & 0o777, 0o600);
        assert.deepEqual(s3Credentials(l, true), made, "kept across starts");
        assert.notDeepEqual(s3Credentials(layout({ LAUNCHPAD_TESTBED_HOME: tempHome() }), true), made, "another testbed gets another key");
        const env = testbedEnv(l, {});
        assert.equal(env.LAUNCHPAD_TESTBED_S3_BACKEND, s3BackendUrl());
        assert.equal(env.LAUNCHPAD_TESTBED_S3_ACCESS_KEY_ID, made.accessKeyId);
        assert.equal(env.LAUNCHPAD_TESTBED_S3_SECRET_ACCESS_KEY, made.secretAccessKey);
        assert.equal(env.PULUMI_BACKEND_URL, `file://${home}/state`, "the testbed's own stacks stay on the file backend");
        assert.equal(env.AWS_ACCESS_KEY_ID, undefined, "no AWS tool of the shell sees the key");
    });
});

describe("testbed: the command and its refusals", () => {
    let saved: string | undefined;
    let home: string;
    beforeEach(() => {
        saved = process.env.LAUNCHPAD_TESTBED_HOME;
        home = tempHome();
        process.env.LAUNCHPAD_TESTBED_HOME = home;
    });
    afterEach(() => {
        if (saved === undefined) delete process.env.LAUNCHPAD_TESTBED_HOME;
        else process.env.LAUNCHPAD_TESTBED_HOME = saved;
    });

    it("exits 2 with the usage for a missing, unknown or extra command, or --wipe off stop", async () => {
        for (const args of [[], ["deploy"], ["start", "now"], ["start", "--wipe"], ["--colour"]]) {
            const r = await runMain(args);
            assert.equal(r.code, 2, args.join(" "));
            assert.ok(r.out.endsWith(USAGE), args.join(" "));
            assert.equal(r.out.split("\n")[0].startsWith("testbed: "), true);
        }
    });

    it("reports an unbuilt testbed, and refuses to start it, in one line naming the command that builds it", async () => {
        const status = await runMain(["status"]);
        assert.equal(status.code, 0);
        assert.match(status.out.split("\n")[0], /^testbed: not built: kubernetes 1\.37\.2, etcd .* \(npm run testbed -- build\)$/);
        const r = await runMain(["start"]);
        assert.equal(r.code, 1);
        assert.match(r.out, /^testbed: the testbed is not built \(missing: kubernetes .*\): run `npm run testbed -- build` first\.$/);
    });

    it("says nothing was running when stop finds nothing it started", async () => {
        assert.deepEqual(await stop(layout()), []);
    });

    it("refuses a half-started testbed, naming what runs and what does not, and starts nothing", async () => {
        fakeBuilt(home);
        const l = layout();
        fs.mkdirSync(l.run, { recursive: true });
        fs.writeFileSync(pidFileOf(l.run, "etcd"), `${process.pid}\n`);
        await assert.rejects(start(l, () => {}), (e: Error) => {
            assert.ok(e instanceof TestbedError);
            assert.match(e.message, /^the testbed is half-started: etcd runs but kube-apiserver, .*, dockerd, s3, node-bridge-host, .*, kube-proxy, kind-bridge-host, kind-bridge, kind-dockerd not; run `npm run testbed -- stop`, then start again\.$/);
            return true;
        });
        assert.equal(fs.readdirSync(l.run).length, 1, "nothing else was written");
    });

    it("refuses to start when a port it needs is taken, naming the port and the server, and starts nothing", async () => {
        fakeBuilt(home);
        const savedPath = fakeMachine(layout());
        const blocker = net.createServer();
        const bound = await new Promise<boolean>((resolve) => {
            blocker.once("error", () => resolve(false));
            blocker.listen(PORTS.etcd, "127.0.0.1", () => resolve(true));
        });
        try {
            // Bound by us, or by a running testbed's etcd: taken either way.
            await assert.rejects(start(layout(), () => {}), (e: Error) => {
                assert.ok(e instanceof TestbedError, String(e));
                assert.match(e.message, new RegExp(`^cannot start the testbed: 127\\.0\\.0\\.1:${PORTS.etcd} \\(etcd\\)(, [^ ]+ \\([a-z-]+\\))* (is|are) taken by another program; .* Nothing was started\\.$`));
                return true;
            });
            assert.equal(fs.readdirSync(layout().run).filter((f) => f.endsWith(".pid")).length, 0);
        } finally {
            process.env.PATH = savedPath;
            if (bound) await new Promise((resolve) => blocker.close(resolve));
        }
    });
});

describe("testbed: a control-plane daemon that exits is started again", () => {
    it("restarts the daemon a second after it exits, says so in its log, and ends both on SIGTERM", async function () {
        this.timeout(20_000);
        const dir = tempHome();
        const starts = path.join(dir, "starts");
        // A daemon that counts its starts and exits at once the first two times, then stays (as kube-controller-manager exits while the API server is slow).
        const script = path.join(dir, "daemon.sh");
        fs.writeFileSync(script, `#!/bin/sh\necho "$$" >> ${starts}\n[ "$(wc -l < ${starts})" -ge 3 ] && exec sleep 60\nexit 1\n`, { mode: 0o755 });
        let ready = false;
        const pid = await startDaemon(dir, { name: "flaky", command: script, args: [], ports: [], restart: true, ready: async () => (ready = fs.existsSync(starts) && fs.readFileSync(starts, "utf8").trim().split("\n").length >= 3) }, 15);
        assert.equal(ready, true);
        const daemonPids = fs.readFileSync(starts, "utf8").trim().split("\n").map(Number);
        assert.equal(daemonPids.length, 3);
        assert.equal(fs.readFileSync(pidFileOf(dir, "flaky"), "utf8").trim(), String(pid), "the pid file holds the restarting shell's pid");
        assert.match(fs.readFileSync(path.join(dir, "logs", "flaky.log"), "utf8"), /launchpad testbed: .*daemon\.sh exited \(1\); starting it again in 1 s/);
        await stopPid(pid, 5);
        assert.equal(processAlive(pid), false);
        assert.equal(processAlive(daemonPids[2]), false, "the daemon itself ended with its shell");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
