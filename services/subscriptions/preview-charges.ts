/**
 * A price before the charge: what renewing now or a change would charge — amount, VAT, prorated days —
 * computed exactly as the workflow will (price-charges.ts, from the workflow's own state), charging
 * nothing. The answer's `priceFingerprint`, sent back with the charge, makes the charge go ahead only at
 * that price (409 PRICE_CHANGED otherwise). A new chargeable change adds its preview here.
 */
import { AppError } from '../../domain/errors';
import { dayOf, type LicenceTerms } from '../../domain/licence';
import { addDays, nthPeriod, type LocalDate } from '../../domain/periods';
import { priceFingerprint } from '../../domain/price-fingerprint';
import type { Quote } from '../../domain/quote';
import type { SubscriptionState } from '../../workflows/subscription';
import type { ServiceDeps } from '../deps';
import { subscriptionState } from './licence-messages';
import { priceChange, priceRenewal } from './price-charges';
import { termsAfterChange } from '../../domain/extensions';

export interface ChargePreview {
  kind: 'RENEWAL' | 'CHANGE';
  quote: Quote;
  amountCents: number;
  /** RENEWAL: the period paid; CHANGE: the days charged of the current period */
  period: { start: string; end: string };
  proration?: { changeDate: string; remainingDays: number; daysInPeriod: number };
  priceFingerprint: string;
}

function usableState(s: SubscriptionState): SubscriptionState {
  if (s.status !== 'ACTIVE' && s.status !== 'PAST_DUE')
    throw new AppError('NO_PAID_LICENCE', 'This base has no paid licence running');
  return s;
}

export async function previewRenewal(deps: ServiceDeps, baseId: string): Promise<ChargePreview> {
  const s = usableState(await subscriptionState(deps, baseId));
  if (s.paidThroughIndex > s.periodIndex)
    throw new AppError('CHANGE_REFUSED', 'The next period is already paid', { reason: 'ALREADY_RENEWED' });
  // cheque/transfer: the invoice to pay already mailed fixes the price (offline-renewals.md)
  const out = s.offlineRenewal;
  if (out) return renewalPreview(out.quote, { start: out.periodStart, end: out.periodEnd });
  const next = nthPeriod(s.anchorDate!, s.terms.period, s.paidThroughIndex + 1);
  const quote = await priceRenewal(deps.prisma, {
    licenceId: s.licenceId,
    terms: s.terms,
    periodStart: next.start,
    periodEnd: next.end,
  });
  return renewalPreview(quote, next);
}

const renewalPreview = (quote: Quote, next: { start: string; end: string }): ChargePreview => ({
  kind: 'RENEWAL',
  quote,
  amountCents: quote.totalInclVatCents,
  period: { start: next.start, end: addDays(next.end as LocalDate, -1) },
  priceFingerprint: priceFingerprint(quote),
});

export async function previewChange(
  deps: ServiceDeps,
  baseId: string,
  change: Partial<Pick<LicenceTerms, 'edition' | 'mode' | 'connections'>> & { addExtensions?: string[] },
): Promise<ChargePreview> {
  const s = usableState(await subscriptionState(deps, baseId));
  const changeDate = dayOf(Date.now());
  const priced = await priceChange(deps.prisma, {
    licenceId: s.licenceId,
    current: s.terms,
    next: termsAfterChange(s.terms, change),
    periodStart: s.periodStart!,
    periodEnd: s.periodEnd!,
    changeDate,
    renewedAhead: s.paidThroughIndex > s.periodIndex,
  });
  if (!priced.ok)
    throw new AppError('CHANGE_REFUSED', `This change can't be made now (${priced.reason})`, {
      reason: priced.reason,
    });
  return {
    kind: 'CHANGE',
    quote: priced.quote,
    amountCents: priced.quote.totalInclVatCents,
    period: { start: changeDate, end: addDays(s.periodEnd!, -1) },
    proration: { changeDate, remainingDays: priced.remainingDays, daysInPeriod: priced.daysInPeriod },
    priceFingerprint: priceFingerprint(priced.quote),
  };
}
