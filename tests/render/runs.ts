import { StackRun, runStack } from "../../tools/harness";

// One run of the program per stack for every render test (each run takes a few hundred ms).
const runs = new Map<string, Promise<StackRun>>();

/** The stack's committed config under mocks, run once and shared. */
export function stackRun(stack: string): Promise<StackRun> {
    if (!runs.has(stack)) runs.set(stack, runStack(stack));
    return runs.get(stack)!;
}
