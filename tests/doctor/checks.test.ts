import * as assert from "node:assert/strict";
import { checkIngressClasses, checkStorageClasses } from "../../tools/doctor/checks";
import type { ManifestLike } from "../../tools/doctor/schedule";

const ingress = (className?: string): ManifestLike => ({ kind: "Ingress", metadata: { name: "web" }, spec: className ? { ingressClassName: className } : {} });
const statefulSet = (storageClassName?: string): ManifestLike => ({
    kind: "StatefulSet",
    metadata: { name: "db" },
    spec: { volumeClaimTemplates: [{ metadata: { name: "data" }, spec: storageClassName === undefined ? {} : { storageClassName } }] },
});

describe("doctor: IngressClass and StorageClass checks", () => {
    it("passes an Ingress whose class exists", () => {
        const [c] = checkIngressClasses([ingress("nginx")], [{ name: "nginx", isDefault: false, detail: "k8s.io/ingress-nginx" }]);
        assert.deepEqual(c, { check: "ingressClass", name: "nginx", usedBy: ["Ingress/web"], status: "ok", ok: true, message: "IngressClass nginx exists (k8s.io/ingress-nginx)" });
    });

    it("fails an Ingress whose class is missing, naming the classes there are and the setting to change", () => {
        const [c] = checkIngressClasses([ingress("nginx")], [{ name: "traefik", isDefault: true }]);
        assert.equal(c.ok, false);
        assert.equal(c.message, "IngressClass nginx does not exist, so the Ingress would never get an address (the cluster has traefik (default)). Set the stack's ingressClass to one of those, or install what provides nginx");
    });

    it("lets the cluster's default class serve an Ingress that names none, and fails when there is no default", () => {
        assert.equal(checkIngressClasses([ingress()], [{ name: "traefik", isDefault: true }])[0].ok, true);
        const [c] = checkIngressClasses([ingress()], [{ name: "traefik", isDefault: false }]);
        assert.equal(c.ok, false);
        assert.match(c.message, /none is the cluster's default/);
    });

    it("falls back to the configured class when the manifest names none", () => {
        assert.equal(checkIngressClasses([ingress()], [], "nginx")[0].name, "nginx");
    });

    it("checks the StatefulSet's claim templates against the StorageClasses", () => {
        assert.equal(checkStorageClasses([statefulSet("standard")], [{ name: "standard", isDefault: true }])[0].ok, true);
        const [missing] = checkStorageClasses([statefulSet("gp3")], [{ name: "standard", isDefault: true }]);
        assert.equal(missing.ok, false);
        assert.match(missing.message, /^StorageClass gp3 does not exist, so the database's volume claim would stay Pending/);
    });

    it("needs a default StorageClass for a claim that names none", () => {
        assert.equal(checkStorageClasses([statefulSet()], [{ name: "standard", isDefault: true }])[0].message, "no class named; the cluster's default StorageClass standard will provision it");
        assert.equal(checkStorageClasses([statefulSet()], [{ name: "standard", isDefault: false }])[0].ok, false);
    });

    it("does not second-guess storageClassName \"\", which asks for a pre-made volume, and says it cannot tell", () => {
        const [c] = checkStorageClasses([statefulSet("")], []);
        assert.deepEqual([c.ok, c.status], [true, "unknown"]);
    });

    it("checks nothing for a stack without Ingresses or claims", () => {
        assert.deepEqual([...checkIngressClasses([], []), ...checkStorageClasses([], [])], []);
    });
});
