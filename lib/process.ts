/**
 * Whether a process (or, for a negative pid, a process group) exists: signal 0 checks without sending
 * anything. One that exists but is not ours (EPERM) is alive too.
 */
export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}
