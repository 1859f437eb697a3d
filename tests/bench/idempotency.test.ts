import assert from "node:assert/strict";
import { RecordedResource, RunOptions, containsSecret, listStacks, runStack, stackConfig } from "../../tools/harness";
import { compareRuns, firstDifference, resourceKey } from "../../dev/bench/idempotency";

// A second `pulumi up` of an unchanged stack changes nothing: index.ts, run twice for every stack
// file, registers the same resources with byte-identical inputs and options (secrets compared in
// their marked form). The second run sees another clock, another random sequence and the config
// keys in reverse order, so a timestamp, a random name or a key-order dependence cannot hide behind
// two runs that happened to fall in the same second.

/** Runs `body` with the clock a day and a bit ahead and Math.random drawing another sequence. */
async function elsewhereInTime<T>(body: () => Promise<T>): Promise<T> {
    const RealDate = Date;
    const realRandom = Math.random;
    const shift = 26 * 3600 * 1000 + 12345;
    class ShiftedDate extends RealDate {
        constructor(...args: unknown[]) {
            if (args.length === 0) super(RealDate.now() + shift);
            else super(...(args as [string | number | Date]));
        }
        static now(): number {
            return RealDate.now() + shift;
        }
    }
    let seed = 0x2545f491;
    globalThis.Date = ShiftedDate as DateConstructor;
    Math.random = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
    };
    try {
        return await body();
    } finally {
        globalThis.Date = RealDate;
        Math.random = realRandom;
    }
}

function reversed(config: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).reverse());
}

async function twice(stack: string, options: RunOptions = {}): Promise<[readonly RecordedResource[], readonly RecordedResource[]]> {
    const config = options.config ?? stackConfig(stack);
    const first = await runStack(stack, { ...options, config });
    const second = await elsewhereInTime(() => runStack(stack, { ...options, config: reversed(config) }));
    return [first.resources, second.resources];
}

function assertIdentical([first, second]: [readonly RecordedResource[], readonly RecordedResource[]]): void {
    const drifts = compareRuns(first, second);
    assert.deepEqual(drifts, [], `a second run differs:\n${drifts.map((d) => `  ${d.resource} ${d.path}: ${d.problem}`).join("\n")}`);
}

/** Registry credentials, the password a secret, as CI sets them: the pull Secret is compared too. */
const credentials = { "launchpad:registryUsername": "ci-bot", "launchpad:registryPassword": "s3cret-token" };

describe("a second evaluation of the same stack", () => {
    for (const stack of listStacks()) {
        it(`registers byte-identical inputs and options for every resource of stack ${stack}, secrets included`, async () => {
            const runs = await twice(stack, { config: { ...stackConfig(stack), ...credentials }, secretKeys: ["launchpad:registryPassword"] });
            assert.ok(runs[0].length > 10, `stack ${stack} registered only ${runs[0].length} resources`);
            assert.ok(runs[0].some((r) => !r.type.startsWith("kubernetes:")), "the comparison covers more than the Kubernetes objects");
            const marked = runs[0].filter((r) => containsSecret(r.inputs)).map(resourceKey);
            assert.ok(marked.length >= 2, `expected the pull Secret and the database Secret among secret inputs, got ${marked.join(", ")}`);
            assertIdentical(runs);
        });
    }
});

describe("comparing two runs of a program", () => {
    const resource = (name: string, inputs: Record<string, unknown>): RecordedResource => ({
        type: "kubernetes:core/v1:ConfigMap", name, inputs, state: inputs, options: { protect: false, retainOnDelete: false, parent: "", provider: "" },
    });
    it("finds nothing between identical runs", () => {
        assert.deepEqual(compareRuns([resource("a", { data: { x: "1" } })], [resource("a", { data: { x: "1" } })]), []);
    });
    it("names the resource and the path of a value that changed", () => {
        const drifts = compareRuns([resource("a", { metadata: { labels: { at: "08:00" } } })], [resource("a", { metadata: { labels: { at: "09:00" } } })]);
        assert.deepEqual(drifts, [{ resource: "kubernetes:core/v1:ConfigMap::a", path: "inputs.metadata.labels.at", problem: '"08:00" then "09:00"' }]);
    });
    it("catches the same keys in another order, which serialises differently", () => {
        assert.deepEqual(firstDifference({ data: { b: "2", a: "1" } }, { data: { a: "1", b: "2" } }), { path: "data", problem: "keys in another order: b, a then a, b" });
    });
    it("catches list items in another order", () => {
        assert.deepEqual(firstDifference({ args: ["x", "y"] }, { args: ["y", "x"] }), { path: "args[0]", problem: '"x" then "y"' });
    });
    it("reports resources that only one run registered", () => {
        const drifts = compareRuns([resource("a", {}), resource("old", {})], [resource("a", {}), resource("new", {})]);
        assert.deepEqual(drifts.map((d) => `${d.resource.split("::")[1]}: ${d.problem}`), ["old: registered by the first run only", "new: registered by the second run only"]);
    });
});
