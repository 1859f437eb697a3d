// Node architecture: the images are built for one platform (`imagePlatform`, e.g. linux/amd64); a pod that
// lands on a node of another (an arm64 node pool) pulls the image and dies with `exec format error`. The
// scheduler does not know an image's platform, so the doctor compares it with the nodes' own labels. Pure.

import { ClusterCheck, finding } from "./checks";
import { configFix, setPath } from "./diagnose";
import type { KubeNode, WorkloadVerdict } from "./schedule";

/** "linux/amd64" for a node, from its kubernetes.io/os and kubernetes.io/arch labels (or nodeInfo); undefined if unknown. */
export function nodePlatform(node: KubeNode): string | undefined {
    const info = (node.status as { nodeInfo?: { operatingSystem?: string; architecture?: string } } | undefined)?.nodeInfo;
    const os = node.metadata.labels?.["kubernetes.io/os"] ?? info?.operatingSystem;
    const arch = node.metadata.labels?.["kubernetes.io/arch"] ?? info?.architecture;
    return os && arch ? `${os}/${arch}` : undefined;
}

/** "linux/arm64/v8" → "linux/arm64": what a node label can say of a platform. */
function osArch(platform: string): string {
    return platform.split("/").slice(0, 2).join("/");
}

function names(list: readonly string[]): string {
    return list.length <= 4 ? list.join(", ") : `${list.slice(0, 3).join(", ")} and ${list.length - 3} more`;
}

/**
 * The nodes each workload's pods may run on: those that accept them now, and those that refuse them only
 * for room (capacity frees up; a label or taint does not change by itself). When no workload has any such
 * node the question is moot for scheduling, and every node is compared.
 */
function reachable(verdicts: readonly WorkloadVerdict[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const v of verdicts) {
        const by = `${v.workload.kind}/${v.workload.name}`;
        for (const { node, result } of v.perNode) {
            if (result.fits || result.plugin === "NodeResourcesFit" || result.plugin === "NodePorts") out.set(node, [...(out.get(node) ?? []), by]);
        }
    }
    return out;
}

/**
 * Whether the images' platform matches every node the stack's pods may land on. All of them another
 * platform: set imagePlatform to theirs. Some: keep the pods on matching nodes with a nodeSelector.
 */
export function checkArchitecture(nodes: readonly KubeNode[], verdicts: readonly WorkloadVerdict[], ctx: { stack: string; imagePlatform: string }): ClusterCheck[] {
    if (nodes.length === 0) return [];
    const wanted = osArch(ctx.imagePlatform);
    const everyone = verdicts.map((v) => `${v.workload.kind}/${v.workload.name}`);
    const result = (status: ClusterCheck["status"], usedBy: string[], message: string) => [finding("architecture", ctx.imagePlatform, usedBy, status, message)];

    const onNodes = reachable(verdicts);
    const candidates = onNodes.size > 0 ? nodes.filter((n) => onNodes.has(n.metadata.name)) : [...nodes];
    const scope = onNodes.size > 0 ? "the nodes the pods may run on" : "the nodes";
    const known = candidates.filter((n) => nodePlatform(n) !== undefined);
    if (known.length === 0) {
        return result("unknown", everyone, `cannot tell whether ${scope} run ${wanted} images (imagePlatform): none has a kubernetes.io/arch label`);
    }
    const other = known.filter((n) => nodePlatform(n) !== wanted);
    if (other.length === 0) {
        return result("ok", everyone, `the images are built for ${ctx.imagePlatform} (imagePlatform), the platform of ${scope} (${names(known.map((n) => n.metadata.name))})`);
    }
    const crash = "where their containers would fail with `exec format error`";
    const otherPlatforms = [...new Set(other.map((n) => nodePlatform(n)!))];
    const usedBy = onNodes.size > 0 ? [...new Set(other.flatMap((n) => onNodes.get(n.metadata.name) ?? []))] : everyone;
    const otherNames = names(other.map((n) => n.metadata.name));
    if (other.length === known.length && otherPlatforms.length === 1) {
        const fix = configFix({ stack: ctx.stack }, "imagePlatform", otherPlatforms[0], "").commands![0];
        return result("failed", usedBy, `the images are built for ${ctx.imagePlatform} (imagePlatform), but ${scope} are ${otherPlatforms[0]} (${otherNames}), ${crash}; build for theirs: ${fix}`);
    }
    const arch = wanted.split("/")[1];
    const matching = known.length - other.length;
    const fix = matching > 0
        ? `keep the pods on the ${wanted} nodes: ${setPath(ctx.stack, 'nodeSelector["kubernetes.io/arch"]', arch)}`
        : `build for the nodes' platform (imagePlatform) and keep the pods on those nodes with nodeSelector kubernetes.io/arch`;
    return result("failed", usedBy, `the images are built for ${ctx.imagePlatform} (imagePlatform), but the pods may run on ${otherPlatforms.join(" and ")} nodes (${otherNames}), ${crash}; ${fix}`);
}
