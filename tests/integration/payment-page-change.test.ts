/**
 * A change or a renew-now whose saved card needs 3-D Secure, on localstripe: the update answers 202
 * ACTION_REQUIRED with the signed payment URL, nothing is applied; the customer authenticates in the page
 * (headless Chromium) or through localstripe's confirm route, and the workflow applies the change / the
 * renewal once (one payment, one invoice). Another charge meanwhile is refused PAYMENT_ACTION_PENDING; an
 * authentication that fails drops the charge, cancelled at Stripe, nothing applied.
 */
import type { Browser } from 'playwright-core';
import Stripe from 'stripe';
import request from 'supertest';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, boughtLicence, garageMartin } from '../helpers/api';
import {
  authenticate,
  confirmWithCard,
  paymentPageFixture,
  PHONE,
  waitForDone,
  useFixture,
  withPage,
} from '../helpers/browser';
import { until } from '../helpers/faults';
import { deliver } from '../helpers/credits';
import { TEST_WEBHOOK_SECRET, uniqueEmail, type Harness } from '../helpers/harness';

jest.setTimeout(240_000);

let h: Harness;
let browser: Browser;
useFixture(paymentPageFixture, (f) => ({ h, browser } = f));

const stateOf = (baseId: string): Promise<SubscriptionState> =>
  h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

interface Bought {
  baseId: string;
  apiKey: string;
  licenceId: string;
}

/** A monthly ENTERPRISE LOCAL licence, 1 connection, paid with a card that always asks for 3-D Secure. */
async function buyWith3dsCard(): Promise<Bought> {
  const { baseId, apiKey, paymentIntentId } = await boughtLicence(h, {
    billing: garageMartin(uniqueEmail('compta')),
  });
  const confirmed = await confirmWithCard(h, paymentIntentId, '4000002760003184');
  expect(confirmed.status).toBe('requires_action');
  await authenticate(h, confirmed.id, true);
  const active = await until(
    () => stateOf(baseId),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  return { baseId, apiKey, licenceId: active.licenceId };
}

async function deliverPaymentFailed(paymentIntentId: string) {
  const intent = await h.stripe.paymentIntents.retrieve(paymentIntentId);
  const payload = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type: 'payment_intent.payment_failed',
    data: {
      object: {
        ...intent,
        last_payment_error: { code: 'payment_intent_authentication_failure', message: 'authentication failed' },
      },
    },
  });
  const res = await deliver(h, {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  });
  expect(res.status).toBe(200);
}

const paymentsOf = (licenceId: string, prefix: string) =>
  h.prisma.payment.findMany({ where: { licenceId, idempotencyKey: { startsWith: prefix } } });

async function expectPaidOnce(licenceId: string, prefix: string, paymentIntentId: string) {
  const payments = await paymentsOf(licenceId, prefix);
  expect(payments).toHaveLength(1);
  expect(payments[0]!.status).toBe('SUCCEEDED');
  expect(payments[0]!.providerRef).toBe(paymentIntentId);
  expect(await h.prisma.invoice.count({ where: { paymentId: payments[0]!.id } })).toBe(1);
}

describe('extra connections on a card that needs 3-D Secure', () => {
  it('answers the payment URL; the licence changes once the customer authenticates in the page', async () => {
    const b = await buyWith3dsCard();
    const res = await request(h.app)
      .post(`/bases/${b.baseId}/licence/changes`)
      .set(bearer(b.apiKey))
      .send({ connections: 3 });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('ACTION_REQUIRED');
    expect(res.body.invoiceNumber).toBeNull();
    expect(res.body.amountCents).toBeGreaterThan(0);
    const { paymentIntentId, paymentUrl } = res.body.payment;
    expect(paymentUrl.startsWith(`${h.baseUrl}/pay/`)).toBe(true);
    // nothing applied yet
    expect(res.body.subscription.connections).toBe(1);
    const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: b.licenceId } });
    expect(licence.connections).toBe(1);
    expect(await paymentsOf(b.licenceId, 'change:')).toHaveLength(0);

    // one charge waiting for the customer at a time
    const again = await request(h.app)
      .post(`/bases/${b.baseId}/licence/renewals`)
      .set(bearer(b.apiKey))
      .send({});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PAYMENT_ACTION_PENDING');
    expect(again.body.error.details.paymentIntentId).toBe(paymentIntentId);

    await withPage(browser, PHONE, async (page) => {
      await page.goto(paymentUrl);
      expect(await page.locator('h1').textContent()).toBe('Confirmer le paiement');
      expect(await page.locator('#order').textContent()).toContain('Modification');
      await page.locator('#saved-card-button').click();
      await page.locator('button', { hasText: 'Complete authentication' }).click();
      await waitForDone(page, 'PAID', 60_000);
    });
    const state = await until(
      () => stateOf(b.baseId),
      (s) => s.terms.connections === 3 && s.pendingCharge === undefined,
      'the change applied',
    );
    expect(state.status).toBe('ACTIVE');
    await expectPaidOnce(b.licenceId, 'change:', paymentIntentId);
    const changed = await h.prisma.licence.findUniqueOrThrow({ where: { id: b.licenceId } });
    expect(changed.connections).toBe(3);
    expect(res.body.amountCents).toBe((await h.stripe.paymentIntents.retrieve(paymentIntentId)).amount);
  });

  it('an authentication that fails drops the change: cancelled at Stripe, nothing applied', async () => {
    const b = await buyWith3dsCard();
    const res = await request(h.app)
      .post(`/bases/${b.baseId}/licence/changes`)
      .set(bearer(b.apiKey))
      .send({ connections: 2 });
    expect(res.status).toBe(202);
    const { paymentIntentId } = res.body.payment;
    await authenticate(h, paymentIntentId, false);
    // Stripe's webhook of the failed authentication (localstripe sends none for it)
    await deliverPaymentFailed(paymentIntentId);
    await until(
      () => stateOf(b.baseId),
      (s) => s.pendingCharge === undefined,
      'the change dropped',
    );
    expect((await h.stripe.paymentIntents.retrieve(paymentIntentId)).status).toBe('canceled');
    expect((await stateOf(b.baseId)).terms.connections).toBe(1);
    expect(await paymentsOf(b.licenceId, 'change:')).toHaveLength(0);
    // the next change may be asked again
    const next = await request(h.app)
      .post(`/bases/${b.baseId}/licence/changes`)
      .set(bearer(b.apiKey))
      .send({ connections: 2 });
    expect(next.status).toBe(202);
    expect(next.body.payment.paymentIntentId).not.toBe(paymentIntentId);
  });
});

describe('renew now on a card that needs 3-D Secure', () => {
  it('answers the payment URL; renewed once when the customer authenticates', async () => {
    const b = await buyWith3dsCard();
    const before = await stateOf(b.baseId);
    const res = await request(h.app)
      .post(`/bases/${b.baseId}/licence/renewals`)
      .set(bearer(b.apiKey))
      .send({});
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('ACTION_REQUIRED');
    expect(res.body.payment.paymentUrl.startsWith(`${h.baseUrl}/pay/`)).toBe(true);
    expect(res.body.subscription.paidUntil).toBe(before.periodEnd);
    // an ACTIVE licence is not dunned for it
    expect(res.body.subscription.dunning).toBeNull();
    expect(await paymentsOf(b.licenceId, 'renewal:')).toHaveLength(0);

    await authenticate(h, res.body.payment.paymentIntentId, true);
    const state = await until(
      () => stateOf(b.baseId),
      (s) => s.paidThroughIndex === before.paidThroughIndex + 1 && s.pendingCharge === undefined,
      'the renewal recorded',
    );
    expect(state.status).toBe('ACTIVE');
    await expectPaidOnce(b.licenceId, 'renewal:', res.body.payment.paymentIntentId);
  });
});
