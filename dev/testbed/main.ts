import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { buildParts, missingParts } from "./parts";
import { layout, REAL_NODE } from "./layout";
import { listening, realNodeState, serverStates, start, stop } from "./lifecycle";
import { TestbedError } from "./processes";

export const USAGE = `Usage: npm run testbed -- build|start|stop|status [--wipe]

A real deployment target on this machine: the Pulumi CLI and the Kubernetes plugin built from their Go
modules, a Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler), one real node
(kubelet, containerd, kube-proxy, CoreDNS, kube-router, Traefik) in a network namespace of its own and
two simulated ones (kwok), Debian's Docker Engine and an authenticated registry, all on 127.0.0.1.

  build    build (or finish building) every part into the cache; idempotent
  start    start every server and write the env file to source (. <file>)
  stop     stop every server the testbed started, by pid (--wipe also deletes the cluster's,
           registry's and stacks' data, keeping what was built)
  status   what is built and what runs

Cache and data: $LAUNCHPAD_TESTBED_HOME (default ~/.cache/launchpad/testbed).`;

const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export async function main(argv: readonly string[], out: (line: string) => void = console.log): Promise<number> {
    let parsed;
    try {
        parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { wipe: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
    } catch (e) {
        out(`testbed: ${(e as Error).message}\n${USAGE}`);
        return EXIT.usage;
    }
    const [command, ...extra] = parsed.positionals;
    if (parsed.values.help) {
        out(USAGE);
        return EXIT.ok;
    }
    if (!["build", "start", "stop", "status"].includes(command ?? "") || extra.length > 0 || (parsed.values.wipe && command !== "stop")) {
        out(`testbed: ${command === undefined ? "missing command" : `unknown command "${[command, ...extra].join(" ")}"`}\n${USAGE}`);
        return EXIT.usage;
    }
    const l = layout();
    try {
        switch (command) {
            case "build": {
                const r = await buildParts(l, out);
                out(r.built.length === 0 ? `testbed: everything is built (${l.parts})` : `testbed: built ${r.built.join(", ")} in ${(r.seconds / 60).toFixed(1)} min`);
                return EXIT.ok;
            }
            case "start": {
                const r = await start(l, out);
                out(r.alreadyRunning ? "testbed: already running; nothing was started" : `testbed: started in ${r.seconds.toFixed(1)} s`);
                out(`testbed: use it with: . ${r.envFile}`);
                return EXIT.ok;
            }
            case "stop": {
                const stopped = await stop(l);
                out(stopped.length === 0 ? "testbed: nothing was running" : `testbed: stopped ${stopped.join(", ")}`);
                if (parsed.values.wipe) {
                    for (const dir of [l.data, l.state, l.run]) fs.rmSync(dir, { recursive: true, force: true });
                    out(`testbed: deleted the cluster's, registries', images' and stacks' data; what was built stays in ${l.parts}`);
                }
                const busy = await listening();
                if (busy.length > 0) {
                    out(`testbed: still listening on ${busy.map((p) => `127.0.0.1:${p}`).join(", ")}: not a process this testbed started (see \`ss -ltnp\`)`);
                    return EXIT.failure;
                }
                return EXIT.ok;
            }
            case "status": {
                const missing = missingParts(l);
                out(missing.length === 0 ? `testbed: built (${l.home})` : `testbed: not built: ${missing.join(", ")} (npm run testbed -- build)`);
                for (const s of serverStates(l)) out(`  ${s.name.padEnd(24)} ${s.pid !== undefined ? `running, pid ${s.pid}` : "stopped"}`);
                const running = serverStates(l).filter((s) => s.pid !== undefined).length;
                if (running > 0) {
                    out(`  ${`node ${REAL_NODE.name}`.padEnd(24)} ${await realNodeState(l)}`);
                    out(`testbed: env file ${l.envFile}`);
                }
                return EXIT.ok;
            }
        }
    } catch (e) {
        if (e instanceof TestbedError) {
            out(`testbed: ${e.message}`);
            return EXIT.failure;
        }
        throw e;
    }
    return EXIT.usage;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
        console.error(`testbed: unexpected error (a bug; please report it):`, e);
        process.exit(EXIT.failure);
    });
}
