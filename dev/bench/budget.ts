// The performance budgets, checked by `npm run bench` (never by timed tests). The
// floor and the programs are started through Pulumi's runtime entry (cmd/run), as for `pulumi preview`.

export type Verdict = "PASS" | "FAIL";

export interface Budget {
    readonly id: "devProgram" | "perServiceTime" | "perServiceMemory" | "render" | "testSuite";
    /** What is measured, as the results table says it. */
    readonly what: string;
    readonly limit: number;
    readonly unit: "x floor" | "x SDK" | "ms" | "MiB" | "s";
    /** `<` rather than `<=`. */
    readonly strict: boolean;
}

export const BUDGETS: readonly Budget[] = [
    { id: "devProgram", what: "dev stack program (as `npm run preview` starts it) wall time", limit: 1.1, unit: "x floor", strict: false },
    { id: "perServiceTime", what: "marginal wall time per web service (as `npm run preview` starts it)", limit: 12, unit: "ms", strict: false },
    // The SDK's own: nearly all of a web service's memory is the SDK's promises and stacks per resource
    // (docs/performance.md), so the budget is what the SDK itself takes per web service as a user's
    // `pulumi preview` starts the same fleet; launchpad's path must not add to it.
    { id: "perServiceMemory", what: "marginal peak memory per web service (as `npm run preview` starts it), vs. the SDK's own (as `pulumi preview` starts it)", limit: 1, unit: "x SDK", strict: false },
    { id: "render", what: "`npm run render -- --stack dev` wall time", limit: 1.2, unit: "x floor", strict: false },
    { id: "testSuite", what: "whole test suite (mocha) wall time", limit: 20, unit: "s", strict: true },
];

/** What was measured for each budget; `undefined` when it could not be measured. */
export type Measured = Readonly<Partial<Record<Budget["id"], number>>>;

export interface BudgetLine {
    readonly budget: Budget;
    readonly measured: number | undefined;
    readonly verdict: Verdict;
}

/** PASS when the measurement is within the limit; a budget that could not be measured fails. */
export function verdict(measured: number | undefined, budget: Pick<Budget, "limit" | "strict">): Verdict {
    if (measured === undefined || !Number.isFinite(measured)) return "FAIL";
    return (budget.strict ? measured < budget.limit : measured <= budget.limit) ? "PASS" : "FAIL";
}

export function checkBudgets(measured: Measured, budgets: readonly Budget[] = BUDGETS): BudgetLine[] {
    return budgets.map((budget) => ({ budget, measured: measured[budget.id], verdict: verdict(measured[budget.id], budget) }));
}
