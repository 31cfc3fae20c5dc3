/**
 * Stripe delivers at least once and in no particular order. Every webhook here is delivered twice (the same
 * event id, concurrently and again later), the same outcome comes again under a new event id, and the
 * outcomes arrive out of order (a `payment_failed` after the `succeeded`, a failure before the success, a
 * success for a purchase already cancelled). Nothing is recorded twice and the final state is right.
 * Real API, worker, PostgreSQL, Temporal dev server and stripe-mock.
 */
import request from 'supertest';
import { bearer, confirmedAccount, registerMachine } from '../helpers/api';
import { deliver, eventually, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { paymentIntentEvent, until } from '../helpers/faults';
import { createHarness, uniqueEmail, type Harness } from '../helpers/harness';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import Stripe from 'stripe';
import { TEST_WEBHOOK_SECRET } from '../helpers/harness';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

interface Purchased {
  purchaseId: string;
  licenceId: string;
  quote: { totalInclVatCents: number };
  payment: { paymentIntentId: string };
}

async function cardPurchase() {
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  const res = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 2,
      period: 'ANNUAL',
      paymentMethod: 'ONLINE',
      billing: {
        companyName: 'Garage Martin',
        lastName: 'Martin',
        firstName: 'Paul',
        address: '3 avenue Foch',
        postalCode: '69006',
        city: 'Lyon',
        country: 'FRA',
        email,
      },
      terms: { version: '2026-01', accepted: true },
    });
  expect(res.status).toBe(201);
  return { ...machine, email, bought: res.body as Purchased };
}

/** Each delivery twice at once, then once more: Stripe's retries racing each other. */
async function deliverTwice(event: { payload: string; signature: string }) {
  const statuses = (await Promise.all([deliver(h, event), deliver(h, event)])).map((r) => r.status);
  statuses.push((await deliver(h, event)).status);
  expect(statuses).toEqual([200, 200, 200]);
}

async function assertActivatedOnce(x: Awaited<ReturnType<typeof cardPurchase>>) {
  const state = await until(
    () => h.temporal.workflow.getHandle(subscriptionWorkflowId(x.baseId)).query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  expect(state.licenceId).toBe(x.bought.licenceId);
  const payments = await h.prisma.payment.findMany({ where: { baseId: x.baseId } });
  expect(payments).toHaveLength(1);
  expect(payments[0]).toMatchObject({
    status: 'SUCCEEDED',
    providerRef: x.bought.payment.paymentIntentId,
    amountCents: x.bought.quote.totalInclVatCents,
  });
  expect(await h.prisma.invoice.count({ where: { baseId: x.baseId } })).toBe(1);
  expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: x.bought.licenceId } })).toMatchObject({
    status: 'ACTIVE',
  });
  await h.mail.waitFor((m) => m.to.includes(x.email) && m.subject === 'Votre licence est active');
  expect(h.mail.messagesTo(x.email).filter((m) => m.subject === 'Votre licence est active')).toHaveLength(1);
}

it('licence: succeeded twice, again under a new id, then a late payment_failed → activated once', async () => {
  const x = await cardPurchase();
  await deliverTwice(paymentIntentEvent('payment_intent.succeeded', x.baseId, x.bought));
  await deliverTwice(paymentIntentEvent('payment_intent.succeeded', x.baseId, x.bought));
  await assertActivatedOnce(x);
  // an earlier attempt's failure arrives last: the licence stays paid and active
  await deliverTwice(paymentIntentEvent('payment_intent.payment_failed', x.baseId, x.bought));
  await deliverTwice(paymentIntentEvent('payment_intent.succeeded', x.baseId, x.bought));
  await assertActivatedOnce(x);
  expect(
    await h.prisma.stripeEvent.count({ where: { type: { startsWith: 'payment_intent.' } } }),
  ).toBeGreaterThanOrEqual(4);
});

it('licence: payment_failed first (a declined first try), then succeeded, both twice → activated once', async () => {
  const x = await cardPurchase();
  await deliverTwice(paymentIntentEvent('payment_intent.payment_failed', x.baseId, x.bought));
  expect(await h.prisma.payment.count({ where: { baseId: x.baseId, status: 'SUCCEEDED' } })).toBe(0);
  const state = await h.temporal.workflow
    .getHandle(subscriptionWorkflowId(x.baseId))
    .query(getSubscriptionStateQuery);
  expect(state.status).not.toBe('ACTIVE');
  await deliverTwice(paymentIntentEvent('payment_intent.succeeded', x.baseId, x.bought));
  await assertActivatedOnce(x);
});

interface CreditBought {
  purchaseId: string;
  amountCents: number;
  payment: { paymentIntentId: string };
}

function creditFailedEvent(purchase: CreditBought) {
  const payload = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type: 'payment_intent.payment_failed',
    data: {
      object: {
        id: purchase.payment.paymentIntentId,
        object: 'payment_intent',
        amount: purchase.amountCents,
        amount_received: 0,
        last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds' },
        metadata: { workflowId: `credit-purchase:${purchase.purchaseId}`, purchaseId: purchase.purchaseId },
      },
    },
  });
  return {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  };
}

async function walletRecharge(
  account: { accountId: number; apiKey: string },
  key: string,
  amountCents: number,
) {
  const res = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({ idempotencyKey: key, product: { kind: 'WALLET_RECHARGE', amountCents } });
  expect(res.status).toBe(201);
  return res.body as CreditBought;
}

const walletOf = (accountId: number) =>
  h.prisma.creditEntry.findMany({ where: { accountId, ledger: 'WALLET' } });

it('wallet recharge: failed, succeeded ×2, succeeded under a new id, failed again → credited once', async () => {
  const account = await confirmedAccount(h);
  const bought = await walletRecharge(account, 'recharge-faults-1', 5000);
  await deliverTwice(creditFailedEvent(bought));
  await deliverTwice(paymentSucceededEvent(bought));
  await deliverTwice(paymentSucceededEvent(bought));
  await deliverTwice(creditFailedEvent(bought));
  await purchaseReaches(h, bought.purchaseId, 'COMPLETED');
  const entries = await walletOf(account.accountId);
  expect(entries).toHaveLength(1);
  expect(entries[0]!.amount).toBe(5000);
  const balance = await request(h.app)
    .get(`/accounts/${account.accountId}/wallet`)
    .set(bearer(account.apiKey));
  expect(balance.status).toBe(200);
  expect(balance.body.balanceCents).toBe(5000);
});

it('a success for a purchase already cancelled changes nothing: no credit, the purchase stays cancelled', async () => {
  const account = await confirmedAccount(h);
  const bought = await walletRecharge(account, 'recharge-faults-2', 3000);
  const cancelled = await request(h.app).post(`/credit-purchases/${bought.purchaseId}/cancellation`).send({});
  expect(cancelled.status).toBe(200);
  await purchaseReaches(h, bought.purchaseId, 'CANCELLED');
  await deliverTwice(paymentSucceededEvent(bought));
  const after = await eventually(
    () => request(h.app).get(`/credit-purchases/${bought.purchaseId}`),
    (r) => r.status === 200,
  );
  expect(after.body.status).toBe('CANCELLED');
  expect(await walletOf(account.accountId)).toHaveLength(0);
  expect(await h.prisma.invoice.count({ where: { accountId: account.accountId } })).toBe(0);
});
