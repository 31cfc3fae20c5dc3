/**
 * The ops console in a real headless Chromium, against the app listening on a port with the real stack:
 * sign in with an ops token, replay a failed renewal, assign an unmatched purchase; the page and the
 * database are checked afterwards. The screenshot goes to the system's temporary folder, or to
 * docs/ops-console.png with UPDATE_SCREENSHOTS=1 (a test run leaves tracked files as they are).
 */
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { confirmedAccount } from '../helpers/api';
import { browserFixture, DESKTOP, signInToOpsConsole, useFixture } from '../helpers/browser';
import type { Harness } from '../helpers/harness';
import {
  awaitingOpsPurchase,
  opsToken,
  pastDueLicence,
  renewalToPay,
  unmatchedPurchase,
} from '../helpers/ops';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

jest.setTimeout(180_000);

let h: Harness;
let recorder: StripeRecorder;
let url: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  recorder = await startStripeRecorder();
});
useFixture(
  () => browserFixture({ stripeApiBase: recorder.url }),
  (f) => ({ h, url, browser } = f),
);
beforeAll(async () => {
  page = await browser.newPage(DESKTOP);
});
afterAll(() => recorder?.stop());

it('is a static page that asks for a token, with a strict content security policy', async () => {
  const res = await request(h.app).get('/ops/console');
  expect(res.status).toBe(200);
  expect(res.type).toBe('text/html');
  expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  expect(res.text).toContain('Ops token');
  expect((await request(h.app).get('/ops/console/console.js')).status).toBe(200);
  expect((await request(h.app).get('/ops/console/nothing.js')).status).toBe(404);
});

it('signs in with an ops token, replays a failed payment and assigns an unmatched purchase', async () => {
  const token = await opsToken(h, 'compta');
  const failing = await pastDueLicence(h, recorder);
  const stillFailing = await pastDueLicence(h, recorder);
  const queued = await unmatchedPurchase(h, 30);
  const cheque = await awaitingOpsPurchase(h, 'CHEQUE');
  const { accountId } = await confirmedAccount(h);

  await signInToOpsConsole(page, url, 'ops_wrong');
  await page.locator('#message.error').waitFor();
  await page.locator('#login').waitFor({ state: 'visible' });

  await page.locator('#token').fill(token);
  await page.locator('#login-form button').click();
  const failedRow = page.locator(`#failed tr[data-id="${failing.paymentId}"]`);
  await failedRow.waitFor();
  expect(await failedRow.textContent()).toContain('insufficient_funds');
  await page.locator(`#unmatched tr[data-id="${queued.purchaseId}"]`).waitFor();
  await page.locator(`#manual tr[data-id="${cheque.purchaseId}"]`).waitFor();
  expect(await page.evaluate('sessionStorage.getItem("opsToken")')).toBe(token);

  // an action needs a reason (audit)
  await failedRow.locator('button[data-action="replay"]').click();
  await page.locator('#message.error', { hasText: 'Give a reason' }).waitFor();
  await page.locator('#reason').fill('customer updated the card');
  await failedRow.locator('button[data-action="replay"]').click();
  await page.locator('#message.ok', { hasText: `Base ${failing.baseId}: PAID` }).waitFor();
  await failedRow.waitFor({ state: 'detached' });

  const unmatchedRow = page.locator(`#unmatched tr[data-id="${queued.purchaseId}"]`);
  await unmatchedRow.locator('input.account').fill(String(accountId));
  await unmatchedRow.locator('button[data-action="assign"]').click();
  await page.locator('#message.ok', { hasText: `credited to account ${accountId}` }).waitFor();
  await unmatchedRow.waitFor({ state: 'detached' });

  // the page: the replayed payment and the assigned purchase are gone, the rest still waits
  expect(await page.locator(`#failed tr[data-id="${stillFailing.paymentId}"]`).count()).toBe(1);
  expect(await page.locator('#unmatched tbody').textContent()).toContain('Nothing waiting');
  expect(await page.locator('#manual tr[data-id]').count()).toBe(1);
  await page.screenshot({
    path:
      process.env.UPDATE_SCREENSHOTS === '1'
        ? path.join(__dirname, '..', '..', 'docs', 'ops-console.png')
        : path.join(os.tmpdir(), `ops-console-${process.pid}.png`),
    fullPage: true,
  });

  // the database
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: failing.licenceId } })).status).toBe(
    'ACTIVE',
  );
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: stillFailing.licenceId } })).status).toBe(
    'PAST_DUE',
  );
  const purchase = await h.prisma.creditPurchase.findUniqueOrThrow({ where: { id: queued.purchaseId } });
  expect(purchase).toMatchObject({ status: 'COMPLETED', accountId, assignedBy: 'compta' });
  expect(await h.prisma.creditEntry.findMany({ where: { accountId } })).toEqual([
    expect.objectContaining({ amount: 30 * 60, creditPurchaseId: queued.purchaseId }),
  ]);
  expect(
    await h.prisma.auditLog.findFirst({
      where: { action: 'ops.payment_replayed', entityId: failing.licenceId, actorId: 'compta' },
    }),
  ).toMatchObject({
    data: expect.objectContaining({ outcome: 'PAID', reason: 'customer updated the card' }),
  });

  await page.locator('#logout').click();
  await page.locator('#login').waitFor({ state: 'visible' });
  expect(await page.evaluate('sessionStorage.getItem("opsToken")')).toBeNull();
});

it('lists the renewals to pay and confirms one: renewed once, out of the list', async () => {
  const token = await opsToken(h, 'compta');
  const toPay = await renewalToPay(h, token);
  await signInToOpsConsole(page, url, token);
  const row = page.locator(`#to-pay tr[data-id="${toPay.baseId}"]`);
  await row.waitFor();
  const text = await row.textContent();
  expect(text).toContain('CHEQUE');
  expect(text).toContain(toPay.invoiceToPay.dueOn);
  expect(text).toContain('(renew now)');

  // the cheque number is needed, the reason is optional
  await row.locator('button[data-action="confirm-renewal"]').click();
  await page.locator('#message.error', { hasText: 'cheque number' }).waitFor();
  await row.locator('input.reference').fill('CHQ-CONSOLE');
  await row.locator('button[data-action="confirm-renewal"]').click();
  await page
    .locator('#message.ok', {
      hasText: `Base ${toPay.baseId}: renewal paid, licence ACTIVE until ${toPay.invoiceToPay.periodEnd}`,
    })
    .waitFor();
  await row.waitFor({ state: 'detached' });

  const payments = await h.prisma.payment.findMany({
    where: { licenceId: toPay.licenceId },
    include: { invoice: true },
  });
  expect(payments.map((p) => p.providerRef).sort()).toEqual(['CHQ-CONSOLE', 'CHQ-PURCHASE']);
  expect(payments.every((p) => p.invoice !== null)).toBe(true);
  expect(await h.prisma.invoiceToPay.findMany({ where: { licenceId: toPay.licenceId } })).toMatchObject([
    { status: 'PAID' },
  ]);
  expect(
    await h.prisma.auditLog.count({
      where: { action: 'ops.renewal_payment_confirmed', entityId: toPay.licenceId, actorId: 'compta' },
    }),
  ).toBe(1);
  await page.locator('#logout').click();
});

it('lists the active promo codes and deactivates one', async () => {
  const token = await opsToken(h, 'marketing');
  const created = await request(h.app)
    .post('/ops/promo-codes')
    .set({ authorization: `Bearer ${token}` })
    .send({
      code: 'CONSOLE-15',
      kind: 'PERCENT',
      percentBasisPoints: 1500,
      duration: 'FIRST_PERIOD',
      maxRedemptions: 5,
    });
  expect(created.status).toBe(201);
  await signInToOpsConsole(page, url, token);
  const row = page.locator('#promo tr[data-id="CONSOLE-15"]');
  await row.waitFor();
  expect(await row.textContent()).toContain('15 %');
  expect(await row.textContent()).toContain('0 / 5');
  await row.locator('button[data-action="deactivate"]').click();
  await page.locator('#message.ok', { hasText: 'Promo code CONSOLE-15 deactivated' }).waitFor();
  await row.waitFor({ state: 'detached' });
  expect((await h.prisma.promoCode.findUniqueOrThrow({ where: { code: 'CONSOLE-15' } })).active).toBe(false);
  await page.locator('#logout').click();
});
