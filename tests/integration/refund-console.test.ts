/**
 * The ops console's refund action in a real headless Chromium, against the app on a port with the real
 * stack: look a support pack up, refund part of it, see the refund listed; the database is checked after.
 */
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { bearer, confirmedAccount } from '../helpers/api';
import { browserFixture, DESKTOP, signInToOpsConsole, useFixture, withPage } from '../helpers/browser';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import type { Harness } from '../helpers/harness';
import { opsToken } from '../helpers/ops';
import { answerRefundsLikeStripe } from '../helpers/refunds';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

jest.setTimeout(180_000);

let h: Harness;
let recorder: StripeRecorder;
let url: string;
let browser: Browser;
beforeAll(async () => {
  recorder = await startStripeRecorder();
  answerRefundsLikeStripe(recorder);
});
useFixture(
  () => browserFixture({ stripeApiBase: recorder.url }),
  (f) => ({ h, url, browser } = f),
);
afterAll(() => recorder?.stop());

it('looks a pack up, refunds 20.00 € of it with a reason, and lists the refund', async () => {
  const account = await confirmedAccount(h);
  const bought = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({
      idempotencyKey: `console-pack-${account.accountId}`,
      product: { kind: 'SUPPORT_PACK', minutes: 30 },
    });
  expect(bought.status).toBe(201);
  await deliver(h, paymentSucceededEvent(bought.body));
  await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED');
  const token = await opsToken(h, 'compta');

  await withPage(browser, DESKTOP, async (page) => {
    await signInToOpsConsole(page, url, token);
    await page.locator('#console').waitFor({ state: 'visible' });

    await page.locator('#refund-purchase').fill(bought.body.purchaseId);
    await page.locator('#refund-lookup').click();
    await page.locator('#refund-summary', { hasText: 'can still be refunded' }).waitFor();
    expect(await page.locator('#refund-summary').textContent()).toMatch(/paid 66,00\s€, 66,00\s€ can still/);

    // a refund needs a reason (audit, credit note)
    await page.locator('#refund-amount').fill('2000');
    await page.locator('#refund-submit').click();
    await page.locator('#message.error', { hasText: 'Give a reason' }).waitFor();
    await page.locator('#reason').fill('geste client');
    await page.locator('#refund-submit').click();
    await page.locator('#message.ok', { hasText: 'Refunded' }).waitFor();
    expect(await page.locator('#message').textContent()).toMatch(/credit note AV-\d{4}-\d{6}, SUCCEEDED/);
    await page.locator('#refunds tbody tr[data-id]').waitFor();
    expect(await page.locator('#refund-summary').textContent()).toMatch(/46,00\s€ can still be refunded/);
  });

  const rows = await h.prisma.refund.findMany({ where: { creditPurchaseId: bought.body.purchaseId } });
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    amountCents: 2000,
    reason: 'geste client',
    requestedBy: 'OPS:compta',
    status: 'SUCCEEDED',
  });
  expect(rows[0]!.workflowKey).toMatch(/:console-/);
});
