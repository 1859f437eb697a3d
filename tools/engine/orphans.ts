import * as fs from "node:fs";
import * as path from "node:path";
import { probeTcp } from "../../lib/net";

// The Pulumi plugin processes a killed run leaves running. The engine starts every plugin in a process
// group of its own, so a SIGKILL to `npm run up` (its group) does not reach them, and they are
// reparented to init. Node's dynamic provider (the image and password resources' provider) then waits
// for good: Pulumi's shim `pulumi-resource-pulumi-nodejs` (a shell script) runs `node
// …/cmd/dynamic-provider/index.js <engine address>` as its child, which never exits on its own. Before the engine runs again, launchpad ends the orphaned plugins whose
// engine no longer answers, each with its process group (the shim and its node).

/** A process as the machine's process table shows it. */
export interface PluginProcess {
    readonly pid: number;
    readonly ppid: number;
    /** Its process group: the engine starts each plugin as the leader of one. */
    readonly pgid: number;
    readonly args: readonly string[];
}

/** The machine's processes; the live boundary, replaced in unit tests. */
export interface ProcessTable {
    list(): PluginProcess[];
    /** Whether something accepts connections at host:port; when it cannot tell, true. */
    answers(address: string): Promise<boolean>;
    /** Ends the process: with its group when it leads one. */
    end(p: PluginProcess): void;
}

const PLUGIN = /^pulumi-(?:resource|language|analyzer|converter)-/;
const DYNAMIC_PROVIDER = path.join("@pulumi", "pulumi", "cmd", "dynamic-provider");
const LOOPBACK = /^(?:127\.0\.0\.1|localhost|\[::1\]):\d+$/;

/**
 * A Pulumi plugin whose parent is gone (reparented to init), started for an engine at a loopback
 * address: the address it was given, else undefined.
 */
export function orphanedPluginEngine(p: PluginProcess): string | undefined {
    if (p.ppid !== 1 || p.args.length < 2) return undefined;
    // The program itself, or the script an interpreter runs (Pulumi's shim for Node's dynamic provider).
    const isPlugin = p.args.slice(0, 2).some((a) => PLUGIN.test(path.basename(a))) || p.args.some((a) => a.includes(DYNAMIC_PROVIDER));
    const address = p.args[p.args.length - 1];
    return isPlugin && LOOPBACK.test(address) ? address : undefined;
}

/** "pulumi-resource-kubernetes", "dynamic-provider" (Node's, under Pulumi's shim), …: how a plugin is named to the user. */
export function pluginName(p: PluginProcess): string {
    if (p.args.some((a) => a.includes(DYNAMIC_PROVIDER))) return "dynamic-provider";
    return path.basename(p.args.slice(0, 2).find((a) => PLUGIN.test(path.basename(a))) ?? p.args[0]);
}

/** Ends the orphaned Pulumi plugins whose engine does not answer; returns them. */
export async function endOrphanedPlugins(table: ProcessTable): Promise<PluginProcess[]> {
    const ended: PluginProcess[] = [];
    for (const p of table.list()) {
        const engine = orphanedPluginEngine(p);
        if (engine === undefined || (await table.answers(engine))) continue;
        table.end(p);
        ended.push(p);
    }
    return ended;
}

/** This machine's processes, read from /proc (none where there is no /proc). */
export const processTableLive: ProcessTable = {
    list() {
        let pids: string[];
        try {
            pids = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name));
        } catch {
            return [];
        }
        const found: PluginProcess[] = [];
        for (const pid of pids) {
            try {
                const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
                // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
                const [, ppid, pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
                const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
                found.push({ pid: Number(pid), ppid, pgid, args });
            } catch {
                // gone meanwhile, or not ours to read
            }
        }
        return found;
    },
    async answers(address) {
        const at = address.lastIndexOf(":");
        return (await probeTcp(address.slice(0, at).replace(/^\[|\]$/g, ""), Number(address.slice(at + 1)))) !== "refused";
    },
    end(p) {
        try {
            process.kill(p.pgid === p.pid ? -p.pid : p.pid, "SIGTERM");
        } catch {
            // gone already
        }
    },
};
