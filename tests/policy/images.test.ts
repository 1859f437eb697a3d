import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { imagePin } from "../../lib/imageRef";
import { imagePinned } from "../../policy/rules";
import { compliantContainer, compliantPodSpec, deployment, DIGEST } from "./fixtures";
import { UNKNOWN_DURING_PREVIEW, validate } from "./harness";

const withImages = (...images: unknown[]) =>
    deployment(compliantPodSpec(...images.map((image, i) => ({ ...compliantContainer(`c${i}`), image: image as string }))));
const check = (props: object) => validate(imagePinned, { resourceClass: k8s.apps.v1.Deployment, props });

describe("imagePin", () => {
    it("reads a registry port as part of the registry, not as a tag", () => {
        assert.deepEqual(imagePin("localhost:5001/x:1.0"), { kind: "tag", tag: "1.0" });
        assert.deepEqual(imagePin("localhost:5001/x"), { kind: "latest", reason: "no tag" });
    });

    it("treats no tag and the latest tag as latest", () => {
        assert.deepEqual(imagePin("postgres"), { kind: "latest", reason: "no tag" });
        assert.deepEqual(imagePin("docker.io/library/postgres:latest"), { kind: "latest", reason: "latest tag" });
    });

    it("accepts a sha256 digest with or without a tag before it", () => {
        assert.deepEqual(imagePin(`registry.example.com/team/api@${DIGEST}`), { kind: "digest", digest: DIGEST });
        assert.deepEqual(imagePin(`postgres:latest@${DIGEST}`), { kind: "digest", digest: DIGEST });
    });

    it("rejects a digest that is not 64 hex digits of sha256", () => {
        assert.equal(imagePin("api@sha256:1234").kind, "invalid");
        assert.equal(imagePin(`api@md5:${"a".repeat(32)}`).kind, "invalid");
    });

    it("rejects an empty tag", () => {
        assert.equal(imagePin("api:").kind, "invalid");
    });
});

describe("policy image-pinned", () => {
    it("passes images pinned by digest or by an explicit tag", async () => {
        const { violations } = await check(withImages(`localhost:5001/api@${DIGEST}`, "localhost:5001/x:1.0", "postgres:16.4-alpine"));
        assert.deepEqual(violations, []);
    });

    it("rejects an image with a registry port but no tag, naming the container and field", async () => {
        const { violations } = await check(withImages("localhost:5001/x"));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^Deployment "backend": container "c0" image "localhost:5001\/x" \(spec\.template\.spec\.containers\[0\]\.image\) has no tag, so it means :latest/);
        assert.match(violations[0], /pin it by digest/);
    });

    it("rejects the latest tag", async () => {
        const { violations } = await check(withImages("postgres:latest"));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /image "postgres:latest" .* uses the latest tag/);
    });

    it("checks init containers", async () => {
        const props = withImages(`api@${DIGEST}`);
        props.spec.template.spec.initContainers = [{ ...compliantContainer("migrate"), image: "flyway/flyway" }];
        const { violations } = await check(props);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /init container "migrate" image "flyway\/flyway" \(spec\.template\.spec\.initContainers\[0\]\.image\)/);
    });

    it("reports a container without an image", async () => {
        const props = withImages(undefined);
        const { violations } = await check(props);
        assert.deepEqual(violations, ['Deployment "backend": container "c0" has no image: set spec.template.spec.containers[0].image to a reference pinned by digest.']);
    });

    it("reports a malformed digest", async () => {
        const { violations } = await check(withImages("api@sha256:abc"));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /is not a valid reference: "sha256:abc" is not a sha256 digest/);
    });

    it("skips an image that is computed by the plan and unknown during preview, but still checks the others", async () => {
        const { violations } = await check(withImages(UNKNOWN_DURING_PREVIEW, "redis"));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /container "c1" image "redis"/);
    });
});
