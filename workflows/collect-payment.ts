/**
 * Collecting a charge of a saved payment method, the workflow side of the payment layer
 * (activities/payments.ts `collectPayment`, answers in domain/payment-methods.ts). Used by every charge a
 * subscription makes without the customer: renewal, dunning retry, ops replay, manual renewal, change.
 *
 * - SUCCEEDED / DECLINED: final at once.
 * - PENDING: the workflow waits for the provider's webhook (paymentResultSignal, fed to `Settlements`); if
 *   it is late, Stripe is asked where the PaymentIntent stands, then the wait goes on.
 * - NEEDS_CUSTOMER: handed back to the caller with the PaymentIntent; the customer confirms that same
 *   PaymentIntent on a payment page (its client secret is read from Stripe then, never kept here), and the
 *   webhook's success arrives through `Settlements` like any other.
 */
import { condition } from '@temporalio/workflow';
import type { PaymentOutcome } from '../domain/payment-methods';
import type { CollectPaymentInput } from '../activities/payments';
import type { PaymentResult } from './payment-messages';
import { markWaiting } from './search-attributes';

const DAY_MS = 86_400_000;
/** how long a pending payment waits for its webhook before Stripe is asked (SEPA: up to 14 business days) */
const PENDING_CHECK_MS = 3 * DAY_MS;

/** The webhook's results, by PaymentIntent: what a waiting charge reads. */
export class Settlements {
  private readonly results = new Map<string, PaymentResult>();

  /** from the signal handler; a success is never overwritten by a later failure (redelivery order) */
  deliver(result: PaymentResult): void {
    if (this.results.get(result.paymentIntentId)?.status === 'succeeded') return;
    this.results.set(result.paymentIntentId, result);
  }

  of(paymentIntentId: string | undefined): PaymentResult | undefined {
    return paymentIntentId === undefined ? undefined : this.results.get(paymentIntentId);
  }

  succeeded(paymentIntentId: string | undefined): PaymentResult | undefined {
    const result = this.of(paymentIntentId);
    return result?.status === 'succeeded' ? result : undefined;
  }
}

export type Collected =
  | { paid: true; provider: 'STRIPE' | 'NONE'; reference: string; amountCents: number }
  | {
      paid: false;
      code: string;
      needsCustomer?: { paymentIntentId: string };
      /** `wait: false`: the charge is settling (a SEPA debit), its end comes later */
      settling?: { paymentIntentId: string };
    };

interface PaymentLayer {
  collectPayment(input: CollectPaymentInput): Promise<PaymentOutcome>;
  readPaymentOutcome(input: { paymentIntentId: string }): Promise<PaymentOutcome>;
}

/** The webhook's success as a collected payment. */
export function collectedOf(result: PaymentResult): Extract<Collected, { paid: true }> {
  return {
    paid: true,
    provider: 'STRIPE',
    reference: result.paymentIntentId,
    amountCents: result.amountCents,
  };
}

/**
 * Charges the saved method and, when the answer is pending, waits for its settlement — or, with
 * `wait: false` (a change or renew-now the ERP waits for), answers it as settling.
 */
export async function collectPayment(
  payments: PaymentLayer,
  settlements: Settlements,
  input: CollectPaymentInput,
  options: { wait?: boolean } = {},
): Promise<Collected> {
  const answer = await payments.collectPayment(input);
  if (answer.outcome === 'SUCCEEDED') return { paid: true, ...withoutOutcome(answer) };
  if (answer.outcome === 'DECLINED') return { paid: false, code: answer.code };
  if (answer.outcome === 'NEEDS_CUSTOMER')
    return {
      paid: false,
      code: 'authentication_required',
      needsCustomer: { paymentIntentId: answer.paymentIntentId },
    };
  if (options.wait === false)
    return { paid: false, code: 'processing', settling: { paymentIntentId: answer.paymentIntentId } };
  return awaitSettlement(payments, settlements, answer.paymentIntentId);
}

/** Until the provider tells the end of a pending payment (its webhook, or Stripe asked when it is late). */
export async function awaitSettlement(
  payments: PaymentLayer,
  settlements: Settlements,
  paymentIntentId: string,
): Promise<Collected> {
  markWaiting('PAYMENT');
  try {
    for (;;) {
      if (await condition(() => settlements.of(paymentIntentId) !== undefined, PENDING_CHECK_MS)) {
        const result = settlements.of(paymentIntentId)!;
        return result.status === 'succeeded'
          ? collectedOf(result)
          : { paid: false, code: result.failureCode ?? 'payment_failed' };
      }
      // the webhook is late: ask Stripe
      const now = await payments.readPaymentOutcome({ paymentIntentId });
      if (now.outcome === 'SUCCEEDED') return { paid: true, ...withoutOutcome(now) };
      if (now.outcome === 'DECLINED') return { paid: false, code: now.code };
      if (now.outcome === 'NEEDS_CUSTOMER')
        return { paid: false, code: 'authentication_required', needsCustomer: { paymentIntentId } };
    }
  } finally {
    markWaiting(undefined);
  }
}

function withoutOutcome(answer: Extract<PaymentOutcome, { outcome: 'SUCCEEDED' }>) {
  return { provider: answer.provider, reference: answer.reference, amountCents: answer.amountCents };
}
