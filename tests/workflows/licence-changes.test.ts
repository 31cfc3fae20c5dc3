/**
 * Extensions and changes at the period end, on the time-skipping server with the real activities
 * (PostgreSQL, SMTP peer, Stripe calls to stripe-mock behind a recorder that answers `succeeded`), driven
 * through the API: an extension added prorated and carried by the signed licence file (checked with the
 * standalone verifier), a downgrade scheduled and applied by the renewal at the new price with sessions
 * trimmed, a cancelled change that leaves everything as it was, a new billing period re-anchoring the calendar.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Express } from 'express';
import request from 'supertest';
import { DEFAULT_CATALOG } from '../../domain/catalog';
import { dayOf, startOfDayMs } from '../../domain/licence';
import { applyRateBasisPoints } from '../../domain/money';
import { daysBetween, nthPeriod } from '../../domain/periods';
import { prorateCents } from '../../domain/proration';
import { verifyLicenceFile } from '../../verifier/licence-verifier';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import type { Harness } from '../helpers/harness';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';

let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let h: Harness;
let app: Express;
let recorder: StripeRecorder;
/** licences whose renewal charges the "bank" declines (stripe-mock can't): the stub at the payment boundary */
const declining = new Set<string>();

beforeAll(async () => {
  recorder = await startStripeRecorder();
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  stack = await startTimeSkippingStack('licence-changes', {
    stripeApiBase: recorder.url,
    activities: (real) => ({
      collectPayment: async (input) =>
        [...declining].some((id) => input.idempotencyKey.startsWith(`renewal:${id}:`))
          ? { outcome: 'DECLINED', code: 'insufficient_funds', declineCode: 'insufficient_funds' }
          : real.collectPayment(input),
    }),
  });
  ({ env, h, app } = stack);
  // the harness's own worker, on the dev server, has nothing to run here
  await h.stopWorker();
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
const ttc = (ht: number) => ht + applyRateBasisPoints(ht, 2000);

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

async function buyOnline(terms: {
  edition: string;
  mode: string;
  connections: number;
  period: string;
  extensions?: string[];
}) {
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
  await env.client.workflow.getHandle(subscriptionWorkflowId(machine.baseId)).signal(paymentResultSignal, {
    paymentIntentId: res.body.payment.paymentIntentId,
    status: 'succeeded',
    amountCents: res.body.quote.totalInclVatCents,
    paymentMethodId: 'pm_card_visa',
  });
  const state = await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'activation');
  return { ...machine, licenceId: state.licenceId, state };
}

async function skipPastPeriodEnd(state: SubscriptionState): Promise<void> {
  const target = startOfDayMs(state.periodEnd!) + 2 * 3_600_000;
  await env.sleep(Math.max(target - (await env.currentTimeMs()), 1000));
}

const renewalsOf = (licenceId: string) =>
  h.prisma.payment.findMany({
    where: { licenceId, status: 'SUCCEEDED', idempotencyKey: { startsWith: 'renewal:' } },
  });

async function licenceFile(baseId: string, apiKey: string) {
  const res = await request(app).get(`/bases/${baseId}/licence/file`).set(bearer(apiKey));
  expect(res.status).toBe(200);
  const keys = await request(app).get('/licences/public-keys');
  const today = dayOf(await env.currentTimeMs());
  return verifyLicenceFile(JSON.stringify(res.body), keys.body.keys as Record<string, string>, today);
}

const openSession = (baseId: string, apiKey: string, n: number) =>
  request(app)
    .post(`/bases/${baseId}/sessions`)
    .set(bearer(apiKey))
    .send({
      userCode: `U${n}`,
      userName: `Utilisateur ${n}`,
      ip: '192.168.1.148',
      computerName: `POSTE-${n}`,
    });

// first in the file: they read the API's clock (quotes, file), which the later tests' time skips leave behind
it('extensions bought with the licence: a line each on the quote and the invoice, in the signed file, renewed with it; an unknown one refused', async () => {
  const terms = { edition: 'ENTERPRISE', mode: 'LOCAL', connections: 2, period: 'MONTHLY' };
  const refusedMachine = await registerMachine(h);
  const refused = await request(app)
    .post(`/bases/${refusedMachine.baseId}/subscriptions`)
    .set(bearer(refusedMachine.apiKey))
    .send({
      idempotencyKey: `buy-${refusedMachine.baseId}`,
      ...terms,
      extensions: ['NOPE'],
      paymentMethod: 'ONLINE',
      billing,
      terms: { version: '2026-01', accepted: true },
    });
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({ code: 'UNKNOWN_EXTENSION', details: { unknown: ['NOPE'] } });
  expect(await h.prisma.purchase.count({ where: { baseId: refusedMachine.baseId } })).toBe(0);

  const quoted = await request(app)
    .post('/quotes')
    .send({ ...terms, country: 'FRA', extensions: ['STOCKS', 'PAIE'] });
  expect(quoted.status).toBe(200);
  const descriptions = (quoted.body.lines as { description: string }[]).map((l) => l.description);
  expect(descriptions).toHaveLength(3);
  expect(descriptions.join('|')).toContain('Extension Gestan Paie — 2 connexions × 1 mois');

  const { baseId, apiKey, licenceId, state } = await buyOnline({ ...terms, extensions: ['STOCKS', 'PAIE'] });
  expect(state.terms.extensions).toEqual(['PAIE', 'STOCKS']);
  const first = await h.prisma.invoice.findFirstOrThrow({ where: { licenceId } });
  expect(first.totalInclVatCents).toBe(quoted.body.totalInclVatCents);
  expect(JSON.stringify(first.lines)).toContain('Extension Gestan Paie');
  const file = await licenceFile(baseId, apiKey);
  expect(file).toMatchObject({ valid: true, licence: { extensions: ['PAIE', 'STOCKS'], connections: 2 } });

  // renewed with them: the next period's price has their lines
  const renewal = await request(app).post(`/bases/${baseId}/licence/renewals/quote`).set(bearer(apiKey));
  expect(renewal.status).toBe(200);
  expect(JSON.stringify(renewal.body)).toContain('Extension Gestan Paie');
  expect(renewal.body.quote.totalInclVatCents).toBe(quoted.body.totalInclVatCents);
});

it('an extension added is quoted first, then charged at that quote (its fingerprint)', async () => {
  const { baseId, apiKey } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    connections: 2,
    period: 'MONTHLY',
  });
  const quoted = await request(app)
    .post(`/bases/${baseId}/licence/changes/quote`)
    .set(bearer(apiKey))
    .send({ addExtensions: ['STOCKS'] });
  expect(quoted.status).toBe(200);
  expect(JSON.stringify(quoted.body.quote)).toContain('Extension Gestan Stocks');
  expect(quoted.body.amountCents).toBeGreaterThan(0);
  const charged = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ addExtensions: ['STOCKS'], priceFingerprint: quoted.body.priceFingerprint });
  expect(charged.status).toBe(200);
  expect(charged.body.amountCents).toBe(quoted.body.amountCents);
  expect(charged.body.subscription.extensions).toEqual(['STOCKS']);
});

it('an extension bought mid-period (prorated) is in the signed file; a downgrade scheduled with its removal applies at the renewal at the new price, sessions trimmed', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    connections: 3,
    period: 'MONTHLY',
  });
  await env.sleep('10 days');
  const remaining = daysBetween(dayOf(await env.currentTimeMs()), state.periodEnd!);
  const days = daysBetween(state.periodStart!, state.periodEnd!);

  const unknown = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ addExtensions: ['NOPE'] });
  expect(unknown.status).toBe(422);
  expect(unknown.body.error).toMatchObject({
    code: 'CHANGE_REFUSED',
    details: { reason: 'UNKNOWN_EXTENSION' },
  });

  const added = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ addExtensions: ['PAIE'] });
  expect(added.status).toBe(200);
  const paie = DEFAULT_CATALOG.extensions.find((e) => e.code === 'PAIE')!;
  expect(added.body.amountCents).toBe(ttc(prorateCents(3 * paie.monthlyPrices.MONTHLY, remaining, days)));
  expect(added.body.subscription.extensions).toEqual(['PAIE']);
  const invoice = await h.prisma.invoice.findFirstOrThrow({ where: { number: added.body.invoiceNumber } });
  expect(JSON.stringify(invoice.lines)).toContain('Extension Gestan Paie');

  const withExtension = await licenceFile(baseId, apiKey);
  expect(withExtension).toMatchObject({ valid: true, licence: { extensions: ['PAIE'], connections: 3 } });

  // three users logged in; from the next period one connection only
  for (const n of [1, 2, 3]) expect((await openSession(baseId, apiKey, n)).status).toBe(201);
  const scheduled = await request(app)
    .post(`/bases/${baseId}/licence/scheduled-change`)
    .set(bearer(apiKey))
    .send({ edition: 'STANDARD', connections: 1, removeExtensions: ['PAIE'] });
  expect(scheduled.status).toBe(200);
  expect(scheduled.body.scheduledChange.terms).toEqual({
    edition: 'STANDARD',
    mode: 'CLOUD',
    connections: 1,
    period: 'MONTHLY',
    extensions: [],
  });
  // recorded at once: the status screen shows it, the licence itself is unchanged until the renewal
  const screen = await request(app).get(`/bases/${baseId}/licence`).set(bearer(apiKey));
  expect(screen.body).toMatchObject({
    edition: 'ENTERPRISE',
    connections: 3,
    extensions: ['PAIE'],
    scheduledChange: { terms: { edition: 'STANDARD', connections: 1 } },
  });
  const now = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ connections: 4 });
  expect(now.status).toBe(422);
  expect(now.body.error.details).toMatchObject({ reason: 'CHANGE_SCHEDULED' });

  await skipPastPeriodEnd(state);
  const renewed = await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'the renewal');
  expect(renewed.terms).toMatchObject({ edition: 'STANDARD', connections: 1, extensions: [] });
  expect(renewed.scheduledChange).toBeUndefined();
  const [renewal] = await renewalsOf(licenceId);
  expect(renewal!.amountCents).toBe(ttc(DEFAULT_CATALOG.licencePrices.STANDARD.CLOUD.MONTHLY));
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
  expect(licence).toMatchObject({
    edition: 'STANDARD',
    connections: 1,
    extensions: [],
    scheduledChange: null,
  });
  const sessions = await h.prisma.session.findMany({ where: { baseId } });
  expect(sessions.filter((s) => s.status === 'ACTIVE')).toHaveLength(1);
  expect(sessions.filter((s) => s.status === 'TRIMMED')).toHaveLength(2);
  expect(await licenceFile(baseId, apiKey)).toMatchObject({
    valid: true,
    licence: { edition: 'STANDARD', connections: 1, extensions: [] },
  });
});

it('a change scheduled then cancelled: the renewal charges the old terms and nothing changes', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 2,
    period: 'MONTHLY',
  });
  const scheduled = await request(app)
    .post(`/bases/${baseId}/licence/scheduled-change`)
    .set(bearer(apiKey))
    .send({ connections: 1 });
  expect(scheduled.status).toBe(200);
  const cancelled = await request(app)
    .delete(`/bases/${baseId}/licence/scheduled-change`)
    .set(bearer(apiKey));
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.scheduledChange).toBeNull();
  const again = await request(app).delete(`/bases/${baseId}/licence/scheduled-change`).set(bearer(apiKey));
  expect(again.status).toBe(422);
  expect(again.body.error.code).toBe('NO_SCHEDULED_CHANGE');
  const same = await request(app)
    .post(`/bases/${baseId}/licence/scheduled-change`)
    .set(bearer(apiKey))
    .send({ connections: 2 });
  expect(same.status).toBe(422);
  expect(same.body.error.details).toMatchObject({ reason: 'NO_CHANGE' });

  await skipPastPeriodEnd(state);
  const renewed = await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'the renewal');
  expect(renewed.terms).toMatchObject({ edition: 'ENTERPRISE', mode: 'LOCAL', connections: 2 });
  const [renewal] = await renewalsOf(licenceId);
  expect(renewal!.amountCents).toBe(ttc(2 * DEFAULT_CATALOG.licencePrices.ENTERPRISE.LOCAL.MONTHLY));
  expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).toMatchObject({
    connections: 2,
    scheduledChange: null,
  });
});

it('another billing period: the renewal sells the new period and the calendar restarts at the old end', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 2,
    period: 'MONTHLY',
  });
  const scheduled = await request(app)
    .post(`/bases/${baseId}/licence/scheduled-change`)
    .set(bearer(apiKey))
    .send({ period: 'ANNUAL' });
  expect(scheduled.status).toBe(200);
  await skipPastPeriodEnd(state);
  const year = nthPeriod(state.periodEnd!, 'ANNUAL', 0);
  const renewed = await whenState(
    baseId,
    (s) => s.status === 'ACTIVE' && s.terms.period === 'ANNUAL' && s.periodStart === year.start,
    'the renewal',
  );
  expect(renewed).toMatchObject({ anchorDate: state.periodEnd, periodIndex: 0, periodEnd: year.end });
  const [renewal] = await renewalsOf(licenceId);
  expect(renewal!.amountCents).toBe(ttc(2 * 12 * DEFAULT_CATALOG.licencePrices.ENTERPRISE.LOCAL.ANNUAL));
  expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).toMatchObject({
    period: 'ANNUAL',
    anchorDate: state.periodEnd,
    periodStart: year.start,
    periodEnd: year.end,
  });
});

it('after the last dunning failure the extensions go with the licence; the file falls back to the free licence', async () => {
  const { baseId, apiKey, licenceId, state } = await buyOnline({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'MONTHLY',
  });
  const added = await request(app)
    .post(`/bases/${baseId}/licence/changes`)
    .set(bearer(apiKey))
    .send({ addExtensions: ['STOCKS'] });
  expect(added.status).toBe(200);
  declining.add(licenceId);
  await skipPastPeriodEnd(state);
  // the retries are days apart (DUNNING_RETRY_DAYS): a day of server time between reads
  for (let day = 0; day < 20 && (await stateOf(baseId)).status !== 'ENDED'; day += 1)
    await env.sleep('1 day');
  expect((await stateOf(baseId)).status).toBe('ENDED');
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
  expect(licence).toMatchObject({ status: 'ENDED', extensions: [] });
  const ended = await h.prisma.auditLog.findFirstOrThrow({
    where: { entityId: licenceId, action: 'licence.ended' },
  });
  expect(ended.data).toMatchObject({ reason: 'PAYMENT_FAILED', extensionsRemoved: ['STOCKS'] });
  expect(await licenceFile(baseId, apiKey)).toMatchObject({
    valid: true,
    licence: { licenceId: null, extensions: [] },
  });
});
