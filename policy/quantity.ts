/**
 * Kubernetes resource quantities ("250m", "512Mi", "1.5", "1e3") as plain numbers, so a request can be
 * compared with its limit. Follows the grammar of k8s.io/apimachinery's resource.Quantity.
 */

const BINARY_SUFFIX_POWER: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIX_EXPONENT: Record<string, number> = {
    n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18,
};

// A bare "E" is exa; "E" followed by digits is an exponent ("1E3" = 1000), so the exponent form is tried first.
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E)?)$/;

/** The value of `quantity` in base units (cores, bytes), or `undefined` if it is not a valid quantity. */
export function parseQuantity(quantity: string | number): number | undefined {
    if (typeof quantity === "number") {
        return Number.isFinite(quantity) ? quantity : undefined;
    }
    const match = QUANTITY.exec(quantity.trim());
    if (!match) {
        return undefined;
    }
    const [, mantissa, binarySuffix, exponent, decimalSuffix] = match;
    if (binarySuffix !== undefined) {
        return Number(mantissa) * 2 ** (10 * BINARY_SUFFIX_POWER[binarySuffix]);
    }
    // Build "<mantissa>e<exp>" so "300m" parses to exactly the same double as "0.3".
    const exp = exponent !== undefined ? Number(exponent) : DECIMAL_SUFFIX_EXPONENT[decimalSuffix ?? ""];
    return Number(`${mantissa}e${exp}`);
}
