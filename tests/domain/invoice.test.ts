import fc from 'fast-check';
import { DEFAULT_CATALOG } from '../../domain/catalog';
import {
  formatDateFr,
  formatEurosFr,
  formatInvoiceNumber,
  formatRate,
  invoiceAmountProblems,
  isIsoDate,
  parseInvoiceNumber,
} from '../../domain/invoice';
import { quote } from '../../domain/quote';

describe('invoice numbers', () => {
  it('are YYYY-NNNNNN and parse back', () => {
    expect(formatInvoiceNumber(2026, 42)).toBe('2026-000042');
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 1, max: 999_999 }), (year, seq) => {
        expect(parseInvoiceNumber(formatInvoiceNumber(year, seq))).toEqual({ year, seq });
      }),
    );
  });

  it('refuse sequence 0, overflow and malformed text', () => {
    expect(() => formatInvoiceNumber(2026, 0)).toThrow(RangeError);
    expect(() => formatInvoiceNumber(2026, 1_000_000)).toThrow(RangeError);
    expect(parseInvoiceNumber('2026-000000')).toBeUndefined();
    expect(parseInvoiceNumber('2026-42')).toBeUndefined();
  });
});

describe('invoice wording', () => {
  it('formats French amounts, rates and dates', () => {
    expect(formatEurosFr(10200)).toBe('102,00 €');
    expect(formatEurosFr(5)).toBe('0,05 €');
    expect(formatRate(2000)).toBe('20 %');
    expect(formatRate(550)).toBe('5,5 %');
    expect(formatDateFr('2026-03-05')).toBe('05/03/2026');
  });

  it('accepts real calendar dates only', () => {
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2026-3-5')).toBe(false);
  });
});

describe('invoice amounts', () => {
  const q = quote(DEFAULT_CATALOG, {
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    period: 'ANNUAL',
    connections: 3,
    country: 'FRA',
  });

  it('a quote adds up', () => {
    expect(invoiceAmountProblems(q.lines, q)).toEqual([]);
  });

  it('totals that are not the sum of the lines, or a line that is not quantity × unit, are reported', () => {
    expect(invoiceAmountProblems(q.lines, { ...q, vatCents: q.vatCents + 1 })).toEqual([
      'total VAT ≠ sum of the lines',
      'total incl. VAT ≠ total excl. VAT + VAT',
    ]);
    const line = { ...q.lines[0]!, quantity: 35 };
    expect(invoiceAmountProblems([line], q)).toContain('line 0: quantity × unit price ≠ total excl. VAT');
    expect(invoiceAmountProblems([], { totalExclVatCents: 0, vatCents: 0, totalInclVatCents: 0 })).toEqual([
      'an invoice needs at least one line',
    ]);
  });
});
