import assert from "node:assert/strict";
import {
    checkCidr, checkDns1035Label, checkDns1123Label, checkDockerNetwork, checkHost, checkImageReference, checkIntOrPercent, checkLabelKey, checkMemory,
    checkPath, checkPlatform, checkPostgresIdentifier, checkQuantity, checkRegistry, closest,
} from "../../components/validate";
import { parseImageReference } from "../../lib/imageRef";

describe("validate", () => {
    it("reads CIDRs with node:net: IPv4, IPv6 and IPv4-mapped, prefixes in range", () => {
        for (const good of ["203.0.113.0/24", "0.0.0.0/0", "2001:db8::/32", "::/0", "::ffff:10.0.0.0/104"]) assert.equal(checkCidr(good), undefined, good);
        for (const bad of ["10.0.0.256/8", "010.0.0.0/8", ":::/8", "2001:db8::g/32", "10.0.0.0", "10.0.0.0/", "10.0.0.0/8/8", "example.com/8"]) {
            assert.match(checkCidr(bad) ?? "", /is not a CIDR/, bad);
        }
        assert.match(checkCidr("10.0.0.0/33") ?? "", /IPv4 CIDR/);
        assert.match(checkCidr("2001:db8::/129") ?? "", /IPv6 CIDR/);
    });

    it("accepts DNS-1123 labels and rejects upper case, underscores, edges and length", () => {
        assert.equal(checkDns1123Label("launchpad-dev"), undefined);
        assert.equal(checkDns1123Label("9lives"), undefined);
        for (const bad of ["Launchpad", "my_app", "-dev", "dev-", "a".repeat(64), "a.b"]) assert.ok(checkDns1123Label(bad), bad);
    });

    it("requires DNS-1035 labels to start with a letter", () => {
        assert.equal(checkDns1035Label("shop"), undefined);
        assert.match(checkDns1035Label("9shop") ?? "", /starting with a letter/);
    });

    it("accepts hosts with one leading wildcard and rejects IPs, ports and schemes", () => {
        assert.equal(checkHost("app.example.com"), undefined);
        assert.equal(checkHost("*.example.com"), undefined);
        assert.match(checkHost("10.0.0.1") ?? "", /IP address/);
        assert.match(checkHost("999.0.0.1") ?? "", /IP address/);
        assert.match(checkHost("2001:db8::1") ?? "", /IP address/);
        assert.match(checkHost("app.example.com:8080") ?? "", /port/);
        assert.ok(checkHost("https://app.example.com"));
    });

    it("rejects a negative quantity, which Kubernetes parses but no request or limit may be", () => {
        assert.match(checkQuantity("-1") ?? "", /negative/);
        assert.equal(checkQuantity("+1"), undefined);
    });

    it("rejects a zero quantity and memory written in milli-bytes", () => {
        assert.match(checkQuantity("0") ?? "", /zero/);
        assert.match(checkMemory("128m") ?? "", /128Mi/);
        assert.match(checkMemory("1Ki") ?? "", /less than 4Mi/);
        assert.equal(checkMemory("64Mi"), undefined);
    });

    it("splits image references into registry, path, tag and digest the way Docker does", () => {
        const reference = (value: string) => {
            const parsed = parseImageReference(value);
            return parsed.ok ? parsed.reference : undefined;
        };
        assert.deepEqual(reference("postgres:17"), { domain: undefined, path: "postgres", tag: "17", digest: undefined });
        assert.deepEqual(reference("localhost:5001/app:1.0"), { domain: "localhost:5001", path: "app", tag: "1.0", digest: undefined });
        assert.deepEqual(reference("team/app:1"), { domain: undefined, path: "team/app", tag: "1", digest: undefined });
        const digest = `sha256:${"a".repeat(64)}`;
        assert.equal(reference(`ghcr.io/acme/db@${digest}`)?.digest, digest);
        assert.equal(reference("Postgres:17"), undefined);
    });

    it("wants upstream images pinned, never latest or untagged", () => {
        assert.equal(checkImageReference("postgres:17"), undefined);
        assert.match(checkImageReference("postgres") ?? "", /no tag/);
        assert.match(checkImageReference("postgres:latest") ?? "", /latest/);
        assert.match(checkImageReference("post gres:17") ?? "", /not a valid image reference/);
    });

    it("takes a registry as host[:port][/path] and refuses schemes and bare names", () => {
        for (const good of ["localhost:5001", "ghcr.io/acme", "registry.example.com:5000/team/sub"]) assert.equal(checkRegistry(good), undefined, good);
        assert.match(checkRegistry("https://ghcr.io") ?? "", /scheme/);
        assert.match(checkRegistry("acme") ?? "", /docker.io/);
        assert.ok(checkRegistry("ghcr.io/Acme"));
    });

    it("accepts Docker network names such as host, none and my_net.1, and refuses spaces, slashes and a leading dash", () => {
        for (const good of ["host", "none", "default", "my_net.1", "kind"]) assert.equal(checkDockerNetwork(good), undefined, good);
        for (const bad of ["my net", "a/b", "-net", "n"]) assert.match(checkDockerNetwork(bad) ?? "", /Docker network name/, bad);
    });

    it("checks paths, platforms, label keys, Postgres identifiers and int-or-percent values", () => {
        assert.equal(checkPath("/api"), undefined);
        assert.match(checkPath("api") ?? "", /start with '\/'/);
        assert.match(checkPath("/api/") ?? "", /ends with/);
        assert.equal(checkPlatform("linux/arm64/v8"), undefined);
        assert.ok(checkPlatform("amd64"));
        assert.equal(checkLabelKey("node.kubernetes.io/instance-type"), undefined);
        assert.ok(checkLabelKey("bad key"));
        assert.equal(checkPostgresIdentifier("app_db"), undefined);
        assert.ok(checkPostgresIdentifier("App"));
        assert.ok(checkPostgresIdentifier("pg_app"));
        assert.equal(checkIntOrPercent(1), undefined);
        assert.equal(checkIntOrPercent("25%"), undefined);
        assert.ok(checkIntOrPercent("25"));
        assert.ok(checkIntOrPercent("101%"));
    });

    it("suggests the closest key for a typo and nothing for an unrelated word", () => {
        const keys = ["frontendReplicas", "backendReplicas", "registry"];
        assert.equal(closest("frontendReplica", keys), "frontendReplicas");
        assert.equal(closest("regsitry", keys), "registry");
        assert.equal(closest("colour", keys), undefined);
    });
});
