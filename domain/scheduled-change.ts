/**
 * Changes at the period end: fewer connections, a lower edition or mode, another billing period, an
 * extension removed. Nothing is prorated or refunded: the change is recorded at once, applied at the next
 * renewal (priced at the new terms) and can be cancelled until then. Pure rules, used by the workflow's
 * validator and handler.
 */
import { isFreeLicence, type BillingPeriod, type Edition, type Mode } from './catalog';
import { normaliseExtensions } from './extensions';
import type { LicenceTerms } from './licence';
import type { LocalDate } from './periods';

/** What a customer asks to change at the period end (anything left out stays). */
export interface PeriodEndChangeRequest {
  edition?: Edition;
  mode?: Mode;
  connections?: number;
  period?: BillingPeriod;
  /** extension codes the licence has and stops having at the period end */
  removeExtensions?: string[];
}

/** A change recorded in the subscription, applied when the next period is paid. */
export interface ScheduledChange {
  /** the licence's terms from the next period on */
  terms: LicenceTerms;
  requestedOn: LocalDate;
}

export type PeriodEndChangeRefusal =
  /** the result is what the licence already is */
  | 'NO_CHANGE'
  /** STANDARD LOCAL is the free licence: stop auto-renewal instead, the base falls back to it */
  | 'NEXT_LICENCE_IS_FREE'
  /** an extension to remove that the licence does not have */
  | 'EXTENSION_NOT_HELD';

/** The terms from the next period on, or why the request can't be scheduled. */
export function periodEndTerms(
  current: LicenceTerms,
  request: PeriodEndChangeRequest,
): { ok: true; terms: LicenceTerms } | { ok: false; reason: PeriodEndChangeRefusal } {
  const held = normaliseExtensions(current.extensions);
  const removed = normaliseExtensions(request.removeExtensions);
  if (removed.some((code) => !held.includes(code))) return { ok: false, reason: 'EXTENSION_NOT_HELD' };
  const terms: LicenceTerms = {
    edition: request.edition ?? current.edition,
    mode: request.mode ?? current.mode,
    connections: request.connections ?? current.connections,
    period: request.period ?? current.period,
    extensions: held.filter((code) => !removed.includes(code)),
  };
  if (isFreeLicence(terms.edition, terms.mode)) return { ok: false, reason: 'NEXT_LICENCE_IS_FREE' };
  if (sameTerms(current, terms)) return { ok: false, reason: 'NO_CHANGE' };
  return { ok: true, terms };
}

export function sameTerms(a: LicenceTerms, b: LicenceTerms): boolean {
  return (
    a.edition === b.edition &&
    a.mode === b.mode &&
    a.connections === b.connections &&
    a.period === b.period &&
    normaliseExtensions(a.extensions).join(',') === normaliseExtensions(b.extensions).join(',')
  );
}
