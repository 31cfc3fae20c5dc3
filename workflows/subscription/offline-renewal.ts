/**
 * The renewal of a licence paid by cheque or transfer (no card to charge): the invoice to pay is mailed a
 * number of days before the period end (amount, due date = the period end plus a grace, the payee's bank
 * details and cheque address), reminders follow; ops confirm its receipt with the purchase's
 * `opsDecisionUpdate` and the next period is recorded once (one payment, one paid invoice, keyed by the
 * period). Past the period end the licence stays usable (PAST_DUE) until the due date; not paid by then it
 * ends as after the last failed card payment (domain/dunning.ts: LOCAL ends, CLOUD suspended). A card or
 * SEPA mandate saved meanwhile withdraws the invoice to pay (unless ops confirmed it): the period is then
 * charged to that method at its end, as any automatic renewal (docs/sepa.md). Renew now
 * issues that same invoice at once (same due date), or answers the one already out. Each invoice to pay is
 * also a row of the ops queue of renewals to pay (activities/offline-renewals.ts).
 */
import { condition } from '@temporalio/workflow';
import { startOfDayMs } from '../../domain/licence';
import { addDays, type LocalDate } from '../../domain/periods';
import type { ChargeOptions } from '../../domain/price-fingerprint';
import { subscriptionKeys } from '../idempotency-keys';
import { refuse } from '../refuse';
import { markWaiting } from '../search-attributes';
import { disputeLost } from './dispute';
import type { ChargeReceipt, OfflineRenewal, OpsDecision, SubscriptionState } from './messages';
import { offlineRenewals, subscriptions } from './proxies';
import { requireQuotedPrice } from './quoted-price';
import { recordRenewal } from './renewal';
import { nextPeriodTerms } from './scheduled-change';
import type { Subscription } from './state';

/** A cheque or transfer payer without a saved card: renewed by paying an invoice to pay. */
export function paysByInvoice(sub: Subscription): boolean {
  const { s } = sub;
  return (s.paymentMethod === 'CHEQUE' || s.paymentMethod === 'TRANSFER') && !s.paymentMethodId;
}

/** ...whose period runs: this period's end is the one renewOffline waits for. */
export function paysOffline(sub: Subscription): boolean {
  return paysByInvoice(sub) && sub.s.status === 'ACTIVE';
}

/**
 * Until the due date of the next period's invoice to pay: the notice (or the invoice renew now issued
 * earlier), the reminders, the grace; the next period recorded when ops confirmed its payment. Unpaid,
 * `s.dunning` notes it: the licence then ends as after a last failed payment (dunning.ts `endLicence`).
 */
export async function renewOffline(sub: Subscription): Promise<void> {
  const { s } = sub;
  const policy = await sub.policy();
  const periodEnd = s.periodEnd!;
  // a card or SEPA mandate saved meanwhile (the payment method page): the period is charged to it instead
  const switched = () => !paysByInvoice(sub);
  const stop = () => sub.renewedAhead() || disputeLost(sub) || switched();
  const noticeMs = startOfDayMs(addDays(periodEnd, -policy.offlineRenewalNoticeDays));
  sub.invoiceToPayOpen = true;
  if (Date.now() < noticeMs)
    await condition(() => stop() || s.offlineRenewal !== undefined, noticeMs - Date.now());
  if (!stop()) await issueInvoiceToPay(sub, 'NOTICE');
  // renew now may be issuing it: its mail goes before anything that follows
  await condition(() => !sub.issuingInvoiceToPay);
  if (stop()) {
    sub.invoiceToPayOpen = false;
    if (s.offlineRenewal) await closeInvoiceToPay(sub, 'CANCELLED');
    return waitForEnd(sub);
  }
  const pending = s.offlineRenewal!;
  const { dueOn } = pending;

  // paid (ops confirmed), ended (a lost dispute), or the period paid otherwise (a card saved meanwhile)
  const settled = () => pending.confirmed !== undefined || stop();
  const endMs = startOfDayMs(periodEnd);
  const dueMs = startOfDayMs(dueOn);
  const now = Date.now();
  // the reminders still ahead and the period end, in the order they come
  const steps = [
    ...policy.offlineRenewalReminderDays
      .map((d) => ({ at: startOfDayMs(addDays(dueOn, -d)), remind: true }))
      .filter((step) => step.at > now),
    { at: endMs, remind: false },
  ]
    .filter((step) => step.at < dueMs)
    .sort((a, b) => a.at - b.at);
  markWaiting('OPS');
  for (const step of steps) {
    if (Date.now() < step.at && (await condition(settled, step.at - Date.now()))) break;
    if (settled()) break;
    if (step.remind) {
      await mailInvoiceToPay(sub, 'RENEWAL_PAYMENT_REMINDER');
      pending.remindersSent += 1;
      await noteInvoiceToPay(sub, 'OPEN');
    } else await pastDue(sub, dueOn);
  }
  if (!settled()) await condition(settled, Math.max(dueMs - Date.now(), 1));
  markWaiting(undefined);
  sub.invoiceToPayOpen = false;

  const confirmed = pending.confirmed;
  if (sub.renewedAhead() || disputeLost(sub)) await closeInvoiceToPay(sub, 'CANCELLED');
  else if (confirmed) {
    const paidBy = method(sub);
    await sub.withMoneyLock(() =>
      recordRenewal(
        sub,
        { provider: paidBy, method: paidBy, reference: confirmed.reference },
        subscriptionKeys.renewal(s.licenceId, pending.periodStart, 'offline'),
        pending.quote,
      ),
    );
    await closeInvoiceToPay(sub, 'PAID');
  } else if (switched()) {
    // ops had not confirmed a cheque: the invoice to pay is withdrawn, the saved method renews (dunning.ts),
    // at the period end or, past it, at once — the licence usable again as before the end
    await closeInvoiceToPay(sub, 'CANCELLED');
    if (s.status === 'PAST_DUE') s.status = 'ACTIVE';
  } else {
    s.dunning = { failures: 1, lastFailure: 'OFFLINE_PAYMENT_NOT_RECEIVED' };
    await closeInvoiceToPay(sub, 'UNPAID');
  }
  if (Date.now() < endMs) await waitForEnd(sub);
}

/**
 * The next period's invoice to pay, issued once: priced (`quoteRenewal`: catalogue and VAT of that day),
 * noted for the ops queue and mailed; the one already out when there is one. Renew now (with the quote's
 * fingerprint, refused if the price moved) and the notice share it, one issuing at a time.
 */
export async function issueInvoiceToPay(
  sub: Subscription,
  origin: OfflineRenewal['origin'],
  options?: ChargeOptions,
): Promise<OfflineRenewal> {
  const { s } = sub;
  await condition(() => !sub.issuingInvoiceToPay);
  if (s.offlineRenewal) return s.offlineRenewal;
  sub.issuingInvoiceToPay = true;
  try {
    const policy = await sub.policy();
    // a change scheduled for the period end is priced here, as a card renewal prices it (and records it)
    const next = nextPeriodTerms(sub);
    const quote = await subscriptions.quoteRenewal({
      licenceId: s.licenceId,
      terms: next.terms,
      periodStart: next.start,
      periodEnd: next.end,
    });
    requireQuotedPrice(options, quote);
    const pending: OfflineRenewal = {
      dueOn: addDays(s.periodEnd!, policy.offlineRenewalGraceDays),
      periodStart: next.start,
      periodEnd: next.end,
      amountCents: quote.totalInclVatCents,
      quote,
      issuedOn: sub.today(),
      origin,
      remindersSent: 0,
    };
    s.offlineRenewal = pending;
    await noteInvoiceToPay(sub, 'OPEN');
    await mailInvoiceToPay(sub, 'RENEWAL_INVOICE_TO_PAY');
    return pending;
  } finally {
    sub.issuingInvoiceToPay = false;
  }
}

/**
 * Renew now, for a cheque or transfer payer: nothing is charged; the answer is the invoice to pay (issued
 * now, or the one already mailed: asked twice, the same invoice, no second mail). The period is recorded
 * when ops confirm its receipt, as for the invoice mailed before the period end.
 */
export async function renewNowByInvoice(sub: Subscription, options?: ChargeOptions): Promise<ChargeReceipt> {
  const invoice = await issueInvoiceToPay(sub, 'RENEW_NOW', options);
  requireQuotedPrice(options, invoice.quote);
  return { invoiceNumber: null, amountCents: invoice.amountCents, state: sub.s, invoiceToPay: invoice };
}

/** `renewNowUpdate`'s validator for a cheque or transfer payer (a refused update leaves no trace). */
export function validateRenewNowByInvoice(sub: Subscription, options?: ChargeOptions): void {
  const { s } = sub;
  if (s.offlineRenewal) return requireQuotedPrice(options, s.offlineRenewal.quote);
  if (sub.renewedAhead())
    throw refuse('CHANGE_REFUSED', 'The next period is already paid', { reason: 'ALREADY_RENEWED' });
  if (!sub.invoiceToPayOpen)
    throw refuse('CHANGE_REFUSED', 'This period is closing: its renewal is no longer open', {
      reason: 'RENEWAL_CLOSED',
    });
}

const method = (sub: Subscription) => (sub.s.paymentMethod === 'CHEQUE' ? 'CHEQUE' : 'TRANSFER');

function noteInvoiceToPay(sub: Subscription, status: 'OPEN' | 'PAID' | 'UNPAID' | 'CANCELLED') {
  const { s } = sub;
  const pending = s.offlineRenewal!;
  return offlineRenewals.noteInvoiceToPay({
    licenceId: s.licenceId,
    baseId: s.baseId,
    paymentMethod: method(sub),
    periodStart: pending.periodStart,
    periodEnd: pending.periodEnd,
    amountCents: pending.amountCents,
    dueOn: pending.dueOn,
    origin: pending.origin,
    remindersSent: pending.remindersSent,
    status,
  });
}

/** Closed (paid, unpaid, cancelled): out of the ops queue and of the state. */
async function closeInvoiceToPay(sub: Subscription, status: 'PAID' | 'UNPAID' | 'CANCELLED'): Promise<void> {
  await noteInvoiceToPay(sub, status);
  sub.s.offlineRenewal = undefined;
}

function mailInvoiceToPay(sub: Subscription, kind: 'RENEWAL_INVOICE_TO_PAY' | 'RENEWAL_PAYMENT_REMINDER') {
  const pending = sub.s.offlineRenewal!;
  return subscriptions.sendLicenceMail({
    licenceId: sub.s.licenceId,
    kind,
    periodEnd: pending.periodEnd,
    amountCents: pending.amountCents,
    dueOn: pending.dueOn,
  });
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
