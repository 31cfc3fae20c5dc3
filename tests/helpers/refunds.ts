/** Helpers for refund tests: Stripe refunds answered as Stripe would, one per idempotency key. */
import type { StripeRecorder } from './stripe-recorder';

/**
 * stripe-mock answers every refund with the same fixture id; Stripe gives one id per refund (and the same
 * answer again for the same idempotency key). The refund's id here comes from the metadata our refund
 * request carries (our Refund row's id), so it is one per refund, as at Stripe.
 */
export function answerRefundsLikeStripe(recorder: StripeRecorder): void {
  recorder.answer(
    { method: 'POST', path: '/v1/refunds' },
    {
      patch: (refund) => {
        const metadata = (refund.metadata ?? {}) as Record<string, string>;
        const id = metadata.refundId ?? Math.random().toString(36).slice(2);
        return { ...refund, id: `re_${id.replace(/-/g, '')}`, status: 'succeeded' };
      },
    },
    Infinity,
  );
}
