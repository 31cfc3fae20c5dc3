/** Helpers for support time and wallet tests: signed Stripe webhooks for a credit purchase, polling. */
import request from 'supertest';
import Stripe from 'stripe';
import type { Harness } from './harness';
import { TEST_WEBHOOK_SECRET } from './harness';

export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i += 1) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return read();
}

/** A signed `payment_intent.succeeded` for the PaymentIntent of a credit purchase. */
export function paymentSucceededEvent(purchase: {
  purchaseId: string;
  amountCents: number;
  payment: { paymentIntentId: string };
}) {
  const payload = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: purchase.payment.paymentIntentId,
        object: 'payment_intent',
        amount: purchase.amountCents,
        amount_received: purchase.amountCents,
        payment_method: 'pm_card_visa',
        metadata: { workflowId: `credit-purchase:${purchase.purchaseId}`, purchaseId: purchase.purchaseId },
      },
    },
  });
  return {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  };
}

export function deliver(h: Harness, event: { payload: string; signature: string }) {
  return request(h.app)
    .post('/webhooks/stripe')
    .set('stripe-signature', event.signature)
    .set('content-type', 'application/json')
    .send(event.payload);
}

/** Reads the purchase until its status is one of `statuses`. */
export function purchaseReaches(h: Harness, purchaseId: string, ...statuses: string[]) {
  return eventually(
    () => request(h.app).get(`/credit-purchases/${purchaseId}`),
    (r) => statuses.includes(r.body.status),
  );
}
