/**
 * The monthly consumption invoice (SPEC §6): wallet credits are a multi-purpose voucher, so VAT is due when
 * they are spent. Once a month, each account gets one invoice of the credits it spent, one line per type of
 * movement (sms, apf, each app's monthly fee...).
 *
 * Amounts spent are VAT included (1 credit = 1 EUR paid). The invoice must show each line excl. VAT with its
 * VAT computed as money.ts says (per line, half-up to the cent, on the line's total excl. VAT), and the
 * figures must add up exactly to the credits spent. The rule:
 *
 * - a line's total excl. VAT is the amount `h` such that `h + round_half_up(h × rate) = credits spent`;
 * - when no such `h` exists (at 20 %, one amount in six: those ≡ 3 cents modulo 6, e.g. 0.03 or 0.09, since
 *   rounding the VAT jumps over them), the line takes the largest `h` below, and the cent left over is a
 *   second line "ajustement d'arrondi" of 0.01 excl. VAT and 0.00 VAT (the VAT of one cent rounds to 0 at
 *   any rate below 50 %), so that lines + VAT = credits spent, to the cent.
 *
 * Quantities are 1 and the unit price is the line's total: the credits are spent in movements of different
 * values (a fee and its retry, SMS at several prices), and the count of movements is in the description.
 */
import { applyRateBasisPoints } from './money';
import { buildLine, buildTotals, type QuoteLine, type Totals } from './quote';
import type { VatRule } from './vat';

export interface ConsumedCharge {
  /** the movement's type as listed in the wallet (sms, apf, "App de Réception frais mensuels"...) */
  type: string;
  /** credits spent, in cents, positive */
  cents: number;
}

/** The VAT-included amount `h + VAT(h)` of an amount excl. VAT `h`. */
export function inclVatOf(exclVatCents: number, rateBasisPoints: number): number {
  return exclVatCents + applyRateBasisPoints(exclVatCents, rateBasisPoints);
}

/**
 * Splits a VAT-included amount into amounts excl. VAT whose VAT-included values add up to it exactly: one
 * part when an excl.-VAT amount gives exactly that total, else the largest one below plus the parts of what
 * is left (one cent at 20 %). Each part's VAT is `applyRateBasisPoints(part, rate)`.
 */
export function exclVatParts(inclVatCents: number, rateBasisPoints: number): number[] {
  if (!Number.isSafeInteger(inclVatCents) || inclVatCents < 0)
    throw new RangeError(`amount must be a non-negative integer, got ${inclVatCents}`);
  if (!Number.isSafeInteger(rateBasisPoints) || rateBasisPoints < 0 || rateBasisPoints >= 5000)
    throw new RangeError(`VAT rate must be between 0 and 50 %, got ${rateBasisPoints} bp`);
  const parts: number[] = [];
  let left = inclVatCents;
  while (left > 0) {
    // inclVatOf is non-decreasing in h; start from the exact quotient's floor and walk to the largest h
    // whose VAT-included value does not exceed what is left
    let h = Math.floor((left * 10_000) / (10_000 + rateBasisPoints));
    while (h > 0 && inclVatOf(h, rateBasisPoints) > left) h -= 1;
    while (inclVatOf(h + 1, rateBasisPoints) <= left) h += 1;
    if (h === 0) throw new Error(`no excl.-VAT amount for ${left} cents at ${rateBasisPoints} bp`);
    parts.push(h);
    left -= inclVatOf(h, rateBasisPoints);
  }
  return parts;
}

const plural = (n: number, word: string) => `${n} ${word}${n > 1 ? 's' : ''}`;

/**
 * The invoice lines of a month's consumption: one per type (sorted by type
 * name, so that two runs give the same invoice), plus a rounding-adjustment line where the rule above needs
 * one. The VAT-included total of the lines is exactly the sum of the charges.
 */
export function consumptionLines(
  charges: readonly ConsumedCharge[],
  vat: VatRule,
  period: string,
): { lines: QuoteLine[]; totals: Totals } {
  const byType = new Map<string, { cents: number; count: number }>();
  for (const charge of charges) {
    if (!Number.isSafeInteger(charge.cents) || charge.cents <= 0)
      throw new RangeError(`a charge spends a positive number of cents, got ${charge.cents}`);
    const sum = byType.get(charge.type) ?? { cents: 0, count: 0 };
    sum.cents += charge.cents;
    sum.count += 1;
    byType.set(charge.type, sum);
  }
  const lines: QuoteLine[] = [];
  for (const type of [...byType.keys()].sort()) {
    const { cents, count } = byType.get(type)!;
    const [main, ...adjustments] = exclVatParts(cents, vat.rateBasisPoints);
    const description = `Crédits consommés ${period} — ${type} (${plural(count, 'mouvement')})`;
    lines.push(buildLine({ description, quantity: 1, unitPriceCents: main! }, vat));
    for (const part of adjustments)
      lines.push(
        buildLine(
          { description: `${description} — ajustement d'arrondi`, quantity: 1, unitPriceCents: part },
          vat,
        ),
      );
  }
  return { lines, totals: buildTotals(lines) };
}

/** "2026-03" → the first instant of March and of April 2026 (UTC), the month's half-open bounds. */
export function monthBounds(month: string): { start: Date; end: Date } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { start: new Date(Date.UTC(y, m - 1, 1)), end: new Date(Date.UTC(y, m, 1)) };
}

/** "2026-03" → "2026-02"; "2026-01" → "2025-12". */
export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** "2026-02" → "2026-02-28": the sale date of the month's consumption invoice. */
export function lastDayOf(month: string): string {
  const { end } = monthBounds(month);
  return new Date(end.getTime() - 86_400_000).toISOString().slice(0, 10);
}

/** "2026-02" → "février 2026", for invoice lines and mails. */
export function monthLabelFr(month: string): string {
  const names = [
    'janvier',
    'février',
    'mars',
    'avril',
    'mai',
    'juin',
    'juillet',
    'août',
    'septembre',
    'octobre',
    'novembre',
    'décembre',
  ];
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${names[m - 1]} ${y}`;
}
