/**
 * A period of a running subscription and the charges for the next one: the reminder before its end, the
 * renewal charge of the saved method (automatic, manual or a dunning retry), and its record once paid.
 */
import { condition, type ApplicationFailure } from '@temporalio/workflow';
import { startOfDayMs } from '../../domain/licence';
import { addDays } from '../../domain/periods';
import type { ChargeOptions } from '../../domain/price-fingerprint';
import type { Quote } from '../../domain/quote';
import { collectPayment, type Collected } from '../collect-payment';
import { subscriptionKeys } from '../idempotency-keys';
import { refuse } from '../refuse';
import { disputeLost } from './dispute';
import { paysOffline, renewOffline } from './offline-renewal';
import { awaitCustomer, awaitSettling } from './pending-charge';
import { payments, subscriptions } from './proxies';
import type { ChargeReceipt } from './messages';
import { applyScheduledChange, nextPeriodTerms } from './scheduled-change';
import { requireQuotedPrice } from './quoted-price';
import type { Subscription } from './state';

/**
 * Until the end of the period: the reminder before it (not when the next period is already paid), then the
 * end itself, then no charge running.
 */
export async function awaitPeriodEnd(sub: Subscription): Promise<void> {
  const { s } = sub;
  if (paysOffline(sub)) return renewOffline(sub);
  const endMs = () => startOfDayMs(s.periodEnd!);
  const reminderMs = startOfDayMs(addDays(s.periodEnd!, -(await sub.policy()).renewalReminderDays));
  if (s.status === 'ACTIVE' && Date.now() < reminderMs) {
    await condition(() => sub.renewedAhead() || disputeLost(sub), reminderMs - Date.now());
    if (s.paidThroughIndex === s.periodIndex && !disputeLost(sub)) {
      // the renewal's notice says what will be charged (a SEPA debit's pre-notification needs the amount)
      const next = nextPeriodTerms(sub);
      const priced = s.autoRenew
        ? await subscriptions.quoteRenewal({
            licenceId: s.licenceId,
            terms: next.terms,
            periodStart: next.start,
            periodEnd: next.end,
          })
        : undefined;
      await subscriptions.sendLicenceMail({
        licenceId: s.licenceId,
        kind: s.autoRenew ? 'RENEWAL_REMINDER' : 'END_REMINDER',
        periodEnd: s.periodEnd,
        ...(priced ? { amountCents: priced.totalInclVatCents } : {}),
      });
    }
  }
  if (Date.now() < endMs() && !disputeLost(sub))
    await condition(() => disputeLost(sub), endMs() - Date.now());
  await sub.moneyIdle();
}

/**
 * Charges the period after the last paid one with the saved method (payment layer: a pending payment
 * is waited for) and records it (payment, invoice, period). Returns undefined when it is not paid: a
 * decline is recorded as a failed payment; a payment needing the customer is noted in `s.dunning`
 * (its success, by webhook, renews). Throws on anything else.
 */
export async function chargeRenewal(
  sub: Subscription,
  attemptKey: string,
  options?: ChargeOptions,
  /** renew now: a SEPA debit is not waited for; its answer (the update's) comes from here */
  onSettling?: (charge: { paymentIntentId: string; idempotencyKey: string; quote: Quote }) => ChargeReceipt,
): Promise<ChargeReceipt | undefined> {
  const { s } = sub;
  // a change scheduled for the period end is priced here: the next period is sold at its terms
  const next = nextPeriodTerms(sub);
  const idempotencyKey = subscriptionKeys.renewal(s.licenceId, next.start, attemptKey);
  const priced = await subscriptions.quoteRenewal({
    licenceId: s.licenceId,
    terms: next.terms,
    periodStart: next.start,
    periodEnd: next.end,
  });
  requireQuotedPrice(options, priced);
  const charged = await collectPayment(
    payments,
    sub.settlements,
    {
      customerId: s.customerId,
      paymentMethodId: s.paymentMethodId,
      amountCents: priced.totalInclVatCents,
      currency: 'eur',
      idempotencyKey,
      metadata: {
        workflowId: sub.workflowId,
        licenceId: s.licenceId,
        kind: 'renewal',
        // what the payment page shows when the bank wants the customer to confirm this charge
        periodStart: next.start,
        periodEnd: next.end,
        totalExclVatCents: String(priced.totalExclVatCents),
        vatCents: String(priced.vatCents),
      },
    },
    { wait: onSettling === undefined },
  );
  if (!charged.paid && charged.settling && onSettling)
    return onSettling({ paymentIntentId: charged.settling.paymentIntentId, idempotencyKey, quote: priced });
  if (!charged.paid) {
    // a payment waiting for the customer is not a decline: no failed payment; its success renews
    if (!charged.needsCustomer) {
      await subscriptions.recordFailedPayment({
        licenceId: s.licenceId,
        idempotencyKey,
        amountCents: priced.totalInclVatCents,
        failureCode: charged.code,
      });
    }
    s.dunning = {
      failures: (s.dunning?.failures ?? 0) + 1,
      lastFailure: charged.code,
      ...(charged.needsCustomer
        ? { awaitingCustomer: { ...charged.needsCustomer, idempotencyKey, quote: priced } }
        : {}),
    };
    return undefined;
  }
  return recordRenewal(sub, charged, idempotencyKey, priced);
}

/** The next period paid: payment, invoice, period; the licence ACTIVE again; the RENEWED email. */
export async function recordRenewal(
  sub: Subscription,
  charged: Pick<Extract<Collected, { paid: true }>, 'reference'> & {
    provider: 'STRIPE' | 'NONE' | 'CHEQUE' | 'TRANSFER';
    method?: 'CHEQUE' | 'TRANSFER';
  },
  idempotencyKey: string,
  priced: Quote,
): Promise<ChargeReceipt> {
  const { s } = sub;
  const nextIndex = s.paidThroughIndex + 1;
  const next = nextPeriodTerms(sub);
  const { invoiceNumber } = await subscriptions.recordRenewal({
    licenceId: s.licenceId,
    idempotencyKey,
    paymentIntentId: charged.reference,
    provider: charged.provider,
    method: charged.method,
    quote: priced,
    periodStart: next.start,
    periodEnd: next.end,
    saleDate: sub.today(),
    // the scheduled change takes effect with this period (terms, calendar, sessions trimmed)
    ...(s.scheduledChange ? { terms: next.terms, anchorDate: next.anchorDate } : {}),
  });
  sub.periodPaid(nextIndex);
  applyScheduledChange(sub, next.anchorDate);
  await subscriptions.sendLicenceMail({
    licenceId: s.licenceId,
    kind: 'RENEWED',
    invoiceNumber,
    periodEnd: next.end,
  });
  return { invoiceNumber, amountCents: priced.totalInclVatCents, state: s };
}

/**
 * The manual renewal ops or the customer ask for (`renewNowUpdate`): the next period, paid now, or once the
 * customer authenticates its charge.
 */
export async function renewNow(sub: Subscription, options?: ChargeOptions): Promise<ChargeReceipt> {
  const { s } = sub;
  sub.requireUsable();
  if (sub.renewedAhead())
    throw refuse('CHANGE_REFUSED', 'The next period is already paid', { reason: 'ALREADY_RENEWED' });
  // the scheduled change applies with the renewal at the period end
  if (s.scheduledChange)
    throw refuse('CHANGE_REFUSED', 'A change is scheduled for the period end: cancel it first', {
      reason: 'CHANGE_SCHEDULED',
    });
  const dunningBefore = s.dunning;
  const attempt = subscriptionKeys.afterDropped(
    subscriptionKeys.manualRenewalAttempt(s.periodIndex),
    s.droppedCharges,
  );
  const receipt = await chargeRenewal(sub, attempt, options, (charge) =>
    // a SEPA debit: the next period is recorded when the bank settles it (pending-charge.ts)
    awaitSettling(sub, { kind: 'RENEWAL', ...charge, saleDate: sub.today() }),
  );
  const awaiting = s.dunning?.awaitingCustomer;
  if (!receipt && awaiting && awaiting !== dunningBefore?.awaitingCustomer) {
    // not a failure of the period's renewal: renewed once the customer authenticates (pending-charge.ts)
    s.dunning = dunningBefore;
    return awaitCustomer(sub, { kind: 'RENEWAL', ...awaiting, saleDate: sub.today() });
  }
  if (!receipt)
    throw refuse('PAYMENT_DECLINED', 'The card was declined', {
      reason: s.dunning?.lastFailure,
      ...(s.dunning?.awaitingCustomer ? { paymentIntentId: s.dunning.awaitingCustomer.paymentIntentId } : {}),
    });
  return receipt;
}

/** A charge the payment layer did not settle, as the refusal an update answers with. */
export function refusedCharge(charged: Extract<Collected, { paid: false }>): ApplicationFailure {
  return refuse('PAYMENT_DECLINED', 'The card was declined', {
    declineCode: charged.code,
    ...(charged.needsCustomer ? { paymentIntentId: charged.needsCustomer.paymentIntentId } : {}),
  });
}
