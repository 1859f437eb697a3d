/**
 * Kubernetes resource quantities ("250m", "512Mi", "+1.5", "1e3"): the one parser that the program's
 * config validation, the policy pack and the doctor share.
 *
 * The grammar is k8s.io/apimachinery's resource.ParseQuantity, exactly: an optional sign, a decimal
 * number, then one suffix — binary (Ki … Ei), decimal (n u m "" k M G T P E) or an exponent (e3, E-2).
 * Surrounding whitespace is refused, as ParseQuantity refuses it.
 */

/** A quantity's exact value, `num / den`, in base units (cores, bytes). */
export interface Fraction { readonly num: bigint; readonly den: bigint }

// A bare "E" is exa; "E" followed by digits is an exponent ("1E3" = 1000), so the exponent form is tried first.
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E)?)$/;
const BINARY_EXPONENT: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXPONENT: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

interface Parts { readonly sign: string; readonly mantissa: string; readonly exp10: number; readonly exp2: number }

function partsOf(quantity: string | number): Parts | undefined {
    const match = QUANTITY.exec(String(quantity));
    if (!match) {
        return undefined;
    }
    const [, sign, mantissa, binarySuffix, exponent, decimalSuffix] = match;
    if (binarySuffix !== undefined) {
        return { sign, mantissa, exp10: 0, exp2: BINARY_EXPONENT[binarySuffix] };
    }
    return { sign, mantissa, exp10: exponent !== undefined ? Number(exponent) : DECIMAL_EXPONENT[decimalSuffix ?? ""], exp2: 0 };
}

/**
 * The value of `quantity` in base units (cores, bytes) as a number, or `undefined` if it is not a
 * quantity. A number is read as the JSON number Kubernetes would decode.
 */
export function parseQuantity(quantity: string | number): number | undefined {
    const parts = partsOf(quantity);
    // "<mantissa>e<exp>" makes "300m" exactly the same double as "0.3", so equal quantities compare equal.
    return parts && Number(`${parts.sign}${parts.mantissa}e${parts.exp10}`) * 2 ** parts.exp2;
}

/** The exact value of `quantity`; throws an Error naming the text when it is not a quantity. */
export function quantityFraction(quantity: string | number): Fraction {
    const parts = partsOf(quantity);
    if (parts === undefined) {
        throw new Error(`"${quantity}" is not a Kubernetes quantity (like 250m, 512Mi, 1.5Gi or 2e3)`);
    }
    const dot = parts.mantissa.indexOf(".");
    const fractionDigits = dot >= 0 ? parts.mantissa.length - dot - 1 : 0;
    const exp10 = parts.exp10 - fractionDigits;
    let num = BigInt(parts.mantissa.replace(".", "") || "0") * 2n ** BigInt(parts.exp2) * (parts.sign === "-" ? -1n : 1n);
    let den = 1n;
    if (exp10 >= 0) num *= 10n ** BigInt(exp10);
    else den = 10n ** BigInt(-exp10);
    return { num, den };
}

function ceilDiv(a: bigint, b: bigint): bigint {
    const q = a / b;
    return a % b !== 0n && (a > 0n) === (b > 0n) ? q + 1n : q;
}

/** The quantity in thousandths, rounded up (resource.Quantity.MilliValue): "0.1" cpu → 100. */
export function milliValue(quantity: string | number): number {
    const { num, den } = quantityFraction(quantity);
    return Number(ceilDiv(num * 1000n, den));
}

/** The quantity in whole units, rounded up (resource.Quantity.Value): "1Ki" → 1024. */
export function unitValue(quantity: string | number): number {
    const { num, den } = quantityFraction(quantity);
    return Number(ceilDiv(num, den));
}
