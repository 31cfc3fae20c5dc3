/**
 * A payment the customer makes themselves, in the payment page (the licence purchase by card in
 * subscriptionWorkflow, a support pack or wallet recharge in creditPurchaseWorkflow): the other half of
 * the payment layer, beside `collect-payment.ts` (charges of a saved method, without the customer).
 *
 * 1. The Stripe customer and the PaymentIntent are created (keys from the purchase); the caller notes the
 *    PaymentIntent on its purchase, then the payment instructions are answered with its id (the page reads
 *    the client secret from Stripe by that id: it is never kept in the workflow).
 * 2. The webhook's success arrives through the caller's signal handler (`paymentOf`); a failure is only
 *    noted (`failureOf`): the customer may try another card on the same PaymentIntent.
 * 3. Nobody paid by the deadline (read when the wait starts): the PaymentIntent is cancelled at Stripe,
 *    unless the customer paid at the last moment (`settleAtDeadline`). The customer or ops cancelling the
 *    purchase before paying cancels it at Stripe too.
 */
import { condition } from '@temporalio/workflow';
import type {
  ClosedIntent,
  CreatePaymentIntentInput,
  EnsureStripeCustomerInput,
} from '../activities/payments';
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

export interface CustomerPaymentInput {
  customer: EnsureStripeCustomerInput;
  intent: Omit<CreatePaymentIntentInput, 'customerId' | 'currency'>;
  /** the key of the deadline's cancellation (`settleAtDeadline` numbers its checks) */
  deadlineKey: string;
  /** the customer exists: the caller remembers it (a licence's renewals charge it) */
  onCustomer?(customerId: string): void;
  /** the PaymentIntent exists: the caller notes it on its purchase; the instructions are answered after */
  onIntent(paymentIntentId: string): Promise<void>;
  /** hours the customer has to pay, read when the wait starts */
  deadlineHours(): Promise<number>;
  /** the webhook's success for this PaymentIntent, once delivered */
  paid(): PaymentResult | undefined;
  /** a purchase the customer or ops may cancel before paying: whether they asked, and the Stripe key */
  cancellation?: { requested(): boolean; idempotencyKey: string };
}

export type CustomerPaymentEnd =
  | { outcome: 'PAID'; payment: PaymentResult }
  /** the deadline passed unpaid: the PaymentIntent is cancelled at Stripe */
  | { outcome: 'EXPIRED' }
  /** cancelled before paying: the PaymentIntent is cancelled at Stripe */
  | { outcome: 'CANCELLED' };

/** Runs the customer's payment to its end: paid (once), expired or cancelled. */
export async function collectCustomerPayment(
  steps: CustomerPaymentSteps,
  input: CustomerPaymentInput,
): Promise<CustomerPaymentEnd> {
  const customerId = await steps.ordering.ensureStripeCustomer(input.customer);
  input.onCustomer?.(customerId);
  const { paymentIntentId } = await steps.ordering.createPaymentIntent({
    ...input.intent,
    currency: 'eur',
    customerId,
  });
  await input.onIntent(paymentIntentId);

  markWaiting('PAYMENT');
  const hours = await input.deadlineHours();
  const { cancellation } = input;
  const settled = await condition(
    () => input.paid() !== undefined || cancellation?.requested() === true,
    hours * HOUR_MS,
  );
  let paid = input.paid();
  if (!settled) {
    // cancelled at Stripe, unless the customer paid at the last moment
    paid = await settleAtDeadline(steps.payments, {
      paymentIntentId,
      idempotencyKey: input.deadlineKey,
      delivered: () => input.paid(),
    });
  }
  markWaiting(undefined);
  if (paid) return { outcome: 'PAID', payment: paid };
  // past the deadline the PaymentIntent is already cancelled, even if a cancellation was asked meanwhile
  if (!settled || !cancellation) return { outcome: 'EXPIRED' };
  await steps.payments.cancelPaymentIntent({ paymentIntentId, idempotencyKey: cancellation.idempotencyKey });
  return { outcome: 'CANCELLED' };
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
  paymentIntentId: () => string | undefined,
  refusal: () => Error,
): Promise<{ paymentIntentId: string }> {
  await condition(() => paymentIntentId() !== undefined || !awaiting());
  const id = paymentIntentId();
  if (!awaiting() || id === undefined) throw refusal();
  return { paymentIntentId: id };
}
