/**
 * A change of edition, mode or connections, or extensions added (`changeLicenceUpdate`): prorated, charged
 * at once, then applied; a charge the bank wants the customer to authenticate is applied once they do,
 * a SEPA debit once the bank settles it (pending-charge.ts).
 */
import { termsAfterChange } from '../../domain/extensions';
import type { ChargeOptions } from '../../domain/price-fingerprint';
import { collectPayment } from '../collect-payment';
import { subscriptionKeys } from '../idempotency-keys';
import { refuse } from '../refuse';
import { awaitCustomer, awaitSettling } from './pending-charge';
import { payments, subscriptions } from './proxies';
import type { ChargeReceipt, LicenceChange } from './messages';
import { refusedCharge } from './renewal';
import { requireQuotedPrice } from './quoted-price';
import type { Subscription } from './state';

export async function changeLicence(
  sub: Subscription,
  change: LicenceChange,
  options?: ChargeOptions,
): Promise<ChargeReceipt> {
  const { s } = sub;
  sub.requireUsable();
  if (!s.customerId || !s.paymentMethodId) {
    throw refuse('CHANGE_REFUSED', 'A change is charged at once to a card saved by an online payment', {
      reason: 'NO_SAVED_CARD',
    });
  }
  // a change recorded for the period end was decided from today's terms: it is cancelled first
  if (s.scheduledChange)
    throw refuse('CHANGE_REFUSED', 'A change is scheduled for the period end: cancel it first', {
      reason: 'CHANGE_SCHEDULED',
    });
  const next = termsAfterChange(s.terms, change);
  const day = sub.today();
  const priced = await subscriptions.quoteChange({
    licenceId: s.licenceId,
    current: s.terms,
    next,
    periodStart: s.periodStart!,
    periodEnd: s.periodEnd!,
    changeDate: day,
    renewedAhead: sub.renewedAhead(),
  });
  if (!priced.ok)
    throw refuse('CHANGE_REFUSED', `This change can't be made now (${priced.reason})`, {
      reason: priced.reason,
    });
  requireQuotedPrice(options, priced.quote);
  const idempotencyKey = subscriptionKeys.afterDropped(
    subscriptionKeys.change(s.licenceId, day, next),
    s.droppedCharges,
  );
  const charged = await collectPayment(
    payments,
    sub.settlements,
    {
      customerId: s.customerId,
      paymentMethodId: s.paymentMethodId,
      amountCents: priced.quote.totalInclVatCents,
      currency: 'eur',
      idempotencyKey,
      metadata: {
        workflowId: sub.workflowId,
        licenceId: s.licenceId,
        kind: 'change',
        // what the payment page shows when the bank wants the customer to confirm this charge
        totalExclVatCents: String(priced.quote.totalExclVatCents),
        vatCents: String(priced.quote.vatCents),
      },
    },
    // a SEPA debit settles in days: the ERP is answered at once, the change applied when it settles
    { wait: false },
  );
  const pending = { idempotencyKey, quote: priced.quote, saleDate: day, terms: next };
  if (!charged.paid && charged.settling)
    return awaitSettling(sub, {
      kind: 'CHANGE',
      paymentIntentId: charged.settling.paymentIntentId,
      ...pending,
    });
  if (!charged.paid && charged.needsCustomer) {
    // applied once the customer authenticates it (pending-charge.ts)
    return awaitCustomer(sub, {
      kind: 'CHANGE',
      paymentIntentId: charged.needsCustomer.paymentIntentId,
      ...pending,
    });
  }
  if (!charged.paid) throw refusedCharge(charged);
  const { invoiceNumber } = await subscriptions.applyChange({
    licenceId: s.licenceId,
    idempotencyKey,
    paymentIntentId: charged.reference,
    provider: charged.provider,
    terms: next,
    quote: priced.quote,
    saleDate: day,
  });
  s.terms = next;
  return { invoiceNumber, amountCents: priced.quote.totalInclVatCents, state: s };
}
