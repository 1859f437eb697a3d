// DOT → SVG with Graphviz compiled to WebAssembly (@viz-js/viz): no native Graphviz, no browser.
// Loaded only here, so nothing else pays for the WebAssembly module.

interface Viz {
    renderString(input: string, options: { format: string; engine?: string }): string;
}

/**
 * Centres every line of a node's label on the node. Graphviz anchors each line at its start, where
 * its own Helvetica metrics say a centred line begins; in a wider font (the viewer's fallback) the
 * line would run off-centre and out of its box. Anchored at the middle, it stays centred in any font.
 */
export function centreNodeText(svg: string): string {
    return svg.replace(/<g id="node\d+" class="node">[\s\S]*?<\/g>/g, (group) => {
        const xs: number[] = [];
        for (const [, points] of group.matchAll(/ (?:d|points)="([^"]*)"/g)) {
            for (const [, x] of points.matchAll(/(-?[\d.]+),-?[\d.]+/g)) xs.push(Number(x));
        }
        for (const [, cx, rx] of group.matchAll(/<ellipse[^>]* cx="(-?[\d.]+)"[^>]* rx="([\d.]+)"/g)) xs.push(Number(cx) - Number(rx), Number(cx) + Number(rx));
        if (xs.length === 0) return group;
        const centre = Number(((Math.min(...xs) + Math.max(...xs)) / 2).toFixed(2));
        return group.replace(/ text-anchor="start" x="-?[\d.]+"/g, ` text-anchor="middle" x="${centre}"`);
    });
}

/** Lays out and draws DOT text as a standalone SVG document. */
export async function dotToSvg(dot: string): Promise<string> {
    // The package's CommonJS build; its ESM build is the default export condition.
    const { instance } = require("@viz-js/viz") as { instance(): Promise<Viz> };
    const viz = await instance();
    return centreNodeText(viz.renderString(dot, { format: "svg", engine: "dot" }));
}
