/**
 * A card payment's deadline (workflows/payment-deadline.ts), on the time-skipping server with the real
 * activities and stripe-mock behind the recording proxy: nobody paid → the PaymentIntent is cancelled at
 * Stripe (a late customer can't pay for a closed purchase); paid at the last moment → Stripe's answer
 * is taken and the purchase goes on, once, even when the webhook comes after.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Express } from 'express';
import request from 'supertest';
import { creditPurchaseWorkflowId, subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { getCreditPurchaseStateQuery } from '../../workflows/credit-purchase';
import { bearer, confirmedAccount, licenceOrder, registerMachine } from '../helpers/api';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';
import type { Harness } from '../helpers/harness';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let h: Harness;
let app: Express;
let recorder: StripeRecorder;
const HOUR = 3_600_000;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  stack = await startTimeSkippingStack('deadline', { stripeApiBase: recorder.url });
  ({ env, h, app } = stack);
});

afterAll(async () => {
  await stack?.close();
  await recorder?.stop();
});

interface Bought {
  purchaseId: string;
  payment: { paymentIntentId: string };
  quote: { totalInclVatCents: number };
}

async function buyLicence(): Promise<{ baseId: string; bought: Bought }> {
  const machine = await registerMachine(h);
  const res = await request(app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId));
  expect(res.status).toBe(201);
  return { baseId: machine.baseId, bought: res.body as Bought };
}

const subscriptionState = (baseId: string) =>
  env.client.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

/** Lets test-server time pass an hour at a time until the state is no longer AWAITING_PAYMENT. */
async function pastDeadline<T extends { status: string }>(read: () => Promise<T>): Promise<T> {
  for (let i = 0; i < 60; i += 1) {
    const s = await read();
    if (s.status !== 'AWAITING_PAYMENT') return s;
    await env.sleep(HOUR);
  }
  throw new Error(`still awaiting payment: ${JSON.stringify(await read())}`);
}

const intentPath = (id: string) => `/v1/payment_intents/${id}`;
const cancelsOf = (id: string) =>
  recorder.requests.filter((r) => r.method === 'POST' && r.path === `${intentPath(id)}/cancel`);

it('a licence purchase nobody paid: the PaymentIntent is cancelled at Stripe, the purchase closed', async () => {
  const { baseId, bought } = await buyLicence();
  const intent = bought.payment.paymentIntentId;
  const s = await pastDeadline(() => subscriptionState(baseId));
  expect(s.status).toBe('CANCELLED');
  expect(cancelsOf(intent).map((r) => r.idempotencyKey)).toEqual([
    `purchase:${bought.purchaseId}:deadline:1`,
  ]);
  const purchase = await h.prisma.purchase.findUniqueOrThrow({ where: { id: bought.purchaseId } });
  expect(purchase.status).toBe('CANCELLED');
  expect(await h.prisma.payment.count({ where: { providerRef: intent } })).toBe(0);
});

it('a licence paid at the last moment: nothing cancelled, activated once from Stripe’s answer, the late webhook changes nothing', async () => {
  const { baseId, bought } = await buyLicence();
  const intent = bought.payment.paymentIntentId;
  const amount = bought.quote.totalInclVatCents;
  // Stripe says the customer paid (the webhook has not come yet)
  recorder.answer(
    { method: 'GET', path: intentPath(intent) },
    {
      patch: (body) => ({
        ...body,
        id: intent,
        status: 'succeeded',
        amount_received: amount,
        payment_method: 'pm_card_late',
      }),
    },
  );
  const s = await pastDeadline(() => subscriptionState(baseId));
  expect(s.status).toBe('ACTIVE');
  expect(cancelsOf(intent)).toEqual([]);
  // the webhook arrives afterwards: ignored, one payment and one invoice
  await env.client.workflow
    .getHandle(subscriptionWorkflowId(baseId))
    .signal(paymentResultSignal, { paymentIntentId: intent, status: 'succeeded', amountCents: amount });
  await env.sleep(HOUR);
  const payments = await h.prisma.payment.findMany({ where: { providerRef: intent } });
  expect(payments.map((p) => [p.status, p.amountCents])).toEqual([['SUCCEEDED', amount]]);
  expect(await h.prisma.invoice.count({ where: { paymentId: payments[0]!.id } })).toBe(1);
  const licence = await h.prisma.licence.findFirstOrThrow({ where: { baseId, status: 'ACTIVE' } });
  expect(licence.stripePaymentMethodId).toBe('pm_card_late');
});

it('paid between the read and the cancellation: Stripe refuses to cancel, the purchase goes on as paid', async () => {
  const { baseId, bought } = await buyLicence();
  const intent = bought.payment.paymentIntentId;
  const amount = bought.quote.totalInclVatCents;
  let reads = 0;
  // first read: still unpaid; the cancellation is refused; the second read: paid
  recorder.answer(
    { method: 'GET', path: intentPath(intent) },
    {
      patch: (body) =>
        (reads += 1) === 1
          ? { ...body, id: intent, status: 'requires_payment_method' }
          : { ...body, id: intent, status: 'succeeded', amount_received: amount },
    },
    2,
  );
  recorder.answer(
    { method: 'POST', path: `${intentPath(intent)}/cancel` },
    {
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'payment_intent_unexpected_state',
          message: 'You cannot cancel this PaymentIntent because it has a status of succeeded.',
        },
      },
    },
  );
  const s = await pastDeadline(() => subscriptionState(baseId));
  expect(s.status).toBe('ACTIVE');
  expect(reads).toBe(2);
  expect(cancelsOf(intent)).toHaveLength(1);
  expect(await h.prisma.payment.count({ where: { providerRef: intent, status: 'SUCCEEDED' } })).toBe(1);
});

it('a credit purchase nobody paid expires with its PaymentIntent cancelled at Stripe', async () => {
  const account = await confirmedAccount(h);
  const bought = await request(app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({
      idempotencyKey: `late-pack-${account.accountId}`,
      product: { kind: 'SUPPORT_PACK', minutes: 15 },
    });
  expect(bought.status).toBe(201);
  const intent = bought.body.payment.paymentIntentId as string;
  const s = await pastDeadline(() =>
    env.client.workflow
      .getHandle(creditPurchaseWorkflowId(bought.body.purchaseId))
      .query(getCreditPurchaseStateQuery),
  );
  expect(s.status).toBe('EXPIRED');
  expect(cancelsOf(intent).map((r) => r.idempotencyKey)).toEqual([
    `credit-purchase:${bought.body.purchaseId}:deadline:1`,
  ]);
});
