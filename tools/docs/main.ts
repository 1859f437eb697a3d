// `npm run docs`
//
// Writes, from CONFIG_KEYS in components/config.ts alone, the README's config reference table (between
// its marker comments) and Pulumi.yaml's `config:` block. `npm test` fails when either differs from what
// this would write. Exit 0: both files are current (rewritten only where they differed).

import * as fs from "fs";
import * as path from "path";
import { withConfigTable, withProjectConfig } from "./docs";

const ROOT = path.resolve(__dirname, "..", "..");

for (const [file, write] of [["README.md", withConfigTable], ["Pulumi.yaml", withProjectConfig]] as const) {
    const target = path.join(ROOT, file);
    const before = fs.readFileSync(target, "utf8");
    const after = write(before);
    if (after === before) {
        console.log(`${file}: current`);
        continue;
    }
    fs.writeFileSync(target, after);
    console.log(`${file}: written from CONFIG_KEYS`);
}
