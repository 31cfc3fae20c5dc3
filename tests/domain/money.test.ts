import fc from 'fast-check';
import { applyRateBasisPoints, formatEuros, mulDivHalfUp, roundHalfUp } from '../../domain/money';

describe('money', () => {
  it('rounds half-up, exactly', () => {
    expect(roundHalfUp(5, 2)).toBe(3); // 2.5 → 3
    expect(roundHalfUp(7, 2)).toBe(4); // 3.5 → 4
    expect(roundHalfUp(14, 10)).toBe(1); // 1.4 → 1
    expect(roundHalfUp(15, 10)).toBe(2);
    expect(roundHalfUp(0, 7)).toBe(0);
  });

  it('stays exact beyond float precision', () => {
    // 2^53 − 1 is odd: half of it ends in .5 and must round up
    expect(roundHalfUp(Number.MAX_SAFE_INTEGER, 2)).toBe(4503599627370496);
    expect(mulDivHalfUp(2 ** 40, 2 ** 12, 2 ** 20)).toBe(2 ** 32);
  });

  it('rejects negative, fractional or zero-denominator input', () => {
    expect(() => roundHalfUp(-1, 2)).toThrow(RangeError);
    expect(() => roundHalfUp(1.5, 2)).toThrow(RangeError);
    expect(() => roundHalfUp(1, 0)).toThrow(RangeError);
  });

  it('applies a rate in basis points, half-up', () => {
    expect(applyRateBasisPoints(10200, 2000)).toBe(2040);
    expect(applyRateBasisPoints(1, 2000)).toBe(0); // 0.2 ct
    expect(applyRateBasisPoints(3, 2000)).toBe(1); // 0.6 ct
    expect(applyRateBasisPoints(5, 1000)).toBe(1); // exactly 0.5 ct → 1
    expect(applyRateBasisPoints(12345, 0)).toBe(0);
  });

  it('formats euros', () => {
    expect(formatEuros(10200)).toBe('102.00');
    expect(formatEuros(12240)).toBe('122.40');
    expect(formatEuros(5)).toBe('0.05');
    expect(formatEuros(0)).toBe('0.00');
    expect(formatEuros(-105)).toBe('-1.05');
  });

  it('roundHalfUp is within half a unit of the true quotient', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e12 }), fc.integer({ min: 1, max: 1e6 }), (n, d) => {
        const q = roundHalfUp(n, d);
        // |q·d − n| ≤ d/2, with ties going up
        expect(2 * Math.abs(q * d - n)).toBeLessThanOrEqual(d);
        if (2 * (n % d) === d) expect(q * d).toBeGreaterThan(n);
      }),
    );
  });
});
