import assert from "node:assert/strict";
import * as fs from "fs";
import { ContainerImage } from "../../components/containerImage";
import {
    DockerResult, IMAGE_TYPE, ImageInputs, ImageOutputs, authKey, buildCommand, buildLockFile, dockerFix, imageChanges, imageProvider, meaningfulLines, pushedDigest, withBuildLock,
} from "../../components/image";
import { PASSWORD_TYPE } from "../../components/password";
import { Database } from "../../components/database";
import { installMocks, settled } from "../mocks";

// The image provider's logic against a fake Docker CLI (the boundary, never the logic, is replaced),
// and the provider as Pulumi ships it: serialized, self-contained, holding no credential.

const DIGEST = `sha256:${"1f".repeat(32)}`;
const OTHER = `sha256:${"2e".repeat(32)}`;

interface Call {
    readonly args: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
}

/** A fake `docker`: records each call; `answer` decides the result (by default success, and push reports DIGEST). */
function fakeDocker(answer: (call: Call) => Partial<DockerResult> | undefined = () => undefined) {
    const calls: Call[] = [];
    const run = async (args: readonly string[], env?: Readonly<Record<string, string>>): Promise<DockerResult> => {
        const call = { args: [...args], env };
        calls.push(call);
        const given = answer(call);
        const [repository, tag] = args[0] === "push" ? [args[1].slice(0, args[1].lastIndexOf(":")), args[1].split(":").pop()] : [];
        const pushed = args[0] === "push" ? `The push refers to repository [${repository}]\nabc123: Pushed\n${tag}: digest: ${DIGEST} size: 1573\n` : "";
        return { code: 0, stdout: pushed, stderr: "", ...given };
    };
    return { run, calls, argv: () => calls.map((c) => c.args.join(" ")) };
}

const build: ImageInputs = {
    repository: "localhost:5001/web",
    tag: "dev",
    platform: "linux/amd64",
    build: { context: "apps/web", dockerfile: "apps/web/Dockerfile", args: {}, contextDigest: OTHER },
};
const mirror: ImageInputs = { repository: "ghcr.io/acme/postgres", tag: "17", platform: "linux/arm64", mirror: { source: "postgres:17" } };
const login = { host: "ghcr.io", username: "ci-bot", password: "s3cret-pa55" };

async function failure(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (error) {
        return error as Error;
    }
    assert.fail("expected a failure");
}

describe("image provider", () => {
    describe("create", () => {
        it("builds with platform, Dockerfile and tag, then pushes, and keeps the pushed digest as ref", async () => {
            const docker = fakeDocker();
            const { id, outs } = await imageProvider(docker.run).create(build);
            assert.ok(outs);
            assert.deepEqual(docker.argv(), [
                "build --platform linux/amd64 -f apps/web/Dockerfile -t localhost:5001/web:dev apps/web",
                "push localhost:5001/web:dev",
            ]);
            assert.equal(id, "localhost:5001/web:dev");
            assert.deepEqual(outs, { ...build, digest: DIGEST, ref: `localhost:5001/web@${DIGEST}` });
        });

        it("passes the target, each build arg in key order and the build network", async () => {
            const docker = fakeDocker();
            await imageProvider(docker.run).create({ ...build, build: { ...build.build!, target: "runtime", args: { VERSION: "1.2", BASE: "node:22" }, network: "host" } });
            assert.deepEqual(docker.calls[0].args, [
                "build", "--platform", "linux/amd64", "-f", "apps/web/Dockerfile", "--target", "runtime",
                "--build-arg", "BASE=node:22", "--build-arg", "VERSION=1.2", "--network", "host", "-t", "localhost:5001/web:dev", "apps/web",
            ]);
        });

        it("mirrors by pulling for the platform, tagging into the repository and pushing", async () => {
            const docker = fakeDocker();
            const { outs } = await imageProvider(docker.run).create(mirror);
            assert.deepEqual(docker.argv(), [
                "pull --platform linux/arm64 postgres:17",
                "tag postgres:17 ghcr.io/acme/postgres:17",
                "push ghcr.io/acme/postgres:17",
            ]);
            assert.equal(outs?.ref, `ghcr.io/acme/postgres@${DIGEST}`);
        });

        it("uses the user's own Docker config for everything when no login is given", async () => {
            const docker = fakeDocker();
            await imageProvider(docker.run).create(mirror);
            assert.ok(docker.calls.every((c) => c.env === undefined));
        });
    });

    describe("the push's login", () => {
        it("gives the push alone a fresh 0700 DOCKER_CONFIG holding the login, on the user's daemon, and removes it after", async () => {
            let seen: { dir: string; mode: number; config: any } | undefined;
            const docker = fakeDocker((call) => {
                if (call.args[0] === "context") return { stdout: "unix:///home/me/.colima/docker.sock\n" };
                if (call.args[0] === "push") {
                    const dir = call.env!.DOCKER_CONFIG;
                    seen = { dir, mode: fs.statSync(dir).mode & 0o777, config: JSON.parse(fs.readFileSync(`${dir}/config.json`, "utf8")) };
                }
                return undefined;
            });
            await imageProvider(docker.run).create({ ...build, login });
            assert.deepEqual(docker.argv(), [
                "build --platform linux/amd64 -f apps/web/Dockerfile -t localhost:5001/web:dev apps/web",
                "context inspect --format {{.Endpoints.docker.Host}}",
                "push localhost:5001/web:dev",
            ]);
            assert.equal(docker.calls[0].env, undefined, "the build uses the user's Docker config");
            assert.ok(seen, "push was not run");
            assert.equal(seen.mode, 0o700);
            assert.deepEqual(seen.config, { auths: { "ghcr.io": { auth: Buffer.from("ci-bot:s3cret-pa55").toString("base64") } } });
            assert.deepEqual(docker.calls[2].env, { DOCKER_HOST: "unix:///home/me/.colima/docker.sock", DOCKER_CONFIG: seen.dir });
            assert.equal(fs.existsSync(seen.dir), false, "the login directory outlived the push");
            assert.ok(docker.calls.every((c) => !c.args.join(" ").includes("s3cret-pa55")), "the password reached a command line");
        });

        it("removes the login directory when the push fails, and keeps the password out of the error", async () => {
            let dir = "";
            const docker = fakeDocker((call) => {
                if (call.args[0] !== "push") return undefined;
                dir = call.env!.DOCKER_CONFIG;
                return { code: 1, stdout: "", stderr: "error: password s3cret-pa55 rejected\nunauthorized: authentication required" };
            });
            const error = await failure(imageProvider(docker.run).create({ ...mirror, login }));
            assert.equal(fs.existsSync(dir), false);
            assert.doesNotMatch(error.message, /s3cret-pa55/);
            assert.match(error.message, /^docker push of ghcr\.io\/acme\/postgres:17 failed \(exit 1\)/);
        });

        it("leaves DOCKER_HOST alone when Docker cannot say its context's endpoint", async () => {
            const docker = fakeDocker((call) => (call.args[0] === "context" ? { code: 1, stderr: "unknown command" } : undefined));
            await imageProvider(docker.run).create({ ...mirror, login });
            assert.deepEqual(Object.keys(docker.calls.find((c) => c.args[0] === "push")!.env!), ["DOCKER_CONFIG"]);
        });

        it("files Docker Hub's credentials under the key Docker looks them up by", () => {
            assert.equal(authKey("docker.io"), "https://index.docker.io/v1/");
            assert.equal(authKey("localhost:5001"), "localhost:5001");
        });
    });

    describe("the pushed digest", () => {
        it("is the one docker push reports for the pushed tag", () => {
            const output = `17-alpine: digest: ${OTHER} size: 1\n17: digest: ${DIGEST} size: 1573\n`;
            assert.equal(pushedDigest(output, "17"), DIGEST);
            assert.equal(pushedDigest(output, "17-alpine"), OTHER);
            assert.equal(pushedDigest("latest: digest: sha256:short size: 1", "latest"), undefined);
        });

        it("fails the create with a clear message when the push reports none", async () => {
            const docker = fakeDocker((call) => (call.args[0] === "push" ? { stdout: "Everything up to date\n" } : undefined));
            const error = await failure(imageProvider(docker.run).create(build));
            assert.match(error.message, /docker push of localhost:5001\/web:dev printed no "dev: digest: sha256:…" line/);
        });
    });

    describe("errors", () => {
        it("says the daemon is not running and how to start it", async () => {
            const docker = fakeDocker(() => ({ code: 1, stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" }));
            const error = await failure(imageProvider(docker.run).create(build));
            assert.equal(error.message, [
                "docker build of localhost:5001/web:dev failed (exit 1)",
                "  Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
                "  fix: start Docker (Docker Desktop, or on Linux: sudo systemctl start docker), then check with: docker info",
            ].join("\n"));
        });

        it("points a refused push at the registry credential keys", async () => {
            const docker = fakeDocker((call) => (call.args[0] === "push" ? { code: 1, stderr: "denied: requested access to the resource is denied" } : undefined));
            const error = await failure(imageProvider(docker.run).create(mirror));
            assert.match(error.message, /fix: log in to ghcr\.io: launchpad:registryUsername: <user> in the stack's Pulumi\.<stack>\.yaml, and the password with pulumi config set --secret registryPassword <token>/);
        });

        it("points a refused connection at the registry address", async () => {
            const docker = fakeDocker((call) => (call.args[0] === "push" ? { code: 1, stderr: "Get \"http://localhost:5001/v2/\": dial tcp 127.0.0.1:5001: connect: connection refused" } : undefined));
            const error = await failure(imageProvider(docker.run).create(build));
            assert.match(error.message, /connection refused\n {2}fix: nothing answers at localhost:5001: check launchpad:registry/);
        });

        it("quotes the end of a failed build, not BuildKit's frames and Dockerfile listing", async () => {
            const stderr = [
                "#8 [3/4] RUN npm ci", "#8 0.52 npm ERR! missing package-lock.json", "#8 ERROR: process \"/bin/sh -c npm ci\" did not complete successfully: exit code: 1",
                "------", " > [3/4] RUN npm ci:", "------", "Dockerfile:3", "--------------------", "   2 |     WORKDIR /app", " 3 | >>> RUN npm ci", "--------------------",
                "ERROR: failed to solve: process \"/bin/sh -c npm ci\" did not complete successfully: exit code: 1", "",
            ].join("\n");
            assert.deepEqual(meaningfulLines(stderr), [
                "#8 ERROR: process \"/bin/sh -c npm ci\" did not complete successfully: exit code: 1",
                "> [3/4] RUN npm ci:",
                "ERROR: failed to solve: process \"/bin/sh -c npm ci\" did not complete successfully: exit code: 1",
            ]);
            const docker = fakeDocker(() => ({ code: 1, stderr }));
            const error = await failure(imageProvider(docker.run).create(build));
            assert.equal(error.message.split("\n").length, 4, error.message);
        });

        it("says how to get docker when it is not on PATH, and blames no credentials for an upstream pull", () => {
            assert.match(dockerFix("build", "docker: command not found", "localhost:5001") ?? "", /install the Docker CLI/);
            assert.doesNotMatch(dockerFix("pull", "pull access denied for postgress", "docker.io") ?? "", /registryPassword/);
            const offline = 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: dial udp 10.255.255.53:53: connect: network is unreachable';
            assert.match(dockerFix("pull", offline, "localhost:5001") ?? "", /launchpad:dbImage .*registry-mirrors/);
        });

        it("tells a socket the user may not use from a daemon that is down", () => {
            const stderr = "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock";
            assert.match(dockerFix("push", stderr, "ghcr.io") ?? "", /docker group|usermod/);
        });

        it("suggests the host network for a RUN step that cannot resolve names", () => {
            assert.match(dockerFix("build", "#9 3.1 npm ERR! getaddrinfo EAI_AGAIN registry.npmjs.org", "localhost:5001") ?? "", /launchpad:imageBuildNetwork: host in the stack's Pulumi\.<stack>\.yaml/);
        });
    });

    describe("diff, update and delete", () => {
        const stored: ImageOutputs = { ...build, digest: DIGEST, ref: `localhost:5001/web@${DIGEST}` };
        const variants: [string, ImageInputs][] = [
            ["repository", { ...build, repository: "localhost:5001/site" }],
            ["tag", { ...build, tag: "prod" }],
            ["platform", { ...build, platform: "linux/arm64" }],
            ["target", { ...build, build: { ...build.build!, target: "runtime" } }],
            ["args", { ...build, build: { ...build.build!, args: { VERSION: "2" } } }],
            ["network", { ...build, build: { ...build.build!, network: "host" } }],
            ["dockerfile", { ...build, build: { ...build.build!, dockerfile: "apps/web/Dockerfile.prod" } }],
            ["contextDigest", { ...build, build: { ...build.build!, contextDigest: DIGEST } }],
        ];
        for (const [fact, news] of variants) {
            it(`updates in place, never replaces, when the ${fact} changes`, async () => {
                assert.deepEqual(imageChanges(stored, news), [fact]);
                assert.deepEqual(await imageProvider(fakeDocker().run).diff!("id", stored, news), { changes: true, replaces: [] });
            });
        }

        it("updates a mirror when its source, platform, repository or tag changes", () => {
            const kept: ImageOutputs = { ...mirror, digest: DIGEST, ref: "x" };
            assert.deepEqual(imageChanges(kept, { ...mirror, mirror: { source: "postgres:18" } }), ["source"]);
            assert.deepEqual(imageChanges(kept, { ...mirror, platform: "linux/amd64", tag: "18" }), ["tag", "platform"]);
        });

        it("sees no change in a new login or in build args listed in another order", async () => {
            const withArgs: ImageInputs = { ...build, build: { ...build.build!, args: { A: "1", B: "2" } } };
            const storedArgs: ImageOutputs = { ...withArgs, build: { ...withArgs.build!, args: { B: "2", A: "1" } }, digest: DIGEST, ref: "x" };
            assert.deepEqual(await imageProvider(fakeDocker().run).diff!("id", storedArgs, { ...withArgs, login }), { changes: false, replaces: [] });
        });

        it("rebuilds and pushes on update, keeping what the new inputs ask for", async () => {
            const docker = fakeDocker();
            const news = { ...build, tag: "prod" };
            const result = await imageProvider(docker.run).update!("id", { ...build, digest: OTHER, ref: "old" }, news);
            assert.deepEqual(docker.argv(), ["build --platform linux/amd64 -f apps/web/Dockerfile -t localhost:5001/web:prod apps/web", "push localhost:5001/web:prod"]);
            assert.deepEqual(result.outs, { ...news, digest: DIGEST, ref: `localhost:5001/web@${DIGEST}` });
        });

        it("leaves the image in the registry on delete", async () => {
            const docker = fakeDocker();
            await imageProvider(docker.run).delete!("id", { ...build, digest: DIGEST, ref: "x" });
            assert.deepEqual(docker.calls, []);
        });

        it("builds from the project's folder wherever the provider runs, and never rebuilds because a checkout moved", async () => {
            const here: ImageInputs = { ...build, build: { ...build.build!, root: "/home/ana/launchpad" } };
            const docker = fakeDocker();
            await imageProvider(docker.run).create!(here);
            assert.equal(docker.argv()[0], "build --platform linux/amd64 -f /home/ana/launchpad/apps/web/Dockerfile -t localhost:5001/web:dev /home/ana/launchpad/apps/web");
            const elsewhere: ImageInputs = { ...build, build: { ...build.build!, root: "/builds/ci/launchpad" } };
            assert.deepEqual(imageChanges(here, elsewhere), []);
        });

        it("builds the same argv from inputs whatever order the build args arrive in", () => {
            const a = buildCommand({ ...build, build: { ...build.build!, args: { X: "1", Y: "2" } } });
            const b = buildCommand({ ...build, build: { ...build.build!, args: { Y: "2", X: "1" } } });
            assert.deepEqual(a, b);
        });
    });
});

/** Loads a serialized provider as the dynamic provider process does, where only Node's built-ins can be required. */
function deserialize(text: string): any {
    const module = { exports: {} as any };
    const onlyBuiltins = (id: string) => {
        if (!id.startsWith("node:")) throw new Error(`the serialized provider requires ${id}`);
        return require(id);
    };
    new Function("exports", "require", "module", text)(module.exports, onlyBuiltins, module);
    return module.exports.handler();
}

describe("image builds of one tag on one machine: one at a time", () => {
    const image = `localhost:5001/web:lock-test-${process.pid}`;
    const file = buildLockFile(image);
    afterEach(() => fs.rmSync(file, { force: true }));

    it("makes a second build of the tag wait until the first is done, and removes its lock after", async () => {
        const order: string[] = [];
        let finishFirst!: () => void;
        const first = withBuildLock(image, async () => {
            order.push("first starts");
            await new Promise<void>((resolve) => (finishFirst = resolve));
            order.push("first ends");
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(fs.readFileSync(file, "utf8"), `${process.pid}\n`, "the lock names its holder");
        const second = withBuildLock(image, async () => void order.push("second starts"), 5_000, 5);
        await new Promise((resolve) => setTimeout(resolve, 60));
        assert.deepEqual(order, ["first starts"], "the second waits");
        finishFirst();
        await Promise.all([first, second]);
        assert.deepEqual(order, ["first starts", "first ends", "second starts"]);
        assert.equal(fs.existsSync(file), false);
    });

    it("takes over a lock whose process is gone, and gives the lock back when the build fails", async () => {
        fs.writeFileSync(file, "999999999\n");
        await assert.rejects(withBuildLock(image, async () => {
            assert.equal(fs.readFileSync(file, "utf8"), `${process.pid}\n`);
            throw new Error("docker build failed");
        }, 5_000, 5), /docker build failed/);
        assert.equal(fs.existsSync(file), false);
    });

    it("stops waiting for a live holder after its time and builds all the same, leaving that holder's lock", async () => {
        fs.writeFileSync(file, `${process.ppid}\n`);
        let built = false;
        await withBuildLock(image, async () => void (built = true), 30, 5);
        assert.equal(built, true);
        assert.equal(fs.readFileSync(file, "utf8"), `${process.ppid}\n`);
    });

    it("is taken around the provider's docker build", async () => {
        let heldDuringBuild: string | undefined;
        const docker = fakeDocker((call) => {
            if (call.args[0] === "build") heldDuringBuild = fs.readFileSync(buildLockFile("localhost:5001/web:dev"), "utf8");
            return undefined;
        });
        await imageProvider(docker.run).create!(build);
        assert.equal(heldDuringBuild, `${process.pid}\n`);
        assert.equal(fs.existsSync(buildLockFile("localhost:5001/web:dev")), false);
    });
});

describe("the providers as Pulumi serializes them into the state", () => {
    let serialized: Map<string, string>;
    before(async () => {
        const mocks = await installMocks("launchpad", "test");
        new ContainerImage("web", { registry: { server: "ghcr.io/acme", username: "ci-bot", password: "s3cret-pa55" }, repository: "web", build: { context: "apps/frontend" } });
        new Database("db", { namespace: "ns", identity: { partOf: "a", instance: "a-test", name: "db", component: "database" }, image: "x@sha256:0", storage: { size: "1Gi" } });
        await settled();
        // The text sent as __provider (components/dynamicResource.ts, as pulumi.dynamic.Resource computes it).
        serialized = new Map(mocks.resources.filter((r) => r.type === IMAGE_TYPE || r.type === PASSWORD_TYPE).map((r) => [r.type, r.inputs.__provider]));
        assert.equal(serialized.size, 2);
    });

    it("holds no registry password, although the image it was serialized for has one", () => {
        for (const text of serialized.values()) assert.doesNotMatch(text, /s3cret-pa55/);
    });

    it("requires nothing but Node's built-ins and captures none of our modules or Pulumi's", () => {
        for (const [type, text] of serialized) {
            const required = [...text.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
            assert.ok(required.length > 0, type);
            assert.deepEqual(required.filter((id) => !id.startsWith("node:")), [], type);
            assert.doesNotMatch(text, /@pulumi|\/components\/|__pulumi|dockerignore/, type);
        }
    });

    it("runs on its own, with only the built-ins to require", async () => {
        const image = deserialize(serialized.get(IMAGE_TYPE)!);
        assert.deepEqual(await image.diff("id", { ...build, digest: DIGEST, ref: "x" }, { ...build, tag: "prod" }), { changes: true, replaces: [] });
        const password = deserialize(serialized.get(PASSWORD_TYPE)!);
        const { outs } = await password.create({ length: 32 });
        assert.match(outs.result, /^[A-Za-z0-9]{32}$/);
    });
});
