import { nodeVersionProblem } from "../launch/nodeVersion";
import type { Runner } from "../../lib/runner";

/** The programs launchpad's deploy commands may need, besides Node itself. */
export type Tool = "pulumi" | "docker" | "kind" | "kubectl";


/** Why each tool is needed and how to get it: the text a user sees when it is missing. */
export const TOOLS: Readonly<Record<Tool, { readonly why: string; readonly install: readonly string[] }>> = {
    pulumi: {
        why: "the Pulumi CLI runs the deployment engine",
        install: [
            "macOS: brew install pulumi/tap/pulumi",
            "Linux: curl -fsSL https://get.pulumi.com | sh",
            "Windows: winget install pulumi",
            "more: https://www.pulumi.com/docs/iac/download-install/",
        ],
    },
    docker: {
        why: "builds and pushes the app images (and, on kind, runs the cluster and the local registry)",
        install: [
            "macOS/Windows: Docker Desktop, https://docs.docker.com/desktop/",
            "Linux: Docker Engine, https://docs.docker.com/engine/install/",
        ],
    },
    kind: {
        why: "runs the local Kubernetes cluster inside Docker",
        install: [
            "macOS: brew install kind",
            "Linux/Windows: a release binary, https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
            "with Go: go install sigs.k8s.io/kind@latest",
        ],
    },
    kubectl: {
        why: "installs the ingress controller on the kind cluster and waits until it is ready",
        install: ["macOS: brew install kubectl", "Linux/Windows: https://kubernetes.io/docs/tasks/tools/"],
    },
};

/** One unmet prerequisite: what is wrong and how to fix it. */
export interface Problem {
    readonly what: string;
    readonly fix: readonly string[];
}

/**
 * The Node.js problem for a `process.versions.node`-style version string, if it is too old: the same
 * line every command stops with on an old Node (tools/launch/nodeVersion.js), which names its fixes.
 */
export function nodeProblem(version: string): Problem | undefined {
    const what = nodeVersionProblem(version.startsWith("v") ? version : `v${version}`);
    return what === undefined ? undefined : { what, fix: [] };
}

function missing(tool: Tool): Problem {
    return { what: `${tool} is not installed: ${TOOLS[tool].why}`, fix: TOOLS[tool].install };
}

/** The first meaningful line of `docker info`'s complaint, so the user sees the daemon's own words. */
function firstLine(text: string): string {
    return (
        text
            .split("\n")
            .map((l) => l.trim())
            .find((l) => l !== "" && !/^(Client|Server):?$/.test(l)) ?? "no output"
    );
}

/**
 * Checks every prerequisite before anything is changed and returns all problems at once (never just
 * the first). `docker` counts as present only when its daemon answers `docker info`.
 */
export async function checkPrerequisites(runner: Runner, tools: readonly Tool[], nodeVersion: string): Promise<Problem[]> {
    const problems: Problem[] = [];
    const node = nodeProblem(nodeVersion);
    if (node) problems.push(node);
    for (const tool of tools) {
        if ((await runner.which(tool)) === undefined) {
            problems.push(missing(tool));
            continue;
        }
        if (tool === "docker") {
            const info = await runner.run("docker", ["info", "--format", "{{.ServerVersion}}"]);
            if (info.code !== 0) {
                problems.push({
                    what: `docker is installed but its daemon is not running (docker info: ${firstLine(info.stderr || info.stdout)})`,
                    fix: ["start Docker Desktop, or on Linux: sudo systemctl start docker", "then check with: docker info"],
                });
            }
        }
    }
    return problems;
}

/**
 * The report printed when prerequisites are missing: one block per problem, each with how to fix it;
 * after the stack's config problems (already formatted), when there are any, so both show at once.
 */
export function formatProblems(command: string, problems: readonly Problem[], stack = "dev", configProblems?: string): string {
    const lines = configProblems === undefined ? [] : [configProblems];
    if (problems.length > 0) {
        const count = problems.length === 1 ? "1 prerequisite is" : `${problems.length} prerequisites are`;
        lines.push(`launchpad ${command}: ${count} not met; nothing was changed:`);
        for (const p of problems) {
            lines.push(`  - ${p.what}`);
            for (const f of p.fix) lines.push(`      ${f}`);
        }
    }
    lines.push(`Fix the above, then run \`npm run ${command}${stack === "dev" ? "" : ` -- --stack ${stack}`}\` again.`);
    return lines.join("\n");
}

/** Where a stack deploys: a local kind cluster bootstrapped by launchpad, or an existing cloud cluster. */
export type Platform = "kind" | "cloud";

/** What a deploy command is asked to do, as far as prerequisites are concerned. */
export interface Need {
    readonly command: "up" | "preview" | "down";
    /** Undefined when the stack file cannot tell (it is not valid YAML): then what every platform needs. */
    readonly platform?: Platform;
    readonly deleteData?: boolean;
    readonly cluster?: boolean;
}

/**
 * The tools a command needs. Docker builds the images on every platform; kind and kubectl are only
 * needed where launchpad bootstraps the kind platform itself. A plain `down` only needs the engine.
 */
export function requiredTools(need: Need): Tool[] {
    if (need.command === "down") {
        if (need.cluster) return ["pulumi", "docker", "kind"];
        // --delete-data runs an update first (to lift the retain flags), and an update builds images
        return need.deleteData ? ["pulumi", "docker"] : ["pulumi"];
    }
    return need.platform === "kind" ? ["pulumi", "docker", "kind", "kubectl"] : ["pulumi", "docker"];
}
