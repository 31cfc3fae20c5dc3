/**
 * The renewal of a licence paid by cheque or transfer (no card to charge): the invoice to pay is mailed a
 * number of days before the period end (amount, due date = the period end plus a grace, the payee's bank
 * details and cheque address), reminders follow; ops confirm its receipt with the purchase's
 * `opsDecisionUpdate` and the next period is recorded once (one payment, one paid invoice, keyed by the
 * period). Past the period end the licence stays usable (PAST_DUE) until the due date; not paid by then it
 * ends as after the last failed card payment (domain/dunning.ts: LOCAL ends, CLOUD suspended).
 */
import { condition } from '@temporalio/workflow';
import { startOfDayMs } from '../../domain/licence';
import { addDays, nthPeriod, type LocalDate } from '../../domain/periods';
import { subscriptionKeys } from '../idempotency-keys';
import { refuse } from '../refuse';
import { markWaiting } from '../search-attributes';
import { disputeLost } from './dispute';
import type { OpsDecision, SubscriptionState } from './messages';
import { subscriptions } from './proxies';
import { recordRenewal } from './renewal';
import type { Subscription } from './state';

/** A cheque or transfer payer without a saved card: renewed by paying the invoice to pay. */
export function paysOffline(sub: Subscription): boolean {
  const { s } = sub;
  return (
    (s.paymentMethod === 'CHEQUE' || s.paymentMethod === 'TRANSFER') &&
    !s.paymentMethodId &&
    s.status === 'ACTIVE'
  );
}

/**
 * Until the due date of the next period's invoice to pay: the notice, the reminders, the grace; the
 * next period recorded when ops confirmed its payment. Unpaid, `s.dunning` notes it: the licence then
 * ends as after a last failed payment (dunning.ts `endLicence`).
 */
export async function renewOffline(sub: Subscription): Promise<void> {
  const { s } = sub;
  const policy = await sub.policy();
  const periodEnd = s.periodEnd!;
  const stop = () => sub.renewedAhead() || disputeLost(sub);
  const noticeMs = startOfDayMs(addDays(periodEnd, -policy.offlineRenewalNoticeDays));
  if (Date.now() < noticeMs) await condition(stop, noticeMs - Date.now());
  if (stop()) return waitForEnd(sub);

  const next = nthPeriod(s.anchorDate!, s.terms.period, s.paidThroughIndex + 1);
  const quote = await subscriptions.quoteRenewal({
    licenceId: s.licenceId,
    terms: s.terms,
    periodStart: next.start,
    periodEnd: next.end,
  });
  const dueOn = addDays(periodEnd, policy.offlineRenewalGraceDays);
  s.offlineRenewal = { dueOn, periodEnd: next.end, amountCents: quote.totalInclVatCents, quote };
  const mail = (kind: 'RENEWAL_INVOICE_TO_PAY' | 'RENEWAL_PAYMENT_REMINDER') =>
    subscriptions.sendLicenceMail({
      licenceId: s.licenceId,
      kind,
      periodEnd: next.end,
      amountCents: quote.totalInclVatCents,
      dueOn,
    });
  await mail('RENEWAL_INVOICE_TO_PAY');

  const settled = () => s.offlineRenewal?.confirmed !== undefined || disputeLost(sub);
  const endMs = startOfDayMs(periodEnd);
  const dueMs = startOfDayMs(dueOn);
  // the reminders and the period end, in the order they come
  const steps = [
    ...policy.offlineRenewalReminderDays.map((d) => ({ at: startOfDayMs(addDays(dueOn, -d)), remind: true })),
    { at: endMs, remind: false },
  ]
    .filter((step) => step.at < dueMs)
    .sort((a, b) => a.at - b.at);
  markWaiting('OPS');
  for (const step of steps) {
    if (Date.now() < step.at && (await condition(settled, step.at - Date.now()))) break;
    if (settled()) break;
    if (step.remind) await mail('RENEWAL_PAYMENT_REMINDER');
    else await pastDue(sub, dueOn);
  }
  if (!settled()) await condition(settled, Math.max(dueMs - Date.now(), 1));
  markWaiting(undefined);

  const confirmed = s.offlineRenewal.confirmed;
  if (confirmed && !disputeLost(sub)) {
    const method = s.paymentMethod === 'CHEQUE' ? 'CHEQUE' : 'TRANSFER';
    await sub.withMoneyLock(() =>
      recordRenewal(
        sub,
        { provider: method, method, reference: confirmed.reference },
        subscriptionKeys.renewal(s.licenceId, next.start, 'offline'),
        quote,
      ),
    );
  } else if (!disputeLost(sub)) {
    s.dunning = { failures: 1, lastFailure: 'OFFLINE_PAYMENT_NOT_RECEIVED' };
  }
  s.offlineRenewal = undefined;
  if (Date.now() < endMs) await waitForEnd(sub);
}

/** The period end not reached yet (paid ahead): wait for it, as a card licence does. */
async function waitForEnd(sub: Subscription): Promise<void> {
  const endMs = startOfDayMs(sub.s.periodEnd!);
  if (Date.now() < endMs && !disputeLost(sub)) await condition(() => disputeLost(sub), endMs - Date.now());
  await sub.moneyIdle();
}

/** The period ended unpaid: usable until the due date, PAST_DUE as a licence in dunning. */
async function pastDue(sub: Subscription, dueOn: LocalDate): Promise<void> {
  sub.s.status = 'PAST_DUE';
  await subscriptions.markPastDue({
    licenceId: sub.s.licenceId,
    failures: 0,
    nextAttemptOn: dueOn,
    reason: 'OFFLINE_PAYMENT_DUE',
  });
}

/** `opsDecisionUpdate` while an invoice to pay waits: only its payment can be confirmed, and only once. */
export function validateRenewalDecision(sub: Subscription, d: OpsDecision): void {
  const pending = sub.s.offlineRenewal!;
  if (d.decision !== 'CONFIRM_PAYMENT')
    throw refuse('PURCHASE_NOT_AWAITING_OPS', 'A renewal to pay is decided with CONFIRM_PAYMENT');
  if (pending.confirmed)
    throw refuse('PURCHASE_NOT_AWAITING_OPS', 'The payment of this renewal is already confirmed');
}

/** Ops confirmed the payment: the first confirmation counts; answers once the period is recorded. */
export async function confirmRenewalPayment(sub: Subscription, d: OpsDecision): Promise<SubscriptionState> {
  const pending = sub.s.offlineRenewal;
  if (pending && !pending.confirmed && d.decision === 'CONFIRM_PAYMENT')
    pending.confirmed = { by: d.by, reference: d.reference };
  await condition(() => sub.s.offlineRenewal === undefined);
  return sub.s;
}
