/**
 * The payment page in a real headless Chromium, on the whole stack with localstripe: the ERP buys a
 * licence, opens the payment URL, the customer pays with Stripe's test cards (3-D Secure completed in the
 * page), lands on the confirmation page and downloads the paid invoice; localstripe's own signed webhook
 * completes the payment — nothing is hand-signed. Then the link's protections (altered, expired).
 */
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { signPaymentLink } from '../../services/payments/payment-link';
import { bearer, boughtLicence, confirmedAccount, garageMartin } from '../helpers/api';
import {
  downloadInvoice,
  paymentPageFixture,
  payWithCard,
  PHONE,
  waitForDone,
  useFixture,
  withPage,
} from '../helpers/browser';
import type { Harness } from '../helpers/harness';
import { pdfText } from '../helpers/pdf-text';

let h: Harness;
let browser: Browser;
useFixture(paymentPageFixture, (f) => ({ h, browser } = f));

/** An annual licence for Garage Martin, to be paid on its payment page. */
async function buyLicence() {
  const bought = await boughtLicence(h, { period: 'ANNUAL', billing: garageMartin() });
  expect(bought.paymentUrl.startsWith(`${h.baseUrl}/pay/`)).toBe(true);
  return bought;
}

/** From the confirmation page: waits for the recorded payment, downloads the invoice, checks the licence. */
async function expectPaidWithInvoice(page: Page, bought: { baseId: string; apiKey: string }) {
  await waitForDone(page, 'PAID');
  await page.locator('#payment-message', { hasText: 'Paiement reçu' }).waitFor();
  const label = await page.locator('#invoice-link').textContent();
  const number = /n° (\d{4}-\d{6})/.exec(label ?? '')?.[1];
  expect(number).toBeDefined();
  const { filename, pdf } = await downloadInvoice(page);
  expect(filename).toBe(`facture-${number}.pdf`);
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  const text = await pdfText(pdf);
  expect(text).toContain(number!);
  expect(text).toContain('Garage Martin');
  expect(await page.locator('#licence-state').textContent()).toContain('licence est active');

  const licence = await request(h.app).get(`/bases/${bought.baseId}/licence`).set(bearer(bought.apiKey));
  expect(licence.status).toBe(200);
  expect(licence.body).toMatchObject({ status: 'ACTIVE', edition: 'ENTERPRISE' });
  return number!;
}

it('card 4242: the page shows the order, takes the payment, confirms and gives the paid invoice', async () => {
  const bought = await buyLicence();
  await withPage(browser, PHONE, async (page) => {
    const answer = await page.goto(bought.paymentUrl);
    expect(answer?.status()).toBe(200);
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    await expect(page.locator('h1').textContent()).resolves.toBe('Procéder au règlement');
    expect(await page.locator('#total-excl-vat').textContent()).toMatch(/102,00\s€/);
    expect(await page.locator('#vat').textContent()).toMatch(/20,40\s€/);
    expect(await page.locator('#total-incl-vat').textContent()).toMatch(/122,40\s€/);
    expect(await page.locator('#terms').textContent()).toContain('version 2026-01 acceptées');
    // usable on a phone: nothing wider than the screen
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);

    await payWithCard(page, '4242424242424242');
    await expectPaidWithInvoice(page, bought);

    // the link again: the order is paid, the page says so instead of a card form
    await page.goto(bought.paymentUrl);
    await page.locator('text=Cette commande est déjà réglée.').waitFor();
    expect(await page.locator('#payment-form').count()).toBe(0);
  });
});

it('3-D Secure card 4000 0027 6000 3184: the challenge is completed in the page, then paid', async () => {
  const bought = await buyLicence();
  await withPage(browser, async (page) => {
    await page.goto(bought.paymentUrl);
    await payWithCard(page, '4000002760003184');
    // localstripe's stand-in for the bank's 3-D Secure dialog
    await page.locator('#payment-message', { hasText: '3-D Secure' }).waitFor();
    await page.locator('button', { hasText: 'Complete authentication' }).click();
    await expectPaidWithInvoice(page, bought);
    const payments = await h.prisma.payment.findMany({ where: { purchaseId: bought.purchaseId } });
    expect(payments).toHaveLength(1);
  });
});

it('3-D Secure failed, or left half-way: the page says so, and the customer pays with another card', async () => {
  const bought = await buyLicence();
  await withPage(browser, async (page) => {
    await page.goto(bought.paymentUrl);
    await payWithCard(page, '4000002760003184');
    await page.locator('button', { hasText: 'Fail authentication' }).click();
    await page.locator('#payment-message.error').waitFor();
    expect(page.url()).toBe(bought.paymentUrl);

    // again, and this time the page is left during the challenge (the PaymentIntent stays requires_action)
    await page.reload();
    await payWithCard(page, '4000002760003184');
    await page.locator('button', { hasText: 'Complete authentication' }).waitFor();
    await page.reload();
    await payWithCard(page, '4242424242424242');
    await expectPaidWithInvoice(page, bought);
  });
});

it('a refused card (4000 0000 0000 0341) is said in the page, and another card then pays', async () => {
  const bought = await buyLicence();
  await withPage(browser, async (page) => {
    await page.goto(bought.paymentUrl);
    await payWithCard(page, '4000000000000341');
    await page.locator('#payment-message.error').waitFor();
    expect(page.url()).toBe(bought.paymentUrl);
    const purchase = await h.prisma.purchase.findUniqueOrThrow({ where: { id: bought.purchaseId } });
    expect(purchase.status).toBe('AWAITING_PAYMENT');

    await page.reload();
    await payWithCard(page, '4242424242424242');
    await expectPaidWithInvoice(page, bought);
  });
});

describe('the public purchase page (the ERP won’t open)', () => {
  async function fillPurchase(page: Page, who: { accountId?: number; email: string }) {
    const form = page.locator('#purchase-form');
    if (who.accountId) await form.locator('input[name="accountId"]').fill(String(who.accountId));
    await form.locator('input[name="email"]').fill(who.email);
    const billing = garageMartin();
    for (const name of ['companyName', 'lastName', 'firstName', 'address', 'postalCode', 'city'] as const)
      await form.locator(`input[name="${name}"]`).fill(billing[name]);
    await page.locator('#buy-button').click();
    await page.waitForURL(/\/pay\/[\w-]+\.[\w-]+$/);
  }

  it('account ID and its email: a 30 min pack paid on the page is credited at once, invoice downloaded', async () => {
    const account = await confirmedAccount(h);
    await withPage(browser, PHONE, async (page) => {
      // the manual's link for the 30 minutes pack
      await page.goto(`${h.baseUrl}/achat?minutes=30`);
      expect(await page.locator('input[value="pack:30"]').isChecked()).toBe(true);
      expect(await page.locator('#purchase-form').textContent()).toMatch(
        /Pack support 30 min — 66,00\s€ TTC/,
      );
      await fillPurchase(page, { accountId: account.accountId, email: account.email.toUpperCase() });
      expect(await page.locator('#total-incl-vat').textContent()).toMatch(/66,00\s€/);
      await payWithCard(page, '4242424242424242');
      await waitForDone(page, 'PAID');
      const { pdf } = await downloadInvoice(page);
      expect(await pdfText(pdf)).toContain('Pack support 30 min');

      const time = await request(h.app)
        .get(`/accounts/${account.accountId}/support-time`)
        .set(bearer(account.apiKey));
      expect(time.body.balanceSeconds).toBe(1800);
    });
  });

  it('without a matching account: paid, then waiting in the manual-credit queue for ops', async () => {
    const account = await confirmedAccount(h);
    await withPage(browser, async (page) => {
      await page.goto(`${h.baseUrl}/achat?produit=credits`);
      await page.locator('input[name="rechargeEuros"]').fill('40');
      // the right account ID but another email: not matched
      await fillPurchase(page, { accountId: account.accountId, email: 'someone.else@example.fr' });
      await payWithCard(page, '4242424242424242');
      await waitForDone(page, 'PAID');
      expect(await page.locator('#invoice-link').textContent()).toContain('Nos équipes rattachent');
      const queued = await h.prisma.creditPurchase.findFirstOrThrow({
        where: { claimedAccountId: account.accountId },
      });
      expect(queued).toMatchObject({ status: 'UNMATCHED', accountId: null, amountCents: 4000 });
    });
  });
});

describe('the link is the credential', () => {
  it('an altered token answers 400 (an HTML page for the browser, JSON for the script), nothing changes', async () => {
    const bought = await buyLicence();
    const token = bought.paymentUrl.split('/pay/')[1]!;
    const [payload, mac] = token.split('.');
    const altered = `${payload}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
    const page = await request(h.app).get(`/pay/${altered}`);
    expect(page.status).toBe(400);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('n’est pas valide');

    const confirm = await request(h.app)
      .post(`/pay/${altered}/confirm`)
      .send({ paymentMethodId: 'pm_card_visa' });
    expect(confirm.status).toBe(400);
    expect(confirm.body.error.code).toBe('PAYMENT_LINK_INVALID');
    const badBody = await request(h.app).post(`/pay/${token}/confirm`).send({ paymentMethodId: 'nope' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.code).toBe('VALIDATION_FAILED');
    const purchase = await h.prisma.purchase.findUniqueOrThrow({ where: { id: bought.purchaseId } });
    expect(purchase.status).toBe('AWAITING_PAYMENT');
    const status = await request(h.app).get(`/pay/${token}/status`);
    expect(status.body).toEqual({
      state: 'AWAITING_PAYMENT',
      status: 'AWAITING_PAYMENT',
      licence: expect.any(Object),
    });
    const invoice = await request(h.app).get(`/pay/${token}/invoice`);
    expect(invoice.status).toBe(404);
    expect(invoice.body.error.code).toBe('INVOICE_NOT_FOUND');
  });

  it('an expired link answers 410 PAYMENT_LINK_EXPIRED', async () => {
    const bought = await buyLicence();
    const intent = (await h.prisma.purchase.findUniqueOrThrow({ where: { id: bought.purchaseId } }))
      .stripePaymentIntentId!;
    const token = signPaymentLink(
      { secret: h.secret, linkTtlSeconds: 60 },
      { kind: 'LICENCE', orderId: bought.purchaseId, paymentIntentId: intent },
      new Date(Date.now() - 120_000),
    );
    const page = await request(h.app).get(`/pay/${token}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain('a expiré');
    const status = await request(h.app).get(`/pay/${token}/status`);
    expect(status.status).toBe(410);
    expect(status.body.error.code).toBe('PAYMENT_LINK_EXPIRED');
  });
});
