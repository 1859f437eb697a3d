import { EXIT } from "../cli";

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
