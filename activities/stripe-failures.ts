import { ApplicationFailure } from '@temporalio/common';

/**
 * Stripe errors are classified where they happen (as Lago does):
 * - a refused card is a business outcome the workflow acts on (dunning): non-retryable PAYMENT_DECLINED;
 * - an invalid request is our bug and won't get better by retrying: non-retryable STRIPE_INVALID_REQUEST;
 * - anything else (network, Stripe 5xx, rate limits, a concurrent request on the same idempotency key,
 *   and also a wrong API key, which ops can fix while the activity keeps retrying) is thrown as is, and
 *   Temporal retries it under the same idempotency key.
 * Errors are recognised by their `type` string, not `instanceof` (Jest realms, duplicated packages).
 */
export const STRIPE_INVALID_REQUEST = 'STRIPE_INVALID_REQUEST';
/** a PaymentIntent in a state a card charge should not end in (e.g. `processing`); the webhook tells the end */
export const STRIPE_UNEXPECTED_STATUS = 'STRIPE_UNEXPECTED_STATUS';

/** Stripe's idempotency keys are at most 255 characters */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface DeclineDetails {
  declineCode?: string;
  code?: string;
  paymentIntentId?: string;
}

interface StripeErrorFields {
  type?: string;
  message?: string;
  code?: string;
  decline_code?: string;
  payment_intent?: { id?: string };
}

export function paymentDeclined(message: string, details: DeclineDetails): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'PAYMENT_DECLINED',
    nonRetryable: true,
    message,
    details: [details],
  });
}

/** Every Stripe call carries the caller's key: a retried activity must never charge twice. */
export function requireIdempotencyKey(key: string): void {
  if (!key || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw ApplicationFailure.create({
      type: STRIPE_INVALID_REQUEST,
      nonRetryable: true,
      message: `a Stripe call needs an idempotency key of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    });
  }
}

export async function classifyStripeErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const e = error as StripeErrorFields;
    if (e?.type === 'StripeCardError') {
      // the decline code is empty for refusals that are not issuer declines (e.g. authentication_required)
      throw paymentDeclined(e.message ?? 'The card was declined', {
        declineCode: e.decline_code || undefined,
        code: e.code,
        paymentIntentId: e.payment_intent?.id,
      });
    }
    if (e?.type === 'StripeInvalidRequestError' || e?.type === 'StripeIdempotencyError') {
      throw ApplicationFailure.create({
        type: STRIPE_INVALID_REQUEST,
        nonRetryable: true,
        message: e.message ?? 'Stripe refused the request',
        details: [{ stripeType: e.type, code: e.code }],
      });
    }
    throw error;
  }
}
