// DOT → SVG with Graphviz compiled to WebAssembly (@viz-js/viz): no native Graphviz, no browser.
// Loaded only here, so nothing else pays for the WebAssembly module.

interface Viz {
    renderString(input: string, options: { format: string; engine?: string }): string;
}

/** Lays out and draws DOT text as a standalone SVG document. */
export async function dotToSvg(dot: string): Promise<string> {
    // The package's CommonJS build; its ESM build is the default export condition.
    const { instance } = require("@viz-js/viz") as { instance(): Promise<Viz> };
    const viz = await instance();
    return viz.renderString(dot, { format: "svg", engine: "dot" });
}
