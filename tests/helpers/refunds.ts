/** Helpers for refund tests: Stripe refunds answered with an id of their own, as Stripe does. */
import type { StripeRecorder } from './stripe-recorder';

/**
 * stripe-mock answers every refund with the same fixture id (and does not echo the request's metadata);
 * Stripe gives each refund its own id, which our Refund rows keep as unique. Each answer here gets a fresh
 * id and `succeeded`. (A request repeated under one idempotency key would get another id here, where
 * Stripe would answer the first refund again: the tests check the keys sent, not the ids.)
 */
export function answerRefundsLikeStripe(recorder: StripeRecorder): void {
  let n = 0;
  recorder.answer(
    { method: 'POST', path: '/v1/refunds' },
    {
      patch: (refund) => {
        n += 1;
        return { ...refund, id: `re_test${Date.now().toString(36)}${n}`, status: 'succeeded' };
      },
    },
    Infinity,
  );
}
