import { COLORS, EDGE_COLORS } from "./mermaid";
import { DiagramModel, DiagramNode, layering, NodeKind } from "./model";

// The same picture as Graphviz DOT, for the SVG: top to bottom, sized to be read at a README's width
// (about 900 px), with every box wide enough for its text in whatever sans-serif font the viewer has.

const FONT = "Helvetica";
/** Text sizes in points; the SVG keeps them as user units, so they are pixels at 1:1. */
export const FONT_SIZE = { title: 20, node: 15, edge: 14, namespace: 15 } as const;
/**
 * Width of one character as a share of the font size, on the safe side of the fonts a viewer may get
 * for Helvetica. Measured in Chromium over the dev picture's lines, the widest line per character:
 * Liberation Sans (Helvetica's metric twin) 0.52, bold 0.56; DejaVu Sans (the usual Linux fallback)
 * 0.59, bold 0.66; even DejaVu Sans Mono 0.60.
 */
export const CHAR_WIDTH = { regular: 0.62, bold: 0.7 } as const;
/** Space between a box's edge and its text, in points, on each side. */
const PADDING = 14;

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

/** The narrowest box, in points, that holds the node's text in a wide fallback font. */
export function minimumWidth(n: DiagramNode): number {
    const title = [...n.title].length * CHAR_WIDTH.bold * FONT_SIZE.node;
    const details = Math.max(0, ...n.details.map((d) => [...d].length * CHAR_WIDTH.regular * FONT_SIZE.node));
    // An oval or a cylinder's curved sides take room from the text.
    const shape = SHAPES[n.kind] === "oval" ? 1.45 : 1;
    return Math.ceil((Math.max(title, details) + 2 * PADDING) * shape);
}

function node(n: DiagramNode): string {
    const label = [`<b>${html(n.title)}</b>`, ...n.details.map(html)].join("<br/>");
    const { fill, stroke } = COLORS[n.kind];
    const style = n.kind === "note" ? "dashed,filled" : SHAPES[n.kind] === "box" ? "rounded,filled" : "filled";
    const width = (minimumWidth(n) / 72).toFixed(2);
    return `${n.id} [label=<${label}>, shape=${SHAPES[n.kind]}, width=${width}, style=${quoted(style)}, fillcolor=${quoted(fill)}, color=${quoted(stroke)}];`;
}

/** DOT text of the model, ending with a newline. */
export function toDot(model: DiagramModel): string {
    const lines = [
        "digraph launchpad {",
        `  graph [rankdir=TB, label=<<b>${html(model.title)}</b>>, labelloc=t, fontname=${quoted(FONT)}, fontsize=${FONT_SIZE.title}, nodesep=0.3, ranksep=0.45, pad=0.15, newrank=true];`,
        `  node [fontname=${quoted(FONT)}, fontsize=${FONT_SIZE.node}, margin="${(PADDING / 72).toFixed(2)},0.11", fontcolor="#202124", penwidth=1.4];`,
        `  edge [fontname=${quoted(FONT)}, fontsize=${FONT_SIZE.edge}, arrowsize=0.8];`,
    ];
    for (const n of model.nodes.filter((n) => !n.inNamespace)) lines.push(`  ${node(n)}`);
    lines.push("  subgraph cluster_namespace {");
    lines.push(`    label=${quoted(model.namespace)}; style="rounded,dashed"; color="#326ce5"; fontcolor="#326ce5"; fontsize=${FONT_SIZE.namespace}; bgcolor="#fafcff"; margin=14; labeljust=l;`);
    for (const n of model.nodes.filter((n) => n.inNamespace)) lines.push(`    ${node(n)}`);
    lines.push("  }");
    const heads = new Set<string>();
    const edge = (tail: string, head: string, attributes: readonly string[]) => {
        heads.add(head);
        lines.push(`  ${tail} -> ${head} [${attributes.join(", ")}];`);
    };
    for (const e of model.edges) {
        const { color, style, penwidth } = EDGE_COLORS[e.kind];
        const attributes = [
            ...(e.label ? [`label=${quoted(` ${e.label} `)}`] : []),
            `color=${quoted(color)}`, `fontcolor=${quoted(color)}`, `penwidth=${penwidth}`,
            ...(style === "dashed" ? ["style=dashed"] : []),
            // Traffic sets the ranks. A Secret hangs below the workloads that read it (drawn from the
            // reader, the arrow pointing back at it): in the row of the Services it would widen the picture.
            ...(e.kind === "reference" ? ["weight=0", "dir=back"] : ["weight=4"]),
        ];
        if (e.kind === "reference") edge(e.to, e.from, attributes);
        else edge(e.from, e.to, attributes);
    }
    // Top to bottom: the browser and the ingress controller above the namespace, then what the edges
    // say; the notes and the registry at the bottom, the registry under the notes rather than beside
    // the namespace (a weight pulls it there).
    for (const { above, below } of layering(model)) edge(above.id, below.id, ["style=invis", `weight=${above.kind === "note" ? 8 : 0}`]);
    // Anything in the namespace that nothing points at would rise beside the browser. (Only those:
    // an invisible edge across many ranks takes room of its own.)
    for (const ingress of model.nodes.filter((n) => n.kind === "ingress")) {
        for (const n of model.nodes.filter((n) => n.inNamespace && !heads.has(n.id))) edge(ingress.id, n.id, ["style=invis", "weight=0"]);
    }
    lines.push("}");
    return `${lines.join("\n")}\n`;
}
