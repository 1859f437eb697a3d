import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import ignore from "@balena/dockerignore";

// What a Docker build depends on, as one digest: a changed file in the context (one Docker would send)
// or a changed Dockerfile means a new image; anything .dockerignore leaves out does not.

/** A file Docker sends with a build context. */
export interface ContextFile {
    /** Relative to the context, with "/" between folders. */
    readonly path: string;
    readonly type: "file" | "executable" | "symlink";
    /** The file's bytes; a symbolic link's target. */
    readonly content: Buffer | string;
}

/** Whether Docker sends a path (relative, "/"-separated) of a context with this .dockerignore, by Docker's own rules. */
export function dockerignoreFilter(dockerignore: string | undefined): (relativePath: string) => boolean {
    if (dockerignore === undefined) return () => true;
    const matcher = ignore({ ignorecase: false }).add(dockerignore);
    return (relativePath) => !matcher.ignores(relativePath);
}

const sha256 = (content: Buffer | string) => createHash("sha256").update(content).digest("hex");

/**
 * "sha256:…" over the Dockerfile's content and, in path order, each file's path, type and content.
 * The same files give the same digest on any machine, in any listing order.
 */
export function contextDigest(files: readonly ContextFile[], dockerfile: Buffer | string): string {
    const hash = createHash("sha256").update(`dockerfile ${sha256(dockerfile)}\n`);
    const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const file of sorted) hash.update(`${file.type} ${sha256(file.content)} ${JSON.stringify(file.path)}\n`);
    return `sha256:${hash.digest("hex")}`;
}

function readIfExists(file: string): string | undefined {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

/**
 * The ignore file Docker reads for a build, and its text: `<Dockerfile>.dockerignore` when it exists
 * (BuildKit's rule), else the context's `.dockerignore`; none when neither exists.
 */
export function ignoreFileOf(context: string, dockerfile: string): { readonly path: string; readonly text: string } | undefined {
    for (const file of [`${dockerfile}.dockerignore`, path.join(context, ".dockerignore")]) {
        const text = readIfExists(file);
        if (text !== undefined) return { path: file, text };
    }
    return undefined;
}

/**
 * The contextDigest of a build context on disk, with the files Docker would send: the ignore file is
 * `<Dockerfile>.dockerignore` when it exists (BuildKit's rule), else the context's `.dockerignore`.
 * `context` and `dockerfile` are paths as `docker build` takes them; the Dockerfile may lie outside.
 */
export function buildContextDigest(context: string, dockerfile: string): string {
    const ignoreFile = ignoreFileOf(context, dockerfile)?.text;
    const sends = dockerignoreFilter(ignoreFile);
    // An ignored folder can be skipped whole unless a "!" exception may bring something inside it back.
    const mayHaveExceptions = /^\s*!/m.test(ignoreFile ?? "");
    const files: ContextFile[] = [];
    const walk = (folder: string): void => {
        for (const entry of fs.readdirSync(path.join(context, folder), { withFileTypes: true })) {
            const relative = folder === "" ? entry.name : `${folder}/${entry.name}`;
            const full = path.join(context, relative);
            if (entry.isDirectory()) {
                if (mayHaveExceptions || sends(relative)) walk(relative);
            } else if (!sends(relative)) {
                continue;
            } else if (entry.isSymbolicLink()) {
                files.push({ path: relative, type: "symlink", content: fs.readlinkSync(full) });
            } else if (entry.isFile()) {
                const executable = (fs.statSync(full).mode & 0o111) !== 0;
                files.push({ path: relative, type: executable ? "executable" : "file", content: fs.readFileSync(full) });
            }
        }
    };
    walk("");
    return contextDigest(files, fs.readFileSync(dockerfile));
}
