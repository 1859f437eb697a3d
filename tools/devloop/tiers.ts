import * as path from "node:path";
import type { WebTier } from "../../components/app";
import { dockerignoreFilter, ignoreFileOf } from "../../components/buildContext";

// Which tier's image a saved file makes, judged as Docker judges a build context: a file Docker would
// send (its .dockerignore honoured, by the same parser the image's context digest uses), the Dockerfile,
// or the ignore file itself. Anything else (node_modules, dist, notes) changes no image.

/** A web tier's build inputs on disk, as absolute paths. */
export interface TierSource {
    readonly tier: WebTier;
    readonly context: string;
    readonly dockerfile: string;
}

/** One saved file, as a tier's image sees it. */
export interface TierPath {
    readonly tier: WebTier;
    /** Relative to the tier's context, "/" between folders (the Dockerfile by its name). */
    readonly file: string;
}

/** A tier's build context, with its ignore file read again whenever that file changes. */
export class TierFiles {
    private sends: (relative: string) => boolean = () => true;
    private ignorePath: string | undefined;

    constructor(readonly source: TierSource) {
        this.reload();
    }

    /** Reads the ignore file again (a change to it changes what Docker sends). */
    reload(): void {
        const ignore = ignoreFileOf(this.source.context, this.source.dockerfile);
        this.ignorePath = ignore?.path;
        this.sends = dockerignoreFilter(ignore?.text);
    }

    /** The file as the tier's image sees it, or undefined when saving it makes no new image. */
    changed(absolutePath: string): TierPath | undefined {
        const { tier, context, dockerfile } = this.source;
        const relative = path.relative(context, absolutePath).split(path.sep).join("/");
        const inside = relative !== "" && !relative.startsWith("../") && relative !== ".." && !path.isAbsolute(relative);
        const shown = inside ? relative : path.basename(absolutePath);
        if (absolutePath === dockerfile) return { tier, file: shown };
        const ignoreFiles = [`${dockerfile}.dockerignore`, path.join(context, ".dockerignore")];
        if (ignoreFiles.includes(absolutePath)) {
            const before = this.ignorePath;
            this.reload();
            return before === undefined && this.ignorePath === undefined ? undefined : { tier, file: shown };
        }
        if (!inside) return undefined;
        return this.sends(relative) ? { tier, file: relative } : undefined;
    }
}

/** The tiers whose image a saved file changes (usually one; two when they share a context). */
export function tiersOf(tiers: readonly TierFiles[], absolutePath: string): TierPath[] {
    return tiers.map((t) => t.changed(absolutePath)).filter((p): p is TierPath => p !== undefined);
}
