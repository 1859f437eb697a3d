import { StackRun, runStack } from "../tools/harness";

// One run of the program per committed stack, shared by every test that reads a stack's unmodified
// output (the render, the policy pack, the doctor, the program's wiring): each run takes a few hundred ms.
const runs = new Map<string, Promise<StackRun>>();

/** The stack's committed config under mocks, run once and shared: read it, do not change it. */
export function stackRun(stack: string): Promise<StackRun> {
    if (!runs.has(stack)) runs.set(stack, runStack(stack));
    return runs.get(stack)!;
}
