/** Exit codes of launchpad's deploy commands. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * A failure the user can act on: its message says what happened and what to do, and it is printed
 * without a stack trace. Anything else that escapes is a bug and is reported as such.
 */
export class UpError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT.failure,
    ) {
        super(message);
        this.name = "UpError";
    }
}

/** A mistake in how the command was called (unknown flag, unknown stack): exit code 2. */
export class UsageError extends UpError {
    constructor(message: string) {
        super(message, EXIT.usage);
        this.name = "UsageError";
    }
}
