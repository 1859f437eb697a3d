import * as assert from "node:assert/strict";
import { checkPrerequisites, formatProblems, nodeProblem, requiredTools } from "../../tools/up/prereqs";
import { FakeMachine, freshMachine } from "./fakes";

const none = () => new FakeMachine(freshMachine({ installed: new Set() }));
const all = ["pulumi", "docker", "kind", "kubectl"] as const;

describe("up: prerequisite checks", () => {
    it("accepts Node 22.19.0 and newer", () => {
        assert.equal(nodeProblem("22.19.0"), undefined);
        assert.equal(nodeProblem("v24.1.0"), undefined);
    });

    it("rejects Node 22.12 with the version found and how to get a newer 22", () => {
        const problem = nodeProblem("22.12.0");
        assert.match(problem?.what ?? "", /^launchpad needs Node\.js 22\.19\.0 or newer, but this is Node\.js v22\.12\.0\. Get it with nvm \(nvm install 22 && nvm use 22\), an installer from https:\/\/nodejs\.org\/en\/download, or without either: npm install --prefix ~\/\.cache\/node22 node-\w+-\w+@22 /);
        assert.deepEqual(problem?.fix, []);
    });

    it("says what pulumi is for and how to install it", async () => {
        const [p] = await checkPrerequisites(none(), ["pulumi"], "22.19.0");
        assert.deepEqual(p, {
            what: "pulumi is not installed: the Pulumi CLI runs the deployment engine",
            fix: ["macOS: brew install pulumi/tap/pulumi", "Linux: curl -fsSL https://get.pulumi.com | sh", "Windows: winget install pulumi", "more: https://www.pulumi.com/docs/iac/download-install/"],
        });
    });

    it("says what docker is for and how to install it", async () => {
        const [p] = await checkPrerequisites(none(), ["docker"], "22.19.0");
        assert.deepEqual(p, {
            what: "docker is not installed: builds and pushes the app images (and, on kind, runs the cluster and the local registry)",
            fix: ["macOS/Windows: Docker Desktop, https://docs.docker.com/desktop/", "Linux: Docker Engine, https://docs.docker.com/engine/install/"],
        });
    });

    it("tells an installed docker whose daemon is down from a missing one, quoting docker info", async () => {
        const m = new FakeMachine(freshMachine({ daemonRunning: false }));
        const [p] = await checkPrerequisites(m, ["docker"], "22.19.0");
        assert.deepEqual(p, {
            what: "docker is installed but its daemon is not running (docker info: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)",
            fix: ["start Docker Desktop, or on Linux: sudo systemctl start docker", "then check with: docker info"],
        });
    });

    it("says what kind is for and how to install it", async () => {
        const [p] = await checkPrerequisites(none(), ["kind"], "22.19.0");
        assert.deepEqual(p, {
            what: "kind is not installed: runs the local Kubernetes cluster inside Docker",
            fix: ["macOS: brew install kind", "Linux/Windows: a release binary, https://kind.sigs.k8s.io/docs/user/quick-start/#installation", "with Go: go install sigs.k8s.io/kind@latest"],
        });
    });

    it("says what kubectl is for and how to install it", async () => {
        const [p] = await checkPrerequisites(none(), ["kubectl"], "22.19.0");
        assert.deepEqual(p, {
            what: "kubectl is not installed: installs the ingress controller on the kind cluster and waits until it is ready",
            fix: ["macOS: brew install kubectl", "Linux/Windows: https://kubernetes.io/docs/tasks/tools/"],
        });
    });

    it("reports every problem at once, Node first, in a fixed order", async () => {
        const problems = await checkPrerequisites(none(), all, "18.19.0");
        assert.deepEqual(
            problems.map((p) => (p.what.startsWith("launchpad needs Node.js") ? "node" : p.what.split(" ")[0])),
            ["node", "pulumi", "docker", "kind", "kubectl"],
        );
    });

    it("names the stack in the command to run again when it is not dev", () => {
        assert.match(formatProblems("preview", [{ what: "w", fix: [] }], "prod"), /Fix the above, then run `npm run preview -- --stack prod` again\.$/);
    });

    it("finds nothing wrong on a complete machine", async () => {
        assert.deepEqual(await checkPrerequisites(new FakeMachine(freshMachine()), all, "22.19.0"), []);
    });

    it("only looks tools up on PATH and asks docker for its daemon, changing nothing", async () => {
        const m = new FakeMachine(freshMachine());
        await checkPrerequisites(m, all, "22.19.0");
        assert.deepEqual(m.calls, ["docker info --format {{.ServerVersion}}"]);
    });

    it("prints one block per problem with its fixes, and what to do next", () => {
        const text = formatProblems("up", [
            { what: "pulumi is not installed: x", fix: ["a", "b"] },
            { what: "kind is not installed: y", fix: ["c"] },
        ]);
        assert.equal(
            text,
            [
                "launchpad up: 2 prerequisites are not met; nothing was changed:",
                "  - pulumi is not installed: x",
                "      a",
                "      b",
                "  - kind is not installed: y",
                "      c",
                "Fix the above, then run `npm run up` again.",
            ].join("\n"),
        );
    });
});

describe("up: which tools each command needs", () => {
    it("needs pulumi, docker, kind and kubectl to bring up or preview a kind stack", () => {
        assert.deepEqual(requiredTools({ command: "up", platform: "kind" }), ["pulumi", "docker", "kind", "kubectl"]);
        assert.deepEqual(requiredTools({ command: "preview", platform: "kind" }), ["pulumi", "docker", "kind", "kubectl"]);
    });

    it("needs neither kind nor kubectl for a cloud stack", () => {
        assert.deepEqual(requiredTools({ command: "up", platform: "cloud" }), ["pulumi", "docker"]);
        assert.deepEqual(requiredTools({ command: "preview", platform: "cloud" }), ["pulumi", "docker"]);
    });

    it("needs only pulumi for a plain down, docker too when data is deleted (it updates first), and kind to delete the cluster", () => {
        assert.deepEqual(requiredTools({ command: "down", platform: "kind" }), ["pulumi"]);
        assert.deepEqual(requiredTools({ command: "down", platform: "cloud", deleteData: true }), ["pulumi", "docker"]);
        assert.deepEqual(requiredTools({ command: "down", platform: "kind", deleteData: true, cluster: true }), ["pulumi", "docker", "kind"]);
    });
});
