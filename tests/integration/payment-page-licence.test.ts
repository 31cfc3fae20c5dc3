/**
 * The payment page for a running licence, in headless Chromium on localstripe:
 * - a renewal whose saved card needs 3-D Secure: the licence stays PAST_DUE and usable, the mail carries
 *   the signed payment URL (read from the SMTP catcher), the customer authenticates in the page, and the
 *   renewal is recorded once — also with the worker (a real process) killed between the authentication
 *   and the webhook;
 * - the card-change page (SetupIntent): the new card is the one the next renewal charges; a cheque
 *   licence switched to card renews automatically.
 * The renewal is brought forward as in tests/faults/worker-killed.test.ts: the base's workflow restarted
 * from its own state with the period already over.
 */
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { addDays, nthPeriod } from '../../domain/periods';
import { createSubscriptionActivities } from '../../activities/subscriptions';
import { decidePurchase } from '../../services/subscriptions/licence-messages';
import { subscriptionWorkflowId } from '../../workflows/ids';
import {
  getSubscriptionStateQuery,
  subscriptionWorkflow,
  type SubscriptionState,
} from '../../workflows/subscription';
import { bearer, boughtLicence, garageMartin } from '../helpers/api';
import {
  authenticate,
  confirmWithCard,
  downloadInvoice,
  paymentPageFixture,
  payWithCard,
  PHONE,
  useFixture,
  waitForState,
  withPage,
} from '../helpers/browser';
import { until } from '../helpers/faults';
import { deliver } from '../helpers/credits';
import { TEST_WEBHOOK_SECRET, uniqueEmail, type Harness } from '../helpers/harness';
import { pdfText } from '../helpers/pdf-text';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

let h: Harness;
let browser: Browser;
let child: WorkerProcess | undefined;

afterAll(() => child?.kill());
useFixture(paymentPageFixture, (f) => ({ h, browser } = f));

const stateOf = (baseId: string): Promise<SubscriptionState> =>
  h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

type Bought = Awaited<ReturnType<typeof buy>>;

/** A monthly licence for Garage Martin (a billing email of its own), by card or by cheque. */
const buy = (paymentMethod: 'ONLINE' | 'CHEQUE') =>
  boughtLicence(h, { paymentMethod, billing: garageMartin(uniqueEmail('compta')) });

/** What the payment page's server side and Stripe.js do, without a browser (the purchase is not tested here). */
async function payPurchase(b: Bought, number: string) {
  const confirmed = await confirmWithCard(h, b.paymentIntentId, number);
  // localstripe's stand-in for the bank's challenge ("Complete authentication")
  if (confirmed.status === 'requires_action') await authenticate(h, confirmed.id, true);
  return until(
    () => stateOf(b.baseId),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
}

/** The period is over: the base's workflow restarted from its own state, the renewal due now. */
async function renewalDue(baseId: string, taskQueue = h.taskQueue) {
  const state = await stateOf(baseId);
  // the period ends today: the renewal is due now, a dunning retry tomorrow at the earliest
  const today = dayOf(Date.now());
  const anchorDate = [28, 29, 30, 31]
    .map((days) => addDays(today, -days))
    .find((anchor) => nthPeriod(anchor, 'MONTHLY', 0).end === today)!;
  const period0 = nthPeriod(anchorDate, 'MONTHLY', 0);
  await h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId)).terminate('time moved on');
  await h.prisma.licence.update({
    where: { id: state.licenceId },
    data: { periodStart: period0.start, periodEnd: period0.end, anchorDate },
  });
  await h.temporal.workflow.start(subscriptionWorkflow, {
    workflowId: subscriptionWorkflowId(baseId),
    taskQueue,
    args: [{ state: { ...state, anchorDate, periodIndex: 0, paidThroughIndex: 0 } }],
  });
  return state.licenceId;
}

const renewalPayments = (licenceId: string) =>
  h.prisma.payment.findMany({ where: { licenceId, idempotencyKey: { startsWith: 'renewal:' } } });

/** The renewal needs the customer: PAST_DUE and usable, and the mail's signed link. */
async function authenticationAsked(b: Bought, licenceId: string): Promise<string> {
  await until(
    () => stateOf(b.baseId),
    (s) => s.status === 'PAST_DUE' && s.dunning?.awaitingCustomer !== undefined,
    'the renewal waiting for the customer',
  );
  const mail = await h.mail.waitFor(
    (m) => m.to.includes(b.email) && m.subject === 'Confirmez le paiement de votre licence',
    30_000,
  );
  const url = /(http:\/\/\S+\/pay\/[\w-]+\.[\w-]+)/.exec(mail.text)?.[1];
  expect(url?.startsWith(`${h.baseUrl}/pay/`)).toBe(true);
  expect(mail.html).toContain(url);
  const licence = await request(h.app).get(`/bases/${b.baseId}/licence`).set(bearer(b.apiKey));
  expect(licence.body.status).toBe('PAST_DUE'); // usable meanwhile
  expect(await renewalPayments(licenceId)).toHaveLength(0);
  return url!;
}

async function expectRenewedOnce(page: Page, b: Bought, licenceId: string) {
  await page.waitForURL(/\/done$/);
  await waitForState(page, 'PAID', 60_000).catch(async (error: unknown) => {
    const events = await h.prisma.stripeEvent.findMany();
    throw new Error(
      `${String(error)}\nstate: ${JSON.stringify(await stateOf(b.baseId))}\nevents: ${JSON.stringify(events)}\npage: ${await page.locator('main').textContent()}`,
    );
  });
  const { pdf } = await downloadInvoice(page);
  expect(await pdfText(pdf)).toContain('Garage Martin');
  const state = await until(
    () => stateOf(b.baseId),
    (s) => s.periodIndex === 1 && s.status === 'ACTIVE',
    'the next period',
  );
  expect(state.dunning).toBeUndefined();
  const payments = await renewalPayments(licenceId);
  expect(payments).toHaveLength(1);
  expect(payments[0]!.status).toBe('SUCCEEDED');
  expect(await h.prisma.invoice.count({ where: { paymentId: payments[0]!.id } })).toBe(1);
}

describe('a renewal whose card needs 3-D Secure', () => {
  it('mails the payment URL; the customer authenticates in the page; renewed once', async () => {
    const b = await buy('ONLINE');
    await payPurchase(b, '4000002760003184');
    const licenceId = await renewalDue(b.baseId);
    const url = await authenticationAsked(b, licenceId);

    await withPage(browser, PHONE, async (page) => {
      await page.goto(url);
      expect(await page.locator('h1').textContent()).toBe('Confirmer le paiement');
      expect(await page.locator('#order').textContent()).toContain('Renouvellement');
      await page.locator('#saved-card-button').click();
      await page.locator('button', { hasText: 'Complete authentication' }).click();
      await expectRenewedOnce(page, b, licenceId);
      expect(
        h.mail.messagesTo(b.email).filter((m) => m.subject === 'Confirmez le paiement de votre licence'),
      ).toHaveLength(1);
      // the link again: paid, nothing to confirm
      await page.goto(url);
      await page.locator('text=Cette commande est déjà réglée.').waitFor();
    });
  });

  it('the worker killed between the authentication and the webhook: renewed once by the next worker', async () => {
    await h.stopWorker();
    const worker = (child = await startWorkerProcess(h, {
      temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
      taskQueue: h.taskQueue,
      stripeApiBase: h.localstripe!.apiBase,
      env: { PUBLIC_BASE_URL: h.baseUrl!, STRIPE_PUBLISHABLE_KEY: 'pk_test_harness' },
    }));
    const b = await buy('ONLINE');
    await payPurchase(b, '4000002760003184');
    const licenceId = await renewalDue(b.baseId);
    const url = await authenticationAsked(b, licenceId);

    await withPage(browser, async (page) => {
      await page.goto(url);
      await page.locator('#saved-card-button').click();
      const complete = page.locator('button', { hasText: 'Complete authentication' });
      await complete.waitFor();
      await worker.kill(); // the crash: no worker while the bank's answer and its webhook arrive
      child = undefined;
      await complete.click();
      await page.waitForURL(/\/done$/);
      // the webhook reached the API, which signalled the workflow: recorded in its history, not yet run
      await until(
        () => h.prisma.stripeEvent.count({ where: { type: 'payment_intent.succeeded' } }),
        (n) => n >= 2,
        'the webhook of the authenticated renewal',
      );
      expect(await renewalPayments(licenceId)).toHaveLength(0);
      await h.startWorker();
      await expectRenewedOnce(page, b, licenceId);
    });
  });
});

describe('changing the saved card (SetupIntent)', () => {
  async function changeCard(b: Bought, url: string, number: string) {
    await withPage(browser, PHONE, async (page) => {
      await page.goto(url);
      expect(await page.locator('h1').textContent()).toBe('Changer de moyen de paiement');
      await payWithCard(page, number);
      await page.waitForURL(/\/done\?setupIntent=seti_/);
      await waitForState(page, 'PAID');
      expect(await page.locator('#payment-message').textContent()).toContain(
        'nouvelle carte est enregistrée',
      );
    });
    return stateOf(b.baseId);
  }

  it('from the ERP: the new card is the one charged at the next renewal', async () => {
    const b = await buy('ONLINE');
    const first = await payPurchase(b, '4242424242424242');
    const link = await request(h.app)
      .post(`/bases/${b.baseId}/licence/card-change`)
      .set(bearer(b.apiKey))
      .send({});
    expect(link.status).toBe(200);
    const changed = await changeCard(b, link.body.cardChangeUrl, '4000056655665556');
    expect(changed.paymentMethodId).not.toBe(first.paymentMethodId);
    expect((await h.stripe.paymentMethods.retrieve(changed.paymentMethodId!)).card?.last4).toBe('5556');
    const row = await h.prisma.licence.findUniqueOrThrow({ where: { id: changed.licenceId } });
    expect(row.stripePaymentMethodId).toBe(changed.paymentMethodId);

    const licenceId = await renewalDue(b.baseId);
    await until(
      () => stateOf(b.baseId),
      (s) => s.periodIndex === 1 && s.status === 'ACTIVE',
      'the renewal',
    );
    const [payment] = await renewalPayments(licenceId);
    const intent = await h.stripe.paymentIntents.retrieve(payment!.providerRef!);
    expect(intent.payment_method).toBe(changed.paymentMethodId);
  });

  it('a cheque licence switched to card through the link of its expiry mail renews automatically', async () => {
    const b = await buy('CHEQUE');
    await decidePurchase(h.services, b.purchaseId, {
      decision: 'CONFIRM_PAYMENT',
      by: 'ops@test',
      reference: 'CHQ-0042',
    });
    const active = await until(
      () => stateOf(b.baseId),
      (s) => s.status === 'ACTIVE',
      'cheque activation',
    );
    expect(active.autoRenew).toBe(false);
    // the end reminder offers automatic card renewal; its link is the card-change page (the activity the
    // workflow calls a week before the end)
    const mails = createSubscriptionActivities({
      prisma: h.prisma,
      mailer: h.mailer,
      billing: h.services.billing,
      emailLinks: { publicUrl: h.baseUrl!, secret: h.secret, linkTtlSeconds: 86_400 },
    });
    await mails.sendLicenceMail({
      licenceId: active.licenceId,
      kind: 'END_REMINDER',
      periodEnd: active.periodEnd,
    });
    const mail = await h.mail.waitFor(
      (m) => m.to.includes(b.email) && m.subject === 'Votre licence arrive à échéance',
      30_000,
    );
    const url = /Renouveler automatiquement par carte bancaire ou prélèvement SEPA : (http:\/\/\S+)/.exec(mail.text)?.[1];
    expect(url).toBeDefined();
    const switched = await changeCard(b, url!, '4242424242424242');
    expect(switched).toMatchObject({ paymentMethod: 'ONLINE', autoRenew: true });

    const licenceId = await renewalDue(b.baseId);
    await until(
      () => stateOf(b.baseId),
      (s) => s.periodIndex === 1 && s.status === 'ACTIVE',
      'the card renewal',
    );
    const [payment] = await renewalPayments(licenceId);
    expect(payment).toMatchObject({ method: 'ONLINE', provider: 'STRIPE', status: 'SUCCEEDED' });
  });

  it('a real Stripe’s setup_intent.succeeded webhook saves the card as the page’s return does', async () => {
    const b = await buy('ONLINE');
    await payPurchase(b, '4242424242424242');
    const link = await request(h.app).post(`/bases/${b.baseId}/licence/card-change`).set(bearer(b.apiKey));
    // the page opens (its SetupIntent is created), the card is confirmed, the browser never comes back
    const page = await request(h.app).get(new URL(link.body.cardChangeUrl as string).pathname);
    const setupIntentId = /"setupIntentId":"(seti_\w+)"/.exec(page.text)?.[1];
    expect(setupIntentId).toBeDefined();
    const method = await h.stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4000056655665556', exp_month: 12, exp_year: 2035, cvc: '123' },
    });
    const setup = await h.stripe.setupIntents.confirm(setupIntentId!, { payment_method: method.id });
    expect(setup.status).toBe('succeeded');
    const payload = JSON.stringify({
      id: `evt_setup_${setupIntentId}`,
      object: 'event',
      type: 'setup_intent.succeeded',
      data: { object: setup },
    });
    const signature = h.stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET });
    const delivered = await deliver(h, { payload, signature });
    expect(delivered.status).toBe(200);
    expect(await stateOf(b.baseId)).toMatchObject({ paymentMethodId: method.id, autoRenew: true });
    // delivered again, and the page's return after all: the same card, nothing more
    expect((await deliver(h, { payload, signature })).status).toBe(200);
    const token = new URL(link.body.cardChangeUrl as string).pathname.split('/pay/')[1]!;
    const status = await request(h.app).get(`/pay/${token}/status?setupIntent=${setupIntentId}`);
    expect(status.body).toMatchObject({ state: 'PAID', status: 'CARD_SAVED' });
    const audits = await h.prisma.auditLog.count({
      where: { action: 'licence.payment_method_changed', entityId: (await stateOf(b.baseId)).licenceId },
    });
    expect(audits).toBe(1);
  });

  it('bad input: 400 and nothing changed', async () => {
    const b = await buy('ONLINE');
    await payPurchase(b, '4242424242424242');
    const link = await request(h.app)
      .post(`/bases/${b.baseId}/licence/card-change`)
      .set(bearer(b.apiKey))
      .send({});
    const token = (link.body.cardChangeUrl as string).split('/pay/')[1]!;
    const noSetup = await request(h.app).post(`/pay/${token}/confirm`).send({ paymentMethodId: 'pm_x1' });
    expect(noSetup.status).toBe(400);
    expect(noSetup.body.error.code).toBe('VALIDATION_FAILED');
    const badSetup = await request(h.app).get(`/pay/${token}/status?setupIntent=nope`);
    expect(badSetup.status).toBe(400);
    const otherBase = await request(h.app)
      .post(`/bases/12345678901234567/licence/card-change`)
      .set(bearer(b.apiKey));
    expect(otherBase.status).toBe(403);
    const before = await stateOf(b.baseId);
    expect(
      (await h.prisma.licence.findUniqueOrThrow({ where: { id: before.licenceId } })).stripePaymentMethodId,
    ).toBe(before.paymentMethodId);
  });
});
