import fc from 'fast-check';
import { DEFAULT_CATALOG, type LicenceChoice } from '../../domain/catalog';
import { parseLocalDate as d } from '../../domain/periods';
import { changeQuote, prorateCents, remainingDays } from '../../domain/proration';

const enterpriseLocalAnnual = (connections: number): LicenceChoice => ({
  edition: 'ENTERPRISE',
  mode: 'LOCAL',
  period: 'ANNUAL',
  connections,
});

// 2027-01-01 → 2028-01-01 has 365 days; 2027-09-23 leaves 100 of them, the 23rd included.
const year2027 = { periodStart: d('2027-01-01'), periodEnd: d('2028-01-01') };

describe('proration', () => {
  it('prorates full × remaining / days, half-up', () => {
    expect(prorateCents(10200, 100, 365)).toBe(2795); // 2794.52
    expect(prorateCents(10200, 365, 365)).toBe(10200);
    expect(prorateCents(10200, 0, 365)).toBe(0);
    expect(prorateCents(5, 1, 10)).toBe(1); // 0.5 → 1
    expect(prorateCents(2850, 23, 92)).toBe(713); // 712.5 → 713
    expect(prorateCents(2850, 22, 92)).toBe(682); // 681.52 → 682
    expect(prorateCents(1000, 1, 3)).toBe(333); // 333.33 → 333
  });

  it('rejects impossible day counts', () => {
    expect(() => prorateCents(100, 31, 30)).toThrow(RangeError);
    expect(() => prorateCents(100, -1, 30)).toThrow(RangeError);
    expect(() => prorateCents(100, 1, 0)).toThrow(RangeError);
  });

  it('counts the change day as remaining', () => {
    expect(remainingDays(year2027.periodStart, year2027.periodEnd, d('2027-09-23'))).toBe(100);
    expect(remainingDays(year2027.periodStart, year2027.periodEnd, d('2027-01-01'))).toBe(365);
    expect(remainingDays(year2027.periodStart, year2027.periodEnd, d('2027-12-31'))).toBe(1);
    expect(() => remainingDays(year2027.periodStart, year2027.periodEnd, d('2028-01-01'))).toThrow(
      RangeError,
    );
    expect(() => remainingDays(year2027.periodStart, year2027.periodEnd, d('2026-12-31'))).toThrow(
      RangeError,
    );
  });

  it('ENTERPRISE LOCAL annual, 1 → 2 connections, 100 of 365 days left: 2795', () => {
    expect(
      changeQuote(DEFAULT_CATALOG, {
        current: enterpriseLocalAnnual(1),
        next: enterpriseLocalAnnual(2),
        ...year2027,
        changeDate: d('2027-09-23'),
      }),
    ).toEqual({
      ok: true,
      currentPriceCents: 10200,
      nextPriceCents: 20400,
      remainingDays: 100,
      daysInPeriod: 365,
      proratedCents: 2795,
    });
  });

  it('a half-cent proration rounds up: 3 → 4 connections quarterly, 23 of 92 days left', () => {
    const quarterly = (connections: number): LicenceChoice => ({
      ...enterpriseLocalAnnual(connections),
      period: 'QUARTERLY',
    });
    const result = changeQuote(DEFAULT_CATALOG, {
      current: quarterly(3),
      next: quarterly(4),
      periodStart: d('2027-07-01'),
      periodEnd: d('2027-10-01'),
      changeDate: d('2027-09-08'),
    });
    expect(result).toMatchObject({ ok: true, remainingDays: 23, daysInPeriod: 92, proratedCents: 713 }); // 2850 × 23 / 92 = 712.5
  });

  it('upgrades edition and mode', () => {
    const result = changeQuote(DEFAULT_CATALOG, {
      current: { edition: 'STANDARD', mode: 'CLOUD', period: 'MONTHLY', connections: 2 },
      next: { edition: 'ENTERPRISE', mode: 'CLOUD', period: 'MONTHLY', connections: 2 },
      periodStart: d('2027-02-28'),
      periodEnd: d('2027-03-31'),
      changeDate: d('2027-03-21'),
    });
    // (4000 − 2400) × 10 / 31 = 516.13
    expect(result).toMatchObject({ ok: true, remainingDays: 10, daysInPeriod: 31, proratedCents: 516 });
    const toCloud = changeQuote(DEFAULT_CATALOG, {
      current: enterpriseLocalAnnual(1),
      next: { ...enterpriseLocalAnnual(1), mode: 'CLOUD' },
      ...year2027,
      changeDate: d('2027-01-01'),
    });
    expect(toCloud).toMatchObject({ ok: true, proratedCents: 20400 - 10200 }); // whole period left
  });

  it.each<[string, LicenceChoice]>([
    ['fewer connections', enterpriseLocalAnnual(1)],
    ['ENTERPRISE → STANDARD', { edition: 'STANDARD', mode: 'CLOUD', period: 'ANNUAL', connections: 5 }],
    ['CLOUD → LOCAL', { edition: 'ENTERPRISE', mode: 'LOCAL', period: 'ANNUAL', connections: 5 }],
  ])('refuses a downgrade (%s): it applies at renewal', (_name, next) => {
    const current: LicenceChoice = { edition: 'ENTERPRISE', mode: 'CLOUD', period: 'ANNUAL', connections: 2 };
    expect(changeQuote(DEFAULT_CATALOG, { current, next, ...year2027, changeDate: d('2027-06-01') })).toEqual(
      {
        ok: false,
        reason: 'DOWNGRADE_NOT_PRORATED',
      },
    );
  });

  it('refuses an upgrade the catalogue prices lower than what it replaces', () => {
    const odd = {
      ...DEFAULT_CATALOG,
      licencePrices: {
        ...DEFAULT_CATALOG.licencePrices,
        ENTERPRISE: {
          LOCAL: DEFAULT_CATALOG.licencePrices.ENTERPRISE.LOCAL,
          CLOUD: { MONTHLY: 1, QUARTERLY: 1, ANNUAL: 1 },
        },
      },
    };
    const result = changeQuote(odd, {
      current: enterpriseLocalAnnual(1),
      next: { ...enterpriseLocalAnnual(1), mode: 'CLOUD' },
      ...year2027,
      changeDate: d('2027-06-01'),
    });
    expect(result).toEqual({ ok: false, reason: 'DOWNGRADE_NOT_PRORATED' });
  });

  it('refuses a period change, no change, a free current licence, a date outside the period', () => {
    const base = { current: enterpriseLocalAnnual(1), ...year2027, changeDate: d('2027-06-01') };
    const reason = (request: Parameters<typeof changeQuote>[1]) => {
      const result = changeQuote(DEFAULT_CATALOG, request);
      return result.ok ? 'ok' : result.reason;
    };
    expect(reason({ ...base, next: { ...enterpriseLocalAnnual(2), period: 'MONTHLY' } })).toBe(
      'PERIOD_CHANGE_NOT_PRORATED',
    );
    expect(reason({ ...base, next: enterpriseLocalAnnual(1) })).toBe('NO_CHANGE');
    expect(
      reason({
        ...base,
        current: { edition: 'STANDARD', mode: 'LOCAL', period: 'ANNUAL', connections: 1 },
        next: enterpriseLocalAnnual(1),
      }),
    ).toBe('CURRENT_LICENCE_IS_FREE');
    expect(reason({ ...base, next: enterpriseLocalAnnual(2), changeDate: d('2028-01-01') })).toBe(
      'OUTSIDE_PERIOD',
    );
  });

  it('never exceeds the full price and grows with the remaining days', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 24_000_000 }), // up to 1000 ENTERPRISE CLOUD connections for a year
        fc.integer({ min: 1, max: 366 }),
        fc.nat(),
        (full, daysInPeriod, seed) => {
          const remaining = seed % (daysInPeriod + 1);
          const prorated = prorateCents(full, remaining, daysInPeriod);
          expect(Number.isInteger(prorated)).toBe(true);
          expect(prorated).toBeGreaterThanOrEqual(0);
          expect(prorated).toBeLessThanOrEqual(full);
          if (remaining < daysInPeriod) {
            expect(prorateCents(full, remaining + 1, daysInPeriod)).toBeGreaterThanOrEqual(prorated);
          }
        },
      ),
    );
  });
});
