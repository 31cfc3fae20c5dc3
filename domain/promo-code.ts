/**
 * Promo codes (the purchase screen's "Code promo"): what a code promises, whether it applies to a purchase,
 * which periods it discounts, and the discount as an invoice line.
 *
 * A discount is a line of its own, quantity −1 at a positive unit price (EN 16931 forbids a negative item
 * price, BR-27, not a negative quantity), so the quote, the invoice and its Factur-X XML all show it. Its VAT
 * is computed on the line like every other line (half-up to the cent, sign kept), so totals stay the sums of
 * the rounded lines. It never takes a period below zero.
 */
import { z } from 'zod';
import { EDITIONS, MODES, PERIODS, type BillingPeriod, type Edition, type Mode } from './catalog';
import { formatEuros, mulDivHalfUp } from './money';
import { nthPeriod, type LocalDate } from './periods';
import { buildTotals, type Quote, type QuoteLine } from './quote';

export const PROMO_KINDS = ['PERCENT', 'AMOUNT'] as const;
export const PROMO_DURATIONS = ['FIRST_PERIOD', 'REPEATING', 'FOREVER'] as const;

/** What a redeemed code promises; kept with the redemption, so later changes to the code don't alter it. */
export interface PromoDiscount {
  code: string;
  kind: (typeof PROMO_KINDS)[number];
  /** PERCENT: 2000 = 20 % */
  percentBasisPoints?: number;
  /** AMOUNT: cents excl. VAT off each discounted period */
  amountOffCents?: number;
  duration: (typeof PROMO_DURATIONS)[number];
  /** REPEATING: periods discounted, the purchase's included */
  durationPeriods?: number;
}

/** A code as ops define it (the body of `POST /ops/promo-codes`). */
export const promoCodeDefinitionSchema = z
  .object({
    code: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$/, '3 to 40 letters, digits, "-" or "_"')
      .transform((c) => c.toUpperCase()),
    kind: z.enum(PROMO_KINDS),
    percentBasisPoints: z.number().int().min(1).max(10_000).optional(),
    amountOffCents: z.number().int().min(1).max(100_000_000).optional(),
    duration: z.enum(PROMO_DURATIONS),
    durationPeriods: z.number().int().min(1).max(120).optional(),
    validFrom: z.iso.datetime({ offset: true }).optional(),
    validUntil: z.iso.datetime({ offset: true }).optional(),
    maxRedemptions: z.number().int().min(1).max(1_000_000).optional(),
    editions: z.array(z.enum(EDITIONS)).max(EDITIONS.length).default([]),
    modes: z.array(z.enum(MODES)).max(MODES.length).default([]),
    periods: z.array(z.enum(PERIODS)).max(PERIODS.length).default([]),
  })
  .superRefine((d, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (d.kind === 'PERCENT' && (d.percentBasisPoints === undefined || d.amountOffCents !== undefined))
      issue(
        'percentBasisPoints',
        'a PERCENT code gives percentBasisPoints (2000 = 20 %) and no amountOffCents',
      );
    if (d.kind === 'AMOUNT' && (d.amountOffCents === undefined || d.percentBasisPoints !== undefined))
      issue('amountOffCents', 'an AMOUNT code gives amountOffCents and no percentBasisPoints');
    if ((d.duration === 'REPEATING') !== (d.durationPeriods !== undefined))
      issue('durationPeriods', 'durationPeriods is given for a REPEATING code, and only then');
    if (d.validFrom && d.validUntil && Date.parse(d.validFrom) >= Date.parse(d.validUntil))
      issue('validUntil', 'validUntil must be after validFrom');
  });

export type PromoCodeDefinition = z.output<typeof promoCodeDefinitionSchema>;

/** A stored code, as the rules need it. */
export interface PromoCodeRecord extends PromoDiscount {
  active: boolean;
  validFrom: Date | null;
  validUntil: Date | null;
  maxRedemptions: number | null;
  redemptionCount: number;
  editions: readonly Edition[];
  modes: readonly Mode[];
  periods: readonly BillingPeriod[];
}

/** Why a code does not apply; each is an error code of its own (errors.md). */
export type PromoRefusal =
  | 'PROMO_CODE_INACTIVE'
  | 'PROMO_CODE_NOT_YET_VALID'
  | 'PROMO_CODE_EXPIRED'
  | 'PROMO_CODE_EXHAUSTED'
  | 'PROMO_CODE_NOT_ELIGIBLE'
  | 'PROMO_CODE_ALREADY_USED';

export const normalisePromoCode = (code: string): string => code.trim().toUpperCase();

/**
 * Whether a code applies to this purchase at `now`: active, within its dates, not exhausted, eligible for
 * the edition, mode and period, and not used before by the base (when that is known).
 */
export function promoRefusal(
  code: PromoCodeRecord,
  purchase: { edition: Edition; mode: Mode; period: BillingPeriod },
  now: Date,
  usedByBase = false,
): PromoRefusal | undefined {
  if (!code.active) return 'PROMO_CODE_INACTIVE';
  if (code.validFrom && now < code.validFrom) return 'PROMO_CODE_NOT_YET_VALID';
  if (code.validUntil && now >= code.validUntil) return 'PROMO_CODE_EXPIRED';
  const notIn = <T>(list: readonly T[], value: T) => list.length > 0 && !list.includes(value);
  if (notIn(code.editions, purchase.edition) || notIn(code.modes, purchase.mode)) {
    return 'PROMO_CODE_NOT_ELIGIBLE';
  }
  if (notIn(code.periods, purchase.period)) return 'PROMO_CODE_NOT_ELIGIBLE';
  if (usedByBase) return 'PROMO_CODE_ALREADY_USED';
  if (code.maxRedemptions !== null && code.redemptionCount >= code.maxRedemptions)
    return 'PROMO_CODE_EXHAUSTED';
  return undefined;
}

export function discountOf(code: PromoDiscount): PromoDiscount {
  const { code: c, kind, percentBasisPoints, amountOffCents, duration, durationPeriods } = code;
  return {
    code: c,
    kind,
    ...(kind === 'PERCENT' ? { percentBasisPoints } : { amountOffCents }),
    duration,
    ...(duration === 'REPEATING' ? { durationPeriods } : {}),
  };
}

/** Period 0 is the one bought; renewals are 1, 2... */
export function discountsPeriod(discount: PromoDiscount, periodIndex: number): boolean {
  if (periodIndex < 0) return false;
  if (discount.duration === 'FIRST_PERIOD') return periodIndex === 0;
  if (discount.duration === 'REPEATING') return periodIndex < (discount.durationPeriods ?? 1);
  return true;
}

/** The cents excl. VAT a discount takes off `exclVatCents`, never more than it. */
export function discountCents(discount: PromoDiscount, exclVatCents: number): number {
  if (discount.kind === 'PERCENT')
    return mulDivHalfUp(exclVatCents, discount.percentBasisPoints ?? 0, 10_000);
  return Math.min(discount.amountOffCents ?? 0, exclVatCents);
}

const DURATION_LABEL = (d: PromoDiscount): string =>
  d.duration === 'FIRST_PERIOD'
    ? 'première période'
    : d.duration === 'FOREVER'
      ? 'chaque période'
      : `${d.durationPeriods} période${(d.durationPeriods ?? 1) > 1 ? 's' : ''}`;

/** "Code promo PRINTEMPS −20 % (première période)", quantity −1: the discount as an invoice line. */
export function discountLine(
  discount: PromoDiscount,
  exclVatCents: number,
  vatRateBasisPoints: number,
): QuoteLine | undefined {
  const off = discountCents(discount, exclVatCents);
  if (off === 0) return undefined;
  const what =
    discount.kind === 'PERCENT'
      ? `${String((discount.percentBasisPoints ?? 0) / 100).replace('.', ',')} %`
      : `${formatEuros(discount.amountOffCents ?? 0).replace('.', ',')} € HT`;
  return {
    description: `Code promo ${discount.code} −${what} (${DURATION_LABEL(discount)})`,
    quantity: -1,
    unitPriceCents: off,
    totalExclVatCents: -off,
    vatRateBasisPoints,
    vatCents: -mulDivHalfUp(off, vatRateBasisPoints, 10_000),
  };
}

/** The index of the anchored period starting on `start` (0 = the first), or undefined. */
export function periodIndexOf(
  anchor: LocalDate,
  period: BillingPeriod,
  start: LocalDate,
  limit = 1200,
): number | undefined {
  for (let i = 0; i < limit; i += 1) {
    const p = nthPeriod(anchor, period, i);
    if (p.start === start) return i;
    if (p.start > start) return undefined;
  }
  return undefined;
}

/** A quote with the discount as its last line (totals recomputed); unchanged when nothing is taken off. */
export function withDiscount(quote: Quote, discount: PromoDiscount): Quote {
  const line = discountLine(discount, quote.totalExclVatCents, quote.vat.rateBasisPoints);
  if (!line) return quote;
  const lines = [...quote.lines, line];
  return { ...quote, lines, ...buildTotals(lines) };
}
