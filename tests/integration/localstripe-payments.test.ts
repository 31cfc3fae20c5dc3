/**
 * Our payment activities against localstripe, the stateful local Stripe (`npm start`'s default): the
 * exact requests our stripe-node calls send are accepted, money moves with Stripe's test cards, and a
 * retry with the same idempotency key answers the first result. stripe-mock (stripe-payments.test.ts)
 * checks the same requests against Stripe's API definition; this file checks what a stateless mock can't.
 */
import crypto from 'node:crypto';
import { createPaymentActivities, type PaymentActivities } from '../../activities/payments';
import { createHarness, type Harness } from '../helpers/harness';

let h: Harness;
let payments: PaymentActivities;

beforeAll(async () => {
  h = await createHarness({ stripe: 'localstripe' });
  payments = createPaymentActivities({ stripe: h.stripe, prisma: h.prisma });
});
afterAll(async () => {
  await h?.close();
});

const unique = (label: string) => `${label}:${crypto.randomUUID()}`;

/** A customer with a saved card (what a first payment leaves behind), as the server side would create it. */
async function customerWithCard(number: string): Promise<{ customerId: string; paymentMethodId: string }> {
  const customerId = await payments.ensureStripeCustomer({
    email: 'compta@boulangerie.fr',
    name: 'Boulangerie Dupont',
    baseId: '12345678901234567',
    idempotencyKey: unique('customer'),
  });
  const method = await h.stripe.paymentMethods.create({
    type: 'card',
    card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
  });
  await h.stripe.paymentMethods.attach(method.id, { customer: customerId });
  return { customerId, paymentMethodId: method.id };
}

function collectPayment(card: { customerId: string; paymentMethodId: string }, idempotencyKey: string) {
  return payments.collectPayment({
    ...card,
    amountCents: 12240,
    currency: 'EUR',
    idempotencyKey,
    metadata: { workflowId: 'subscription:x', kind: 'renewal' },
  });
}

describe('off-session charges (renewals) with Stripe test cards', () => {
  it('4242 4242 4242 4242: the money is taken; the same idempotency key answers the same charge', async () => {
    const card = await customerWithCard('4242424242424242');
    const key = unique('renewal');
    const first = await collectPayment(card, key);
    if (first.outcome !== 'SUCCEEDED') throw new Error(`expected SUCCEEDED, got ${JSON.stringify(first)}`);
    expect(first.provider).toBe('STRIPE');
    const intent = await h.stripe.paymentIntents.retrieve(first.reference);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 12240, customer: card.customerId });

    const again = await collectPayment(card, key);
    expect(again).toEqual(first);
    const charges = await h.stripe.charges.list({ customer: card.customerId });
    expect(charges.data).toHaveLength(1);
  });

  it('4000 0027 6000 3184 (3-D Secure): requires_action, answered as needing the customer', async () => {
    const card = await customerWithCard('4000002760003184');
    const outcome = await collectPayment(card, unique('renewal'));
    expect(outcome).toMatchObject({
      outcome: 'NEEDS_CUSTOMER',
      action: 'AUTHENTICATE',
      paymentIntentId: expect.stringMatching(/^pi_/),
    });
    const id = (outcome as { paymentIntentId: string }).paymentIntentId;
    expect((await h.stripe.paymentIntents.retrieve(id)).status).toBe('requires_action');
  });

  it('4000 0000 0000 0341 (attaches, then refused): declined with the card error code', async () => {
    const card = await customerWithCard('4000000000000341');
    const outcome = await collectPayment(card, unique('renewal'));
    expect(outcome).toMatchObject({ outcome: 'DECLINED', code: 'card_declined' });
  });
});

describe('first purchase, refunds, cancellation', () => {
  it('accepts the first purchase’s PaymentIntent, confirms it with a card, refunds it', async () => {
    const customerId = await payments.ensureStripeCustomer({
      email: 'a@b.fr',
      name: 'A',
      idempotencyKey: unique('customer'),
    });
    const created = await payments.createPaymentIntent({
      purchaseId: crypto.randomUUID(),
      amountCents: 12240,
      currency: 'EUR',
      customerId,
      workflowId: 'subscription:12345678901234567',
      idempotencyKey: unique('purchase'),
      description: 'Licence ENTERPRISE LOCAL',
    });
    // only the id is answered; the client secret is Stripe's, read by id where it is handed over
    expect(created).toEqual({ paymentIntentId: expect.stringMatching(/^pi_/) });
    expect((await h.stripe.paymentIntents.retrieve(created.paymentIntentId)).client_secret).toContain(
      '_secret_',
    );
    const method = await h.stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
    });
    // what the payment page's server side sends (services/payments/payment-page.ts)
    const confirmed = await h.stripe.paymentIntents.confirm(
      created.paymentIntentId,
      { payment_method: method.id },
      { idempotencyKey: unique('page-confirm') },
    );
    expect(confirmed.status).toBe('succeeded');
    // setup_future_usage: the card is now the customer's, for renewals
    expect((await h.stripe.paymentMethods.retrieve(method.id)).customer).toBe(customerId);

    const refund = await payments.refundPayment({
      paymentIntentId: created.paymentIntentId,
      amountCents: 2040,
      idempotencyKey: unique('refund'),
      metadata: { reason: 'test' },
    });
    expect(refund.status).toBe('succeeded');
  });

  it('closes an unpaid PaymentIntent at its deadline (cancelled at Stripe)', async () => {
    const customerId = await payments.ensureStripeCustomer({
      email: 'a@b.fr',
      name: 'A',
      idempotencyKey: unique('c'),
    });
    const created = await payments.createPaymentIntent({
      purchaseId: crypto.randomUUID(),
      amountCents: 3000,
      currency: 'EUR',
      customerId,
      workflowId: 'credit-purchase:x',
      idempotencyKey: unique('purchase'),
      description: 'Pack support 30 min',
      saveCard: false,
    });
    const closed = await payments.closeUnpaidPaymentIntent({
      paymentIntentId: created.paymentIntentId,
      idempotencyKey: unique('close'),
    });
    expect(closed.outcome).toBe('CANCELLED');
    expect((await h.stripe.paymentIntents.retrieve(created.paymentIntentId)).status).toBe('canceled');
  });

  it('SetupIntents (card change, next round): created for a customer and confirmed with a card', async () => {
    const { customerId } = await customerWithCard('4242424242424242');
    const setup = await h.stripe.setupIntents.create(
      { customer: customerId, usage: 'off_session' },
      { idempotencyKey: unique('setup') },
    );
    expect(setup.client_secret).toContain('_secret_');
    const method = await h.stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 1, exp_year: 2035, cvc: '123' },
    });
    const confirmed = await h.stripe.setupIntents.confirm(setup.id, { payment_method: method.id });
    expect(confirmed.status).toBe('succeeded');
  });
});
