/**
 * The ops console's dispute queue in a real headless Chromium: an open dispute with its evidence deadline
 * and an early fraud warning, which ops acknowledge (reason required) and which then leaves the queue.
 */
import type { Browser } from 'playwright-core';
import { browserFixture, DESKTOP, signInToOpsConsole, useFixture, withPage } from '../helpers/browser';
import { deliver } from '../helpers/credits';
import { disputeEvent, fraudWarningEvent, newDisputeId, paidCardLicence } from '../helpers/disputes';
import type { Harness } from '../helpers/harness';
import { opsToken } from '../helpers/ops';

jest.setTimeout(180_000);

let h: Harness;
let url: string;
let browser: Browser;
useFixture(browserFixture, (f) => ({ h, url, browser } = f));

it('lists disputes with their evidence deadline and acknowledges an early fraud warning', async () => {
  const token = await opsToken(h, 'compta');
  const x = await paidCardLicence(h);
  const now = Math.floor(Date.now() / 1000);
  const dueBy = now + 9 * 86_400;
  const disputeId = newDisputeId();
  const warningId = `issfr_${Math.random().toString(36).slice(2)}`;
  const paymentIntentId = x.bought.payment.paymentIntentId;
  for (const event of [
    disputeEvent('charge.dispute.created', {
      disputeId,
      paymentIntentId,
      amountCents: x.bought.quote.totalInclVatCents,
      status: 'needs_response',
      createdAt: now,
      dueBy,
    }),
    fraudWarningEvent('radar.early_fraud_warning.created', {
      warningId,
      paymentIntentId,
      actionable: true,
      createdAt: now,
    }),
  ])
    expect((await deliver(h, event)).status).toBe(200);
  const dispute = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: disputeId } });
  const warning = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: warningId } });

  await withPage(browser, DESKTOP, async (page) => {
    await signInToOpsConsole(page, url, token);
    const disputeRow = page.locator(`#disputes tr[data-id="${dispute.id}"]`);
    await disputeRow.waitFor();
    const text = (await disputeRow.textContent()) ?? '';
    expect(text).toContain(x.baseId);
    expect(text).toContain('needs_response');
    expect(text).toContain(new Date(dueBy * 1000).toISOString().slice(0, 10));
    expect(await disputeRow.locator('button').count()).toBe(0);

    const warningRow = page.locator(`#disputes tr[data-id="${warning.id}"]`);
    await warningRow.locator('button[data-action="acknowledge"]').click();
    await page.locator('#message.error').waitFor(); // no reason given: refused before any request
    await page.locator('#reason').fill('achat confirmé par téléphone');
    await warningRow.locator('button[data-action="acknowledge"]').click();
    await page.locator('#message.ok', { hasText: `Warning ${warningId}: CLOSED` }).waitFor();
    await warningRow.waitFor({ state: 'detached' });
    expect(await disputeRow.count()).toBe(1);
  });

  expect(await h.prisma.dispute.findUniqueOrThrow({ where: { id: warning.id } })).toMatchObject({
    outcome: 'CLOSED',
    acknowledgedBy: 'compta',
  });
  const audit = await h.prisma.auditLog.findFirstOrThrow({
    where: { entityId: warning.id, action: 'ops.fraud_warning_acknowledged' },
  });
  expect(audit.data).toMatchObject({ reason: 'achat confirmé par téléphone' });
});
