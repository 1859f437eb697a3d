// The statistics the benchmark quotes: medians and spreads of repeated runs, and the straight line
// through cost against size that gives the marginal cost of one more web service.

/** A set of repeated measurements, summarised. */
export interface Summary {
    readonly runs: number;
    readonly median: number;
    readonly min: number;
    readonly max: number;
    /** First and third quartiles: half of the runs fall between them. */
    readonly q1: number;
    readonly q3: number;
}

function sorted(values: readonly number[]): number[] {
    if (values.length === 0) throw new Error("no measurements to summarise");
    if (values.some((v) => !Number.isFinite(v))) throw new Error(`measurements must be finite numbers, got ${values.join(", ")}`);
    return [...values].sort((a, b) => a - b);
}

/** The `q` quantile (0..1) with linear interpolation between closest ranks (R's type 7, numpy's default). */
export function quantile(values: readonly number[], q: number): number {
    if (!(q >= 0 && q <= 1)) throw new Error(`a quantile is between 0 and 1, not ${q}`);
    const xs = sorted(values);
    const position = (xs.length - 1) * q;
    const lower = Math.floor(position);
    const upper = Math.ceil(position);
    return xs[lower] + (xs[upper] - xs[lower]) * (position - lower);
}

export function median(values: readonly number[]): number {
    return quantile(values, 0.5);
}

export function summarize(values: readonly number[]): Summary {
    const xs = sorted(values);
    return { runs: xs.length, median: quantile(xs, 0.5), min: xs[0], max: xs[xs.length - 1], q1: quantile(xs, 0.25), q3: quantile(xs, 0.75) };
}

/** y = intercept + slope·x, fitted by least squares. */
export interface LinearFit {
    readonly slope: number;
    readonly intercept: number;
    /** Share of the variance the line explains (1: every point on it). */
    readonly r2: number;
}

export function linearFit(points: readonly { readonly x: number; readonly y: number }[]): LinearFit {
    if (points.length < 2) throw new Error(`a line needs at least 2 points, got ${points.length}`);
    const n = points.length;
    const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
    const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
    const sxx = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
    if (sxx === 0) throw new Error("a line needs points at two different x at least");
    const sxy = points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0);
    const syy = points.reduce((sum, p) => sum + (p.y - meanY) ** 2, 0);
    const slope = sxy / sxx;
    return { slope, intercept: meanY - slope * meanX, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}
