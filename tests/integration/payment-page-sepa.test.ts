/**
 * SEPA Direct Debit on the payment page, in headless Chromium on localstripe (docs/sepa.md):
 * - the customer gives the IBAN and accepts the mandate shown; the page says the debit is in progress with
 *   the mandate's reference; nothing is granted until the bank settles; then the licence is active, one
 *   payment, one invoice, the page shows the paid invoice;
 * - refusals that change nothing: a SEPA debit without the mandate accepted, SEPA for a support pack;
 * - the mandate revoked from the ERP (`DELETE .../payment-method`) or by the bank (`mandate.updated`): never
 *   debited again, auto-renew off, the same revocation twice changes nothing.
 */
import Stripe from 'stripe';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, boughtLicence } from '../helpers/api';
import { paymentPageFixture, useFixture, waitForDone, waitForState, withPage } from '../helpers/browser';
import { deliver } from '../helpers/credits';
import { until } from '../helpers/faults';
import { TEST_WEBHOOK_SECRET, uniqueEmail, type Harness } from '../helpers/harness';
import { licenceBilling } from '../helpers/ops';
import { confirmOnPage, heldDebits, IBAN, releaseDebit, sepaAccount } from '../helpers/sepa';

jest.setTimeout(180_000);

let h: Harness;
let browser: Browser;
useFixture(paymentPageFixture, (f) => ({ h, browser } = f));

const stateOf = (baseId: string): Promise<SubscriptionState> =>
  h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

/** The ERP's licence order (licenceOrder) with a billing email of its own. */
const buy = () => boughtLicence(h, { email: uniqueEmail('compta') });

/** A licence paid by SEPA (the debit settled at once), through the page's server side. */
async function sepaLicence() {
  const b = await buy();
  const account = await sepaAccount(h.stripe, IBAN.SUCCEEDS);
  const res = await confirmOnPage(h.app, b.paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  expect(res.status).toBe(200);
  const state = await until(
    () => stateOf(b.baseId),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  const mandate = await h.prisma.sepaMandate.findUniqueOrThrow({ where: { paymentMethodId: account.id } });
  expect(mandate.status).toBe('ACTIVE');
  return { ...b, state, account, mandate };
}

it('the page: IBAN and mandate, "in progress" with its reference, then paid once the bank settles', async () => {
  const b = await buy();
  await withPage(browser, async (page) => {
    await page.goto(b.paymentUrl);
    const text = await page.locator('#mandate-text').textContent();
    expect(text).toContain('vous autorisez (A) Gestan SAS et Stripe');
    await page.locator('#sepa-name').fill('Boulangerie Dupont');
    await page.locator('#sepa-iban').fill('FR30 2004 1010 0505 0001 3M02 609');
    // not accepted: the page says so and posts nothing
    await page.locator('#sepa-button').click();
    await page.locator('#payment-message', { hasText: 'Acceptez le mandat' }).waitFor();
    expect(await h.prisma.sepaMandate.count({ where: { purchaseId: b.purchaseId } })).toBe(0);

    await page.locator('#mandate-accepted').check();
    await page.locator('#sepa-button').click();
    await waitForDone(page, 'PROCESSING');
    const mandate = await h.prisma.sepaMandate.findFirstOrThrow({ where: { purchaseId: b.purchaseId } });
    expect(mandate).toMatchObject({
      status: 'SUBMITTED',
      holderName: 'Boulangerie Dupont',
      ibanLast4: '2609',
    });
    expect(mandate.mandateText).toBe(text);
    expect(mandate.userAgent).toContain('Chrome');
    await page.locator('#payment-message', { hasText: `mandat n° ${mandate.reference}` }).waitFor();
    expect((await stateOf(b.baseId)).status).toBe('AWAITING_PAYMENT');
    expect(await h.prisma.payment.count({ where: { baseId: b.baseId } })).toBe(0);

    // the bank settles: the page turns to paid, with the invoice
    expect(await heldDebits(h.localstripe!.apiBase)).toContain(b.paymentIntentId);
    await releaseDebit(h.localstripe!.apiBase, b.paymentIntentId);
    await waitForState(page, 'PAID');
    await page.locator('#invoice-link', { hasText: 'Télécharger la facture acquittée' }).waitFor();
    const state = await until(
      () => stateOf(b.baseId),
      (s) => s.status === 'ACTIVE',
      'activation',
    );
    expect(state.paymentMethodId).toBe(mandate.paymentMethodId);
    expect(await h.prisma.payment.count({ where: { baseId: b.baseId, status: 'SUCCEEDED' } })).toBe(1);
    expect(await h.prisma.invoice.count({ where: { baseId: b.baseId } })).toBe(1);
    expect((await h.prisma.sepaMandate.findUniqueOrThrow({ where: { id: mandate.id } })).status).toBe(
      'ACTIVE',
    );
  });
});

it('refused, nothing debited: SEPA without the mandate accepted; SEPA for a support pack', async () => {
  const b = await buy();
  const account = await sepaAccount(h.stripe, IBAN.SUCCEEDS);
  for (const body of [
    { paymentMethodId: account.id },
    { paymentMethodId: account.id, mandateAccepted: false },
  ]) {
    const res = await confirmOnPage(h.app, b.paymentUrl, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('SEPA_MANDATE_NOT_ACCEPTED');
  }
  expect((await h.stripe.paymentIntents.retrieve(b.paymentIntentId)).status).toBe('requires_payment_method');
  expect(await h.prisma.sepaMandate.count({ where: { paymentMethodId: account.id } })).toBe(0);

  const pack = await request(h.app)
    .post('/credit-purchases')
    .send({
      idempotencyKey: `web-${Date.now()}`,
      product: { kind: 'SUPPORT_PACK', minutes: 30 },
      billing: licenceBilling(),
    });
  expect(pack.status).toBe(201);
  const refused = await confirmOnPage(h.app, pack.body.payment.paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({
    code: 'PAYMENT_METHOD_NOT_OFFERED',
    details: { method: 'SEPA_DEBIT' },
  });
  expect((await h.stripe.paymentIntents.retrieve(pack.body.payment.paymentIntentId)).status).toBe(
    'requires_payment_method',
  );
});

it('the mandate revoked from the ERP: never debited again, auto-renew off; twice → 409', async () => {
  const l = await sepaLicence();
  const shown = await request(h.app).get(`/bases/${l.baseId}/licence/payment-method`).set(bearer(l.apiKey));
  expect(shown.body).toMatchObject({ type: 'SEPA_DEBIT', mandate: { reference: l.mandate.reference } });

  const removed = await request(h.app)
    .delete(`/bases/${l.baseId}/licence/payment-method`)
    .set(bearer(l.apiKey));
  expect(removed.status).toBe(200);
  expect(removed.body).toEqual({ type: 'NONE', autoRenew: false });
  const mandate = await h.prisma.sepaMandate.findUniqueOrThrow({ where: { id: l.mandate.id } });
  expect(mandate.status).toBe('REVOKED');
  expect(mandate.revokedBy).toMatch(/^INSTALLATION:/);
  expect((await h.stripe.paymentMethods.retrieve(l.account.id)).customer).toBeNull();
  const state = await stateOf(l.baseId);
  expect(state).toMatchObject({ autoRenew: false, status: 'ACTIVE' });
  expect(state.paymentMethodId).toBeUndefined();
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: l.state.licenceId } });
  expect(licence).toMatchObject({ autoRenew: false, stripePaymentMethodId: null });

  const again = await request(h.app)
    .delete(`/bases/${l.baseId}/licence/payment-method`)
    .set(bearer(l.apiKey));
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('NO_SAVED_PAYMENT_METHOD');
  expect(
    await h.prisma.auditLog.count({
      where: { action: 'licence.sepa_mandate_revoked', entityId: licence.id },
    }),
  ).toBe(1);
});

it('the mandate revoked by the bank (mandate.updated, inactive): removed once, the same event twice changes nothing', async () => {
  const l = await sepaLicence();
  const payload = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type: 'mandate.updated',
    data: {
      object: {
        id: l.mandate.id,
        object: 'mandate',
        status: 'inactive',
        type: 'multi_use',
        payment_method: l.account.id,
        payment_method_details: { type: 'sepa_debit', sepa_debit: { reference: l.mandate.reference } },
      },
    },
  });
  const event = {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  };
  const first = await deliver(h, event);
  expect(first.status).toBe(200);
  const mandate = await h.prisma.sepaMandate.findUniqueOrThrow({ where: { id: l.mandate.id } });
  expect(mandate).toMatchObject({ status: 'REVOKED', revokedBy: 'BANK' });
  expect(await stateOf(l.baseId)).toMatchObject({ autoRenew: false });
  const revokedAt = mandate.revokedAt;

  const second = await deliver(h, event);
  expect(second.status).toBe(200);
  expect((await h.prisma.sepaMandate.findUniqueOrThrow({ where: { id: l.mandate.id } })).revokedAt).toEqual(
    revokedAt,
  );
  expect(
    await h.prisma.auditLog.count({
      where: { action: 'licence.sepa_mandate_revoked', entityId: l.state.licenceId },
    }),
  ).toBe(1);
});
