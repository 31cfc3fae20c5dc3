/**
 * A lost dispute reaches subscriptionWorkflow wherever it waits (docs/disputes.md): in dunning (PAST_DUE,
 * waiting for the next retry) the licence ends at once and no retry is charged; in a later period (after a
 * renewal and continue-as-new) it ends at once, not at the period's end, and nothing is charged at that end.
 * Time-skipping server, real activities (PostgreSQL, SMTP peer, stripe-mock behind a recorder); the only stub
 * declines cards at the payment activity boundary (stripe-mock can't). The dispute arrives through the real
 * webhook route, signed.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Express } from 'express';
import request from 'supertest';
import { startOfDayMs } from '../../domain/licence';
import type { LocalDate } from '../../domain/periods';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { disputeEvent, newDisputeId } from '../helpers/disputes';
import type { Harness } from '../helpers/harness';
import { licenceBilling } from '../helpers/ops';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';

let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let h: Harness;
let app: Express;
let recorder: StripeRecorder;
const charges: string[] = [];
const declining = new Set<string>();

beforeAll(async () => {
  recorder = await startStripeRecorder();
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  stack = await startTimeSkippingStack('subscription-disputes', {
    stripeApiBase: recorder.url,
    activities: (real) => ({
      collectPayment: async (input) => {
        charges.push(input.idempotencyKey);
        if ([...declining].some((p) => input.idempotencyKey.includes(p)))
          return { outcome: 'DECLINED', code: 'insufficient_funds', declineCode: 'insufficient_funds' };
        return real.collectPayment(input);
      },
    }),
  });
  ({ env, h, app } = stack);
});

afterAll(async () => {
  await stack?.close();
  await recorder?.stop();
});

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = await read();
    if (ok(value)) return value;
    await env.sleep(60_000);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await read())}`);
}

const handleOf = (baseId: string) => env.client.workflow.getHandle(subscriptionWorkflowId(baseId));
const whenState = (baseId: string, ok: (s: SubscriptionState) => boolean, what: string) =>
  eventually(() => handleOf(baseId).query(getSubscriptionStateQuery), ok, what);

async function buyMonthly() {
  const machine = await registerMachine(h);
  const res = await request(app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 1,
      period: 'MONTHLY',
      paymentMethod: 'ONLINE',
      billing: licenceBilling(),
      terms: { version: '2026-01', accepted: true },
    });
  expect(res.status).toBe(201);
  const paymentIntentId = res.body.payment.paymentIntentId as string;
  await handleOf(machine.baseId).signal(paymentResultSignal, {
    paymentIntentId,
    status: 'succeeded',
    amountCents: res.body.quote.totalInclVatCents,
    paymentMethodId: 'pm_card_visa',
  });
  const state = await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'activation');
  return { ...machine, state, paymentIntentId, amountCents: res.body.quote.totalInclVatCents as number };
}

async function loseDispute(paymentIntentId: string, amountCents: number) {
  const event = disputeEvent('charge.dispute.closed', {
    disputeId: newDisputeId(),
    paymentIntentId,
    amountCents,
    status: 'lost',
    createdAt: Math.floor(Date.now() / 1000),
  });
  const res = await request(app)
    .post('/webhooks/stripe')
    .set('stripe-signature', event.signature)
    .set('content-type', 'application/json')
    .send(event.payload);
  expect(res.status).toBe(200);
  expect(res.body.outcome).toBe('signalled');
}

const skipPast = async (day: LocalDate) =>
  env.sleep(Math.max(startOfDayMs(day) + 2 * 3_600_000 - (await env.currentTimeMs()), 1000));

it('lost while in dunning: the licence ends at once, no retry is charged', async () => {
  const x = await buyMonthly();
  declining.add(x.state.licenceId);
  await skipPast(x.state.periodEnd!);
  await whenState(x.baseId, (s) => s.status === 'PAST_DUE', 'past due');
  const chargedBefore = charges.filter((k) => k.includes(x.state.licenceId)).length;
  await loseDispute(x.paymentIntentId, x.amountCents);
  const ended = await whenState(x.baseId, (s) => s.status === 'ENDED', 'ended');
  expect(ended.disputeLost).toBeDefined();
  await eventually(
    async () => (await handleOf(x.baseId).describe()).status.name,
    (status) => status === 'COMPLETED',
    'the run completed',
  );
  expect(charges.filter((k) => k.includes(x.state.licenceId))).toHaveLength(chargedBefore);
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: x.state.licenceId } });
  expect(licence).toMatchObject({ status: 'ENDED', autoRenew: false });
  declining.delete(x.state.licenceId);
});

it('lost in a later period (after a renewal): ends at once, nothing charged at that period end', async () => {
  const x = await buyMonthly();
  await skipPast(x.state.periodEnd!);
  const renewed = await whenState(x.baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'renewed');
  const chargedBefore = charges.filter((k) => k.includes(x.state.licenceId)).length;
  // the purchase's payment is disputed, weeks after
  await loseDispute(x.paymentIntentId, x.amountCents);
  await whenState(x.baseId, (s) => s.status === 'ENDED', 'ended');
  const endedAt = await env.currentTimeMs();
  expect(endedAt).toBeLessThan(startOfDayMs(renewed.periodEnd!));
  await skipPast(renewed.periodEnd!);
  expect(charges.filter((k) => k.includes(x.state.licenceId))).toHaveLength(chargedBefore);
  expect(await h.prisma.payment.count({ where: { licenceId: x.state.licenceId, status: 'SUCCEEDED' } })).toBe(
    2,
  );
  const dispute = await h.prisma.dispute.findFirstOrThrow({ where: { paymentIntentId: x.paymentIntentId } });
  expect(dispute).toMatchObject({ outcome: 'LOST', licenceAction: 'ENDED', reversalCents: x.amountCents });
});
