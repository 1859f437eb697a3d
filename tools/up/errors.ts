import { Failure } from "../cli";

/**
 * A failure of up, preview or down the user can act on: its message says what happened and what to do,
 * and it is printed as it is, without a stack trace (exit 1). Anything else that escapes is a bug and is
 * reported as such.
 */
export class UpError extends Failure {
    constructor(message: string) {
        super(message);
        this.name = "UpError";
    }
}
