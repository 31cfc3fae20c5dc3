import fc from 'fast-check';
import { DEFAULT_CATALOG } from '../../domain/catalog';
import {
  appChargedIn,
  appFeeKey,
  formatDuration,
  monthOf,
  movementAllowed,
  needsVatContact,
  priceCreditProduct,
  supportCallDeduction,
} from '../../domain/credits';

describe('movementAllowed', () => {
  it('credits always pass; a charge may not go below minus the overdraft limit', () => {
    expect(movementAllowed(0, 100, 0)).toBe(true);
    expect(movementAllowed(100, -100, 0)).toBe(true);
    expect(movementAllowed(100, -101, 0)).toBe(false);
    expect(movementAllowed(100, -150, 50)).toBe(true);
    expect(movementAllowed(100, -151, 50)).toBe(false);
  });

  it('never leaves a balance below the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10_000, max: 10_000 }),
        fc.integer({ min: -10_000, max: -1 }),
        fc.nat(5000),
        (b, a, l) => {
          if (movementAllowed(b, a, l)) expect(b + a).toBeGreaterThanOrEqual(-l);
          else expect(b + a).toBeLessThan(-l);
        },
      ),
    );
  });
});

it('formats durations the way the report email shows them', () => {
  expect(formatDuration(1500)).toBe('25 min');
  expect(formatDuration(300)).toBe('5 min');
  expect(formatDuration(0)).toBe('0 min');
  expect(formatDuration(3600)).toBe('1 h 00 min');
  expect(formatDuration(3900)).toBe('1 h 05 min');
  expect(formatDuration(90)).toBe('1 min 30 s');
  expect(formatDuration(-600)).toBe('-10 min');
});

it('support calls: software problems, CLOUD and non-billable calls are free', () => {
  const call = { durationSeconds: 1500, billable: true, causedBySoftware: false, cloud: false };
  expect(supportCallDeduction(call)).toEqual({ deductedSeconds: 1500, reason: 'BILLABLE' });
  expect(supportCallDeduction({ ...call, causedBySoftware: true })).toEqual({
    deductedSeconds: 0,
    reason: 'CAUSED_BY_SOFTWARE',
  });
  expect(supportCallDeduction({ ...call, cloud: true })).toEqual({
    deductedSeconds: 0,
    reason: 'CLOUD_INCLUDED',
  });
  expect(supportCallDeduction({ ...call, billable: false })).toEqual({
    deductedSeconds: 0,
    reason: 'NOT_BILLABLE',
  });
});

it('online purchases are for buyers paying French VAT', () => {
  expect(needsVatContact({ country: 'FRA' })).toBe(false);
  expect(needsVatContact({ country: 'FRA', vatNumber: 'FR32123456789' })).toBe(false);
  expect(needsVatContact({ country: 'MCO' })).toBe(false);
  expect(needsVatContact({ country: 'BEL' })).toBe(false); // EU consumer: French VAT
  expect(needsVatContact({ country: 'BEL', vatNumber: 'BE0403170701' })).toBe(true); // reverse charge
  expect(needsVatContact({ country: 'CHE' })).toBe(true);
  expect(needsVatContact({ country: 'GLP' })).toBe(true); // overseas: outside the EU VAT territory
});

describe('priceCreditProduct', () => {
  const fr = { country: 'FRA' };
  it('support packs: catalogue price + 20 % VAT, credited in seconds', () => {
    const priced = priceCreditProduct(DEFAULT_CATALOG, { kind: 'SUPPORT_PACK', minutes: 30 }, fr);
    expect(priced).toMatchObject({
      ok: true,
      creditAmount: 1800,
      amountCents: 6600,
      quote: { totalExclVatCents: 5500, vatCents: 1100, totalInclVatCents: 6600 },
    });
    expect(priceCreditProduct(DEFAULT_CATALOG, { kind: 'SUPPORT_PACK', minutes: 45 }, fr)).toEqual({
      ok: false,
      reason: 'UNKNOWN_PACK',
      packs: [15, 30, 60],
    });
  });
  it('wallet recharges: face value, no VAT, at least the minimum', () => {
    expect(
      priceCreditProduct(DEFAULT_CATALOG, { kind: 'WALLET_RECHARGE', amountCents: 30000 }, fr),
    ).toMatchObject({
      ok: true,
      creditAmount: 30000,
      amountCents: 30000,
    });
    expect(
      priceCreditProduct(DEFAULT_CATALOG, { kind: 'WALLET_RECHARGE', amountCents: 30000 }, fr),
    ).not.toHaveProperty('quote');
    expect(priceCreditProduct(DEFAULT_CATALOG, { kind: 'WALLET_RECHARGE', amountCents: 999 }, fr)).toEqual({
      ok: false,
      reason: 'BELOW_MINIMUM',
      minimumCents: 1000,
    });
  });
});

it('monthly fees: the month of the scheduled time, apps charged within their months, one key per month', () => {
  expect(monthOf(new Date('2026-03-01T06:00:00Z'))).toBe('2026-03');
  expect(monthOf(new Date('2026-02-28T23:59:59Z'))).toBe('2026-02');
  const app = { sinceMonth: '2026-01', untilMonth: '2026-06' };
  expect(appChargedIn(app, '2025-12')).toBe(false);
  expect(appChargedIn(app, '2026-01')).toBe(true);
  expect(appChargedIn(app, '2026-06')).toBe(true);
  expect(appChargedIn(app, '2026-07')).toBe(false);
  expect(appChargedIn({ sinceMonth: '2026-01', untilMonth: null }, '2030-12')).toBe(true);
  expect(appFeeKey(7, 'abc', '2026-03')).toBe('app-fee:7:abc:2026-03');
});
