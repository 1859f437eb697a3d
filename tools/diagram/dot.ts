import { COLORS } from "./mermaid";
import { DiagramModel, DiagramNode, NodeKind } from "./model";

// The same picture as Graphviz DOT, for the SVG.

const FONT = "Helvetica";

/** Text safe inside a Graphviz HTML-like label. */
function html(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A quoted DOT string. */
function quoted(text: string): string {
    return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

const SHAPES: Record<NodeKind, string> = {
    user: "oval",
    ingress: "box",
    service: "box",
    workload: "box",
    database: "cylinder",
    secret: "note",
    registry: "cylinder",
    note: "box",
};

function node(n: DiagramNode): string {
    const label = [`<b>${html(n.title)}</b>`, ...n.details.map(html)].join('<br align="left"/>') + (n.details.length ? '<br align="left"/>' : "");
    const { fill, stroke } = COLORS[n.kind];
    const style = n.kind === "note" ? "dashed,filled" : SHAPES[n.kind] === "box" ? "rounded,filled" : "filled";
    return `${n.id} [label=<${label}>, shape=${SHAPES[n.kind]}, style=${quoted(style)}, fillcolor=${quoted(fill)}, color=${quoted(stroke)}];`;
}

/** DOT text of the model, ending with a newline. */
export function toDot(model: DiagramModel): string {
    const lines = [
        "digraph launchpad {",
        `  graph [rankdir=LR, label=${quoted(model.title)}, labelloc=t, fontname=${quoted(FONT)}, fontsize=16, nodesep=0.35, ranksep=0.6, pad=0.3];`,
        `  node [fontname=${quoted(FONT)}, fontsize=11, margin="0.25,0.1", fontcolor="#202124", penwidth=1.2];`,
        `  edge [fontname=${quoted(FONT)}, fontsize=10, color="#5f6368", fontcolor="#3c4043"];`,
    ];
    for (const n of model.nodes.filter((n) => !n.inNamespace)) lines.push(`  ${node(n)}`);
    lines.push("  subgraph cluster_namespace {");
    lines.push(`    label=${quoted(model.namespace)}; style="rounded,dashed"; color="#326ce5"; fontcolor="#326ce5"; fontsize=13; bgcolor="#fafcff";`);
    for (const n of model.nodes.filter((n) => n.inNamespace)) lines.push(`    ${node(n)}`);
    lines.push("  }");
    const kindOf = new Map(model.nodes.map((n) => [n.id, n.kind]));
    for (const e of model.edges) {
        const attributes = [
            ...(e.label ? [`label=${quoted(` ${e.label} `)}`] : []),
            ...(e.dashed ? ["style=dashed"] : []),
            // Image pulls should not pull the registry into the middle of the traffic's left-to-right flow.
            ...(kindOf.get(e.from) === "registry" ? ["constraint=false"] : []),
        ];
        lines.push(`  ${e.from} -> ${e.to}${attributes.length ? ` [${attributes.join(", ")}]` : ""};`);
    }
    lines.push("}");
    return `${lines.join("\n")}\n`;
}
