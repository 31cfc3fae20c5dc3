/**
 * The webhooks of a SEPA debit (settled days later, docs/sepa.md) arriving late, twice and out of order, on
 * localstripe and the dev server: a failure of the same PaymentIntent delivered while it is processing, and
 * again after its success; the success redelivered (same event) and re-sent (another event). The licence is
 * activated once, with one payment and one invoice, and no failed payment is recorded. Late: the API
 * unreachable when the bank settled, Stripe's retry activates it then (the webhook lost for good: Stripe's
 * answer read at the deadline, tests/workflows/sepa.test.ts).
 */
import request from 'supertest';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { deliver } from '../helpers/credits';
import { paymentIntentEvent, until } from '../helpers/faults';
import { createHarness, TEST_WEBHOOK_SECRET, type Harness } from '../helpers/harness';
import { confirmOnPage, IBAN, releaseDebit, sepaAccount } from '../helpers/sepa';

jest.setTimeout(180_000);

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ stripe: 'localstripe' });
});
afterAll(async () => {
  await h?.close();
});

it('a SEPA settlement: webhooks twice and out of order → activated once, one payment, one invoice', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  const bought = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send(licenceOrder(baseId));
  expect(bought.status).toBe(201);
  const purchase = bought.body as {
    purchaseId: string;
    quote: { totalInclVatCents: number };
    payment: { paymentIntentId: string; paymentUrl: string };
  };
  const account = await sepaAccount(h.stripe, IBAN.SUCCEEDS_LATER);
  const submitted = await confirmOnPage(h.app, purchase.payment.paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  expect(submitted.body.status).toBe('processing');
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId));
  const failed = () => paymentIntentEvent('payment_intent.payment_failed', baseId, purchase, account.id);
  const succeeded = paymentIntentEvent('payment_intent.succeeded', baseId, purchase, account.id);

  // out of order: a failure of this PaymentIntent while the bank has not answered — nothing is granted or closed
  expect((await deliver(h, failed())).status).toBe(200);
  expect((await handle.query(getSubscriptionStateQuery)).status).toBe('AWAITING_PAYMENT');

  // the bank settles (localstripe's own webhook), then the success again: redelivered and re-sent
  await releaseDebit(h.localstripe!.apiBase, purchase.payment.paymentIntentId);
  await until(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  const redelivered = await Promise.all([deliver(h, succeeded), deliver(h, succeeded)]);
  expect(redelivered.map((r) => r.status)).toEqual([200, 200]);
  expect(
    (await deliver(h, paymentIntentEvent('payment_intent.succeeded', baseId, purchase, account.id))).status,
  ).toBe(200);
  // and a failure after the success (an older event delivered last)
  expect((await deliver(h, failed())).status).toBe(200);

  const state = await handle.query(getSubscriptionStateQuery);
  expect(state).toMatchObject({ status: 'ACTIVE', paymentMethodId: account.id, periodIndex: 0 });
  const payments = await h.prisma.payment.findMany({ where: { baseId } });
  expect(payments.map((p) => [p.status, p.providerRef])).toEqual([
    ['SUCCEEDED', purchase.payment.paymentIntentId],
  ]);
  expect(await h.prisma.invoice.count({ where: { baseId } })).toBe(1);
  expect(
    (await h.prisma.sepaMandate.findUniqueOrThrow({ where: { paymentMethodId: account.id } })).status,
  ).toBe('ACTIVE');
  await handle.terminate('test over');
});

it('the settlement webhook arrives late (the API unreachable when the bank settled): activated when it comes', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  const bought = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send(licenceOrder(baseId));
  const purchase = bought.body as {
    purchaseId: string;
    quote: { totalInclVatCents: number };
    payment: { paymentIntentId: string; paymentUrl: string };
  };
  const account = await sepaAccount(h.stripe, IBAN.SUCCEEDS_LATER);
  await confirmOnPage(h.app, purchase.payment.paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  // the bank settles while nothing listens: localstripe's one delivery is lost
  await h.localstripe!.registerWebhook('http://127.0.0.1:9/webhooks/stripe', 'whsec_nobody');
  try {
    await releaseDebit(h.localstripe!.apiBase, purchase.payment.paymentIntentId);
    await until(
      () => h.stripe.paymentIntents.retrieve(purchase.payment.paymentIntentId),
      (pi) => pi.status === 'succeeded',
      'settled at Stripe',
    );
  } finally {
    await h.localstripe!.registerWebhook(`${h.baseUrl!}/webhooks/stripe`, TEST_WEBHOOK_SECRET);
  }
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId));
  expect((await handle.query(getSubscriptionStateQuery)).status).toBe('AWAITING_PAYMENT');
  expect(await h.prisma.payment.count({ where: { baseId } })).toBe(0);

  // Stripe's retry, later
  const late = await deliver(h, paymentIntentEvent('payment_intent.succeeded', baseId, purchase, account.id));
  expect(late.status).toBe(200);
  await until(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  expect(await h.prisma.payment.count({ where: { baseId } })).toBe(1);
  expect(await h.prisma.invoice.count({ where: { baseId } })).toBe(1);
  await handle.terminate('test over');
});
