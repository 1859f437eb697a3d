// `npm run docs`: see COMMAND.
//
// Writes, from CONFIG_KEYS in components/config.ts alone, the README's config reference table (between
// its marker comments) and Pulumi.yaml's `config:` block. `npm test` fails when either differs from what
// this would write. Exit 0: both files are current (rewritten only where they differed); 1: with
// --check, one is not; 2: wrong usage (tools/cli.ts EXIT_RULE).

import * as fs from "fs";
import * as path from "path";
import { type CommandSpec, exitWith, helpOutcome, type Outcome, readCommandLine, runCommand } from "../../tools/cli";
import { withConfigTable, withProjectConfig } from "./docs";

export const COMMAND: CommandSpec = {
    name: "docs",
    synopsis: "[--check]",
    about:
        "Writes the README's config reference table and Pulumi.yaml's config: block from CONFIG_KEYS in components/config.ts,\n" +
        "the one place each key, its default and its check live; each file is rewritten only where it differs.",
    options: [{ flag: "--check", doc: "write nothing; exit 1 when a file differs from what would be written" }],
};

/** The command: argv in, exit code and output out; `root` is the project folder (tests pass a copy). */
export async function runDocs(argv: readonly string[], root = path.resolve(__dirname, "..", "..")): Promise<Outcome> {
    return runCommand(COMMAND, async () => {
        const flags = readCommandLine(argv, COMMAND);
        if (flags === "help") return helpOutcome(COMMAND);
        const check = flags.has("--check");
        const lines: string[] = [];
        let current = true;
        for (const [file, write] of [["README.md", withConfigTable], ["Pulumi.yaml", withProjectConfig]] as const) {
            const target = path.join(root, file);
            const before = fs.readFileSync(target, "utf8");
            const after = write(before);
            if (after === before) {
                lines.push(`${file}: current`);
                continue;
            }
            current = false;
            if (check) {
                lines.push(`${file}: differs from CONFIG_KEYS; run npm run docs`);
                continue;
            }
            fs.writeFileSync(target, after);
            lines.push(`${file}: written from CONFIG_KEYS`);
        }
        return { code: check && !current ? 1 : 0, stdout: `${lines.join("\n")}\n`, stderr: "" };
    });
}

if (require.main === module) exitWith(runDocs(process.argv.slice(2)));
