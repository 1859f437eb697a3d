import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RESULTS_FILE, withSections } from "../../dev/bench/report";
import { ROOT } from "./support";

/** docs/RELIABILITY.md: the e2e suite's sections, each written by the test file its marker names. */
const RELIABILITY_FILE = path.join(ROOT, "docs", "RELIABILITY.md");
const RELIABILITY_SECTIONS = {
    realNode: "<!-- changes while the app serves, on the real node: written by npm run e2e (tests/e2e/app.e2e.ts) -->",
    faults: "<!-- faults injected: written by npm run e2e (tests/e2e/faults.e2e.ts) -->",
} as const;

/** Replaces one section of docs/RELIABILITY.md, keeping the others. */
export function writeReliabilitySection(name: keyof typeof RELIABILITY_SECTIONS, text: string): void {
    const now = fs.existsSync(RELIABILITY_FILE) ? fs.readFileSync(RELIABILITY_FILE, "utf8") : "";
    const head = "# Reliability on the real testbed\n";
    const current = now.startsWith(head) ? now : head;
    fs.mkdirSync(path.dirname(RELIABILITY_FILE), { recursive: true });
    fs.writeFileSync(RELIABILITY_FILE, withSections(current, { [name]: text }, RELIABILITY_SECTIONS));
}

/** The figures app.e2e measures, by what they are: a description and a value. */
export type Figures = Readonly<Record<string, string>>;

/** Writes the e2e suite's figures of the app on the real node into their section of bench/RESULTS.md, and of docs/RELIABILITY.md. */
export function writeRealNodeFigures(figures: Figures): void {
    const day = new Date().toISOString().slice(0, 10);
    const table = ["| what | measured |", "| --- | --: |", ...Object.entries(figures).map(([what, value]) => `| ${what} | ${value} |`)];
    const section = [
        "## The app on the testbed's real node",
        "",
        `Written by \`npm run e2e\` (tests/e2e/app.e2e.ts) on ${day} (${os.cpus().length} cores): the sample app deployed by`,
        "`npm run up -- --stack testbed` onto the testbed's real node (kubelet, containerd, kube-proxy, CoreDNS, kube-router,",
        "Traefik), each figure from one run.",
        "",
        ...table,
    ].join("\n");
    const results = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, "utf8") : "# Benchmark results\n";
    fs.writeFileSync(RESULTS_FILE, withSections(results, { realNode: section }));
    writeReliabilitySection("realNode", [
        "## Changes while the app serves, on the real node",
        "",
        `Written by \`npm run e2e\` (tests/e2e/app.e2e.ts) on ${day}: the app on the testbed's real node, a note written in`,
        "Chromium through the ingress controller; each change made while it runs, and what the suite measured. The note was",
        "still there after each (the test fails otherwise).",
        "",
        ...table,
    ].join("\n"));
}

/** Writes the kind e2e's timings (tests/e2e/kind.e2e.ts) into their section of bench/RESULTS.md. */
export function writeKindFigures(figures: Figures): void {
    const day = new Date().toISOString().slice(0, 10);
    const section = [
        "## The main job on kind: `npm run up` from nothing, on the testbed's kind platform",
        "",
        `Written by \`npm run e2e\` (tests/e2e/kind.e2e.ts) on ${day} (${os.cpus().length} cores): the README's kind section in a fresh`,
        "clone, with the testbed's mirror settings (a kind node image built here, the ingress controller's manifest, postgres:15);",
        "kind v0.33 and Docker Engine in a network namespace of their own, builds through Docker's proxy config (its layer cache",
        "as the previous run left it, as on a laptop). One run each.",
        "",
        "| what | measured |",
        "| --- | --: |",
        ...Object.entries(figures).map(([what, value]) => `| ${what} | ${value} |`),
    ].join("\n");
    const results = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, "utf8") : "# Benchmark results\n";
    fs.writeFileSync(RESULTS_FILE, withSections(results, { kind: section }));
}
