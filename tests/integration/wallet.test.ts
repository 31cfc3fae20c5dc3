/**
 * The prepaid credits wallet on the real stack: a 300.00 recharge paid by card (stripe-mock, signed
 * webhook), then the seed's twelve movements (seed 003); refusals beyond the balance; idempotent charges;
 * a hundred concurrent charges on one wallet.
 */
import request from 'supertest';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
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

/** A confirmed account with a wallet recharged by card through the whole purchase flow. */
async function accountWithCredits(amountCents: number) {
  const account = await confirmedAccount(h);
  const bought = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({
      idempotencyKey: `recharge-${account.accountId}`,
      product: { kind: 'WALLET_RECHARGE', amountCents },
    });
  expect(bought.status).toBe(201);
  expect(bought.body).toMatchObject({
    status: 'AWAITING_PAYMENT',
    amountCents,
    creditAmount: amountCents,
    payment: { provider: 'STRIPE', paymentIntentId: expect.stringMatching(/^pi_/) },
  });
  expect((await deliver(h, paymentSucceededEvent(bought.body))).status).toBe(200);
  const done = await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED');
  expect(done.body).toMatchObject({
    status: 'COMPLETED',
    receiptNumber: expect.stringMatching(/^RC-\d{4}-\d{6}$/),
  });
  expect(done.body.invoiceNumber).toBeNull(); // a multi-purpose voucher: receipt, no invoice at recharge
  return { ...account, purchase: done.body };
}

it('a recharge has its PDF receipt, numbered in a gap-free series of its own (not the purchase number)', async () => {
  const first = await accountWithCredits(2000);
  const second = await accountWithCredits(4550);
  const seq = (number: string) => Number(number.slice(-6));
  const [a, b] = [first.purchase.receiptNumber as string, second.purchase.receiptNumber as string];
  expect(a.slice(0, 8)).toBe(b.slice(0, 8));
  const between = await h.prisma.receipt.count({
    where: { year: Number(a.slice(3, 7)), seq: { gt: seq(a), lt: seq(b) } },
  });
  // numbers in between belong to recharges committed meanwhile (other tests): the series has no hole
  expect(seq(b) - seq(a) - 1).toBe(between);
  const all = (
    await h.prisma.receipt.findMany({ where: { year: Number(a.slice(3, 7)) }, select: { seq: true } })
  )
    .map((r) => r.seq)
    .sort((x, y) => x - y);
  expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));

  const pdf = await request(h.app)
    .get(`/receipts/${b}.pdf`)
    .set(bearer(second.apiKey))
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  expect(pdf.status).toBe(200);
  const text = (await pdfText(pdf.body as Buffer)).replace(/\s+/g, ' ');
  expect(text).toContain(`N° ${b}`);
  expect(text).toContain('la somme de 45,50 € pour la recharge de 45.50 crédits');
  expect(text).toContain('pas de TVA à la recharge');
  expect((await request(h.app).get(`/receipts/${b}.pdf`).set(bearer(first.apiKey))).status).toBe(404);
});

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

it("recharge 300.00, then the seed's twelve movements: balance and listing match the seed", async () => {
  const { accountId, apiKey, email } = await accountWithCredits(30000);
  const receipt = await h.mail.waitFor(
    (m) => m.to.includes(email) && m.subject === 'Vos crédits sont disponibles',
  );
  expect(receipt.text).toMatch(/Reçu n° RC-\d{4}-\d{6} : 300,00 € reçus/);
  expect(receipt.text).toContain('la TVA est facturée lors de leur consommation');
  expect((await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(apiKey))).body).toMatchObject({
    balanceCents: 30000,
    credits: '300.00',
  });

  for (const [i, [at, site, staff, type, cents]] of seedMovements.entries()) {
    const res = await request(h.app)
      .post(`/accounts/${accountId}/wallet/charges`)
      .set(bearer(apiKey))
      .send({ idempotencyKey: `seed-movement-${i}`, occurredAt: at, site, staff, type, amountCents: cents });
    expect(res.status).toBe(201);
  }

  // 300.00 − 2 × 0.10 − 8 × 2.50 − 2 × 0.15 = 279.50
  const wallet = await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(apiKey));
  expect(wallet.body).toMatchObject({ balanceCents: 27950, credits: '279.50', overdraftLimitCents: 0 });

  // the seed's table, newest first; the recharge (today) comes before them
  const page = await request(h.app).get(`/accounts/${accountId}/wallet/entries?limit=13`).set(bearer(apiKey));
  expect(page.status).toBe(200);
  expect(page.body.total).toBe(13);
  expect(page.body.nextCursor).toBeNull();
  const [recharge, ...movements] = page.body.items;
  expect(recharge).toMatchObject({ type: 'recharge', amount: 30000, value: '300.00', balanceAfter: 30000 });
  expect(
    movements.map((e: Record<string, unknown>) => [e.at, e.site ?? '', e.staff, e.type, e.value]),
  ).toEqual([
    ['2019-03-18T10:24:00.000Z', 'Insypro', 'Jean-Luc Lemaire', 'sms', '-0.15'],
    ['2019-03-04T14:59:00.000Z', 'Insypro', 'Jean-Luc Lemaire', 'sms', '-0.15'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', "App d'inspecteur frais mensuels", '-2.50'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', "App d'inspecteur frais mensuels", '-2.50'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', "App d'inspecteur frais mensuels", '-2.50'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', 'Workshopp app coût mensuel', '-2.50'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', 'App de Réception frais mensuels', '-2.50'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', 'App de Réception frais mensuels', '-2.50'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', 'App de Réception frais mensuels', '-2.50'],
    ['2019-02-28T21:05:00.000Z', '', 'Philippe Lemaire', 'App de Réception frais mensuels', '-2.50'],
    ['2019-02-04T12:31:00.000Z', 'Insypro', 'Jean-Luc Lemaire', 'apf', '-0.10'],
    ['2019-02-04T10:59:00.000Z', 'Insypro', 'Jean-Luc Lemaire', 'apf', '-0.10'],
  ]);

  // pages of 5 walk the same list without gaps or repeats
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await request(h.app)
      .get(`/accounts/${accountId}/wallet/entries`)
      .query(cursor ? { limit: 5, cursor } : { limit: 5 })
      .set(bearer(apiKey));
    seen.push(...res.body.items.map((e: { id: string }) => e.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  expect(seen).toEqual(page.body.items.map((e: { id: string }) => e.id));
});

it('a charge beyond the balance is refused with INSUFFICIENT_CREDIT and writes nothing; an overdraft limit allows it', async () => {
  const { accountId, apiKey } = await accountWithCredits(1000);
  const before = await h.prisma.creditEntry.count({ where: { accountId } });
  const refused = await request(h.app)
    .post(`/accounts/${accountId}/wallet/charges`)
    .set(bearer(apiKey))
    .send({ idempotencyKey: 'too-much-0001', type: 'sms', amountCents: 1001 });
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({
    code: 'INSUFFICIENT_CREDIT',
    details: { balance: 1000, amount: -1001, overdraftLimit: 0 },
  });
  expect(await h.prisma.creditEntry.count({ where: { accountId } })).toBe(before);
  expect(
    (await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(apiKey))).body.balanceCents,
  ).toBe(1000);

  const limit = await request(h.app)
    .put(`/ops/accounts/${accountId}/overdraft-limits/WALLET`)
    .set(bearer(ops))
    .send({ limit: 500 });
  expect(limit.status).toBe(200);
  const allowed = await request(h.app)
    .post(`/accounts/${accountId}/wallet/charges`)
    .set(bearer(apiKey))
    .send({ idempotencyKey: 'too-much-0001', type: 'sms', amountCents: 1001 });
  expect(allowed.status).toBe(201);
  expect(allowed.body).toMatchObject({ balanceCents: -1, credits: '-0.01' });
  const beyond = await request(h.app)
    .post(`/accounts/${accountId}/wallet/charges`)
    .set(bearer(apiKey))
    .send({ idempotencyKey: 'too-much-0002', type: 'sms', amountCents: 500 });
  expect(beyond.body.error.code).toBe('INSUFFICIENT_CREDIT');
});

it('the same key returns the first answer; the key with another request is refused; other accounts are forbidden', async () => {
  const { accountId, apiKey } = await accountWithCredits(2000);
  const body = { idempotencyKey: 'sms-batch-42', type: 'sms', amountCents: 15, site: 'Insypro' };
  const first = await request(h.app)
    .post(`/accounts/${accountId}/wallet/charges`)
    .set(bearer(apiKey))
    .send(body);
  const again = await request(h.app)
    .post(`/accounts/${accountId}/wallet/charges`)
    .set(bearer(apiKey))
    .send(body);
  expect(first.status).toBe(201);
  expect(again.status).toBe(200);
  expect(again.body.entry.id).toBe(first.body.entry.id);
  expect(again.body.balanceCents).toBe(1985);
  const reused = await request(h.app)
    .post(`/accounts/${accountId}/wallet/charges`)
    .set(bearer(apiKey))
    .send({ ...body, amountCents: 30 });
  expect(reused.status).toBe(409);
  expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(
    (await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(apiKey))).body.balanceCents,
  ).toBe(1985);

  const other = await confirmedAccount(h);
  const forbidden = await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(other.apiKey));
  expect(forbidden.status).toBe(403);
  expect(forbidden.body.error.code).toBe('FORBIDDEN');
});

it('100 concurrent charges on one wallet: the balance is exact and never below the limit', async () => {
  const { accountId, apiKey } = await accountWithCredits(1000); // 10.00: room for 66 charges of 0.15
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      request(h.app)
        .post(`/accounts/${accountId}/wallet/charges`)
        .set(bearer(apiKey))
        .send({
          idempotencyKey: `concurrent-${i.toString().padStart(4, '0')}`,
          type: 'sms',
          amountCents: 15,
        }),
    ),
  );
  const charged = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status === 409);
  expect(charged).toHaveLength(66);
  expect(refused).toHaveLength(34);
  expect(refused.every((r) => r.body.error.code === 'INSUFFICIENT_CREDIT')).toBe(true);

  const wallet = await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(apiKey));
  expect(wallet.body.balanceCents).toBe(1000 - 66 * 15);
  const entries = await h.prisma.creditEntry.findMany({
    where: { accountId, ledger: 'WALLET' },
    orderBy: { id: 'asc' },
  });
  expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(10);
  expect(Math.min(...entries.map((e) => e.balanceAfter))).toBeGreaterThanOrEqual(0);
  // each entry's balance follows the previous one: the chain has no gap and no double spend
  entries.slice(1).forEach((e, i) => expect(e.balanceAfter).toBe(entries[i]!.balanceAfter + e.amount));
});
