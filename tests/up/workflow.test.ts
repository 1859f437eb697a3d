import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { CONFIG_FROM_ENV } from "../../tools/up/commands";

interface Step {
    uses?: string;
    run?: string;
    if?: string;
    env?: Record<string, string>;
}

const file = path.resolve(__dirname, "..", "..", ".github", "workflows", "deploy.yml");
const workflow = parseYaml(fs.readFileSync(file, "utf8"));
const job = workflow.jobs.prod;
const steps: Step[] = job.steps;

describe("up: the GitHub Actions example", () => {
    it("runs on pull requests and on pushes to main", () => {
        assert.deepEqual(workflow.on, { pull_request: { branches: ["main"] }, push: { branches: ["main"] } });
    });

    it("installs with npm ci on Node 22 before running the CLI", () => {
        const setup = steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
        assert.equal((setup as { with: { "node-version": number } }).with["node-version"], 22);
        const ci = steps.findIndex((s) => s.run === "npm ci");
        assert.ok(ci >= 0 && ci < steps.findIndex((s) => s.run?.startsWith("npm run ")));
    });

    it("previews prod on pull requests and deploys it on pushes, with the same CLI", () => {
        assert.deepEqual(
            steps.filter((s) => s.run?.startsWith("npm run ")).map((s) => [s.if, s.run]),
            [
                ["github.event_name == 'pull_request'", "npm run preview -- --stack prod"],
                ["github.event_name == 'push'", "npm run up -- --stack prod"],
            ],
        );
    });

    it("takes the passphrase, the state backend and the registry credentials from secrets, under the names the CLI reads", () => {
        assert.equal(job.env.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
        assert.equal(job.env.PULUMI_BACKEND_URL, "${{ secrets.PULUMI_BACKEND_URL }}");
        for (const c of CONFIG_FROM_ENV) assert.match(job.env[c.env] ?? "", /^\$\{\{ secrets\.[A-Z_]+ \}\}$/, c.env);
    });

    it("never lets a deploy be cancelled half-way", () => {
        assert.equal(workflow.concurrency["cancel-in-progress"], "${{ github.event_name == 'pull_request' }}");
    });
});
