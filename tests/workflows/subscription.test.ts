/**
 * subscriptionWorkflow on the time-skipping test server, with its real activities (PostgreSQL, SMTP peer,
 * Stripe calls to stripe-mock). The only stub sits at the payment activity boundary, to decline cards:
 * stripe-mock can't. Purchases go through the API (the app is wired to the time-skipping server).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Express } from 'express';
import request from 'supertest';
import { DEFAULT_CATALOG } from '../../domain/catalog';
import { dayOf, startOfDayMs } from '../../domain/licence';
import { addDays, daysBetween, nthPeriod, type LocalDate } from '../../domain/periods';
import { prorateCents } from '../../domain/proration';
import { applyRateBasisPoints } from '../../domain/money';
import type { ServiceDeps } from '../../services/deps';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import Stripe from 'stripe';
import { TEST_WEBHOOK_SECRET, type Harness } from '../helpers/harness';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';

let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let h: Harness;
let app: Express;
const charges: { idempotencyKey: string; amountCents: number }[] = [];
/** idempotency-key prefixes whose charge the "bank" declines */
const declining = new Set<string>();
/**
 * Licences whose next charge the payment layer answers PENDING (a debit that settles later) or
 * NEEDS_CUSTOMER (3-D Secure), with a PaymentIntent id the test's webhook then settles.
 */
const answering = new Map<string, 'PENDING' | 'NEEDS_CUSTOMER'>();
/** the PaymentIntent of each scripted answer, by licence */
const scriptedIntents = new Map<string, string>();

let recorder: StripeRecorder;
/** the worker's billing settings: a test changes the dunning schedule while subscriptions run */
let policy: ServiceDeps['billing'];

beforeAll(async () => {
  // Stripe's side is stripe-mock behind a recording proxy; stripe-mock's fixture PaymentIntent is always
  // `requires_payment_method`, so the proxy answers with the status a successful charge has
  recorder = await startStripeRecorder();
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  stack = await startTimeSkippingStack('subscriptions', {
    stripeApiBase: recorder.url,
    workerDeps: ({ services }) => {
      policy = { ...services.billing, dunningRetryDays: [...services.billing.dunningRetryDays] };
      return { billing: policy };
    },
    activities: (real) => ({
      collectPayment: async (input) => {
        charges.push({ idempotencyKey: input.idempotencyKey, amountCents: input.amountCents });
        if ([...declining].some((p) => input.idempotencyKey.includes(p))) {
          return { outcome: 'DECLINED', code: 'insufficient_funds', declineCode: 'insufficient_funds' };
        }
        const scripted = [...answering].find(([licenceId]) => input.idempotencyKey.includes(licenceId));
        if (scripted) {
          answering.delete(scripted[0]);
          const paymentIntentId = `pi_${scripted[1].toLowerCase()}_${charges.length}`;
          scriptedIntents.set(scripted[0], paymentIntentId);
          return scripted[1] === 'PENDING'
            ? { outcome: 'PENDING', paymentIntentId }
            : { outcome: 'NEEDS_CUSTOMER', paymentIntentId, action: 'AUTHENTICATE' };
        }
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

const billing = {
  companyName: 'Boulangerie Dupont',
  lastName: 'Dupont',
  firstName: 'Jean',
  address: '1 rue de la Paix',
  postalCode: '75001',
  city: 'Paris',
  country: 'FRA',
  email: 'compta@dupont.example.fr',
};

/**
 * Polls, letting a minute of test-server time pass between reads: a timer started while an activity held
 * time-skipping (e.g. the reminder email just before a period end) would otherwise never come due.
 */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = await read();
    if (ok(value)) return value;
    await env.sleep(60_000);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await read())}`);
}

const stateOf = (baseId: string) =>
  env.client.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);
const whenState = (baseId: string, ok: (s: SubscriptionState) => boolean, what: string) =>
  eventually(() => stateOf(baseId), ok, what);

/** Buys a licence by card through the API and confirms the payment as the webhook would. */
async function buyOnline(terms: { edition: string; mode: string; connections: number; period: string }) {
  const machine = await registerMachine(h);
  const res = await request(app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      ...terms,
      paymentMethod: 'ONLINE',
      billing,
      terms: { version: '2026-01', accepted: true },
    });
  expect(res.status).toBe(201);
  expect(res.body.payment.paymentIntentId).toMatch(/^pi_/);
  await env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId)).signal(paymentResultSignal, {
    paymentIntentId: res.body.payment.paymentIntentId,
    status: 'succeeded',
    amountCents: res.body.quote.totalInclVatCents,
    paymentMethodId: 'pm_card_visa',
  });
  const state = await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'activation');
  return { ...machine, licenceId: state.licenceId, purchase: res.body, state };
}

const renewalKeysOf = (licenceId: string) =>
  charges.filter((c) => c.idempotencyKey.startsWith(`renewal:${licenceId}:`));
const paymentsOf = (licenceId: string, status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED') =>
  h.prisma.payment.findMany({ where: { licenceId, status }, orderBy: { createdAt: 'asc' } });

/** Skips to two hours into the day the current period ends, so the renewal (or the end) is due. */
async function skipPastPeriodEnd(state: SubscriptionState): Promise<void> {
  const target = startOfDayMs(state.periodEnd!) + 2 * 3_600_000;
  await env.sleep(Math.max(target - (await env.currentTimeMs()), 1000));
}

describe.each([
  ['MONTHLY', 1],
  ['QUARTERLY', 3],
  ['ANNUAL', 12],
] as const)('%s licence', (period, months) => {
  it('renews three times: one charge, one invoice and one email per period, no drift', async () => {
    const { baseId, licenceId, state } = await buyOnline({
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 2,
      period,
    });
    const price = 2 * months * DEFAULT_CATALOG.licencePrices.ENTERPRISE.LOCAL[period];
    const ttc = price + applyRateBasisPoints(price, 2000);
    let current = state;
    const ends: LocalDate[] = [state.periodEnd!];
    for (let cycle = 1; cycle <= 3; cycle += 1) {
      await skipPastPeriodEnd(current);
      current = await whenState(
        baseId,
        (s) => s.periodIndex === cycle && s.status === 'ACTIVE',
        `renewal ${cycle}`,
      );
      ends.push(current.periodEnd!);
    }
    const paid = await paymentsOf(licenceId);
    expect(paid).toHaveLength(4); // purchase + 3 renewals
    expect(paid.slice(1).map((p) => p.amountCents)).toEqual([ttc, ttc, ttc]);
    expect(new Set(renewalKeysOf(licenceId).map((c) => c.idempotencyKey)).size).toBe(3);
    // on Stripe's side: one PaymentIntent per idempotency key
    const sent = recorder.requests.filter(
      (r) => r.path === '/v1/payment_intents' && r.idempotencyKey?.startsWith(`renewal:${licenceId}:`),
    );
    expect(sent).toHaveLength(3);
    const invoices = await h.prisma.invoice.findMany({ where: { licenceId }, orderBy: { seq: 'asc' } });
    expect(invoices).toHaveLength(4);
    expect(invoices.every((i) => i.totalInclVatCents === ttc)).toBe(true);
    // calendar-anchored on the purchase day: no drift across renewals
    expect(ends).toEqual([0, 1, 2, 3].map((n) => nthPeriod(state.anchorDate!, period, n).end));
    const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
    expect(licence).toMatchObject({ status: 'ACTIVE', periodEnd: ends[3] });
    expect(
      h.mail.messagesTo(billing.email).filter((m) => m.subject === 'Votre licence est renouvelée').length,
    ).toBeGreaterThanOrEqual(3);
  });
});

it('stopping auto-renew mid-period: the licence ends at the period end, with no charge', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    connections: 1,
    period: 'MONTHLY',
  });
  await env.sleep('10 days');
  const stopped = await request(app)
    .put(`/bases/${baseId}/licence/auto-renew`)
    .set(bearer(apiKey))
    .send({ autoRenew: false });
  expect(stopped.status).toBe(200);
  expect(stopped.body.autoRenew).toBe(false);
  expect((await request(app).get(`/bases/${baseId}/licence`).set(bearer(apiKey))).body).toMatchObject({
    autoRenew: false,
    status: 'ACTIVE',
    renewalDate: null,
  });
  await skipPastPeriodEnd(state);
  const ended = await eventually(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } }),
    (l) => l.status === 'ENDED',
    'end',
  );
  expect(ended.periodEnd).toBe(state.periodEnd);
  expect(renewalKeysOf(licenceId)).toHaveLength(0);
  const screen = await request(app).get(`/bases/${baseId}/licence`).set(bearer(apiKey));
  expect(screen.body).toMatchObject({ edition: 'STANDARD', mode: 'LOCAL', status: 'FREE' });
  const history = await request(app).get(`/bases/${baseId}/licence/history`).set(bearer(apiKey));
  expect(history.body[0]).toMatchObject({ licenceId, status: 'ENDED', edition: 'ENTERPRISE', mode: 'CLOUD' });
});

it('resuming auto-renew before the end renews', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'STANDARD',
    mode: 'CLOUD',
    connections: 1,
    period: 'MONTHLY',
  });
  expect(
    (
      await request(app)
        .put(`/bases/${baseId}/licence/auto-renew`)
        .set(bearer(apiKey))
        .send({ autoRenew: false })
    ).status,
  ).toBe(200);
  await env.sleep('5 days');
  expect(
    (
      await request(app)
        .put(`/bases/${baseId}/licence/auto-renew`)
        .set(bearer(apiKey))
        .send({ autoRenew: true })
    ).body.autoRenew,
  ).toBe(true);
  await skipPastPeriodEnd(state);
  await whenState(baseId, (s) => s.periodIndex === 1, 'renewal');
  expect(renewalKeysOf(licenceId)).toHaveLength(1);
  expect(await paymentsOf(licenceId)).toHaveLength(2);
});

it('manual renewal charges the next period at once; the period end then rolls over without a second charge', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'ANNUAL',
  });
  const renewed = await request(app).post(`/bases/${baseId}/licence/renewals`).set(bearer(apiKey));
  expect(renewed.status).toBe(200);
  expect(renewed.body.amountCents).toBe(12240); // the seed's figure: 102.00 + 20 % VAT
  expect(renewed.body.invoiceNumber).toMatch(/^\d{4}-\d{6}$/);
  const again = await request(app).post(`/bases/${baseId}/licence/renewals`).set(bearer(apiKey));
  expect(again.status).toBe(422);
  expect(again.body.error).toMatchObject({ code: 'CHANGE_REFUSED', details: { reason: 'ALREADY_RENEWED' } });
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
  expect(daysBetween(state.periodEnd!, licence.periodEnd as LocalDate)).toBeGreaterThanOrEqual(365);
  await skipPastPeriodEnd(state);
  await whenState(baseId, (s) => s.periodIndex === 1, 'roll-over');
  expect(await paymentsOf(licenceId)).toHaveLength(2);
  expect(charges.filter((c) => c.idempotencyKey.includes(licenceId))).toHaveLength(1);
});

it('dunning: every retry fails, an email each time, usable meanwhile, then LOCAL ends / CLOUD is suspended', async () => {
  const local = await buyOnline({ edition: 'ENTERPRISE', mode: 'LOCAL', connections: 1, period: 'MONTHLY' });
  const cloud = await buyOnline({ edition: 'ENTERPRISE', mode: 'CLOUD', connections: 1, period: 'MONTHLY' });
  declining.add(local.licenceId).add(cloud.licenceId);
  const firstEnd = [local.state.periodEnd!, cloud.state.periodEnd!].sort()[1]!;
  await skipPastPeriodEnd({ ...local.state, periodEnd: firstEnd });
  const pastDue = await whenState(local.baseId, (s) => s.status === 'PAST_DUE', 'past due');
  expect(pastDue.dunning).toMatchObject({ failures: 1, nextAttemptOn: addDays(local.state.periodEnd!, 1) });
  expect(
    (await request(app).get(`/bases/${local.baseId}/licence`).set(bearer(local.apiKey))).body,
  ).toMatchObject({ status: 'PAST_DUE', edition: 'ENTERPRISE' });

  await env.sleep('8 days');
  const endedLocal = await eventually(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: local.licenceId } }),
    (l) => l.status === 'ENDED',
    'fallback',
  );
  const suspended = await eventually(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: cloud.licenceId } }),
    (l) => l.status === 'SUSPENDED',
    'suspension',
  );
  expect(endedLocal.autoRenew).toBe(false);
  expect(suspended.status).toBe('SUSPENDED');
  // first attempt + 3 retries (+1 d, +3 d, +7 d), each recorded and emailed
  expect(new Set(renewalKeysOf(local.licenceId).map((c) => c.idempotencyKey)).size).toBe(4);
  expect(await paymentsOf(local.licenceId, 'FAILED')).toHaveLength(4);
  expect(await paymentsOf(local.licenceId)).toHaveLength(1);
  const failedMails = h.mail
    .messagesTo(billing.email)
    .filter((m) => m.subject === 'Échec du paiement de votre licence' && m.text.includes(local.baseId));
  expect(failedMails).toHaveLength(3);
  expect(
    (await request(app).get(`/bases/${local.baseId}/licence`).set(bearer(local.apiKey))).body,
  ).toMatchObject({ edition: 'STANDARD', mode: 'LOCAL', status: 'FREE' });
  declining.delete(local.licenceId);
  declining.delete(cloud.licenceId);
});

it('ops replay after the first failure renews once', async () => {
  const { baseId, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'MONTHLY',
  });
  const opsToken = createOpsToken(
    h.prisma,
    { type: 'CLI', id: 'test' },
    { name: `ops-${licenceId}`, role: 'OPS' },
  );
  declining.add(licenceId);
  await skipPastPeriodEnd(state);
  await whenState(baseId, (s) => s.status === 'PAST_DUE', 'past due');
  declining.delete(licenceId); // the customer fixed their card
  const [failed] = await paymentsOf(licenceId, 'FAILED');
  const replayed = await request(app)
    .post(`/ops/payments/${failed!.id}/replay`)
    .set(bearer((await opsToken).token))
    .send({ reason: 'card updated by the customer' });
  expect(replayed.status).toBe(200);
  expect(replayed.body).toMatchObject({ outcome: 'PAID', status: 'ACTIVE' });
  // who replayed it, and why, is on record
  const audit = await h.prisma.auditLog.findFirst({
    where: { action: 'ops.payment_replayed', entityId: licenceId },
  });
  expect(audit).toMatchObject({ data: expect.objectContaining({ reason: 'card updated by the customer' }) });
  await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'renewal');
  await env.sleep('10 days'); // the scheduled retries must not charge again
  expect(await paymentsOf(licenceId)).toHaveLength(2);
  expect(renewalKeysOf(licenceId)).toHaveLength(2); // the declined attempt and the replay
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
  expect(licence.status).toBe('ACTIVE');
});

it('adding a connection mid-period charges the exact prorata at once; an upgrade likewise', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'STANDARD',
    mode: 'CLOUD',
    connections: 2,
    period: 'ANNUAL',
  });
  await env.sleep('100 days');
  const remaining = daysBetween(dayOf(await env.currentTimeMs()), state.periodEnd!);
  const days = daysBetween(state.periodStart!, state.periodEnd!);

  const added = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ connections: 3 });
  expect(added.status).toBe(200);
  const connectionHt = prorateCents(
    12 * DEFAULT_CATALOG.licencePrices.STANDARD.CLOUD.ANNUAL,
    remaining,
    days,
  );
  expect(added.body.amountCents).toBe(connectionHt + applyRateBasisPoints(connectionHt, 2000));
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).connections).toBe(3);

  const upgraded = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ edition: 'ENTERPRISE' });
  expect(upgraded.status).toBe(200);
  const diff =
    3 *
    12 *
    (DEFAULT_CATALOG.licencePrices.ENTERPRISE.CLOUD.ANNUAL -
      DEFAULT_CATALOG.licencePrices.STANDARD.CLOUD.ANNUAL);
  const upgradeHt = prorateCents(diff, remaining, days);
  expect(upgraded.body.amountCents).toBe(upgradeHt + applyRateBasisPoints(upgradeHt, 2000));
  const invoice = await h.prisma.invoice.findFirstOrThrow({ where: { number: upgraded.body.invoiceNumber } });
  expect(invoice.totalExclVatCents).toBe(upgradeHt);
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).edition).toBe('ENTERPRISE');

  const downgrade = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ connections: 1 });
  expect(downgrade.status).toBe(422);
  expect(downgrade.body.error).toMatchObject({
    code: 'CHANGE_REFUSED',
    details: { reason: 'DOWNGRADE_NOT_PRORATED' },
  });
});

/** Stripe's signed `payment_intent.succeeded` for a renewal charge, through the real webhook route. */
async function settleByWebhook(baseId: string, paymentIntentId: string, amountCents: number) {
  const payload = JSON.stringify({
    id: `evt_${paymentIntentId}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: paymentIntentId,
        object: 'payment_intent',
        amount: amountCents,
        amount_received: amountCents,
        payment_method: 'pm_card_visa',
        metadata: { workflowId: subscriptionWorkflowId(baseId), kind: 'renewal' },
      },
    },
  });
  const res = await request(app)
    .post('/webhooks/stripe')
    .set(
      'stripe-signature',
      Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
    )
    .set('content-type', 'application/json')
    .send(payload);
  expect(res.status).toBe(200);
}

it('payment layer PENDING, then the settlement webhook: the renewal is recorded once', async () => {
  const { baseId, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'MONTHLY',
  });
  answering.set(licenceId, 'PENDING');
  await skipPastPeriodEnd(state);
  // the workflow waits for the settlement: nothing recorded yet, the licence still usable
  await eventually(
    async () => renewalKeysOf(licenceId).length,
    (n) => n === 1,
    'the pending charge',
  );
  expect(await paymentsOf(licenceId)).toHaveLength(1); // the purchase only
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
  expect(licence.status).toBe('ACTIVE');

  const price = DEFAULT_CATALOG.licencePrices.ENTERPRISE.LOCAL.MONTHLY;
  const amountCents = price + applyRateBasisPoints(price, 2000);
  const paymentIntentId = scriptedIntents.get(licenceId)!;
  expect(paymentIntentId).toMatch(/^pi_pending_/);
  await settleByWebhook(baseId, paymentIntentId, amountCents);
  await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'renewal');
  const renewals = (await paymentsOf(licenceId)).slice(1);
  expect(renewals).toHaveLength(1);
  expect(renewals[0]).toMatchObject({ providerRef: paymentIntentId, status: 'SUCCEEDED' });
  expect(await paymentsOf(licenceId, 'FAILED')).toHaveLength(0);
  expect(renewalKeysOf(licenceId)).toHaveLength(1); // one charge, no retry
});

it('payment layer NEEDS the CUSTOMER: PAST_DUE and usable, the action email, then their confirmation renews once', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    connections: 1,
    period: 'MONTHLY',
  });
  answering.set(licenceId, 'NEEDS_CUSTOMER');
  await skipPastPeriodEnd(state);
  const pastDue = await whenState(baseId, (s) => s.status === 'PAST_DUE', 'past due');
  const paymentIntentId = pastDue.dunning!.awaitingCustomer!.paymentIntentId;
  expect(paymentIntentId).toMatch(/^pi_needs_customer_/);
  expect((await request(app).get(`/bases/${baseId}/licence`).set(bearer(apiKey))).body).toMatchObject({
    status: 'PAST_DUE',
    mode: 'CLOUD',
  });
  // the hook the payment-page work fills in: an email asking the customer to confirm
  await h.mail.waitFor(
    (m) => m.subject === 'Confirmez le paiement de votre licence' && m.text.includes(baseId),
  );
  expect(await paymentsOf(licenceId, 'FAILED')).toHaveLength(0); // not a decline

  const price = DEFAULT_CATALOG.licencePrices.ENTERPRISE.CLOUD.MONTHLY;
  const amountCents = price + applyRateBasisPoints(price, 2000);
  await settleByWebhook(baseId, paymentIntentId, amountCents);
  await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'renewal');
  await env.sleep('10 days'); // the dunning retries must not charge again
  const renewals = (await paymentsOf(licenceId)).slice(1);
  expect(renewals).toHaveLength(1);
  expect(renewals[0]).toMatchObject({ providerRef: paymentIntentId, status: 'SUCCEEDED' });
  expect(renewalKeysOf(licenceId)).toHaveLength(1);
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).status).toBe('ACTIVE');
});

it('NEEDS the CUSTOMER, never confirmed: its PaymentIntent is cancelled at Stripe before the retry, which renews', async () => {
  const { baseId, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'MONTHLY',
  });
  answering.set(licenceId, 'NEEDS_CUSTOMER');
  await skipPastPeriodEnd(state);
  const pastDue = await whenState(baseId, (s) => s.status === 'PAST_DUE', 'past due');
  const waiting = pastDue.dunning!.awaitingCustomer!.paymentIntentId;
  await env.sleep('1 day'); // the retry: the saved card is charged again (and succeeds this time)
  await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'renewal by the retry');
  // the old emailed link can no longer take money for a period paid otherwise
  const cancels = recorder.requests.filter((r) => r.path === `/v1/payment_intents/${waiting}/cancel`);
  expect(cancels).toHaveLength(1);
  expect(cancels[0]!.idempotencyKey).toBe(`${pastDue.dunning!.awaitingCustomer!.idempotencyKey}:close`);
  const renewals = (await paymentsOf(licenceId)).slice(1);
  expect(renewals).toHaveLength(1);
  expect(renewals[0]!.providerRef).not.toBe(waiting);
});

it('a dunning schedule changed while a subscription is in dunning applies from its next failure', async () => {
  const { baseId, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'MONTHLY',
  });
  expect(policy.dunningRetryDays).toEqual([1, 3, 7]);
  declining.add(licenceId);
  try {
    await skipPastPeriodEnd(state);
    const first = await whenState(baseId, (s) => s.dunning?.failures === 1, 'first failure');
    expect(first.dunning!.nextAttemptOn).toBe(addDays(state.periodEnd!, 1));

    // ops change DUNNING_RETRY_DAYS: the running subscription reads it at its next failure
    policy.dunningRetryDays = [1, 10];
    await env.sleep('1 day');
    const second = await whenState(baseId, (s) => s.dunning?.failures === 2, 'second failure');
    expect(second.dunning!.nextAttemptOn).toBe(addDays(state.periodEnd!, 10)); // not +3
    expect(second.status).toBe('PAST_DUE');
    await env.sleep('10 days');
    const ended = await eventually(
      () => h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } }),
      (l) => l.status === 'ENDED',
      'fallback after the new schedule',
    );
    expect(ended.status).toBe('ENDED');
    // the first attempt and the two retries of the new schedule
    expect(new Set(renewalKeysOf(licenceId).map((c) => c.idempotencyKey)).size).toBe(3);
  } finally {
    policy.dunningRetryDays = [1, 3, 7];
    declining.delete(licenceId);
  }
});
