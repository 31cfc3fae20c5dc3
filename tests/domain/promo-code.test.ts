import { DEFAULT_CATALOG } from '../../domain/catalog';
import { invoiceAmountProblems } from '../../domain/invoice';
import { applyRateBasisPoints } from '../../domain/money';
import { priceFingerprint } from '../../domain/price-fingerprint';
import {
  discountCents,
  discountLine,
  discountOf,
  discountsPeriod,
  periodIndexOf,
  promoCodeDefinitionSchema,
  promoRefusal,
  withDiscount,
  type PromoCodeRecord,
} from '../../domain/promo-code';
import { nthPeriod, parseLocalDate } from '../../domain/periods';
import { quote } from '../../domain/quote';

const code = (over: Partial<PromoCodeRecord> = {}): PromoCodeRecord => ({
  code: 'VINGT',
  kind: 'PERCENT',
  percentBasisPoints: 2000,
  duration: 'FIRST_PERIOD',
  active: true,
  validFrom: null,
  validUntil: null,
  maxRedemptions: null,
  redemptionCount: 0,
  editions: [],
  modes: [],
  periods: [],
  ...over,
});
const annual = { edition: 'ENTERPRISE', mode: 'LOCAL', period: 'ANNUAL' } as const;
const now = new Date('2026-06-01T10:00:00Z');
const purchase = quote(DEFAULT_CATALOG, { ...annual, connections: 3, country: 'FRA' });

describe('promo code rules', () => {
  it('applies when active, in its dates, eligible, not exhausted and new to the base', () => {
    expect(promoRefusal(code(), annual, now)).toBeUndefined();
    expect(promoRefusal(code({ active: false }), annual, now)).toBe('PROMO_CODE_INACTIVE');
    expect(promoRefusal(code({ validFrom: new Date('2026-07-01') }), annual, now)).toBe(
      'PROMO_CODE_NOT_YET_VALID',
    );
    expect(promoRefusal(code({ validUntil: now }), annual, now)).toBe('PROMO_CODE_EXPIRED');
    expect(promoRefusal(code({ modes: ['CLOUD'] }), annual, now)).toBe('PROMO_CODE_NOT_ELIGIBLE');
    expect(promoRefusal(code({ editions: ['STANDARD'] }), annual, now)).toBe('PROMO_CODE_NOT_ELIGIBLE');
    expect(promoRefusal(code({ periods: ['MONTHLY'] }), annual, now)).toBe('PROMO_CODE_NOT_ELIGIBLE');
    expect(promoRefusal(code({ periods: ['MONTHLY', 'ANNUAL'] }), annual, now)).toBeUndefined();
    expect(promoRefusal(code({ maxRedemptions: 2, redemptionCount: 2 }), annual, now)).toBe(
      'PROMO_CODE_EXHAUSTED',
    );
    expect(promoRefusal(code(), annual, now, true)).toBe('PROMO_CODE_ALREADY_USED');
  });

  it('discounts the first period, N periods or every period', () => {
    const first = code();
    expect([0, 1].map((i) => discountsPeriod(first, i))).toEqual([true, false]);
    const three = code({ duration: 'REPEATING', durationPeriods: 3 });
    expect([0, 1, 2, 3].map((i) => discountsPeriod(three, i))).toEqual([true, true, true, false]);
    expect(discountsPeriod(code({ duration: 'FOREVER' }), 40)).toBe(true);
    expect(discountsPeriod(code({ duration: 'FOREVER' }), -1)).toBe(false);
  });

  it('takes a percentage half-up, an amount never beyond the price', () => {
    expect(discountCents(code({ percentBasisPoints: 1250 }), 30600)).toBe(3825);
    expect(discountCents(code({ percentBasisPoints: 3333 }), 1005)).toBe(335); // 334.97 → 335
    expect(discountCents(code({ kind: 'AMOUNT', amountOffCents: 5000 }), 3000)).toBe(3000);
  });

  it('is a line of quantity −1 at a positive price; the invoice rules accept it', () => {
    const q = withDiscount(purchase, discountOf(code()));
    expect(q.lines).toHaveLength(2);
    expect(q.lines[1]).toEqual({
      description: 'Code promo VINGT −20 % (première période)',
      quantity: -1,
      unitPriceCents: 6120,
      totalExclVatCents: -6120,
      vatRateBasisPoints: 2000,
      vatCents: -1224,
    });
    expect(q.totalExclVatCents).toBe(30600 - 6120);
    expect(q.vatCents).toBe(applyRateBasisPoints(30600, 2000) - 1224);
    expect(invoiceAmountProblems(q.lines, q)).toEqual([]);
    const amount = withDiscount(
      purchase,
      discountOf(code({ kind: 'AMOUNT', amountOffCents: 1999, duration: 'FOREVER' })),
    );
    expect(amount.lines[1]!.description).toBe('Code promo VINGT −19,99 € HT (chaque période)');
    expect(invoiceAmountProblems(amount.lines, amount)).toEqual([]);
    expect(discountLine(discountOf(code()), 0, 2000)).toBeUndefined();
  });

  it('finds the anchored period a renewal starts', () => {
    const anchor = parseLocalDate('2026-01-31');
    expect(periodIndexOf(anchor, 'MONTHLY', nthPeriod(anchor, 'MONTHLY', 5).start)).toBe(5);
    expect(periodIndexOf(anchor, 'ANNUAL', anchor)).toBe(0);
    expect(periodIndexOf(anchor, 'ANNUAL', parseLocalDate('2026-02-01'))).toBeUndefined();
  });

  it('validates a definition: one amount for its kind, durationPeriods for REPEATING only, ordered dates', () => {
    const ok = promoCodeDefinitionSchema.parse({
      code: 'ete-2026',
      kind: 'PERCENT',
      percentBasisPoints: 1000,
      duration: 'FOREVER',
    });
    expect(ok).toMatchObject({ code: 'ETE-2026', editions: [], modes: [], periods: [] });
    const bad = [
      { code: 'X1', kind: 'PERCENT', percentBasisPoints: 1000, duration: 'FOREVER' },
      { code: 'ABC', kind: 'PERCENT', amountOffCents: 100, duration: 'FOREVER' },
      { code: 'ABC', kind: 'AMOUNT', amountOffCents: 100, duration: 'REPEATING' },
      { code: 'ABC', kind: 'AMOUNT', amountOffCents: 100, duration: 'FOREVER', durationPeriods: 2 },
      {
        code: 'ABC',
        kind: 'AMOUNT',
        amountOffCents: 100,
        duration: 'FOREVER',
        validFrom: '2026-02-01T00:00:00Z',
        validUntil: '2026-01-01T00:00:00Z',
      },
    ];
    for (const b of bad) expect(promoCodeDefinitionSchema.safeParse(b).success).toBe(false);
  });
});

describe('price fingerprint', () => {
  it('is the same for the same price and moves with any line, total or VAT rule', () => {
    const again = quote(DEFAULT_CATALOG, { ...annual, connections: 3, country: 'FRA' });
    expect(priceFingerprint(again)).toBe(priceFingerprint(purchase));
    expect(priceFingerprint(purchase)).toMatch(/^pf1_[0-9a-f]{28}$/);
    const more = quote(DEFAULT_CATALOG, { ...annual, connections: 4, country: 'FRA' });
    expect(priceFingerprint(more)).not.toBe(priceFingerprint(purchase));
    const renamed = { ...purchase, lines: [{ ...purchase.lines[0]!, description: 'prorata 100/365' }] };
    expect(priceFingerprint(renamed)).not.toBe(priceFingerprint(purchase));
    const export_ = quote(DEFAULT_CATALOG, { ...annual, connections: 3, country: 'JPN' });
    expect(priceFingerprint(export_)).not.toBe(priceFingerprint(purchase));
  });
});
