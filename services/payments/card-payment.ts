/**
 * The card payment an ERP is answered with, for a purchase waiting for the customer's payment: the
 * PaymentIntent the workflow created (its id, from the workflow's payment instructions) and its client
 * secret, read from Stripe by that id when answering — a secret no workflow state or history keeps.
 */
import type Stripe from 'stripe';

export interface CardPayment {
  provider: 'STRIPE';
  paymentIntentId: string;
  /** for a page of the ERP's own running Stripe.js */
  clientSecret: string;
}

export async function cardPaymentOf(stripe: Stripe, paymentIntentId: string): Promise<CardPayment> {
  const intent = await stripe.paymentIntents.retrieve(paymentIntentId);
  // Stripe gives every PaymentIntent a client secret; without one there is nothing the customer could pay
  if (!intent.client_secret) throw new Error(`PaymentIntent ${intent.id} has no client secret`);
  return { provider: 'STRIPE', paymentIntentId, clientSecret: intent.client_secret };
}
