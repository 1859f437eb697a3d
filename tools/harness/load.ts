// The harness for a command, loaded on first use: the program, its components and the Pulumi runtime
// are loaded only when a command runs a stack, not for its --help or a usage error, and tests that
// inject their own runs never load them.

import type { StackRun } from "./index";

/** Runs the program under mocks for a stack. */
export function loadStack(stack: string): Promise<StackRun> {
    const harness = require("./index") as typeof import("./index");
    return harness.runStack(stack);
}

/** Stacks with a committed stack file. */
export function stacks(): string[] {
    const harness = require("./index") as typeof import("./index");
    return harness.listStacks();
}
