import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT } from "../../components/project";

// Where a stack's state lives, for every command that runs the engine (up, preview, down, dev): the
// backend's URL and, for a file backend, its folders on this machine.

/** Where launchpad keeps what belongs to this machine only, inside the project and gitignored (`/.launchpad/`). */
export function localPaths(repoRoot: string): { dir: string; state: string; passphrase: string } {
    const dir = path.join(repoRoot, ".launchpad");
    return { dir, state: path.join(dir, "state"), passphrase: path.join(dir, "passphrase") };
}

/**
 * The Pulumi state backend: `PULUMI_BACKEND_URL` when the user set one (CI needs state that outlives
 * the run: an object-store bucket or Pulumi Cloud), otherwise a file backend inside the project, so a
 * laptop needs no account and no login. The directory is created on first use.
 */
export function backendUrl(repoRoot: string, env: Readonly<Record<string, string | undefined>>): string {
    const fromEnv = env.PULUMI_BACKEND_URL;
    if (fromEnv !== undefined && fromEnv !== "") {
        // The CLI refuses a file:// folder that does not exist yet ("unable to open state directory").
        if (isLocalBackend(fromEnv)) fs.mkdirSync(localBackendDir(fromEnv), { recursive: true, mode: 0o700 });
        return fromEnv;
    }
    const dir = localPaths(repoRoot).state;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return `file://${dir.split(path.sep).join("/")}`;
}

/** The folder of a `file://` backend URL (`file://~/x` is the CLI's shorthand for the home folder). */
export function localBackendDir(url: string): string {
    const rest = url.slice("file://".length);
    return rest === "~" || rest.startsWith("~/") ? path.join(os.homedir(), rest.slice(1)) : rest;
}

/** How to show where a stack's state is: a path relative to the project when inside it, else the URL. */
export function describeBackend(repoRoot: string, url: string): string {
    if (!isLocalBackend(url)) return url;
    const relative = path.relative(repoRoot, localBackendDir(url));
    return relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? localBackendDir(url) : relative;
}

/** Where a file backend keeps this project's stacks and their locks: Pulumi's project-scoped layout. */
export function projectStateFolders(backendDir: string): { readonly stacks: string; readonly locks: string } {
    return { stacks: path.join(backendDir, ".pulumi", "stacks", PROJECT), locks: path.join(backendDir, ".pulumi", "locks", "organization", PROJECT) };
}

/** Where a file backend keeps a stack's state (uncompressed). */
export function stackStateFile(backendDir: string, stack: string): string {
    return path.join(projectStateFolders(backendDir).stacks, `${stack}.json`);
}

export function isLocalBackend(url: string): boolean {
    return url.startsWith("file://");
}
