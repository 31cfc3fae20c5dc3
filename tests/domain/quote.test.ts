import fc from 'fast-check';
import { DEFAULT_CATALOG, EDITIONS, MODES, PERIODS } from '../../domain/catalog';
import { formatEuros } from '../../domain/money';
import {
  buildLine,
  buildTotals,
  quote,
  quoteRequestSchema,
  supportPackQuote,
  type QuoteRequest,
} from '../../domain/quote';
import { vatRule } from '../../domain/vat';

const seed: QuoteRequest = {
  edition: 'ENTERPRISE',
  mode: 'LOCAL',
  connections: 1,
  period: 'ANNUAL',
  country: 'FRA',
};

describe('quote', () => {
  it('the seed figure: ENTERPRISE LOCAL, 1 connection, annual, France = 102.00 HT, 122.40 TTC', () => {
    const q = quote(DEFAULT_CATALOG, seed);
    expect(q).toEqual({
      currency: 'EUR',
      lines: [
        {
          description: 'Licence ENTERPRISE LOCAL — 1 connexion × 12 mois (annuel)',
          quantity: 12,
          unitPriceCents: 850,
          totalExclVatCents: 10200,
          vatRateBasisPoints: 2000,
          vatCents: 2040,
        },
      ],
      totalExclVatCents: 10200,
      vatCents: 2040,
      totalInclVatCents: 12240,
      vat: { kind: 'FRANCE', rateBasisPoints: 2000 },
    });
    expect(formatEuros(q.totalExclVatCents)).toBe('102.00');
    expect(formatEuros(q.totalInclVatCents)).toBe('122.40');
  });

  it('shows quantity = connections × months, so quantity × unit = line total', () => {
    const q = quote(DEFAULT_CATALOG, { ...seed, mode: 'CLOUD', connections: 3, period: 'QUARTERLY' });
    expect(q.lines[0]).toMatchObject({
      description: 'Licence ENTERPRISE CLOUD — 3 connexions × 3 mois (trimestriel)',
      quantity: 9,
      unitPriceCents: 1850,
      totalExclVatCents: 16650,
      vatCents: 3330,
    });
  });

  it('reverse charge for an EU business, 0 % outside the EU', () => {
    const de = quote(DEFAULT_CATALOG, { ...seed, country: 'DEU', vatNumber: 'DE811907980' });
    expect(de).toMatchObject({
      totalExclVatCents: 10200,
      vatCents: 0,
      totalInclVatCents: 10200,
      vat: { kind: 'EU_REVERSE_CHARGE' },
    });
    expect(de.vat.legalMention).toMatch(/^Autoliquidation/);
    expect(quote(DEFAULT_CATALOG, { ...seed, country: 'DEU' })).toMatchObject({
      vatCents: 2040,
      vat: { kind: 'EU_CONSUMER' },
    });
    expect(quote(DEFAULT_CATALOG, { ...seed, country: 'USA' })).toMatchObject({
      vatCents: 0,
      totalInclVatCents: 10200,
    });
    expect(quote(DEFAULT_CATALOG, { ...seed, country: 'GLP' }).vat.kind).toBe('OUTSIDE_EU');
  });

  it('the free licence quotes at zero', () => {
    expect(quote(DEFAULT_CATALOG, { ...seed, edition: 'STANDARD', connections: 5 })).toMatchObject({
      totalExclVatCents: 0,
      vatCents: 0,
      totalInclVatCents: 0,
    });
  });

  it('rejects an implausible EU VAT number instead of charging or reverse-charging silently', () => {
    expect(() => quote(DEFAULT_CATALOG, { ...seed, country: 'DEU', vatNumber: 'FR123456789' })).toThrow(
      /plausible VAT number/,
    );
    expect(() => quote(DEFAULT_CATALOG, { ...seed, country: 'GRC', vatNumber: 'GR123456789' })).toThrow(
      /expected EL/,
    );
    // outside the EU a tax number is informational
    expect(quote(DEFAULT_CATALOG, { ...seed, country: 'CHE', vatNumber: 'CHE-123.456.789' }).vat.kind).toBe(
      'OUTSIDE_EU',
    );
  });

  it.each([
    ['connections 0', { connections: 0 }],
    ['connections 1001', { connections: 1001 }],
    ['fractional connections', { connections: 1.5 }],
    ['lower-case country', { country: 'fra' }],
    ['unknown country', { country: 'XXX' }],
    ['empty VAT number', { vatNumber: '' }],
    ['an unknown edition', { edition: 'PREMIUM' }],
  ])('the request schema rejects %s', (_name, change) => {
    expect(quoteRequestSchema.safeParse({ ...seed, ...change }).success).toBe(false);
  });

  it('builds a support pack line with VAT', () => {
    expect(supportPackQuote(DEFAULT_CATALOG, 30, vatRule({ country: 'FRA' }))).toEqual({
      description: 'Pack support 30 min',
      quantity: 1,
      unitPriceCents: 5500,
      totalExclVatCents: 5500,
      vatRateBasisPoints: 2000,
      vatCents: 1100,
    });
    expect(() => supportPackQuote(DEFAULT_CATALOG, 45, vatRule({ country: 'FRA' }))).toThrow(RangeError);
  });

  it('VAT is rounded per line, and totals are sums of the rounded lines', () => {
    const vat = vatRule({ country: 'FRA' });
    // 0.6 ct of VAT on each 3 ct line rounds to 1 ct per line: 2 ct in all, not round(1.2) = 1
    const lines = [
      buildLine({ description: 'a', quantity: 1, unitPriceCents: 3 }, vat),
      buildLine({ description: 'b', quantity: 1, unitPriceCents: 3 }, vat),
    ];
    expect(buildTotals(lines)).toEqual({ totalExclVatCents: 6, vatCents: 2, totalInclVatCents: 8 });
    expect(buildTotals([])).toEqual({ totalExclVatCents: 0, vatCents: 0, totalInclVatCents: 0 });
  });

  it('for any request: totals add up and every amount is a non-negative integer', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EDITIONS),
        fc.constantFrom(...MODES),
        fc.constantFrom(...PERIODS),
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom(
          { country: 'FRA' },
          { country: 'FRA', vatNumber: 'FR40303265045' },
          { country: 'DEU', vatNumber: 'DE811907980' },
          { country: 'DEU' },
          { country: 'GRC', vatNumber: 'EL094259216' },
          { country: 'USA' },
          { country: 'GLP' },
          { country: 'MCO' },
        ),
        (edition, mode, period, connections, buyer) => {
          const q = quote(DEFAULT_CATALOG, { edition, mode, period, connections, ...buyer });
          expect(q.totalExclVatCents).toBe(q.lines.reduce((sum, l) => sum + l.totalExclVatCents, 0));
          expect(q.vatCents).toBe(q.lines.reduce((sum, l) => sum + l.vatCents, 0));
          expect(q.totalInclVatCents).toBe(q.totalExclVatCents + q.vatCents);
          for (const line of q.lines) {
            expect(line.quantity * line.unitPriceCents).toBe(line.totalExclVatCents);
            for (const amount of [line.unitPriceCents, line.totalExclVatCents, line.vatCents]) {
              expect(Number.isSafeInteger(amount) && amount >= 0).toBe(true);
            }
          }
          for (const amount of [q.totalExclVatCents, q.vatCents, q.totalInclVatCents]) {
            expect(Number.isSafeInteger(amount) && amount >= 0).toBe(true);
          }
          const expectedExcl =
            DEFAULT_CATALOG.licencePrices[edition][mode][period] *
            connections *
            { MONTHLY: 1, QUARTERLY: 3, ANNUAL: 12 }[period];
          expect(q.totalExclVatCents).toBe(expectedExcl);
        },
      ),
    );
  });
});
