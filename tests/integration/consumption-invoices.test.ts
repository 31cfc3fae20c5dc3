/**
 * Monthly wallet consumption invoices and unpaid app fees on the real stack (PostgreSQL, Temporal dev
 * server, SMTP catcher, stripe-mock): the seed's movements give invoices whose lines and totals match the
 * seed's arithmetic; a second run issues nothing; a month without consumption gives no invoice; a fee the
 * wallet can't pay is mailed and listed for ops, then charged once by the next recharge or the next run;
 * the monthly run charges the month's fees, then invoices the previous month.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { monthOf } from '../../domain/credits';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { monthlyFeesWorkflow } from '../../workflows/monthly-fees';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, eventually, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { createHarness, type Harness } from '../helpers/harness';
import { pdfText } from '../helpers/pdf-text';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'compta', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
});

/** An account whose wallet holds `cents`, credited straight in the ledger (the card flow is tested elsewhere). */
async function accountWithWallet(cents: number) {
  const account = await confirmedAccount(h);
  await h.prisma.$transaction(async (tx) => {
    await tx.creditBalance.create({
      data: { accountId: account.accountId, ledger: 'WALLET', balance: cents },
    });
    await tx.creditEntry.create({
      data: {
        accountId: account.accountId,
        ledger: 'WALLET',
        idempotencyKey: `test-recharge:${account.accountId}`,
        fingerprint: 'test',
        amount: cents,
        balanceAfter: cents,
        type: 'recharge',
        occurredAt: new Date('2019-01-15T00:00:00Z'),
        actorType: 'SYSTEM',
      },
    });
  });
  return account;
}

const seedMovements = [
  ['2019-02-04T11:59:00+01:00', 'Insypro', 'Jean-Luc Lemaire', 'apf', 10],
  ['2019-02-04T13:31:00+01:00', 'Insypro', 'Jean-Luc Lemaire', 'apf', 10],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', 'App de Réception frais mensuels', 250],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', 'App de Réception frais mensuels', 250],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', 'App de Réception frais mensuels', 250],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', 'App de Réception frais mensuels', 250],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', 'Workshopp app coût mensuel', 250],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', "App d'inspecteur frais mensuels", 250],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', "App d'inspecteur frais mensuels", 250],
  ['2019-02-28T22:05:00+01:00', undefined, 'Philippe Lemaire', "App d'inspecteur frais mensuels", 250],
  ['2019-03-04T15:59:00+01:00', 'Insypro', 'Jean-Luc Lemaire', 'sms', 15],
  ['2019-03-18T11:24:00+01:00', 'Insypro', 'Jean-Luc Lemaire', 'sms', 15],
] as const;

const runMonth = (month: string) =>
  request(h.app).post('/ops/consumption-invoices').set(bearer(ops)).send({ month });

async function download(path: string, key: string) {
  return request(h.app)
    .get(path)
    .set(bearer(key))
    .buffer(true)
    .parse((res, callback) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => callback(null, Buffer.concat(chunks)));
    });
}

it("the seed's movements: one invoice per month, lines by type adding up to the credits spent, issued once", async () => {
  const account = await accountWithWallet(30000);
  for (const [i, [at, site, staff, type, cents]] of seedMovements.entries()) {
    const res = await request(h.app)
      .post(`/accounts/${account.accountId}/wallet/charges`)
      .set(bearer(account.apiKey))
      .send({ idempotencyKey: `seed-movement-${i}`, occurredAt: at, site, staff, type, amountCents: cents });
    expect(res.status).toBe(201);
  }

  // January: nothing spent, no invoice
  const january = await runMonth('2019-01');
  expect(january.status).toBe(200);
  expect(january.body).toEqual({ month: '2019-01', issued: 0, alreadyIssued: 0, mailed: 0 });

  const february = await runMonth('2019-02');
  expect(february.status).toBe(200);
  expect(february.body).toMatchObject({ month: '2019-02', issued: 1, alreadyIssued: 0, mailed: 1 });
  const rows = await h.prisma.invoice.findMany({ where: { accountId: account.accountId } });
  expect(rows).toHaveLength(1);
  const feb = rows[0]!;
  // 2 × 0.10 + 8 × 2.50 = 20.20 spent; excl. VAT + VAT per line = each type's credits, to the cent
  expect(
    (feb.lines as { description: string; totalExclVatCents: number; vatCents: number }[]).map((l) => [
      l.description,
      l.totalExclVatCents,
      l.vatCents,
    ]),
  ).toEqual([
    ["Crédits consommés février 2019 — App d'inspecteur frais mensuels (3 mouvements)", 625, 125],
    ['Crédits consommés février 2019 — App de Réception frais mensuels (4 mouvements)', 833, 167],
    ['Crédits consommés février 2019 — Workshopp app coût mensuel (1 mouvement)', 208, 42],
    ['Crédits consommés février 2019 — apf (2 mouvements)', 17, 3],
  ]);
  expect(feb).toMatchObject({
    status: 'PAID',
    baseId: null,
    saleDate: '2019-02-28',
    totalExclVatCents: 1683,
    vatCents: 337,
    totalInclVatCents: 2020,
  });
  expect(feb.vat).toMatchObject({ kind: 'FRANCE', rateBasisPoints: 2000 });

  // emailed (where to find it, no API path); the PDF downloads with the account's key
  const mail = await h.mail.waitFor(
    (m) =>
      m.to.includes(account.email) && m.subject.includes('facture de consommation de crédits — février 2019'),
  );
  expect(mail.text).toContain(`facture acquittée n° ${feb.number} est disponible dans Gestan`);
  expect(mail.text).not.toMatch(/(GET|POST) \//);
  expect(mail.text).toContain('20,20 € TTC');
  const pdf = await download(`/invoices/${feb.number}.pdf`, account.apiKey);
  expect(pdf.status).toBe(200);
  expect(pdf.headers['content-type']).toContain('application/pdf');
  const text = (await pdfText(pdf.body as Buffer)).replace(/\s+/g, ' ');
  expect(text).toContain(feb.number);
  expect(text).toContain('20,20');

  // a second run for the month issues nothing and mails nobody
  const again = await runMonth('2019-02');
  expect(again.body).toMatchObject({ issued: 0, mailed: 0 });
  expect(await h.prisma.invoice.count({ where: { accountId: account.accountId } })).toBe(1);

  // March: the two SMS, 0.30 = 0.25 + 0.05 VAT
  expect((await runMonth('2019-03')).body).toMatchObject({ issued: 1 });
  const listed = await request(h.app)
    .get(`/accounts/${account.accountId}/invoices`)
    .set(bearer(account.apiKey));
  expect(listed.status).toBe(200);
  expect(listed.body.total).toBe(2);
  expect(
    listed.body.items.map((i: Record<string, unknown>) => [
      i.consumptionMonth,
      i.totalExclVatCents,
      i.vatCents,
      i.totalInclVatCents,
      i.pdfUrl === `/invoices/${String(i.number)}.pdf`,
    ]),
  ).toEqual(
    [
      ['2019-03', 25, 5, 30],
      ['2019-02', 1683, 337, 2020],
    ].map((r) => [...r, true]),
  );
  // every credit spent is invoiced once: 300.00 − 279.50 = 20.50 = 20.20 + 0.30
  const invoiced = await h.prisma.invoice.aggregate({
    where: { accountId: account.accountId },
    _sum: { totalInclVatCents: true },
  });
  expect(invoiced._sum.totalInclVatCents).toBe(2050);
  expect(await h.prisma.consumptionInvoiceEntry.count({ where: { accountId: account.accountId } })).toBe(12);

  // another account's key can't see the invoice
  const other = await confirmedAccount(h);
  expect((await download(`/invoices/${feb.number}.pdf`, other.apiKey)).status).toBe(404);
  expect(
    (await request(h.app).get(`/accounts/${account.accountId}/invoices`).set(bearer(other.apiKey))).status,
  ).toBe(403);
});

it('refuses a month that is not over', async () => {
  const res = await runMonth(monthOf(new Date()));
  expect(res.status).toBe(422);
  expect(res.body.error.code).toBe('MONTH_NOT_OVER');
});

async function subscribe(accountId: number, sinceMonth: string) {
  const res = await request(h.app).post(`/ops/accounts/${accountId}/apps`).set(bearer(ops)).send({
    app: 'inspector',
    label: "App d'inspecteur frais mensuels",
    monthlyFeeCents: 250,
    staff: 'Philippe Lemaire',
    sinceMonth,
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const runFees = (month: string) =>
  h.temporal.workflow.execute(monthlyFeesWorkflow, {
    workflowId: `fees-${crypto.randomUUID()}`,
    taskQueue: h.taskQueue,
    args: [{ month }],
  });

it('a fee refused for lack of credits is mailed and listed for ops, then charged once by the next recharge', async () => {
  const account = await confirmedAccount(h);
  const appId = await subscribe(account.accountId, '2025-06');
  const run = await runFees('2025-06');
  expect(run.refused).toContainEqual({ accountId: account.accountId, accountAppId: appId });

  const mail = await h.mail.waitFor(
    (m) => m.to.includes(account.email) && m.subject === 'Rechargez vos crédits : frais mensuels impayés',
  );
  expect(mail.text).toContain("App d'inspecteur frais mensuels, juin 2025 : 2,50 €");
  expect(mail.text).toContain('Montant manquant : 2,50 €.');
  expect(mail.text).toContain('Système → Crédits → Recharger les crédits');
  expect(mail.text).not.toMatch(/(GET|POST) \//);
  expect(mail.html).toContain('Montant manquant : 2,50 €.');

  const listed = await request(h.app).get('/ops/app-fees/unpaid?month=2025-06').set(bearer(ops));
  expect(listed.status).toBe(200);
  const mine = listed.body.filter((f: { accountId: number }) => f.accountId === account.accountId);
  expect(mine).toEqual([
    expect.objectContaining({
      accountAppId: appId,
      month: '2025-06',
      amountCents: 250,
      walletBalanceCents: 0,
      attempts: 1,
      notifiedAt: expect.any(String),
    }),
  ]);
  // the same month run again: still unpaid, not mailed twice
  await runFees('2025-06');
  expect(
    h.mail.messagesTo(account.email).filter((m) => m.subject.startsWith('Rechargez vos crédits')),
  ).toHaveLength(1);

  // a 10.00 recharge by card pays the fee at once, with the month's own key
  const bought = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({
      idempotencyKey: `recharge-${account.accountId}`,
      product: { kind: 'WALLET_RECHARGE', amountCents: 1000 },
    });
  expect(bought.status).toBe(201);
  expect((await deliver(h, paymentSucceededEvent(bought.body))).status).toBe(200);
  await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED');
  // the recharge's activity retries the fee right after crediting
  const fees = await eventually(
    () => h.prisma.creditEntry.findMany({ where: { accountId: account.accountId, amount: { lt: 0 } } }),
    (rows) => rows.length > 0,
  );
  expect(fees.map((f) => [f.amount, f.idempotencyKey])).toEqual([
    [-250, `app-fee:${account.accountId}:${appId}:2025-06`],
  ]);
  const wallet = await request(h.app)
    .get(`/accounts/${account.accountId}/wallet`)
    .set(bearer(account.apiKey));
  expect(wallet.body.balanceCents).toBe(750);
  const after = await request(h.app).get('/ops/app-fees/unpaid?month=2025-06').set(bearer(ops));
  expect(after.body.filter((f: { accountId: number }) => f.accountId === account.accountId)).toEqual([]);

  // the next run finds nothing to retry and never charges June again
  await runFees('2025-06');
  expect(
    await h.prisma.creditEntry.count({ where: { accountId: account.accountId, amount: { lt: 0 } } }),
  ).toBe(1);
});

it("the monthly run retries unpaid fees, charges the month's fees, then invoices the previous month", async () => {
  const account = await confirmedAccount(h);
  const appId = await subscribe(account.accountId, '2025-09');
  // September: the wallet is empty, the fee is refused
  const september = await runFees('2025-09');
  expect(september.refused).toContainEqual({ accountId: account.accountId, accountAppId: appId });
  // credits arrive (ops credit, no card: the retry is the run's)
  await h.prisma.$transaction(async (tx) => {
    await tx.creditBalance.upsert({
      where: { accountId_ledger: { accountId: account.accountId, ledger: 'WALLET' } },
      create: { accountId: account.accountId, ledger: 'WALLET', balance: 2000 },
      update: { balance: 2000 },
    });
    await tx.creditEntry.create({
      data: {
        accountId: account.accountId,
        ledger: 'WALLET',
        idempotencyKey: `test-recharge:${account.accountId}`,
        fingerprint: 'test',
        amount: 2000,
        balanceAfter: 2000,
        type: 'recharge',
        occurredAt: new Date('2025-09-20T00:00:00Z'),
        actorType: 'SYSTEM',
      },
    });
  });

  // the October run: September's fee retried (dated October), October's fee charged, then September's
  // consumption invoiced — nothing was spent in September, so no invoice for it
  const october = await runFees('2025-10');
  expect(october.unpaidRetried?.paid).toBeGreaterThanOrEqual(1);
  expect(october.consumption).toMatchObject({ month: '2025-09' });
  const entries = await h.prisma.creditEntry.findMany({
    where: { accountId: account.accountId, amount: { lt: 0 } },
    orderBy: { id: 'asc' },
  });
  expect(entries.map((e) => [e.idempotencyKey.slice(-7), e.occurredAt.toISOString()])).toEqual([
    ['2025-09', '2025-10-01T00:00:00.000Z'],
    ['2025-10', '2025-10-01T00:00:00.000Z'],
  ]);
  expect(await h.prisma.consumptionInvoice.count({ where: { accountId: account.accountId } })).toBe(0);

  // the November run invoices October: both fees charged in October, 5.00
  const november = await runFees('2025-11');
  expect(november.consumption).toMatchObject({ month: '2025-10' });
  expect(november.consumption!.issued).toBeGreaterThanOrEqual(1);
  const invoice = await h.prisma.consumptionInvoice.findUniqueOrThrow({
    where: { accountId_month: { accountId: account.accountId, month: '2025-10' } },
  });
  expect(invoice).toMatchObject({ chargesCount: 2, totalInclVatCents: 500, mailedAt: expect.any(Date) });
  const row = await h.prisma.invoice.findUniqueOrThrow({ where: { number: invoice.invoiceNumber } });
  expect([row.totalExclVatCents, row.vatCents, row.totalInclVatCents]).toEqual([417, 83, 500]);
  // November's fee (dated 1 November) is not in October's invoice
  expect(
    await h.prisma.creditEntry.count({ where: { accountId: account.accountId, amount: { lt: 0 } } }),
  ).toBe(3);

  // the November run again: nothing issued twice, nothing charged twice
  const replay = await runFees('2025-11');
  expect(replay.outcomes.CHARGED).toBe(0);
  expect(await h.prisma.invoice.count({ where: { accountId: account.accountId } })).toBe(1);
});
