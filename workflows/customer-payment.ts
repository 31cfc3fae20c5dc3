/**
 * A payment the customer makes themselves, in the payment page (the licence purchase by card in
 * subscriptionWorkflow, a support pack or wallet recharge in creditPurchaseWorkflow): the other half of
 * the payment layer, beside `collect-payment.ts` (charges of a saved method, without the customer).
 *
 * 1. The Stripe customer and the PaymentIntent are created (keys from the purchase, `idempotency-keys.ts`);
 *    the PaymentIntent is noted on the purchase, then on the order, and only then do the payment
 *    instructions answer with its id (the page and the ERP's answer read the client secret from Stripe by
 *    that id: it is never kept in the workflow).
 * 2. The webhook's success arrives through the caller's signal handler (`paid`); a failure is only noted
 *    (`failureOf`): the customer may try another card on the same PaymentIntent.
 * 3. Nobody paid by the deadline (read when the wait starts): the PaymentIntent is cancelled at Stripe,
 *    unless the customer paid at the last moment (`settleAtDeadline`). A purchase cancelled before paying
 *    is cancelled at Stripe too.
 */
import { condition, workflowInfo } from '@temporalio/workflow';
import type {
  ClosedIntent,
  CreatePaymentIntentInput,
  EnsureStripeCustomerInput,
} from '../activities/payments';
import type { CustomerPaymentKeys } from './idempotency-keys';
import { settleAtDeadline } from './payment-deadline';
import type { PaymentResult } from './payment-messages';
import { markWaiting } from './search-attributes';

const HOUR_MS = 3_600_000;

/** The activities the payment needs: the ordering steps may be local activities (the ERP waits for them). */
export interface CustomerPaymentSteps {
  ordering: {
    ensureStripeCustomer(input: EnsureStripeCustomerInput): Promise<string>;
    createPaymentIntent(input: CreatePaymentIntentInput): Promise<{ paymentIntentId: string }>;
  };
  payments: {
    closeUnpaidPaymentIntent(input: {
      paymentIntentId: string;
      idempotencyKey: string;
    }): Promise<ClosedIntent>;
    cancelPaymentIntent(input: { paymentIntentId: string; idempotencyKey: string }): Promise<void>;
  };
}

/** The purchase being paid, as the workflow's state holds it: `paymentIntentId` is written once noted. */
export interface CustomerOrder {
  purchaseId: string;
  amountCents: number;
  email: string;
  paymentIntentId?: string;
}

export interface CustomerPaymentInput {
  order: CustomerOrder;
  /** who pays (the Stripe customer's name), the licence whose customer it is, the base buying */
  payer: { name: string; licenceId?: string; baseId?: string };
  /** the PaymentIntent's description (the customer's bank statement, Stripe's dashboard) */
  description: string;
  /** keep the card for off-session charges (a licence's renewals); default true */
  saveCard?: boolean;
  keys: CustomerPaymentKeys;
  /** records the PaymentIntent on the purchase (the webhook and the payment page find it there) */
  noteIntent(noted: { purchaseId: string; paymentIntentId: string }): Promise<void>;
  /** hours the customer has to pay, read when the wait starts */
  deadlineHours(): Promise<number>;
  /** the webhook's success for this PaymentIntent, once delivered */
  paid(): PaymentResult | undefined;
  /** a purchase the customer or ops may cancel before paying: whether they asked */
  cancelRequested?(): boolean;
}

export type CustomerPaymentEnd =
  | { outcome: 'PAID'; payment: PaymentResult; customerId: string }
  /** the deadline passed unpaid: the PaymentIntent is cancelled at Stripe */
  | { outcome: 'EXPIRED'; customerId: string }
  /** cancelled before paying: the PaymentIntent is cancelled at Stripe */
  | { outcome: 'CANCELLED'; customerId: string };

/** Runs the customer's payment to its end: paid (once), expired or cancelled. */
export async function collectCustomerPayment(
  steps: CustomerPaymentSteps,
  input: CustomerPaymentInput,
): Promise<CustomerPaymentEnd> {
  const { order, keys } = input;
  const customerId = await steps.ordering.ensureStripeCustomer({
    ...input.payer,
    email: order.email,
    idempotencyKey: keys.customer,
  });
  const { paymentIntentId } = await steps.ordering.createPaymentIntent({
    purchaseId: order.purchaseId,
    baseId: input.payer.baseId,
    amountCents: order.amountCents,
    currency: 'eur',
    customerId,
    workflowId: workflowInfo().workflowId,
    idempotencyKey: keys.intent,
    description: input.description,
    saveCard: input.saveCard,
  });
  await input.noteIntent({ purchaseId: order.purchaseId, paymentIntentId });
  order.paymentIntentId = paymentIntentId;

  markWaiting('PAYMENT');
  const hours = await input.deadlineHours();
  const cancelRequested = () => input.cancelRequested?.() === true;
  const settled = await condition(() => input.paid() !== undefined || cancelRequested(), hours * HOUR_MS);
  let paid = input.paid();
  if (!settled) {
    // cancelled at Stripe, unless the customer paid at the last moment
    paid = await settleAtDeadline(steps.payments, {
      paymentIntentId,
      idempotencyKey: keys.deadline,
      delivered: () => input.paid(),
    });
  }
  markWaiting(undefined);
  if (paid) return { outcome: 'PAID', payment: paid, customerId };
  // past the deadline the PaymentIntent is already cancelled, even if a cancellation was asked meanwhile
  if (!settled) return { outcome: 'EXPIRED', customerId };
  await steps.payments.cancelPaymentIntent({ paymentIntentId, idempotencyKey: keys.cancel });
  return { outcome: 'CANCELLED', customerId };
}

/** What a failed webhook result leaves on the purchase (the customer may try again). */
export function failureOf(result: PaymentResult): string {
  return result.failureCode ?? result.failureMessage ?? 'failed';
}

/**
 * The payment instructions update's answer, once the PaymentIntent is noted; refused (by `refusal`) when
 * the purchase no longer waits for the customer's payment.
 */
export async function paymentInstructions(
  awaiting: () => boolean,
  order: () => CustomerOrder | undefined,
  refusal: () => Error,
): Promise<{ paymentIntentId: string }> {
  await condition(() => order()?.paymentIntentId !== undefined || !awaiting());
  const id = order()?.paymentIntentId;
  if (!awaiting() || id === undefined) throw refusal();
  return { paymentIntentId: id };
}
