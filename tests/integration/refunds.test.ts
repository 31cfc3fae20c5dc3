/**
 * Refunds of credit purchases on the real stack (PostgreSQL, Temporal dev server, stripe-mock behind a
 * recorder): a partly used support pack refunded for what is left unused (debit entry, credit note, Stripe
 * refund, once each), refusals that write nothing, a wallet recharge refunded in part (no credit note: a
 * receipt), and the purchase's refund history.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { accountsToInvoice, issueConsumptionInvoice } from '../../services/credits/issue-consumption-invoice';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { createHarness, type Harness } from '../helpers/harness';
import { answerRefundsLikeStripe } from '../helpers/refunds';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

let h: Harness;
let ops: string;
let recorder: StripeRecorder;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  answerRefundsLikeStripe(recorder);
  h = await createHarness({ stripeApiBase: recorder.url });
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'lucie', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
  await recorder?.stop();
});

async function buy(account: { accountId: number; apiKey: string }, product: Record<string, unknown>) {
  const bought = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({ idempotencyKey: `buy-${Math.random().toString(36).slice(2)}`, product });
  expect(bought.status).toBe(201);
  expect((await deliver(h, paymentSucceededEvent(bought.body))).status).toBe(200);
  return (await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED')).body as {
    purchaseId: string;
    invoiceNumber: string | null;
  };
}

const refund = (purchaseId: string, body: Record<string, unknown>) =>
  request(h.app).post(`/ops/credit-purchases/${purchaseId}/refunds`).set(bearer(ops)).send(body);

/** Everything a refund could write, for "nothing changed" checks. */
async function footprint(accountId: number) {
  return {
    refunds: await h.prisma.refund.count(),
    entries: await h.prisma.creditEntry.count({ where: { accountId } }),
    creditNotes: await h.prisma.creditNote.count({ where: { accountId } }),
    balances: await h.prisma.creditBalance.findMany({ where: { accountId }, orderBy: { ledger: 'asc' } }),
    stripeRefunds: recorder.requests.filter((r) => r.path === '/v1/refunds').length,
  };
}

it('a 30 min pack with 25 min used: 11.00 € of 66.00 € can go back; more is refused with nothing written; then refunded once', async () => {
  const account = await confirmedAccount(h);
  const pack = await buy(account, { kind: 'SUPPORT_PACK', minutes: 30 });
  const call = await request(h.app)
    .post('/ops/support-calls')
    .set(bearer(ops))
    .send({
      idempotencyKey: `support-call-${account.accountId}`,
      accountId: account.accountId,
      technician: 'Marie Support',
      operation: 'Réparation des index de la base',
      durationMinutes: 25,
    });
  expect(call.status).toBe(201);

  // 300 s left of 1800 s paid 6600 cents: 1100 cents
  const before = await footprint(account.accountId);
  const tooMuch = await refund(pack.purchaseId, {
    amountCents: 1101,
    reason: 'Client mécontent',
    idempotencyKey: 'refund-too-much',
  });
  expect(tooMuch.status).toBe(422);
  expect(tooMuch.body.error).toMatchObject({
    code: 'REFUND_EXCEEDS_UNUSED',
    details: { refundableCents: 1100 },
  });
  for (const bad of [
    { amountCents: 0, reason: 'Client mécontent', idempotencyKey: 'refund-zero' },
    { amountCents: 10.5, reason: 'Client mécontent', idempotencyKey: 'refund-half' },
    { amountCents: 500, reason: '', idempotencyKey: 'refund-no-reason' },
    { amountCents: 500, reason: 'Client mécontent' },
  ]) {
    const answer = await refund(pack.purchaseId, bad);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
  }
  expect(await footprint(account.accountId)).toEqual(before);

  const done = await refund(pack.purchaseId, {
    amountCents: 1100,
    reason: 'Client mécontent',
    idempotencyKey: 'refund-unused',
  });
  expect(done.status).toBe(201);
  expect(done.body).toMatchObject({
    kind: 'REFUND',
    status: 'SUCCEEDED',
    amountCents: 1100,
    debitedCredit: 300,
    creditNoteNumber: expect.stringMatching(/^AV-\d{4}-\d{6}$/),
    providerRefundId: expect.stringMatching(/^re_/),
    requestedBy: 'OPS:lucie',
  });

  // the same request again: the same refund, nothing new
  const again = await refund(pack.purchaseId, {
    amountCents: 1100,
    reason: 'Client mécontent',
    idempotencyKey: 'refund-unused',
  });
  expect(again.status).toBe(200);
  expect(again.body.refundId).toBe(done.body.refundId);
  const reused = await refund(pack.purchaseId, {
    amountCents: 100,
    reason: 'Client mécontent',
    idempotencyKey: 'refund-unused',
  });
  expect(reused.status).toBe(409);
  expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');

  // one debit entry, one credit note on the pack's invoice, one Stripe refund
  const debits = await h.prisma.creditEntry.findMany({
    where: { accountId: account.accountId, type: 'refund' },
  });
  expect(debits).toHaveLength(1);
  expect(debits[0]).toMatchObject({ amount: -300, balanceAfter: 0, creditPurchaseId: pack.purchaseId });
  const notes = await h.prisma.creditNote.findMany({
    where: { accountId: account.accountId },
    include: { invoice: true },
  });
  expect(notes).toHaveLength(1);
  expect(notes[0]).toMatchObject({
    number: done.body.creditNoteNumber,
    kind: 'REFUND',
    totalInclVatCents: 1100,
    refundedAt: expect.any(Date),
  });
  expect(notes[0]!.invoice.number).toBe(pack.invoiceNumber);
  const stripeRefunds = recorder.requests.filter((r) => r.path === '/v1/refunds');
  expect(stripeRefunds).toHaveLength(before.stripeRefunds + 1);
  expect(stripeRefunds.at(-1)).toMatchObject({
    idempotencyKey: `refund:${done.body.refundId}:provider`,
    form: { amount: '1100', payment_intent: expect.stringMatching(/^pi_/) },
  });
  // the payment is never edited: the refund is a row of its own next to it
  const payment = await h.prisma.payment.findFirstOrThrow({ where: { creditPurchaseId: pack.purchaseId } });
  expect(payment).toMatchObject({ status: 'SUCCEEDED', amountCents: 6600 });
  expect(await h.prisma.refund.count({ where: { paymentId: payment.id } })).toBe(1);

  // nothing is left to pay back
  const more = await refund(pack.purchaseId, {
    amountCents: 1,
    reason: 'Encore',
    idempotencyKey: 'refund-more',
  });
  expect(more.status).toBe(422);
  expect(more.body.error.details).toEqual({ refundableCents: 0 });

  const history = await request(h.app)
    .get(`/ops/credit-purchases/${pack.purchaseId}/refunds`)
    .set(bearer(ops));
  expect(history.status).toBe(200);
  expect(history.body).toMatchObject({ refundableCents: 0, refunds: [{ refundId: done.body.refundId }] });

  // the credit note's PDF is served to the account
  const pdf = await request(h.app).get(done.body.creditNotePdfUrl).set(bearer(account.apiKey));
  expect(pdf.status).toBe(200);
  expect(pdf.headers['content-type']).toContain('application/pdf');
});

it('a wallet recharge refunded in part: the wallet debited, Stripe refunded, no credit note (a receipt)', async () => {
  const account = await confirmedAccount(h);
  const recharge = await buy(account, { kind: 'WALLET_RECHARGE', amountCents: 30000 });
  const done = await refund(recharge.purchaseId, {
    amountCents: 10000,
    reason: 'Recharge en trop',
    idempotencyKey: 'wallet-refund-1',
  });
  expect(done.status).toBe(201);
  expect(done.body).toMatchObject({ status: 'SUCCEEDED', debitedCredit: 10000, creditNoteNumber: null });
  const wallet = await request(h.app)
    .get(`/accounts/${account.accountId}/wallet`)
    .set(bearer(account.apiKey));
  expect(wallet.body.balanceCents).toBe(20000);
  expect(await h.prisma.creditNote.count({ where: { accountId: account.accountId } })).toBe(0);
  const history = await request(h.app)
    .get(`/ops/credit-purchases/${recharge.purchaseId}/refunds`)
    .set(bearer(ops));
  expect(history.body.refundableCents).toBe(20000);

  // the credit taken back is money paid back, not consumption: never on a consumption invoice
  const month = new Date().toISOString().slice(0, 7);
  expect(await accountsToInvoice(h.prisma, { month: nextMonth(month), limit: 1000 })).not.toContain(
    account.accountId,
  );
  expect(
    await issueConsumptionInvoice(
      h.prisma,
      { type: 'SYSTEM', id: 'test' },
      {
        accountId: account.accountId,
        month: nextMonth(month),
        seller: h.services.billing.seller,
        now: new Date(),
      },
    ),
  ).toBeUndefined();
});

/** "2026-12" → "2027-01": the month whose run would sweep this month's entries. */
function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

it('an unpaid purchase is not refundable, an unknown one is not found: nothing written', async () => {
  const account = await confirmedAccount(h);
  const unpaid = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({ idempotencyKey: `unpaid-${account.accountId}`, product: { kind: 'SUPPORT_PACK', minutes: 15 } });
  expect(unpaid.status).toBe(201);
  const before = await footprint(account.accountId);
  const notPaid = await refund(unpaid.body.purchaseId, {
    amountCents: 100,
    reason: 'Erreur',
    idempotencyKey: 'refund-unpaid',
  });
  expect(notPaid.status).toBe(409);
  expect(notPaid.body.error).toMatchObject({
    code: 'PURCHASE_NOT_REFUNDABLE',
    details: { status: 'AWAITING_PAYMENT' },
  });
  const unknown = await refund('00000000-0000-4000-8000-000000000000', {
    amountCents: 100,
    reason: 'Erreur',
    idempotencyKey: 'refund-unknown',
  });
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe('PURCHASE_NOT_FOUND');
  expect(await footprint(account.accountId)).toEqual(before);
});

it('the CLI refunds a pack (printing its key), lists its refunds, and exits 1 on a refusal', async () => {
  const account = await confirmedAccount(h);
  const pack = await buy(account, { kind: 'SUPPORT_PACK', minutes: 15 });
  const server = await new Promise<Server>((resolve) => {
    const s = h.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const root = path.resolve(__dirname, '..', '..');
  const cli = (args: string[]) =>
    promisify(execFile)(path.join(root, 'node_modules', '.bin', 'tsx'), ['cli/ops.ts', ...args], {
      cwd: root,
      env: {
        ...process.env,
        OPS_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        OPS_TOKEN: ops,
      },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );
  try {
    const created = await cli([
      'refunds:create',
      pack.purchaseId,
      '--amount',
      '1000',
      '--reason',
      'Geste client',
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /refunded 10\.00 EUR \(SUCCEEDED\): credit note AV-\d{4}-\d{6}, Stripe re_/,
    );
    const key = /refund key (\S+)/.exec(created.stderr)?.[1];
    expect(key).toMatch(/^cli-/);
    // the same key again: the same refund, not a second one
    const again = await cli([
      'refunds:create',
      pack.purchaseId,
      '--amount',
      '1000',
      '--reason',
      'Geste client',
      '--key',
      key!,
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(await h.prisma.refund.count({ where: { creditPurchaseId: pack.purchaseId } })).toBe(1);
    const refused = await cli(['refunds:create', pack.purchaseId, '--amount', '999999', '--reason', 'Trop']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('REFUND_EXCEEDS_UNUSED');
    const listed = await cli(['refunds:list', pack.purchaseId]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/paid 36\.00 EUR, 26\.00 EUR left to refund/);
    expect(listed.stdout).toMatch(/SUCCEEDED\s+10\.00\s+250/);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
