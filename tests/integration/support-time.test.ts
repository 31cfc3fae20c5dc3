/**
 * Support time on the real stack: a 30-minute pack bought by card (paid invoice, email), support calls
 * recorded by ops with their report emails, free calls (caused by the software, CLOUD), and refusals.
 */
import request from 'supertest';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { pdfText } from '../helpers/pdf-text';
import { createHarness, type Harness } from '../helpers/harness';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'marie', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
});

async function buyPack(account: { accountId: number; apiKey: string }, minutes: number) {
  const bought = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({
      idempotencyKey: `pack-${minutes}-${account.accountId}`,
      product: { kind: 'SUPPORT_PACK', minutes },
    });
  expect(bought.status).toBe(201);
  expect((await deliver(h, paymentSucceededEvent(bought.body))).status).toBe(200);
  return (await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED')).body;
}

function call(accountId: number, overrides: Record<string, unknown> = {}) {
  return request(h.app)
    .post('/ops/support-calls')
    .set(bearer(ops))
    .send({
      idempotencyKey: `call-${Math.random().toString(36).slice(2)}`,
      accountId,
      technician: 'Marie Support',
      operation: 'Réparation des index de la base',
      durationMinutes: 25,
      ...overrides,
    });
}

it('buy 30 min: +1800 s, a paid invoice with VAT, an email; then a 25 min call: −1500 s and a report with the figures', async () => {
  const account = await confirmedAccount(h);
  const bought = await buyPack(account, 30);
  expect(bought).toMatchObject({
    product: 'SUPPORT_PACK',
    packMinutes: 30,
    creditAmount: 1800,
    amountCents: 6600, // 55.00 + 20 % VAT
    invoiceNumber: expect.stringMatching(/^\d{4}-\d{6}$/),
    receiptNumber: null,
  });
  const balance = await request(h.app)
    .get(`/accounts/${account.accountId}/support-time`)
    .set(bearer(account.apiKey));
  expect(balance.body).toMatchObject({ balanceSeconds: 1800, balance: '30 min' });

  const mail = await h.mail.waitFor(
    (m) => m.to.includes(account.email) && m.subject === 'Votre crédit-temps est disponible',
  );
  expect(mail.text).toContain(bought.invoiceNumber);
  expect(mail.text).toContain('30 min');
  const pdf = await request(h.app)
    .get(`/invoices/${bought.invoiceNumber}.pdf`)
    .set(bearer(account.apiKey))
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  expect(pdf.status).toBe(200);
  const text = await pdfText(pdf.body as Buffer);
  expect(text).toContain('Pack support 30 min');
  expect(text).toMatch(/55,00/);
  expect(text).toMatch(/11,00/);
  expect(text).toMatch(/66,00/);
  const invoice = await h.prisma.invoice.findUniqueOrThrow({ where: { number: bought.invoiceNumber } });
  expect(invoice).toMatchObject({ accountId: account.accountId, totalInclVatCents: 6600 });
  // another account's key can't read it
  const stranger = await confirmedAccount(h);
  expect(
    (await request(h.app).get(`/invoices/${bought.invoiceNumber}.pdf`).set(bearer(stranger.apiKey))).status,
  ).toBe(404);

  const res = await call(account.accountId, { baseId: account.baseId });
  expect(res.status).toBe(201);
  expect(res.body.call).toMatchObject({
    deductedSeconds: 1500,
    balanceAfterSeconds: 300,
    cloudIncluded: false,
  });
  const report = await h.mail.waitFor(
    (m) => m.to.includes(account.email) && m.subject.startsWith('Compte rendu'),
  );
  expect(report.text).toContain('Opération effectuée : Réparation des index de la base');
  expect(report.text).toContain('Temps décompté : 25 min');
  expect(report.text).toContain('Crédit-temps restant : 5 min');
  expect(report.text).toContain(`base ${account.baseId}`);

  const entries = await request(h.app)
    .get(`/accounts/${account.accountId}/support-time/entries`)
    .set(bearer(account.apiKey));
  expect(entries.body.items.map((e: { amount: number; type: string }) => [e.type, e.amount])).toEqual([
    ['support-call', -1500],
    ['support-pack', 1800],
  ]);
});

it('"caused by the software" deducts nothing and is still reported; a retried request records the call once', async () => {
  const account = await confirmedAccount(h);
  await buyPack(account, 15);
  const body = { idempotencyKey: 'bug-report-0001', causedBySoftware: true, durationMinutes: 40 };
  const res = await call(account.accountId, body);
  expect(res.status).toBe(201);
  expect(res.body.call).toMatchObject({
    durationSeconds: 2400,
    deductedSeconds: 0,
    balanceAfterSeconds: 900,
  });
  const again = await call(account.accountId, body);
  expect(again.status).toBe(200);
  expect(again.body.call.id).toBe(res.body.call.id);
  const report = await h.mail.waitFor(
    (m) => m.to.includes(account.email) && m.subject.startsWith('Compte rendu'),
  );
  expect(report.text).toContain('Temps décompté : 0 min (problème dû au logiciel : traité gratuitement)');
  expect(report.text).toContain('Crédit-temps restant : 15 min');
  expect(await h.prisma.supportCall.count({ where: { accountId: account.accountId } })).toBe(1);
  expect(h.mail.messagesTo(account.email).filter((m) => m.subject.startsWith('Compte rendu'))).toHaveLength(
    1,
  );
});

it('CLOUD customers: support included, 0 deducted and noted', async () => {
  const account = await confirmedAccount(h);
  await h.prisma.licence.create({
    data: {
      baseId: account.baseId,
      edition: 'STANDARD',
      mode: 'CLOUD',
      connections: 2,
      period: 'MONTHLY',
      status: 'ACTIVE',
      holderName: 'Cloud customer',
    },
  });
  const res = await call(account.accountId, { baseId: account.baseId });
  expect(res.status).toBe(201);
  expect(res.body.call).toMatchObject({ cloudIncluded: true, deductedSeconds: 0, balanceAfterSeconds: 0 });
  const report = await h.mail.waitFor(
    (m) => m.to.includes(account.email) && m.subject.startsWith('Compte rendu'),
  );
  expect(report.text).toContain('support inclus dans votre abonnement Cloud');
});

it('a billable call beyond the support time left is refused and nothing is recorded', async () => {
  const account = await confirmedAccount(h);
  const res = await call(account.accountId);
  expect(res.status).toBe(409);
  expect(res.body.error).toMatchObject({
    code: 'INSUFFICIENT_CREDIT',
    details: { ledger: 'SUPPORT_TIME', balance: 0, amount: -1500 },
  });
  expect(await h.prisma.supportCall.count({ where: { accountId: account.accountId } })).toBe(0);
  expect(await h.prisma.creditEntry.count({ where: { accountId: account.accountId } })).toBe(0);
  // an installation key can't record calls
  expect((await call(account.accountId).set(bearer(account.apiKey))).status).toBe(403);
});
