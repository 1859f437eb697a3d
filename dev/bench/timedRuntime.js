// @ts-check
"use strict";
// Pulumi's runtime entry with a stopwatch, for `npm run bench -- --host-share`: given to the language host
// as PULUMI_LANGUAGE_NODEJS_RUN_PATH (which Pulumi's host and dev/testbed/langhost both honour), it is
// started in place of @pulumi/pulumi/cmd/run with the same arguments, appends when this Node process
// started and when it exits to the file named by LAUNCHPAD_HOST_SHARE_LOG, and runs the program's own
// cmd/run (resolved from the program's folder, `--pwd`, as the host resolves it).

const fs = require("fs");

const log = process.env.LAUNCHPAD_HOST_SHARE_LOG;
if (log) {
    process.on("exit", (code) => {
        const record = { started: performance.timeOrigin, ended: performance.timeOrigin + performance.now(), code };
        fs.appendFileSync(log, `${JSON.stringify(record)}\n`);
    });
}
const flags = process.argv.slice(2);
const at = flags.indexOf("--pwd");
const inline = flags.find((flag) => flag.startsWith("--pwd="));
const programFolder = at >= 0 ? flags[at + 1] : inline ? inline.slice("--pwd=".length) : process.cwd();
require(require.resolve("@pulumi/pulumi/cmd/run", { paths: [programFolder] }));
