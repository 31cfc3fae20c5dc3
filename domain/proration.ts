/**
 * Mid-period changes (SPEC §3): adding connections, STANDARD → ENTERPRISE, LOCAL → CLOUD.
 * "Proration = price of the change for a full period × remaining days / days in the current period,
 * rounded half-up to the cent, charged at once." Downgrades and period changes are not prorated: they take
 * effect at renewal, so the functions here answer them with a typed refusal rather than a negative amount.
 */
import {
  isFreeLicence,
  licencePriceCents,
  type Catalog,
  type Edition,
  type LicenceChoice,
  type Mode,
} from './catalog';
import { mulDivHalfUp } from './money';
import { extensionsPriceCents, normaliseExtensions } from './extensions';
import { daysBetween, isInRange, type LocalDate } from './periods';

/** full × remaining / daysInPeriod, rounded half-up to the cent (one rounding, on the final amount). */
export function prorateCents(
  fullPeriodPriceCents: number,
  remainingDays: number,
  daysInPeriod: number,
): number {
  if (!Number.isInteger(daysInPeriod) || daysInPeriod <= 0) {
    throw new RangeError(`daysInPeriod must be a positive integer, got ${daysInPeriod}`);
  }
  if (!Number.isInteger(remainingDays) || remainingDays < 0 || remainingDays > daysInPeriod) {
    throw new RangeError(`remainingDays must be an integer in 0..${daysInPeriod}, got ${remainingDays}`);
  }
  return mulDivHalfUp(fullPeriodPriceCents, remainingDays, daysInPeriod);
}

/**
 * Days from `changeDate` to the (exclusive) end of the period, the change day included: the customer uses
 * the new connection on the day they pay for it. A change on the first day pays the whole period, a change
 * on the last day pays one day. `changeDate` must lie in [periodStart, periodEnd).
 */
export function remainingDays(periodStart: LocalDate, periodEnd: LocalDate, changeDate: LocalDate): number {
  if (!isInRange({ start: periodStart, end: periodEnd }, changeDate)) {
    throw new RangeError(`${changeDate} is not in the period [${periodStart}, ${periodEnd})`);
  }
  return daysBetween(changeDate, periodEnd);
}

export type ChangeRefusalReason =
  /**
   * Fewer connections, ENTERPRISE → STANDARD, CLOUD → LOCAL, an extension removed, or a cheaper result:
   * scheduled for the period end instead (scheduled-change.ts).
   */
  | 'DOWNGRADE_NOT_PRORATED'
  /** MONTHLY ↔ ANNUAL etc.: the new period starts at renewal. */
  | 'PERIOD_CHANGE_NOT_PRORATED'
  /** Nothing changes: no zero-amount invoice. */
  | 'NO_CHANGE'
  /** STANDARD + LOCAL has no paid period to prorate against: buying is a new subscription. */
  | 'CURRENT_LICENCE_IS_FREE'
  /** The change date is not inside the current period (e.g. the period has just been renewed). */
  | 'OUTSIDE_PERIOD';

export type ChangeQuote =
  | {
      ok: true;
      /** Full-period prices excl. VAT, before and after the change. */
      currentPriceCents: number;
      nextPriceCents: number;
      remainingDays: number;
      daysInPeriod: number;
      /** Amount excl. VAT charged now; VAT is added by the invoice line (see quote.ts buildLine). */
      proratedCents: number;
    }
  | { ok: false; reason: ChangeRefusalReason };

/** A licence's terms with the extensions it carries (their price moves with the connections). */
export type PricedTerms = LicenceChoice & { extensions?: readonly string[] };

export interface ChangeRequest {
  current: PricedTerms;
  next: PricedTerms;
  periodStart: LocalDate;
  /** Exclusive. */
  periodEnd: LocalDate;
  changeDate: LocalDate;
}

const EDITION_RANK: Record<Edition, number> = { STANDARD: 0, ENTERPRISE: 1 };
const MODE_RANK: Record<Mode, number> = { LOCAL: 0, CLOUD: 1 };

function lowersAnything(current: PricedTerms, next: PricedTerms): boolean {
  const kept = normaliseExtensions(next.extensions);
  return (
    normaliseExtensions(current.extensions).some((code) => !kept.includes(code)) ||
    EDITION_RANK[next.edition] < EDITION_RANK[current.edition] ||
    MODE_RANK[next.mode] < MODE_RANK[current.mode] ||
    next.connections < current.connections
  );
}

export function changeQuote(catalog: Catalog, request: ChangeRequest): ChangeQuote {
  const { current, next, periodStart, periodEnd, changeDate } = request;
  if (isFreeLicence(current.edition, current.mode)) return { ok: false, reason: 'CURRENT_LICENCE_IS_FREE' };
  if (next.period !== current.period) return { ok: false, reason: 'PERIOD_CHANGE_NOT_PRORATED' };
  if (lowersAnything(current, next)) return { ok: false, reason: 'DOWNGRADE_NOT_PRORATED' };
  if (
    next.edition === current.edition &&
    next.mode === current.mode &&
    next.connections === current.connections &&
    normaliseExtensions(next.extensions).join() === normaliseExtensions(current.extensions).join()
  ) {
    return { ok: false, reason: 'NO_CHANGE' };
  }
  const currentPriceCents = licencePriceCents(catalog, current) + extensionsPriceCents(catalog, current);
  const nextPriceCents = licencePriceCents(catalog, next) + extensionsPriceCents(catalog, next);
  // The catalogue is data: ops could price an "upgrade" below what it replaces. Never prorate a refund.
  if (nextPriceCents < currentPriceCents) return { ok: false, reason: 'DOWNGRADE_NOT_PRORATED' };

  if (!isInRange({ start: periodStart, end: periodEnd }, changeDate))
    return { ok: false, reason: 'OUTSIDE_PERIOD' };
  const daysInPeriod = daysBetween(periodStart, periodEnd);
  const remaining = remainingDays(periodStart, periodEnd, changeDate);
  return {
    ok: true,
    currentPriceCents,
    nextPriceCents,
    remainingDays: remaining,
    daysInPeriod,
    proratedCents: prorateCents(nextPriceCents - currentPriceCents, remaining, daysInPeriod),
  };
}
