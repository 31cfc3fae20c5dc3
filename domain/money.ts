/**
 * Money is integer cents everywhere (EUR). No floating-point amounts are ever stored or summed.
 *
 * Rounding rule (SPEC §3, shown on invoices): VAT is computed **per line**, on the line's total excl. VAT,
 * rounded **half-up to the cent**; invoice totals are the sums of the rounded line amounts. Prorations are
 * rounded the same way, once, on the prorated amount.
 *
 * Divisions are done on BigInt so that `a × b / d` is exact however large the product gets: a float
 * division such as 1005 × 0.5 can land on 502.4999… and round the wrong way.
 */

function assertNonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/** `a × b / denominator`, rounded half-up (x.5 → x+1), in exact integer arithmetic. All inputs non-negative integers. */
export function mulDivHalfUp(a: number, b: number, denominator: number): number {
  assertNonNegativeInteger('a', a);
  assertNonNegativeInteger('b', b);
  assertNonNegativeInteger('denominator', denominator);
  if (denominator === 0) throw new RangeError('denominator must be positive');
  const numerator = BigInt(a) * BigInt(b);
  const d = BigInt(denominator);
  const quotient = numerator / d; // BigInt division truncates, i.e. floors for non-negative values
  const remainder = numerator % d;
  const rounded = 2n * remainder >= d ? quotient + 1n : quotient;
  const result = Number(rounded);
  if (!Number.isSafeInteger(result)) throw new RangeError('amount exceeds the safe integer range');
  return result;
}

/** `numerator / denominator` rounded half-up, for non-negative integers. */
export function roundHalfUp(numerator: number, denominator: number): number {
  return mulDivHalfUp(numerator, 1, denominator);
}

/** A rate in basis points applied to an amount in cents, rounded half-up: 20 % VAT = 2000 bp. */
export function applyRateBasisPoints(cents: number, basisPoints: number): number {
  return mulDivHalfUp(cents, basisPoints, 10_000);
}

/** 10200 → "102.00" (no currency sign, no thousands separator: for invoices, emails and logs). */
export function formatEuros(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`cents must be an integer, got ${cents}`);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
