/**
 * creditPurchaseWorkflow's timers on the time-skipping test server, with its real activities (PostgreSQL,
 * SMTP peer, stripe-mock): an unpaid purchase expires; a paid purchase without an account reminds ops every
 * day until it is assigned, then stops.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Express } from 'express';
import request from 'supertest';
import { DEFAULT_CREDIT_SETTINGS } from '../../services/deps';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { getCreditPurchaseStateQuery, type CreditPurchaseState } from '../../workflows/credit-purchase';
import { creditPurchaseWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import { bearer, confirmedAccount } from '../helpers/api';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';
import { uniqueEmail, type Harness } from '../helpers/harness';

let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let h: Harness;
let app: Express;
let ops: string;
const HOUR = 3_600_000;

beforeAll(async () => {
  stack = await startTimeSkippingStack('credits');
  ({ env, h, app } = stack);
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'lucie', role: 'OPS' })).token;
});

afterAll(async () => {
  await stack?.close();
});

const stateOf = (purchaseId: string) =>
  env.client.workflow.getHandle(creditPurchaseWorkflowId(purchaseId)).query(getCreditPurchaseStateQuery);

/** Polls, letting an hour of test-server time pass between reads. */
async function whenState(purchaseId: string, ok: (s: CreditPurchaseState) => boolean, what: string) {
  for (let i = 0; i < 200; i += 1) {
    const s = await stateOf(purchaseId);
    if (ok(s)) return s;
    await env.sleep(HOUR);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await stateOf(purchaseId))}`);
}

function buyOnWebsite(email: string) {
  return request(app)
    .post('/credit-purchases')
    .send({
      idempotencyKey: `web-${email}`,
      product: { kind: 'SUPPORT_PACK', minutes: 15 },
      billing: {
        companyName: 'Garage des Lilas',
        lastName: 'Morel',
        firstName: 'Anne',
        address: '8 rue des Lilas',
        postalCode: '31000',
        city: 'Toulouse',
        country: 'FRA',
        email,
      },
    });
}

const opsReminders = (purchaseNumber: number) =>
  h.mail
    .messagesTo(DEFAULT_CREDIT_SETTINGS.opsEmail)
    .filter((m) => m.subject.includes(`Achat n° ${purchaseNumber} payé`));

it('an unpaid purchase expires after the payment timeout and the buyer is told', async () => {
  const email = uniqueEmail('late');
  const bought = await buyOnWebsite(email);
  expect(bought.status).toBe(201);
  const s = await whenState(bought.body.purchaseId, (x) => x.status !== 'AWAITING_PAYMENT', 'expiry');
  expect(s.status).toBe('EXPIRED');
  expect((await request(app).get(`/credit-purchases/${bought.body.purchaseId}`)).body.status).toBe('EXPIRED');
  const mail = await h.mail.waitFor((m) => m.to.includes(email));
  expect(mail.subject).toBe('Achat non finalisé');
  // a payment arriving after the expiry is ignored (nothing credited)
  await env.client.workflow
    .getHandle(creditPurchaseWorkflowId(bought.body.purchaseId))
    .signal(paymentResultSignal, {
      paymentIntentId: bought.body.payment.paymentIntentId,
      status: 'succeeded',
      amountCents: 3600,
    })
    .catch(() => undefined); // the workflow is closed: the webhook route acknowledges such events
  expect(await h.prisma.creditEntry.count({ where: { creditPurchaseId: bought.body.purchaseId } })).toBe(0);
});

it('a paid purchase without an account reminds ops every day until it is assigned, then stops', async () => {
  const email = uniqueEmail('anne');
  const bought = await buyOnWebsite(email);
  await env.client.workflow
    .getHandle(creditPurchaseWorkflowId(bought.body.purchaseId))
    .signal(paymentResultSignal, {
      paymentIntentId: bought.body.payment.paymentIntentId,
      status: 'succeeded',
      amountCents: bought.body.amountCents,
    });
  await whenState(bought.body.purchaseId, (s) => s.opsReminders >= 3, 'three daily reminders');
  const reminders = opsReminders(bought.body.number);
  expect(reminders.length).toBeGreaterThanOrEqual(3);
  expect(reminders[0]!.text).toContain(`POST /ops/purchases/${bought.body.purchaseId}/assign`);
  expect(reminders[0]!.text).toContain(email);

  const account = await confirmedAccount(h);
  const assigned = await request(app)
    .post(`/ops/purchases/${bought.body.purchaseId}/assign`)
    .set(bearer(ops))
    .send({ accountId: account.accountId });
  expect(assigned.status).toBe(200);
  expect(assigned.body).toMatchObject({ status: 'COMPLETED', accountId: account.accountId });
  const sent = (await stateOf(bought.body.purchaseId)).opsReminders;
  await env.sleep(5 * 24 * HOUR);
  expect((await stateOf(bought.body.purchaseId)).opsReminders).toBe(sent);
  expect(opsReminders(bought.body.number)).toHaveLength(sent);
  expect(await h.prisma.creditEntry.count({ where: { accountId: account.accountId } })).toBe(1);
});
