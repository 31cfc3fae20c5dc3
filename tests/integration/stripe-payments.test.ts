/**
 * The payment activities against the run's stripe-mock, through a recording proxy: what reaches Stripe
 * (idempotency keys, parameters) and how each kind of Stripe answer is classified for Temporal.
 */
import crypto from 'node:crypto';
import { createPaymentActivities, type PaymentActivities } from '../../activities/payments';
import { freePort } from '../../infra/embedded/ports';
import { createStripe } from '../../infra/stripe';
import { createHarness, randomBaseId, type Harness } from '../helpers/harness';
import { cardDeclined, startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

let h: Harness;
let recorder: StripeRecorder;
let payments: PaymentActivities;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  h = await createHarness({ stripeApiBase: recorder.url });
  payments = createPaymentActivities({ stripe: h.stripe, prisma: h.prisma });
});
afterAll(async () => {
  await h?.close();
  await recorder?.stop();
});

const unique = (label: string) => `${label}:${crypto.randomUUID()}`;
const sentWith = (key: string) => recorder.requests.filter((r) => r.idempotencyKey === key);

function charge(idempotencyKey: string) {
  return payments.collectPayment({
    customerId: 'cus_test',
    paymentMethodId: 'pm_saved',
    amountCents: 12240,
    currency: 'EUR',
    idempotencyKey,
    metadata: { workflowId: 'subscription:x', kind: 'renewal' },
  });
}

/** stripe-mock can't take money: the charge it answers is made to look succeeded */
const succeeds = () =>
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
  );

describe('customer and PaymentIntent', () => {
  it('creates a customer with the caller’s idempotency key, and remembers it on the licence', async () => {
    const licence = await h.prisma.licence.create({
      data: {
        baseId: randomBaseId(),
        edition: 'ENTERPRISE',
        mode: 'LOCAL',
        connections: 1,
        status: 'PENDING',
        holderName: 'Boulangerie Dupont',
      },
    });
    const key = `customer:${licence.id}`;
    const input = {
      licenceId: licence.id,
      baseId: licence.baseId,
      email: 'jean@example.fr',
      name: 'Boulangerie Dupont',
      idempotencyKey: key,
    };

    const customerId = await payments.ensureStripeCustomer(input);
    expect(customerId).toMatch(/^cus_/);
    expect(sentWith(key)).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/customers',
        form: expect.objectContaining({
          email: 'jean@example.fr',
          'metadata[baseId]': licence.baseId,
          'metadata[licenceId]': licence.id,
        }),
      }),
    ]);
    const stored = await h.prisma.licence.findUniqueOrThrow({ where: { id: licence.id } });
    expect(stored.stripeCustomerId).toBe(customerId);

    // a retry (or a later purchase step) reuses the licence's customer without asking Stripe again
    expect(await payments.ensureStripeCustomer(input)).toBe(customerId);
    expect(sentWith(key)).toHaveLength(1);
  });

  it('creates a PaymentIntent that saves the card for renewals and names the workflow to signal', async () => {
    const key = unique('purchase');
    const purchaseId = crypto.randomUUID();
    const intent = await payments.createPaymentIntent({
      purchaseId,
      baseId: '12345678901234567',
      amountCents: 12240,
      currency: 'EUR',
      customerId: 'cus_test',
      workflowId: 'subscription:12345678901234567',
      idempotencyKey: key,
      description: 'Licence ENTERPRISE LOCAL',
    });
    // the id alone: no client secret goes into the workflow's history
    expect(intent).toEqual({ paymentIntentId: expect.stringMatching(/^pi_/) });
    const [sent] = sentWith(key);
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/payment_intents' });
    expect(sent!.form).toMatchObject({
      amount: '12240',
      currency: 'eur',
      customer: 'cus_test',
      setup_future_usage: 'off_session',
      // only the methods the payment layer settles
      'allowed_payment_method_types[0]': 'card',
      'metadata[workflowId]': 'subscription:12345678901234567',
      'metadata[purchaseId]': purchaseId,
      'metadata[baseId]': '12345678901234567',
    });
  });

  it('never calls Stripe without an idempotency key', async () => {
    const before = recorder.requests.length;
    await expect(charge('')).rejects.toMatchObject({ type: 'STRIPE_INVALID_REQUEST', nonRetryable: true });
    await expect(
      payments.ensureStripeCustomer({ baseId: '1', email: 'a@b.fr', name: 'A', idempotencyKey: '' }),
    ).rejects.toMatchObject({ type: 'STRIPE_INVALID_REQUEST' });
    expect(recorder.requests.length).toBe(before);
  });
});

describe('off-session charge', () => {
  it('charges the saved card and sends the same key on a retry, a new key per attempt', async () => {
    const licence = crypto.randomUUID();
    const attempt1 = `renewal:${licence}:2027-01-01:1`;
    const attempt2 = `renewal:${licence}:2027-01-01:2`;

    // Stripe fails once (500): retryable, and the retry reuses the key so Stripe can't charge twice
    recorder.answer(
      { path: '/v1/payment_intents' },
      { status: 500, body: { error: { type: 'api_error', message: 'boom' } } },
    );
    const failure = await charge(attempt1).catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'StripeAPIError' });
    expect((failure as { nonRetryable?: boolean }).nonRetryable).toBeUndefined();
    succeeds();
    const first = await charge(attempt1);
    expect(first).toEqual({
      outcome: 'SUCCEEDED',
      provider: 'STRIPE',
      reference: expect.stringMatching(/^pi_/),
      amountCents: expect.any(Number),
    });

    succeeds();
    await charge(attempt2);

    expect(sentWith(attempt1)).toHaveLength(2);
    expect(sentWith(attempt2)).toHaveLength(1);
    expect(sentWith(attempt1)[1]!.form).toMatchObject({
      amount: '12240',
      currency: 'eur',
      customer: 'cus_test',
      payment_method: 'pm_saved',
      off_session: 'true',
      confirm: 'true',
      'allowed_payment_method_types[0]': 'card',
      'metadata[kind]': 'renewal',
    });
  });

  it('a declined card is a DECLINED answer with the decline code', async () => {
    recorder.answer({ path: '/v1/payment_intents' }, cardDeclined('insufficient_funds'));
    expect(await charge(unique('renewal'))).toMatchObject({
      outcome: 'DECLINED',
      code: 'insufficient_funds',
      declineCode: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    });
  });

  it('a PaymentIntent left waiting for a payment method is a decline too', async () => {
    // stripe-mock's own answer: status requires_payment_method
    expect(await charge(unique('renewal'))).toMatchObject({
      outcome: 'DECLINED',
      code: 'requires_payment_method',
      paymentIntentId: expect.stringMatching(/^pi_/),
    });
  });

  it('processing is PENDING (the webhook tells the end); requires_action NEEDS the CUSTOMER', async () => {
    recorder.answer(
      { method: 'POST', path: '/v1/payment_intents' },
      { patch: (pi) => ({ ...pi, status: 'processing' }) },
    );
    expect(await charge(unique('renewal'))).toEqual({
      outcome: 'PENDING',
      paymentIntentId: expect.stringMatching(/^pi_/),
    });
    recorder.answer(
      { method: 'POST', path: '/v1/payment_intents' },
      { patch: (pi) => ({ ...pi, status: 'requires_action' }) },
    );
    const needs = await charge(unique('renewal'));
    expect(needs).toEqual({
      outcome: 'NEEDS_CUSTOMER',
      paymentIntentId: expect.stringMatching(/^pi_/),
      action: 'AUTHENTICATE',
    });
    // no client secret in the answer: a payment page reads it from Stripe when it needs it
    expect(JSON.stringify(needs)).not.toContain('secret');
  });

  it('a zero amount is settled without Stripe (it refuses 0-cent PaymentIntents)', async () => {
    const key = unique('renewal');
    const before = recorder.requests.length;
    expect(
      await payments.collectPayment({
        amountCents: 0,
        currency: 'eur',
        idempotencyKey: key,
        metadata: {},
      }),
    ).toEqual({ outcome: 'SUCCEEDED', provider: 'NONE', reference: `none:${key}`, amountCents: 0 });
    expect(recorder.requests.length).toBe(before);
  });

  it('rate limits and network failures are left to Temporal’s retries; our invalid requests are not', async () => {
    recorder.answer(
      { path: '/v1/payment_intents' },
      {
        status: 429,
        body: { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'slow' } },
      },
    );
    const limited = await charge(unique('renewal')).catch((error: unknown) => error);
    expect(limited).toMatchObject({ type: 'StripeRateLimitError' });

    const unreachable = createPaymentActivities({
      stripe: createStripe('sk_test_x', `http://127.0.0.1:${await freePort()}`),
      prisma: h.prisma,
    });
    const offline = await unreachable
      .collectPayment({
        customerId: 'cus_test',
        paymentMethodId: 'pm_saved',
        amountCents: 100,
        currency: 'eur',
        idempotencyKey: unique('renewal'),
        metadata: {},
      })
      .catch((error: unknown) => error);
    expect(offline).toMatchObject({ type: 'StripeConnectionError' });

    recorder.answer(
      { path: '/v1/payment_intents' },
      {
        status: 400,
        body: {
          error: { type: 'invalid_request_error', code: 'parameter_unknown', message: 'No such param' },
        },
      },
    );
    await expect(charge(unique('renewal'))).rejects.toMatchObject({
      type: 'STRIPE_INVALID_REQUEST',
      nonRetryable: true,
    });
  });
});

describe('the payment page’s server side', () => {
  it('confirms a PaymentIntent with the card created by Stripe.js: a request Stripe’s API definition accepts', async () => {
    const key = unique('page-confirm');
    const confirmed = await h.stripe.paymentIntents.confirm(
      'pi_123',
      { payment_method: 'pm_123' },
      { idempotencyKey: key },
    );
    expect(confirmed.object).toBe('payment_intent');
    expect(sentWith(key)).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/payment_intents/pi_123/confirm',
        form: { payment_method: 'pm_123' },
      }),
    ]);
  });
});
