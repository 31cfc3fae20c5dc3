import fc from 'fast-check';
import { invoiceAmountProblems } from '../../domain/invoice';
import {
  consumptionLines,
  exclVatParts,
  inclVatOf,
  lastDayOf,
  monthBounds,
  monthLabelFr,
  previousMonth,
} from '../../domain/consumption-invoice';
import { vatRule } from '../../domain/vat';

const FR = vatRule({ country: 'FRA' });

describe('exclVatParts', () => {
  it('finds the excl.-VAT amount whose VAT-included value is the credits spent', () => {
    expect(exclVatParts(1200, 2000)).toEqual([1000]);
    expect(exclVatParts(30, 2000)).toEqual([25]); // 2 SMS at 0.15
    expect(exclVatParts(20, 2000)).toEqual([17]); // 17 + 3.4 → 3
    expect(exclVatParts(250, 2000)).toEqual([208]); // 208 + 41.6 → 42
    expect(exclVatParts(1000, 2000)).toEqual([833]); // 833 + 166.6 → 167
  });

  it('adds a one-cent part when rounding jumps over the amount (≡ 3 cents mod 6 at 20 %)', () => {
    expect(exclVatParts(3, 2000)).toEqual([2, 1]);
    expect(exclVatParts(9, 2000)).toEqual([7, 1]);
    expect(exclVatParts(15, 2000)).toEqual([12, 1]);
  });

  it('at 0 % the excl.-VAT amount is the amount', () => {
    expect(exclVatParts(1234, 0)).toEqual([1234]);
  });

  it('always adds up exactly, with at most one adjustment at 20 %', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000_000 }), (cents) => {
        const parts = exclVatParts(cents, 2000);
        expect(parts.reduce((s, h) => s + inclVatOf(h, 2000), 0)).toBe(cents);
        expect(parts.length).toBe(cents % 6 === 3 ? 2 : 1);
        if (parts.length === 2) expect(parts[1]).toBe(1);
      }),
    );
  });

  it('refuses negative amounts and absurd rates', () => {
    expect(() => exclVatParts(-1, 2000)).toThrow(RangeError);
    expect(() => exclVatParts(100, 5000)).toThrow(RangeError);
  });
});

describe('consumptionLines', () => {
  it("the seed's February: lines by type that add up to the credits spent", () => {
    const charges = [
      ...Array.from({ length: 3 }, () => ({ type: "App d'inspecteur frais mensuels", cents: 250 })),
      { type: 'Workshopp app coût mensuel', cents: 250 },
      ...Array.from({ length: 4 }, () => ({ type: 'App de Réception frais mensuels', cents: 250 })),
      { type: 'apf', cents: 10 },
      { type: 'apf', cents: 10 },
    ];
    const { lines, totals } = consumptionLines(charges, FR, 'février 2019');
    expect(lines.map((l) => [l.description, l.totalExclVatCents, l.vatCents])).toEqual([
      ["Crédits consommés février 2019 — App d'inspecteur frais mensuels (3 mouvements)", 625, 125],
      ['Crédits consommés février 2019 — App de Réception frais mensuels (4 mouvements)', 833, 167],
      ['Crédits consommés février 2019 — Workshopp app coût mensuel (1 mouvement)', 208, 42],
      ['Crédits consommés février 2019 — apf (2 mouvements)', 17, 3],
    ]);
    expect(totals).toEqual({ totalExclVatCents: 1683, vatCents: 337, totalInclVatCents: 2020 });
    expect(invoiceAmountProblems(lines, totals)).toEqual([]);
  });

  it('a type whose total rounding skips gets an adjustment line; totals stay exact', () => {
    const { lines, totals } = consumptionLines(
      [
        { type: 'sms', cents: 5 },
        { type: 'sms', cents: 4 },
      ],
      FR,
      'mars 2019',
    );
    expect(lines.map((l) => [l.totalExclVatCents, l.vatCents])).toEqual([
      [7, 1],
      [1, 0],
    ]);
    expect(lines[1]!.description).toContain("ajustement d'arrondi");
    expect(totals.totalInclVatCents).toBe(9);
    expect(invoiceAmountProblems(lines, totals)).toEqual([]);
  });

  it('any set of charges gives valid lines totalling the credits spent', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.constantFrom('sms', 'apf', 'fee'),
            cents: fc.integer({ min: 1, max: 100_000 }),
          }),
          { minLength: 1, maxLength: 50 },
        ),
        (charges) => {
          const { lines, totals } = consumptionLines(charges, FR, 'x');
          expect(totals.totalInclVatCents).toBe(charges.reduce((s, c) => s + c.cents, 0));
          expect(invoiceAmountProblems(lines, totals)).toEqual([]);
        },
      ),
    );
  });

  it('refuses a charge that spends nothing', () => {
    expect(() => consumptionLines([{ type: 'sms', cents: 0 }], FR, 'x')).toThrow(RangeError);
  });
});

describe('months', () => {
  it('bounds, previous month, last day and French label', () => {
    expect(monthBounds('2019-12')).toEqual({
      start: new Date('2019-12-01T00:00:00.000Z'),
      end: new Date('2020-01-01T00:00:00.000Z'),
    });
    expect(previousMonth('2026-01')).toBe('2025-12');
    expect(previousMonth('2026-03')).toBe('2026-02');
    expect(lastDayOf('2019-02')).toBe('2019-02-28');
    expect(lastDayOf('2024-02')).toBe('2024-02-29');
    expect(monthLabelFr('2019-02')).toBe('février 2019');
  });
});
