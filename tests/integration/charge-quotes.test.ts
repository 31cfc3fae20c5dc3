/**
 * A price before every charge, and a promo code's duration over a renewal, through the API on the
 * time-skipping server (real activities, PostgreSQL, SMTP peer; Stripe is stripe-mock behind a recording
 * proxy that answers a succeeded PaymentIntent, as a card charge has).
 * The change quotes run before any time is skipped: the API's clock and the workflow's agree then.
 */
import request from 'supertest';
import { DEFAULT_CATALOG, type Catalog } from '../../domain/catalog';
import { startOfDayMs } from '../../domain/licence';
import { applyRateBasisPoints } from '../../domain/money';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { licenceBilling, opsToken } from '../helpers/ops';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';

jest.setTimeout(300_000);

let stack: TimeSkippingStack;
let recorder: StripeRecorder;
let ops: string;
let admin: string;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  stack = await startTimeSkippingStack('charge-quotes', { stripeApiBase: recorder.url });
  ops = await opsToken(stack.h, 'quotes-ops');
  admin = await opsToken(stack.h, 'quotes-admin', 'ADMIN');
});
afterAll(async () => {
  await stack?.close();
  await recorder?.stop();
});

const stateOf = (baseId: string) =>
  stack.env.client.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);
async function whenState(baseId: string, ok: (s: SubscriptionState) => boolean, what: string) {
  for (let i = 0; i < 200; i += 1) {
    const s = await stateOf(baseId).catch(() => undefined);
    if (s && ok(s)) return s;
    await stack.env.sleep(60_000);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Buys by card through the API and confirms the payment as the webhook would. */
async function buyOnline(terms: Record<string, unknown>) {
  const machine = await registerMachine(stack.h);
  const res = await request(stack.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      ...terms,
      paymentMethod: 'ONLINE',
      billing: licenceBilling(),
      terms: { version: '2026-01', accepted: true },
    });
  expect(res.status).toBe(201);
  await stack.env.client.workflow
    .getHandle(subscriptionWorkflowId(machine.baseId))
    .signal(paymentResultSignal, {
      paymentIntentId: res.body.payment.paymentIntentId,
      status: 'succeeded',
      amountCents: res.body.quote.totalInclVatCents,
      paymentMethodId: 'pm_card_visa',
    });
  const state = await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'activation');
  return { ...machine, purchase: res.body, state, licenceId: state.licenceId };
}
const paymentsOf = (licenceId: string) =>
  stack.h.prisma.payment.findMany({
    where: { licenceId, status: 'SUCCEEDED' },
    orderBy: { createdAt: 'asc' },
  });
const charged = () =>
  recorder.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').length;

it('a change quoted first, then charged with its fingerprint: the same amount', async () => {
  const { baseId, apiKey, licenceId } = await buyOnline({
    edition: 'STANDARD',
    mode: 'CLOUD',
    connections: 2,
    period: 'ANNUAL',
  });
  const before = charged();
  const preview = await request(stack.app)
    .post(`/bases/${baseId}/licence/changes/quote`)
    .set(bearer(apiKey))
    .send({ connections: 3 });
  expect(preview.status).toBe(200);
  expect(preview.body).toMatchObject({
    kind: 'CHANGE',
    amountCents: expect.any(Number),
    proration: { remainingDays: expect.any(Number), daysInPeriod: expect.any(Number) },
    priceFingerprint: expect.stringMatching(/^pf1_[0-9a-f]{28}$/),
  });
  const { remainingDays, daysInPeriod } = preview.body.proration;
  expect(remainingDays).toBeLessThanOrEqual(daysInPeriod);
  expect(preview.body.quote.vatCents).toBe(applyRateBasisPoints(preview.body.quote.totalExclVatCents, 2000));
  // quoting charged nothing and changed nothing
  expect(charged()).toBe(before);
  expect((await stack.h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).connections).toBe(2);

  const change = await request(stack.app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ connections: 3, priceFingerprint: preview.body.priceFingerprint });
  expect(change.status).toBe(200);
  expect(change.body.amountCents).toBe(preview.body.amountCents);
  const invoice = await stack.h.prisma.invoice.findFirstOrThrow({
    where: { number: change.body.invoiceNumber },
  });
  expect(invoice.totalInclVatCents).toBe(preview.body.amountCents);
  expect(invoice.lines).toEqual(preview.body.quote.lines);

  // renew now, quoted first: the same amount
  const renewal = await request(stack.app)
    .post(`/bases/${baseId}/licence/renewals/quote`)
    .set(bearer(apiKey));
  expect(renewal.status).toBe(200);
  const price = 3 * 12 * DEFAULT_CATALOG.licencePrices.STANDARD.CLOUD.ANNUAL;
  expect(renewal.body).toMatchObject({
    kind: 'RENEWAL',
    amountCents: price + applyRateBasisPoints(price, 2000),
  });
  const wrong = await request(stack.app)
    .post(`/bases/${baseId}/licence/renewals`)
    .set(bearer(apiKey))
    .send({ priceFingerprint: 'pf1_0000000000000000000000000000' });
  expect(wrong.status).toBe(409);
  expect(wrong.body.error).toMatchObject({
    code: 'PRICE_CHANGED',
    details: { priceFingerprint: renewal.body.priceFingerprint },
  });
  const renewed = await request(stack.app)
    .post(`/bases/${baseId}/licence/renewals`)
    .set(bearer(apiKey))
    .send({ priceFingerprint: renewal.body.priceFingerprint });
  expect(renewed.status).toBe(200);
  expect(renewed.body.amountCents).toBe(renewal.body.amountCents);
  expect(await paymentsOf(licenceId)).toHaveLength(3);
});

it('a change quoted, then the catalogue changes: the charge is refused, nothing charged or changed', async () => {
  const { baseId, apiKey, licenceId } = await buyOnline({
    edition: 'STANDARD',
    mode: 'CLOUD',
    connections: 1,
    period: 'ANNUAL',
  });
  const preview = await request(stack.app)
    .post(`/bases/${baseId}/licence/changes/quote`)
    .set(bearer(apiKey))
    .send({ edition: 'ENTERPRISE' });
  expect(preview.status).toBe(200);
  const dearer: Catalog = {
    ...DEFAULT_CATALOG,
    licencePrices: {
      ...DEFAULT_CATALOG.licencePrices,
      ENTERPRISE: {
        ...DEFAULT_CATALOG.licencePrices.ENTERPRISE,
        CLOUD: { ...DEFAULT_CATALOG.licencePrices.ENTERPRISE.CLOUD, ANNUAL: 1800 },
      },
    },
  };
  expect((await request(stack.app).put('/ops/catalog').set(bearer(admin)).send(dearer)).status).toBe(200);
  const before = charged();
  const refused = await request(stack.app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ edition: 'ENTERPRISE', priceFingerprint: preview.body.priceFingerprint });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('PRICE_CHANGED');
  expect(refused.body.error.details.quote.totalInclVatCents).toBeGreaterThan(preview.body.amountCents);
  expect(charged()).toBe(before);
  expect(await paymentsOf(licenceId)).toHaveLength(1);
  expect((await stack.h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).edition).toBe(
    'STANDARD',
  );
  // quoted again, the new price goes through
  const again = await request(stack.app)
    .post(`/bases/${baseId}/licence/changes/quote`)
    .set(bearer(apiKey))
    .send({ edition: 'ENTERPRISE' });
  expect(again.body.priceFingerprint).toBe(refused.body.error.details.priceFingerprint);
  const changed = await request(stack.app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ edition: 'ENTERPRISE', priceFingerprint: again.body.priceFingerprint });
  expect(changed.status).toBe(200);
  expect(changed.body.amountCents).toBe(again.body.amountCents);
  expect((await request(stack.app).put('/ops/catalog').set(bearer(admin)).send(DEFAULT_CATALOG)).status).toBe(
    200,
  );
});

it('a 20 % first-period code on an annual purchase: the first invoice discounted, the renewal at full price', async () => {
  const created = await request(stack.app)
    .post('/ops/promo-codes')
    .set(bearer(ops))
    .send({
      code: 'BIENVENUE',
      kind: 'PERCENT',
      percentBasisPoints: 2000,
      duration: 'FIRST_PERIOD',
      periods: ['ANNUAL'],
    });
  expect(created.status).toBe(201);
  const { baseId, apiKey, licenceId, purchase, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'ANNUAL',
    promoCode: 'BIENVENUE',
  });
  // 12 × 8.50 = 102.00, −20.40, + 20 % VAT per line
  expect(purchase.quote).toMatchObject({ totalExclVatCents: 8160, vatCents: 1632, totalInclVatCents: 9792 });
  const [paid] = await paymentsOf(licenceId);
  expect(paid!.amountCents).toBe(9792);
  const first = await stack.h.prisma.invoice.findFirstOrThrow({ where: { licenceId } });
  expect((first.lines as { description: string }[])[1]!.description).toBe(
    'Code promo BIENVENUE −20 % (première période)',
  );

  // the renewal's quote is the full price: the code covered the first period only
  const quoted = await request(stack.app).post(`/bases/${baseId}/licence/renewals/quote`).set(bearer(apiKey));
  expect(quoted.body.quote.lines).toHaveLength(1);
  expect(quoted.body.amountCents).toBe(12240);
  await stack.env.sleep(
    Math.max(startOfDayMs(state.periodEnd!) + 2 * 3_600_000 - (await stack.env.currentTimeMs()), 1000),
  );
  await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'renewal');
  const payments = await paymentsOf(licenceId);
  expect(payments.map((p) => p.amountCents)).toEqual([9792, 12240]);
  const invoices = await stack.h.prisma.invoice.findMany({
    where: { licenceId },
    orderBy: { number: 'asc' },
  });
  expect(invoices).toHaveLength(2);
  expect(invoices[1]!.lines as unknown[]).toHaveLength(1);
  expect(invoices[1]!.totalInclVatCents).toBe(12240);
});
