/**
 * Credit purchases in the one ledger of money received (`Payment`, no base needed): a support pack bought
 * from the ERP gives one payment, linked to its invoice; a website purchase without an account is recorded
 * when paid, without an account, and gets the account when ops assign it — still one payment.
 */
import request from 'supertest';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { createHarness, uniqueEmail, type Harness } from '../helpers/harness';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'lucie', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
});

it('a support pack bought from the ERP: one payment, linked to the invoice; a duplicated webhook adds none', async () => {
  const account = await confirmedAccount(h);
  const bought = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({ idempotencyKey: `pack-payment-${account.accountId}`, product: { kind: 'SUPPORT_PACK', minutes: 30 } });
  expect(bought.status).toBe(201);
  const event = paymentSucceededEvent(bought.body);
  expect((await deliver(h, event)).status).toBe(200);
  const done = await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED');
  expect((await deliver(h, event)).status).toBe(200);

  const payments = await h.prisma.payment.findMany({ where: { creditPurchaseId: bought.body.purchaseId } });
  expect(payments).toHaveLength(1);
  expect(payments[0]).toMatchObject({
    accountId: account.accountId,
    amountCents: bought.body.amountCents,
    method: 'ONLINE',
    provider: 'STRIPE',
    providerRef: bought.body.payment.paymentIntentId,
    status: 'SUCCEEDED',
  });
  const invoice = await h.prisma.invoice.findUniqueOrThrow({ where: { number: done.body.invoiceNumber } });
  expect(invoice.paymentId).toBe(payments[0]!.id);
  expect(invoice.totalInclVatCents).toBe(payments[0]!.amountCents);
});

it('a website purchase: recorded without an account when paid, the account filled in when ops assign it', async () => {
  const account = await confirmedAccount(h);
  const bought = await request(h.app)
    .post('/credit-purchases')
    .send({
      idempotencyKey: `web-payment-${account.accountId}`,
      product: { kind: 'WALLET_RECHARGE', amountCents: 5000 },
      billing: {
        companyName: 'Garage des Lilas',
        lastName: 'Morel',
        firstName: 'Anne',
        address: '8 rue des Lilas',
        postalCode: '31000',
        city: 'Toulouse',
        country: 'FRA',
        email: uniqueEmail('anne'),
      },
    });
  expect(bought.status).toBe(201);
  expect((await deliver(h, paymentSucceededEvent(bought.body))).status).toBe(200);
  await purchaseReaches(h, bought.body.purchaseId, 'UNMATCHED');
  const waiting = await h.prisma.payment.findMany({ where: { creditPurchaseId: bought.body.purchaseId } });
  expect(waiting.map((p) => [p.baseId, p.accountId, p.amountCents, p.status])).toEqual([
    [null, null, 5000, 'SUCCEEDED'],
  ]);

  const assigned = await request(h.app)
    .post(`/ops/purchases/${bought.body.purchaseId}/assign`)
    .set(bearer(ops))
    .send({ accountId: account.accountId });
  expect(assigned.status).toBe(200);
  const after = await h.prisma.payment.findMany({ where: { creditPurchaseId: bought.body.purchaseId } });
  expect(after.map((p) => [p.id, p.accountId])).toEqual([[waiting[0]!.id, account.accountId]]);
});
