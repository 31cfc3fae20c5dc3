/**
 * A card payment's deadline, shared by the licence purchase (subscriptionWorkflow) and credit purchases
 * (creditPurchaseWorkflow). When nobody paid in time, the PaymentIntent is cancelled at Stripe, so a customer
 * coming back later can't pay for a purchase we closed. When the customer paid at the last moment, Stripe
 * refuses the cancellation: the purchase goes on as paid, from Stripe's own answer (its webhook may still be
 * on the way). A payment still processing (a SEPA debit: the bank answers within days, Stripe says up to 14
 * business days) is waited for, a day at a time, for as long as Stripe says it is processing: the purchase
 * is never closed while money may still arrive.
 */
import { condition } from '@temporalio/workflow';
import type { ClosedIntent } from '../activities/payments';
import type { PaymentResult } from './payment-messages';

const DAY_MS = 86_400_000;

/**
 * Returns the payment when it came after all, undefined when the PaymentIntent is cancelled and the
 * purchase is to be closed.
 */
export async function settleAtDeadline(
  payments: {
    closeUnpaidPaymentIntent(input: {
      paymentIntentId: string;
      idempotencyKey: string;
    }): Promise<ClosedIntent>;
  },
  input: {
    paymentIntentId: string;
    /** `<purchase key>:deadline`: the cancellation is sent once */
    idempotencyKey: string;
    /** the payment the webhook delivered, if any */
    delivered: () => PaymentResult | undefined;
  },
): Promise<PaymentResult | undefined> {
  for (let check = 1; ; check += 1) {
    const closed = await payments.closeUnpaidPaymentIntent({
      paymentIntentId: input.paymentIntentId,
      idempotencyKey: `${input.idempotencyKey}:${check}`,
    });
    if (closed.outcome === 'CANCELLED') return undefined;
    if (closed.outcome === 'PAID')
      return (
        input.delivered() ?? {
          paymentIntentId: input.paymentIntentId,
          status: 'succeeded',
          amountCents: closed.amountCents,
          ...(closed.paymentMethodId ? { paymentMethodId: closed.paymentMethodId } : {}),
        }
      );
    // PROCESSING: the bank has not answered yet; its failure makes the PaymentIntent cancellable next time
    if (await condition(() => input.delivered() !== undefined, DAY_MS)) return input.delivered();
  }
}
