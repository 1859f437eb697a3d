import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_KEYS, ConfigError, loadConfig, PULUMI_CONFIG_NOTE } from "../../components/config";
import { ROOT, stackConfig, tryRunStack } from "../../tools/harness";

const devConfig = () => stackConfig("dev");

/** Config problems of a raw config, or [] when it loads. */
function problemsOf(raw: Record<string, string>, stack = "dev", isSecret?: (key: string) => boolean) {
    try {
        loadConfig(raw, { stack, isSecret });
        return [];
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        return [...error.problems];
    }
}

describe("config loader", () => {
    it("fills every default for an empty kind stack", () => {
        const config = loadConfig({}, { stack: "dev" });
        assert.equal(config.platform, "kind");
        assert.equal(config.cluster.context, "kind-launchpad");
        assert.equal(config.namespace, "launchpad-dev");
        assert.equal(config.registry.server, "localhost:5001");
        assert.equal(config.ingress.host, "launchpad.localhost");
        assert.equal(config.database.storage.className, "standard");
        assert.equal(config.backend.port, 3000);
        assert.deepEqual(config.rollout, { timeoutSeconds: 300, maxSurge: 1, maxUnavailable: 0 });
        assert.equal(config.retainData, true);
        assert.equal(config.protect, false);
    });

    it("names the stack in a ConfigError's stackName and keeps Error.stack a trace", () => {
        let error: unknown;
        try {
            loadConfig({ "launchpad:backendCpu": "lots" }, { stack: "qa" });
        } catch (e) {
            error = e;
        }
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        assert.equal(error.stackName, "qa");
        assert.match(error.stack ?? "", /^ConfigError: stack "qa" has 1 config problem[\s\S]*\n\s+at /);
    });

    it("derives the namespace from appName and the stack", () => {
        assert.equal(loadConfig({ "launchpad:appName": "shop" }, { stack: "qa" }).namespace, "shop-qa");
    });

    it("parses integers, booleans, percentages, objects and lists as Pulumi passes them (strings)", () => {
        const config = loadConfig({
            "launchpad:backendReplicas": "3",
            "launchpad:retainData": "false",
            "launchpad:maxSurge": "25%",
            "launchpad:nodeSelector": '{"pool":"apps"}',
            "launchpad:tolerations": '[{"key":"dedicated","operator":"Equal","value":"apps","effect":"NoSchedule"}]',
        }, { stack: "dev" });
        assert.equal(config.backend.replicas, 3);
        assert.equal(config.retainData, false);
        assert.equal(config.rollout.maxSurge, "25%");
        assert.deepEqual(config.scheduling.nodeSelector, { pool: "apps" });
        assert.equal(config.scheduling.tolerations?.[0].key, "dedicated");
    });

    it("ignores keys of other namespaces such as kubernetes: or pulumi:", () => {
        assert.deepEqual(problemsOf({ "kubernetes:context": "x", "pulumi:template": "y" }), []);
    });

    it("reports every problem at once, each naming the key, the value and a fix", () => {
        const problems = problemsOf({ "launchpad:backendReplicas": "-1", "launchpad:frontendPort": "70000", "launchpad:registry": "https://x" });
        assert.deepEqual(problems.map((p) => p.key).sort(), ["backendReplicas", "frontendPort", "registry"]);
        for (const problem of problems) {
            assert.ok(problem.value !== undefined);
            assert.match(problem.fix, /pulumi config/);
        }
    });

    it("formats the error as one readable block listing each key, value and fix", () => {
        const attempt = () => loadConfig({ "launchpad:backendReplicas": "two" }, { stack: "dev" });
        assert.throws(attempt, (error: Error) => {
            assert.match(error.message, /stack "dev" has 1 config problem; nothing was created/);
            assert.match(error.message, /launchpad:backendReplicas = "two": must be a whole number/);
            assert.match(error.message, /\n {4}fix: Pulumi\.dev\.yaml: add launchpad:backendReplicas: 2 under config:\n {6}or: pulumi config set --stack dev backendReplicas 2\n/);
            return true;
        });
    });

    it("names the stack in every fix it offers", () => {
        const problems = problemsOf({
            "launchpad:platform": "cloud", "launchpad:backendReplicas": "-1", "launchpad:frontendReplica": "2", "launchpad:registryUsername": "bot",
            "launchpad:protect": "true", "launchpad:maxSurge": "0", "launchpad:maxUnavailable": "0", "launchpd:dbName": "x",
        }, "prod");
        assert.ok(problems.length >= 8, JSON.stringify(problems));
        for (const problem of problems) {
            for (const command of problem.fix.match(/pulumi config \w+/g) ?? []) assert.match(command, /^pulumi config (set|rm)$/);
            const commands = [...problem.fix.matchAll(/pulumi config (set|rm)( --stack prod)?/g)];
            assert.ok(commands.length > 0 || /Pulumi\.prod\.yaml/.test(problem.fix), `${problem.key}: ${problem.fix}`);
            for (const c of commands) assert.equal(c[2], " --stack prod", `${problem.key}: ${problem.fix}`);
        }
    });

    it("reports a key under a misspelt project prefix, which no program would read, with the key it meant", () => {
        const [problem, ...rest] = problemsOf({ "launchpd:backendReplicas": "3" });
        assert.deepEqual(rest, []);
        assert.deepEqual(problem, {
            key: "launchpd:backendReplicas",
            value: "3",
            message: 'is under "launchpd:", which no program reads; did you mean "launchpad:backendReplicas"?',
            fix: "pulumi config rm --stack dev launchpd:backendReplicas && pulumi config set --stack dev backendReplicas 3",
            changes: [{ key: "launchpd:backendReplicas" }, { key: "launchpad:backendReplicas", value: "3" }],
        });
    });

    it("suggests the key too when both the prefix and the key are misspelt, and only the prefix when the key is nothing like one", () => {
        assert.equal(problemsOf({ "lanchpad:backendReplica": "3" })[0].message, 'is under "lanchpad:", which no program reads; did you mean "launchpad:backendReplicas"?');
        assert.equal(
            problemsOf({ "launchpd:zzzzzzzz": "3" })[0].message,
            'is under "launchpd:", which no program reads; did you mean "launchpad:"? ("zzzzzzzz" is not a launchpad setting either)',
        );
        assert.deepEqual(problemsOf({ "acme:replicas": "3" })[0], {
            key: "acme:replicas",
            value: "3",
            message: 'is under "acme:", which no program reads; launchpad\'s settings are launchpad:<key>',
            fix: "pulumi config rm --stack dev acme:replicas (see the README's config table)",
            changes: [{ key: "acme:replicas" }],
        });
    });

    it("proposes what a wrong value evidently meant, in the key's own terms", () => {
        const proposed = (key: string, value: string) => problemsOf({ [`launchpad:${key}`]: value }).find((p) => p.key === key)?.changes;
        const cases: [string, string, string][] = [
            ["autoscaling", "yes please", "true"], ["autoscaling", "Off", "false"], ["protect", "sure", "true"],
            ["backendReplicas", "two", "2"], ["backendReplicas", "3 pods", "3"], ["maxSurge", "25 %", "25%"],
            ["dbStorageSize", "20 GB", "20Gi"], ["dbStorageSize", "5 gi", "5Gi"], ["frontendMemory", "128m", "128Mi"], ["backendCpu", "250 m", "250m"],
        ];
        for (const [key, value, meant] of cases) assert.deepEqual(proposed(key, value), [{ key: `launchpad:${key}`, value: meant }], `${key}: ${value}`);
    });

    it("proposes the default when a value means nothing it takes, and the example only for a key without one", () => {
        const fixOf = (raw: Record<string, string>, key: string, stack = "dev") => problemsOf(raw, stack).find((p) => p.key === key)?.fix;
        assert.equal(fixOf({ "launchpad:backendReplicas": "-1" }, "backendReplicas"), "pulumi config set --stack dev backendReplicas 1");
        assert.equal(fixOf({ "launchpad:frontendPort": "70000" }, "frontendPort"), "pulumi config set --stack dev frontendPort 8080");
        assert.equal(fixOf({ "launchpad:dbStorageSize": "big" }, "dbStorageSize"), "pulumi config set --stack dev dbStorageSize 1Gi");
        assert.equal(fixOf({ "launchpad:registry": "https://x" }, "registry"), "pulumi config set --stack dev registry localhost:5001");
        assert.equal(fixOf({ "launchpad:platform": "cloud", "launchpad:registry": "https://x" }, "registry", "prod"), "pulumi config set --stack prod registry ghcr.io/acme");
    });

    it("never proposes a value that deletes or replaces the data, whatever was written", () => {
        const changesOf = (raw: Record<string, string>, key: string) => problemsOf(raw).find((p) => p.key === key)?.changes;
        for (const written of ["yes please", "no thanks", "nope", "maybe"]) {
            assert.deepEqual(changesOf({ "launchpad:retainData": written }, "retainData"), [{ key: "launchpad:retainData", value: "true" }], written);
            assert.deepEqual(changesOf({ "launchpad:allowDataReplacement": written }, "allowDataReplacement"), [{ key: "launchpad:allowDataReplacement", value: "false" }], written);
        }
        // Carried over from a misspelt key, too.
        assert.deepEqual(changesOf({ "launchpad:retainDat": "false" }, "retainDat"), [{ key: "launchpad:retainDat" }, { key: "launchpad:retainData", value: "true" }]);
        // A key the database's identity rests on goes back to what dataLock records as deployed, not to its default.
        const lock = "appName=shop namespace=shop-dev storageClass=standard storageSize=20Gi";
        assert.deepEqual(changesOf({ "launchpad:dataLock": lock, "launchpad:appName": "shop", "launchpad:dbStorageSize": "twenty" }, "dbStorageSize"), [{ key: "launchpad:dbStorageSize", value: "20Gi" }]);
        assert.deepEqual(changesOf({ "launchpad:dataLock": lock, "launchpad:appName": "Shop!" }, "appName"), [{ key: "launchpad:appName", value: "shop" }]);
        const moved = problemsOf({ "launchpad:dataLock": lock, "launchpad:appName": "shop", "launchpad:dbStorageSize": "1Gi" }).find((p) => p.key === "dataLock");
        assert.deepEqual(moved?.changes, [{ key: "launchpad:dbStorageSize", value: "20Gi" }]);
        assert.match(moved?.fix ?? "", /^put the old value back: pulumi config set --stack dev dbStorageSize 20Gi; or, to replace the database on purpose, /);
    });

    it("fixes the key its fix names: applying any proposed fix removes that key's problem", () => {
        for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
            if ("secret" in spec) continue;
            for (const written of ["yes please", "-1", "two", "Big Value!"]) {
                const raw: Record<string, string> = { [`launchpad:${key}`]: written };
                const problem = problemsOf(raw).find((p) => p.key === key);
                if (!problem) continue;
                for (const change of problem.changes) {
                    if (change.value === undefined) delete raw[change.key];
                    else raw[change.key] = change.value;
                }
                assert.deepEqual(problemsOf(raw).filter((p) => p.key === key), [], `${key}: ${written} → ${problem.fix}`);
            }
        }
    });

    it("offers each fix as an edit of the stack file at its line, which needs no tool, then as pulumi config commands", () => {
        const stackFileText = ["# dev", "config:", "  launchpad:retainData: yes please", "  launchpd:frontendReplicas: 2", "  launchpad:tolerations: [3]", ""].join("\n");
        const raw = { "launchpad:retainData": "yes please", "launchpd:frontendReplicas": "2", "launchpad:tolerations": "[3]", "launchpad:registryUsername": "bot" };
        assert.throws(() => loadConfig(raw, { stack: "dev", stackFileText }), (error: Error) => {
            assert.equal(
                error.message,
                [
                    'stack "dev" has 4 config problems; nothing was created.',
                    '  - launchpad:retainData = "yes please": must be true or false',
                    "    fix: Pulumi.dev.yaml line 3: launchpad:retainData: true",
                    "      or: pulumi config set --stack dev retainData true",
                    '  - launchpd:frontendReplicas = "2": is under "launchpd:", which no program reads; did you mean "launchpad:frontendReplicas"?',
                    "    fix: Pulumi.dev.yaml line 4: launchpad:frontendReplicas: 2",
                    "      or: pulumi config rm --stack dev launchpd:frontendReplicas && pulumi config set --stack dev frontendReplicas 2",
                    '  - launchpad:tolerations = "[3]": item 0 is not an object',
                    "    fix: fix item 0 of launchpad:tolerations in Pulumi.dev.yaml (see the README's scheduling example)",
                    // A secret only the CLI can store encrypted; the note says what the CLI needs to find the stack.
                    "  - launchpad:registryPassword: is missing: registryUsername is set, so the registry needs a password or token",
                    "    fix: pulumi config set --stack dev --secret registryPassword <token>",
                    PULUMI_CONFIG_NOTE,
                ].join("\n"),
            );
            return true;
        });
    });

    it("adds a key the stack file lacks under config:, quoting a value YAML would not read as written", () => {
        assert.throws(() => loadConfig({ "launchpad:platform": "cloud", "launchpad:kubeContext": "c", "launchpad:registry": "r.io/a", "launchpad:dbName": "x", "launchpad:frontendPath": "/api", "launchpad:backendPath": "/api" }, { stack: "prod", stackFileText: "config:\n" }), (error: Error) => {
            assert.match(error.message, /\n {2}- launchpad:host: is required [^\n]*\n {4}fix: Pulumi\.prod\.yaml: add launchpad:host: app\.example\.com under config:\n/);
            return true;
        });
        const problem = problemsOf({ "launchpad:dataLock": "oops", "launchpad:protect": "true" }).find((p) => p.key === "dataLock");
        assert.deepEqual(problem?.changes, [{ key: "launchpad:dataLock", value: "appName=launchpad namespace=launchpad-dev storageClass=standard storageSize=1Gi" }]);
        assert.throws(() => loadConfig({ "launchpad:registryPassword": "t0ken" }, { stack: "dev", stackFileText: "config:\n", isSecret: () => true }), (error: Error) => {
            assert.match(error.message, /fix: Pulumi\.dev\.yaml: add launchpad:registryUsername: "<user>" under config:\n {6}or: pulumi config set --stack dev registryUsername <user>\n/);
            return true;
        });
        assert.throws(() => loadConfig({ "launchpad:appName": "-x" }, { stack: "dev", stackFileText: 'config:\n  launchpad:appName: "-x"\n' }), (error: Error) => {
            assert.match(error.message, /fix: Pulumi\.dev\.yaml line 2: launchpad:appName: launchpad\n/);
            return true;
        });
    });

    it("shows the problem of a key under a foreign prefix with its full key, and hides a secret value", () => {
        assert.throws(() => loadConfig({ "launchpd:registryPassword": "hunter2" }, { stack: "dev", isSecret: () => true }), (error: Error) => {
            assert.match(error.message, /\n {2}- launchpd:registryPassword: is under "launchpd:"/);
            assert.doesNotMatch(error.message, /hunter2/);
            return true;
        });
    });

    it("lists the problems in the order of the stack file, and missing keys after them", () => {
        const stackFileText = [
            "config:",
            "  launchpad:platform: cloud",
            "  launchpad:frontendReplica: 2",
            "  launchpd:dbName: x",
            '  "launchpad:backendReplicas": -1',
            "",
        ].join("\n");
        const raw = { "launchpad:backendReplicas": "-1", "launchpd:dbName": "x", "launchpad:platform": "cloud", "launchpad:frontendReplica": "2" };
        assert.throws(() => loadConfig(raw, { stack: "prod", stackFileText }), (error: ConfigError) => {
            assert.deepEqual(error.problems.map((p) => p.key), ["frontendReplica", "launchpd:dbName", "backendReplicas", "kubeContext", "registry", "host"]);
            assert.match(error.message, /\n {2}- launchpad:frontendReplica = "2": [^\n]*\n(?: {4}[^\n]*\n)+ {2}- launchpd:dbName = "x": [^\n]*\n(?: {4}[^\n]*\n)+ {2}- launchpad:backendReplicas = "-1": /);
            return true;
        });
    });

    it("never prints a secret's value in a problem", () => {
        const problems = problemsOf({ "launchpad:registryPassword": "hunter2" }, "dev", () => false);
        assert.ok(problems.length > 0);
        assert.ok(problems.every((p) => p.value !== "hunter2" && !p.message.includes("hunter2")));
    });

    it("hands the registry password on as the stack holds it, for the components to make a secret (tests/components)", () => {
        const config = loadConfig({ "launchpad:registryUsername": "bot", "launchpad:registryPassword": "t0ken" }, { stack: "dev", isSecret: () => true });
        assert.equal(config.registry.password, "t0ken");
    });

    it("accepts a database-replacing change only with allowDataReplacement, and then lifts protect", () => {
        const lock = "appName=launchpad namespace=launchpad-dev storageClass=fast storageSize=1Gi";
        const config = loadConfig({ "launchpad:dataLock": lock, "launchpad:allowDataReplacement": "true", "launchpad:protect": "true" }, { stack: "dev" });
        assert.equal(config.protect, false);
        assert.equal(loadConfig({ "launchpad:dataLock": lock.replace("fast", "standard"), "launchpad:protect": "true" }, { stack: "dev" }).protect, true);
    });

    it("takes a tier image pinned by digest in the stack's registry, and then does not look for that tier's build context", () => {
        const pinned = `localhost:5001/launchpad-backend@sha256:${"a".repeat(64)}`;
        const exists = (p: string) => p.startsWith("apps/frontend");
        const config = loadConfig({ "launchpad:backendImage": pinned, "launchpad:backendContext": "gone" }, { stack: "dev", fileExists: exists });
        assert.equal(config.backend.image, pinned);
        assert.equal(config.frontend.image, undefined);
    });

    it("proposes removing a tier image that is wrong, which builds the tier from source again", () => {
        const [problem] = problemsOf({ "launchpad:frontendImage": "launchpad-frontend:v2" });
        assert.equal(problem.fix, "pulumi config rm --stack dev frontendImage (or set it to <registry>/<repository>@sha256:<digest>)");
        assert.deepEqual(problem.changes, [{ key: "launchpad:frontendImage" }]);
    });

    it("checks that build contexts and Dockerfiles exist when it can look", () => {
        const exists = (p: string) => p === "apps/frontend" || p === "apps/frontend/Dockerfile" || p === "apps/backend";
        const problems = (() => {
            try {
                loadConfig({}, { stack: "dev", fileExists: exists });
                return [];
            } catch (error) {
                return [...(error as ConfigError).problems];
            }
        })();
        assert.deepEqual(problems.map((p) => p.key), ["backendDockerfile"]);
        assert.match(problems[0].message, /apps\/backend\/Dockerfile/);
    });
});

/** One bad stack config, the key its problem names, and what the message says. */
const badConfigs: [string, Record<string, string | undefined>, string, RegExp][] = [
    ["replicas below zero", { "launchpad:backendReplicas": "-1" }, "backendReplicas", /at least 0/],
    ["replicas not a number", { "launchpad:frontendReplicas": "two" }, "frontendReplicas", /whole number/],
    ["a port above 65535", { "launchpad:frontendPort": "70000" }, "frontendPort", /at most 65535/],
    ["port 0", { "launchpad:backendPort": "0" }, "backendPort", /at least 1/],
    ["an upper-case namespace", { "launchpad:namespace": "Launchpad" }, "namespace", /DNS-1123 label/],
    ["a namespace of 64 characters", { "launchpad:namespace": "a".repeat(64) }, "namespace", /at most 63/],
    ["an app name starting with a digit", { "launchpad:appName": "9shop" }, "appName", /DNS-1035/],
    ["an unknown platform", { "launchpad:platform": "minikube" }, "platform", /"kind", "cloud"/],
    ["a registry with a scheme", { "launchpad:registry": "https://ghcr.io/acme" }, "registry", /scheme/],
    ["a database image without a tag", { "launchpad:dbImage": "postgres" }, "dbImage", /no tag/],
    ["a database image on latest", { "launchpad:dbImage": "postgres:latest" }, "dbImage", /latest/],
    ["a malformed CPU quantity", { "launchpad:backendCpu": "1 core" }, "backendCpu", /quantity/],
    ["memory in milli-bytes", { "launchpad:frontendMemory": "64m" }, "frontendMemory", /64Mi/],
    ["a memory limit below the request", { "launchpad:backendMemory": "512Mi", "launchpad:backendMemoryLimit": "256Mi" }, "backendMemoryLimit", /at least the request/],
    ["a probe path without a slash", { "launchpad:backendReadinessPath": "readyz" }, "backendReadinessPath", /start with '\/'/],
    ["a route path without a slash", { "launchpad:backendPath": "api" }, "backendPath", /start with '\/'/],
    ["the same path for both tiers", { "launchpad:backendPath": "/" }, "backendPath", /same as frontendPath/],
    ["an IP as host", { "launchpad:host": "192.168.1.10" }, "host", /IP address/],
    ["a rollout timeout under a minute", { "launchpad:rolloutTimeoutSeconds": "10" }, "rolloutTimeoutSeconds", /at least 60/],
    ["a boolean spelt yes", { "launchpad:retainData": "yes" }, "retainData", /true or false/],
    ["maxSurge and maxUnavailable both zero", { "launchpad:maxSurge": "0", "launchpad:maxUnavailable": "0" }, "maxSurge", /both 0/],
    ["a percentage above 100", { "launchpad:maxSurge": "150%" }, "maxSurge", /percentage/],
    ["a misspelt key", { "launchpad:frontendReplica": "2" }, "frontendReplica", /did you mean "frontendReplicas"/],
    ["a key that means nothing", { "launchpad:colour": "blue" }, "colour", /not a launchpad setting/],
    ["tolerations that are not a list", { "launchpad:tolerations": '{"key":"x"}' }, "tolerations", /must be a list/],
    ["a toleration with a bad operator", { "launchpad:tolerations": '[{"key":"x","operator":"Is"}]' }, "tolerations", /operator "Is"/],
    ["a nodeSelector with a bad label value", { "launchpad:nodeSelector": '{"pool":"has space"}' }, "nodeSelector", /label value/],
    ["affinity with an unknown field", { "launchpad:affinity": '{"nodeAffinty":{}}' }, "affinity", /unknown field/],
    ["a username without a password", { "launchpad:registryUsername": "bot" }, "registryPassword", /is missing/],
    ["a database name PostgreSQL reserves", { "launchpad:dbName": "pg_app" }, "dbName", /reserves/],
    ["an image platform without an OS", { "launchpad:imagePlatform": "amd64" }, "imagePlatform", /platform/],
    ["a build network with a space", { "launchpad:imageBuildNetwork": "my net" }, "imageBuildNetwork", /Docker network name/],
    ["an empty build network", { "launchpad:imageBuildNetwork": "" }, "imageBuildNetwork", /is empty/],
    ["an autoscaler minimum above its maximum", { "launchpad:autoscaling": "true", "launchpad:backendReplicas": "6", "launchpad:backendMaxReplicas": "3" }, "backendMaxReplicas", /below backendReplicas/],
    ["autoscaling from zero pods", { "launchpad:autoscaling": "true", "launchpad:frontendReplicas": "0" }, "frontendReplicas", /at least 1 pod/],
    ["a CPU target of 5%", { "launchpad:cpuTargetPercent": "5" }, "cpuTargetPercent", /at least 10/],
    ["an egress rule with a bad CIDR", { "launchpad:backendEgress": '[{"cidr":"10.0.0.0/33"}]' }, "backendEgress", /IPv4 CIDR/],
    ["an egress rule with a port out of range", { "launchpad:backendEgress": '[{"cidr":"0.0.0.0/0","port":70000}]' }, "backendEgress", /1-65535/],
    ["an egress rule with an unknown field", { "launchpad:backendEgress": '[{"cidr":"0.0.0.0/0","host":"api.example.com"}]' }, "backendEgress", /unknown field/],
    ["an ingress namespace with upper case", { "launchpad:ingressNamespace": "Ingress" }, "ingressNamespace", /DNS-1123/],
    ["a database uid of 0 (root)", { "launchpad:dbUid": "0" }, "dbUid", /at least 1/],
    ["a malformed storage size", { "launchpad:dbStorageSize": "10GB" }, "dbStorageSize", /quantity/],
    ["a TLS issuer that is not a name", { "launchpad:tlsIssuer": "Let's Encrypt" }, "tlsIssuer", /DNS-1123 subdomain/],
    ["an empty kube context", { "launchpad:kubeContext": "" }, "kubeContext", /is empty/],
    ["a tier image by tag instead of digest", { "launchpad:backendImage": "localhost:5001/launchpad-backend:dev" }, "backendImage", /not pinned by digest/],
    ["a tier image with a short digest", { "launchpad:frontendImage": "localhost:5001/launchpad-frontend@sha256:abc" }, "frontendImage", /64 hex digits/],
    ["a tier image from another registry", { "launchpad:backendImage": `ghcr.io/acme/launchpad-backend@sha256:${"e".repeat(64)}` }, "backendImage", /not in the stack's registry localhost:5001/],
    ["a password without a user", { "launchpad:registryPassword": "t0ken" }, "registryUsername", /is missing/],
    ["a protected stack without a data lock", { "launchpad:protect": "true" }, "dataLock", /required when protect is true/],
    ["a storage class change that would replace the database", { "launchpad:dataLock": "appName=launchpad namespace=launchpad-dev storageClass=fast storageSize=1Gi" }, "dataLock", /dbStorageClass fast → standard/],
    ["a namespace change that would replace the database", { "launchpad:namespace": "shop", "launchpad:dataLock": "appName=launchpad namespace=launchpad-dev storageClass=standard storageSize=1Gi" }, "dataLock", /namespace launchpad-dev → shop/],
    ["a cloud stack without cluster, registry or host", { "launchpad:platform": "cloud", "launchpad:kubeContext": undefined, "launchpad:registry": undefined, "launchpad:host": undefined }, "kubeContext", /required when platform is cloud/],
];

describe("bad stack config", () => {
    for (const [what, overrides, key, message] of badConfigs) {
        it(`rejects ${what}, naming ${key}, and creates nothing`, async () => {
            const config = { ...devConfig(), ...overrides };
            for (const [k, v] of Object.entries(config)) if (v === undefined) delete config[k];
            const attempt = await tryRunStack("dev", { config: config as Record<string, string>, secretKeys: ["launchpad:registryPassword"] });
            assert.equal(attempt.ok, false, "the program should have refused this config");
            if (attempt.ok) return;
            assert.ok(attempt.error instanceof ConfigError, `expected a ConfigError, got ${attempt.error}`);
            const problem = attempt.error.problems.find((p) => p.key === key);
            assert.ok(problem, `no problem names ${key}: ${attempt.error.message}`);
            assert.match(problem.message, message);
            assert.ok(problem.fix.length > 0);
            assert.equal(attempt.resources.length, 0, "no resource may be registered");
        });
    }

    it("refuses a registry password stored in plain text", async () => {
        const config = { ...devConfig(), "launchpad:registryUsername": "bot", "launchpad:registryPassword": "t0ken" };
        const attempt = await tryRunStack("dev", { config, secretKeys: [] });
        assert.equal(attempt.ok, false);
        if (!attempt.ok) assert.match((attempt.error as Error).message, /registryPassword: is stored in plain text/);
    });
});

describe("config documentation", () => {
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

    it("declares in Pulumi.yaml only keys the program knows, with the program's defaults", () => {
        for (const [key, declaration] of Object.entries<any>(project.config)) {
            assert.ok(key in CONFIG_KEYS, `Pulumi.yaml declares ${key}, which the program does not know`);
            const spec: any = (CONFIG_KEYS as any)[key];
            if ("default" in declaration) assert.deepEqual(declaration.default, spec.default, `default of ${key}`);
            const type = { string: "string", integer: "integer", boolean: "boolean" }[spec.type as string];
            assert.equal(declaration.type, type, `type of ${key}`);
        }
    });

    it("declares every scalar key with a stack-independent default, and none without a default", () => {
        for (const [key, spec] of Object.entries<any>(CONFIG_KEYS)) {
            const scalar = ["string", "integer", "boolean"].includes(spec.type);
            const staticDefault = spec.default !== undefined && typeof spec.default !== "function";
            if (scalar && staticDefault) assert.ok(key in project.config, `Pulumi.yaml does not declare ${key}`);
        }
        // The Pulumi CLI makes a declared key without a default required in every stack.
        for (const [key, declaration] of Object.entries<any>(project.config)) assert.ok("default" in declaration, `${key} is declared without a default`);
    });

    it("documents every key in the README's config table", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        for (const key of Object.keys(CONFIG_KEYS)) assert.match(readme, new RegExp(`^\\| \`${key}\` \\|`, "m"), `README lacks a row for ${key}`);
    });
});

