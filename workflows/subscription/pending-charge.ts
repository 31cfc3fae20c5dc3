/**
 * A change or a renew-now whose off-session charge the bank wants the customer to authenticate (3-D Secure,
 * the payment layer's NEEDS_CUSTOMER), or whose SEPA debit the bank settles days later (PENDING, `settling`:
 * the update answers at once, the charge is applied when it settles, dropped if it fails). The update answers that PaymentIntent (the API turns it into a signed
 * payment URL the ERP opens) and the charge is kept in `s.pendingCharge`, one at a time: the money lock waits
 * for it (state.ts `moneyIdle`), and the charging updates are refused PAYMENT_ACTION_PENDING meanwhile. A task
 * of the workflow settles it:
 *
 * - the webhook's success: the change or the renewal is applied, keyed as the charge (payment and invoice
 *   recorded once);
 * - the webhook's failure, or PENDING_CHARGE_MS without an answer: the PaymentIntent is cancelled at Stripe
 *   (paid at the last moment: applied all the same) and the charge dropped, nothing applied.
 *
 * The same closing of an unpaid PaymentIntent serves the dunning of a renewal waiting for the customer
 * (dunning.ts `closeAwaitingCharge`).
 */
import { condition } from '@temporalio/workflow';
import { awaitSettlement, collectedOf, type Collected } from '../collect-payment';
import { subscriptionKeys } from '../idempotency-keys';
import { refuse } from '../refuse';
import { payments, subscriptions } from './proxies';
import type { ChargeReceipt, PendingCharge } from './messages';
import { recordRenewal } from './renewal';
import type { Subscription } from './state';

/** How long a change or renew-now waits for the customer's authentication before it is dropped: a day. */
export const PENDING_CHARGE_MS = 86_400_000;

/** Keeps the charge waiting for the customer, starts its settlement, and answers the update with it. */
export function awaitCustomer(sub: Subscription, pending: Omit<PendingCharge, 'expiresAtMs'>): ChargeReceipt {
  const expiresAtMs = Date.now() + PENDING_CHARGE_MS;
  const charge: PendingCharge = { ...pending, expiresAtMs };
  sub.s.pendingCharge = charge;
  void settlePendingCharge(sub, charge);
  return {
    invoiceNumber: null,
    amountCents: charge.quote.totalInclVatCents,
    state: sub.s,
    actionRequired: { paymentIntentId: charge.paymentIntentId, expiresAtMs },
  };
}

/**
 * Keeps a charge the bank is settling (a SEPA debit: days), starts its settlement, and answers the update
 * with it; applied when it settles, dropped if it fails.
 */
export function awaitSettling(
  sub: Subscription,
  pending: Omit<PendingCharge, 'expiresAtMs' | 'settling'>,
): ChargeReceipt {
  const charge: PendingCharge = { ...pending, settling: true };
  sub.s.pendingCharge = charge;
  void settlePendingCharge(sub, charge);
  return {
    invoiceNumber: null,
    amountCents: charge.quote.totalInclVatCents,
    state: sub.s,
    processing: { paymentIntentId: charge.paymentIntentId },
  };
}

/** A run started from a state with a pending charge (continued or restarted) settles it. */
export function resumePendingCharge(sub: Subscription): void {
  if (sub.s.pendingCharge) void settlePendingCharge(sub, sub.s.pendingCharge);
}

/** In validators: one charge waiting for the customer at a time. */
export function requireNoPendingCharge(sub: Subscription): void {
  const pending = sub.s.pendingCharge;
  if (pending?.settling)
    throw refuse(
      'PAYMENT_ACTION_PENDING',
      'A SEPA debit of this licence is being settled by the bank: wait for its end first',
      { paymentIntentId: pending.paymentIntentId, settling: true },
    );
  if (pending)
    throw refuse(
      'PAYMENT_ACTION_PENDING',
      'A payment of this licence waits for the customer to confirm it: pay or let it expire first',
      {
        paymentIntentId: pending.paymentIntentId,
        expiresAt: new Date(pending.expiresAtMs ?? 0).toISOString(),
      },
    );
}

async function settlePendingCharge(sub: Subscription, pending: PendingCharge): Promise<void> {
  const { paymentIntentId } = pending;
  let paid: Extract<Collected, { paid: true }> | undefined;
  if (pending.settling) {
    // the bank's answer, however long it takes (a failed debit: nothing to cancel at Stripe)
    const settled = await awaitSettlement(payments, sub.settlements, paymentIntentId);
    paid = settled.paid ? settled : undefined;
  } else {
    await condition(
      () => sub.settlements.of(paymentIntentId) !== undefined,
      Math.max((pending.expiresAtMs ?? 0) - Date.now(), 1),
    );
    const succeeded = sub.settlements.succeeded(paymentIntentId);
    paid = succeeded
      ? collectedOf(succeeded)
      : await closeUnpaidCharge(paymentIntentId, pending.idempotencyKey);
  }
  if (paid && sub.usable()) await applyPendingCharge(sub, pending, paid);
  else if (!paid) sub.s.droppedCharges = (sub.s.droppedCharges ?? 0) + 1;
  sub.s.pendingCharge = undefined;
}

async function applyPendingCharge(
  sub: Subscription,
  pending: PendingCharge,
  paid: Extract<Collected, { paid: true }>,
): Promise<void> {
  const { s } = sub;
  if (pending.kind === 'RENEWAL') {
    if (!sub.renewedAhead()) await recordRenewal(sub, paid, pending.idempotencyKey, pending.quote);
    return;
  }
  await subscriptions.applyChange({
    licenceId: s.licenceId,
    idempotencyKey: pending.idempotencyKey,
    paymentIntentId: paid.reference,
    provider: paid.provider,
    terms: pending.terms!,
    quote: pending.quote,
    saleDate: pending.saleDate,
  });
  s.terms = pending.terms!;
}

/**
 * Cancels at Stripe a PaymentIntent the customer was asked to confirm, so that an old link can't take money
 * for something dropped. Confirmed at the last moment: the payment, for the caller to record.
 */
export async function closeUnpaidCharge(
  paymentIntentId: string,
  chargeKey: string,
): Promise<Extract<Collected, { paid: true }> | undefined> {
  const closed = await payments.closeUnpaidPaymentIntent({
    paymentIntentId,
    idempotencyKey: subscriptionKeys.closeAwaitingCharge(chargeKey),
  });
  if (closed.outcome !== 'PAID') return undefined;
  return { paid: true, provider: 'STRIPE', reference: paymentIntentId, amountCents: closed.amountCents };
}
