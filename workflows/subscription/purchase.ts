/**
 * The purchase of a subscription, before its first period: ONLINE waits for the card payment (webhook →
 * `paymentResultSignal`) until a deadline; CHEQUE/TRANSFER waits for ops to confirm receipt (reminder, then
 * cancellation at a deadline); FREE waits for ops approval or rejection. Then the licence is activated
 * (payment, paid invoice, email), or the purchase closed (cancelled or rejected, the buyer told).
 */
import { condition } from '@temporalio/workflow';
import { subscriptionKeys } from '../idempotency-keys';
import { collectCustomerPayment } from '../customer-payment';
import { markWaiting } from '../search-attributes';
import { localPayments, localSubscriptions, payments, subscriptions } from './proxies';
import type { Subscription } from './state';

const DAY_MS = 86_400_000;

/** Runs the purchase the run starts in (if any): the subscription ends up usable, or closed. */
export async function purchase(sub: Subscription): Promise<void> {
  if (sub.s.status === 'AWAITING_PAYMENT') await buyOnline(sub);
  else if (sub.s.status === 'AWAITING_OPS') await buyWithOpsDecision(sub);
}

async function activate(
  sub: Subscription,
  payment?: { provider: string; reference: string; amountCents: number },
): Promise<void> {
  const { s } = sub;
  s.anchorDate = sub.today();
  s.periodIndex = 0;
  s.paidThroughIndex = 0;
  sub.setPeriod();
  // local activities, as the ordering steps: the activation is what the customer waits for once paid
  const subs = localSubscriptions;
  const { invoiceNumber } = await subs.activateLicence({
    licenceId: s.licenceId,
    purchaseId: s.purchase!.purchaseId,
    anchorDate: s.anchorDate,
    periodStart: s.periodStart!,
    periodEnd: s.periodEnd!,
    customerId: s.customerId,
    paymentMethodId: s.paymentMethodId,
    payment: payment && {
      idempotencyKey: subscriptionKeys.purchasePayment(s.purchase!.purchaseId),
      method: s.paymentMethod,
      ...payment,
    },
  });
  s.status = 'ACTIVE';
  s.purchase = undefined;
  await subs.sendLicenceMail({
    licenceId: s.licenceId,
    kind: 'ACTIVATED',
    invoiceNumber,
    periodEnd: s.periodEnd,
  });
}

async function closePurchase(
  sub: Subscription,
  status: 'CANCELLED' | 'REJECTED',
  reason: string,
  by?: string,
): Promise<void> {
  const { s } = sub;
  s.status = status;
  await subscriptions.closePurchase({
    licenceId: s.licenceId,
    purchaseId: s.purchase!.purchaseId,
    status,
    reason,
    decidedBy: by,
  });
  await subscriptions.sendLicenceMail({
    licenceId: s.licenceId,
    kind: status === 'REJECTED' ? 'PURCHASE_REJECTED' : 'PURCHASE_CANCELLED',
    reason,
  });
}

async function buyOnline(sub: Subscription): Promise<void> {
  const { s } = sub;
  const p = s.purchase!;
  if (p.amountCents === 0) {
    // a zero-price catalogue entry: nothing to collect (Stripe refuses 0-cent PaymentIntents)
    return activate(sub, {
      provider: 'NONE',
      reference: subscriptionKeys.freePurchaseReference(p.purchaseId),
      amountCents: 0,
    });
  }
  const end = await collectCustomerPayment(
    // local activities for the ordering steps: the ERP waits for the payment instructions
    { ordering: localPayments, payments },
    {
      order: p,
      payer: { name: p.holderName, licenceId: s.licenceId, baseId: s.baseId },
      description: `Licence ${s.terms.edition} ${s.terms.mode} — base ${s.baseId}`,
      keys: subscriptionKeys.purchase(s.licenceId, p.purchaseId),
      noteIntent: (noted) => localSubscriptions.notePaymentIntent(noted),
      deadlineHours: async () => (await sub.policy()).onlinePaymentTimeoutHours,
      paid: () => sub.paid,
    },
  );
  s.customerId = end.customerId;
  if (end.outcome !== 'PAID')
    return closePurchase(sub, 'CANCELLED', 'The card payment was not completed in time');
  const paid = end.payment;
  s.paymentMethodId = paid.paymentMethodId;
  await activate(sub, { provider: 'STRIPE', reference: paid.paymentIntentId, amountCents: paid.amountCents });
}

async function buyWithOpsDecision(sub: Subscription): Promise<void> {
  const { s } = sub;
  const started = Date.now();
  const { offlinePaymentDeadlineDays, offlinePaymentReminderDays } = await sub.policy();
  const deadline = started + offlinePaymentDeadlineDays * DAY_MS;
  const reminderAt = started + offlinePaymentReminderDays * DAY_MS;
  markWaiting('OPS');
  if (
    s.paymentMethod !== 'FREE' &&
    !(await condition(() => sub.decision !== undefined, reminderAt - Date.now()))
  ) {
    await subscriptions.sendLicenceMail({ licenceId: s.licenceId, kind: 'PAYMENT_REMINDER' });
  }
  const decided = await condition(() => sub.decision !== undefined, Math.max(deadline - Date.now(), 1));
  markWaiting(undefined);
  if (!decided) {
    return closePurchase(
      sub,
      'CANCELLED',
      s.paymentMethod === 'FREE' ? 'No decision was made in time' : 'The payment was not received in time',
    );
  }
  const d = sub.decision!;
  if (d.decision === 'REJECT') return closePurchase(sub, 'REJECTED', d.reason, d.by);
  if (d.decision === 'CANCEL') return closePurchase(sub, 'CANCELLED', d.reason, d.by);
  if (d.decision === 'APPROVE') return activate(sub);
  return activate(sub, {
    provider: s.paymentMethod,
    reference: d.reference,
    amountCents: s.purchase!.amountCents,
  });
}
