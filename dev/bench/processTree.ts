import * as fs from "fs";
import * as path from "path";

// Peak memory of each process in a tree, from Linux's /proc: the real engine runs a deployment as
// several processes (the `pulumi` CLI, the language host, the program's Node process, each provider),
// and GNU time's figure is only the largest of them. A sampler walks the tree every few milliseconds
// and keeps each process's high-water mark (VmHWM, which the kernel keeps for the process's whole
// life, so a sample shortly before it exits sees its peak).

/** What a process of a Pulumi deployment is, from its command line. */
export type Role = "engine" | "language host" | "program" | "kubernetes provider" | "dynamic provider" | "other";

/** The role of a process from its argv (as /proc/PID/cmdline holds it). */
export function roleOf(argv: readonly string[]): Role {
    const exe = path.basename(argv[0] ?? "");
    if (exe === "pulumi") return "engine";
    if (exe === "pulumi-language-nodejs") return "language host";
    if (exe === "pulumi-resource-kubernetes") return "kubernetes provider";
    if (exe === "node" || exe.startsWith("node")) {
        if (argv.some((a) => a.includes("dynamic-provider"))) return "dynamic provider";
        if (argv.some((a) => /@pulumi[/\\]pulumi[/\\]cmd[/\\]run/.test(a))) return "program";
    }
    return "other";
}

/** The high-water mark of a process's resident memory in KiB, from the text of /proc/PID/status. */
export function highWaterKiB(status: string): number | undefined {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return m ? Number(m[1]) : undefined;
}

/** The parent pid, from the text of /proc/PID/stat (its command may hold spaces and parentheses). */
export function parentOf(stat: string): number | undefined {
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(rest[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
}

function read(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return undefined; // the process ended between the listing and the read
    }
}

/** The pids of `root` and all its descendants alive now. */
function tree(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = read(`/proc/${entry}/stat`);
        const ppid = stat === undefined ? undefined : parentOf(stat);
        if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    }
    const out: number[] = [];
    const todo = [root];
    while (todo.length > 0) {
        const pid = todo.pop()!;
        out.push(pid);
        todo.push(...(children.get(pid) ?? []));
    }
    return out;
}

/** Peak resident memory per role, in KiB (the largest process of a role, when several share it). */
export type PeakMemory = Partial<Record<Role, number>>;

/**
 * Samples the tree under `root` every `intervalMs` until `stop()` is called, which returns the peaks.
 * Processes that live shorter than one interval may be missed: give a small interval.
 */
export function sampleTree(root: number, intervalMs = 50): { stop: () => PeakMemory } {
    const peaks = new Map<number, { role: Role; kib: number }>();
    const sample = () => {
        for (const pid of tree(root)) {
            const status = read(`/proc/${pid}/status`);
            const kib = status === undefined ? undefined : highWaterKiB(status);
            if (kib === undefined) continue;
            const known = peaks.get(pid);
            const role = known?.role ?? roleOf((read(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean));
            peaks.set(pid, { role, kib: Math.max(kib, known?.kib ?? 0) });
        }
    };
    sample();
    const timer = setInterval(sample, intervalMs);
    return {
        stop: () => {
            clearInterval(timer);
            const out: PeakMemory = {};
            for (const { role, kib } of peaks.values()) out[role] = Math.max(kib, out[role] ?? 0);
            return out;
        },
    };
}

/** A process's resident memory now in KiB, from the text of /proc/PID/status. */
export function residentKiB(status: string): number | undefined {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return m ? Number(m[1]) : undefined;
}

/**
 * Samples the tree under `root` every `intervalMs` until `stop()`, which returns the most memory the
 * whole tree held at once: the largest sum of its processes' resident memory at one sample, in KiB.
 */
export function sampleTreeTotal(root: number, intervalMs = 50): { stop: () => number } {
    let peak = 0;
    const sample = () => {
        let sum = 0;
        for (const pid of tree(root)) {
            const status = read(`/proc/${pid}/status`);
            sum += (status === undefined ? undefined : residentKiB(status)) ?? 0;
        }
        peak = Math.max(peak, sum);
    };
    sample();
    const timer = setInterval(sample, intervalMs);
    return {
        stop: () => {
            clearInterval(timer);
            return peak;
        },
    };
}
