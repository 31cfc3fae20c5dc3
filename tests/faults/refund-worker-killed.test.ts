/**
 * The worker is killed (SIGKILL) with three refunds of partly used support packs, each caught at a different
 * step of refundWorkflow; another worker takes over and each refund ends with one debit entry, one credit
 * note and one Stripe refund (one idempotency key at Stripe):
 *
 *   R1 the debit entry's transaction waits on the purchase row the test holds (nothing committed)
 *   R2 the debit entry committed; the credit note's transaction waits on the invoice row the test holds
 *   R3 the debit entry and credit note committed; the Stripe refund request sent, its answer lost
 *
 * The worker is the real one (`main.ts --role worker`, child process) on the Temporal dev server. The ops
 * requests stay open across the crash and are answered once the refunds complete.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, paymentSucceededEvent } from '../helpers/credits';
import { rowLock, terminateWaiting, until, waitingOnLocks, type RowLock } from '../helpers/faults';
import { createHarness, installTestRuntime, type Harness } from '../helpers/harness';
import { answerRefundsLikeStripe } from '../helpers/refunds';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import { takeOverWorker, startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(300_000);

let h: Harness;
let app: Express;
let ops: string;
let recorder: StripeRecorder;
let child: WorkerProcess | undefined;
let worker: Worker | undefined;
let connection: NativeConnection | undefined;
let running: Promise<void> | undefined;
const locks: RowLock[] = [];
const accounts: Awaited<ReturnType<typeof confirmedAccount>>[] = [];
const taskQueue = `faults-refund-${Date.now()}`;

beforeAll(async () => {
  installTestRuntime();
  recorder = await startStripeRecorder();
  // R3's refund is the first to reach Stripe (R1 and R2 wait before it): Stripe makes it, the answer is lost
  recorder.answer({ method: 'POST', path: '/v1/refunds' }, { stall: true });
  answerRefundsLikeStripe(recorder);
  h = await createHarness({ stripeApiBase: recorder.url });
  // the accounts are confirmed by the harness's worker (their email codes); the rest runs on this file's
  for (let i = 0; i < 3; i += 1) accounts.push(await confirmedAccount(h));
  await h.stopWorker();
  app = createApp({
    services: { ...h.services, taskQueue },
    logger: pino({ level: 'silent' }),
    registrationsPerHour: 10_000,
    readiness: {},
  });
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'lucie', role: 'OPS' })).token;
  child = await startWorkerProcess(h, {
    temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
    taskQueue,
    stripeApiBase: recorder.url,
  });
});

afterAll(async () => {
  await child?.kill();
  for (const lock of locks) await lock.release();
  worker?.shutdown();
  await running;
  await connection?.close();
  await h?.close();
  await recorder?.stop();
});

interface Pack {
  accountId: number;
  purchaseId: string;
  invoiceNumber: string;
}

/** A 30 min pack (66.00 €) paid by card, 25 min of it used by a support call: 11.00 € left to refund. */
async function partlyUsedPack(account: { accountId: number; apiKey: string }): Promise<Pack> {
  const bought = await request(app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({
      idempotencyKey: `support-pack-${account.accountId}`,
      product: { kind: 'SUPPORT_PACK', minutes: 30 },
    });
  expect(bought.status).toBe(201);
  expect((await deliver(h, paymentSucceededEvent(bought.body))).status).toBe(200);
  const purchase = await until(
    () => h.prisma.creditPurchase.findUniqueOrThrow({ where: { id: bought.body.purchaseId } }),
    (p) => p.status === 'COMPLETED',
    'the pack credited',
  );
  const call = await request(app)
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
  return { accountId: account.accountId, purchaseId: purchase.id, invoiceNumber: purchase.invoiceNumber! };
}

const refund = (pack: Pack) =>
  request(app)
    .post(`/ops/credit-purchases/${pack.purchaseId}/refunds`)
    .set(bearer(ops))
    .send({ amountCents: 1100, reason: 'Client mécontent', idempotencyKey: `refund-${pack.purchaseId}` })
    .then((r) => r);

const refundRow = (pack: Pack) => h.prisma.refund.findFirst({ where: { creditPurchaseId: pack.purchaseId } });
const debits = (pack: Pack) =>
  h.prisma.creditEntry.findMany({ where: { creditPurchaseId: pack.purchaseId, type: 'refund' } });
const creditNotes = (pack: Pack) => h.prisma.creditNote.findMany({ where: { accountId: pack.accountId } });
const stripeRefunds = () => recorder.requests.filter((r) => r.path === '/v1/refunds');

it('three refunds caught at three steps, one SIGKILL: each debits, credits and refunds once', async () => {
  const [r1, r2, r3] = [
    await partlyUsedPack(accounts[0]!),
    await partlyUsedPack(accounts[1]!),
    await partlyUsedPack(accounts[2]!),
  ];

  // ---- R1: the debit entry's transaction waits on the purchase row
  locks.push(await rowLock(h.databaseUrl, 'CreditPurchase', r1.purchaseId));
  const r1Answer = refund(r1);
  await until(
    () => waitingOnLocks(h.databaseUrl),
    (n) => n >= 1,
    'R1 waiting on the purchase row',
  );

  // ---- R2: debit committed, the credit note waits on the invoice row
  const invoice2 = await h.prisma.invoice.findUniqueOrThrow({ where: { number: r2.invoiceNumber } });
  locks.push(await rowLock(h.databaseUrl, 'Invoice', invoice2.id));
  const r2Answer = refund(r2);
  await until(
    () => debits(r2),
    (d) => d.length === 1,
    'R2: the debit entry',
  );
  await until(
    () => waitingOnLocks(h.databaseUrl),
    (n) => n >= 2,
    'R2 waiting on the invoice row',
  );

  // ---- R3: debit and credit note committed, the Stripe refund request sent and never answered
  const r3Answer = refund(r3);
  await until(
    async () => stripeRefunds().length,
    (n) => n === 1,
    'R3: the Stripe refund request',
  );
  expect(stripeRefunds()[0]!.form['metadata[creditPurchaseId]']).toBe(r3.purchaseId);

  // ---- the crash
  await child!.kill();
  child = undefined;
  expect(await refundRow(r1)).toBeNull();
  expect(await debits(r1)).toHaveLength(0);
  expect(await debits(r2)).toHaveLength(1);
  expect(await creditNotes(r2)).toHaveLength(0);
  expect(await debits(r3)).toHaveLength(1);
  expect(await creditNotes(r3)).toHaveLength(1);
  expect(await refundRow(r3)).toMatchObject({ status: 'PENDING', providerRefundId: null });

  // the dead worker's transactions never commit; the locks can go
  expect(await terminateWaiting(h.databaseUrl)).toBeGreaterThanOrEqual(2);
  for (const lock of locks.splice(0)) await lock.release();

  // ---- another worker takes over
  ({ connection, worker, running } = await takeOverWorker(h, taskQueue));

  // the ops requests, open across the crash, are answered once their refunds complete
  const answers = await Promise.all([r1Answer, r2Answer, r3Answer]);
  for (const [pack, answer] of [
    [r1, answers[0]],
    [r2, answers[1]],
    [r3, answers[2]],
  ] as const) {
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'SUCCEEDED', amountCents: 1100, debitedCredit: 300 });
    // one Refund row, next to the untouched payment
    const rows = await h.prisma.refund.findMany({ where: { creditPurchaseId: pack.purchaseId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: answer.body.refundId,
      providerRefundId: expect.stringMatching(/^re_/),
    });
    const payment = await h.prisma.payment.findUniqueOrThrow({ where: { id: rows[0]!.paymentId } });
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amountCents: 6600 });
    // one debit entry
    const d = await debits(pack);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ amount: -300, balanceAfter: 0 });
    // one credit note on the pack's invoice
    const notes = await creditNotes(pack);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      number: answer.body.creditNoteNumber,
      kind: 'REFUND',
      totalInclVatCents: 1100,
    });
    // one refund at Stripe: every request for it carried the one key
    const sent = stripeRefunds().filter((r) => r.form['metadata[creditPurchaseId]'] === pack.purchaseId);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(new Set(sent.map((r) => r.idempotencyKey))).toEqual(new Set([`refund:${rows[0]!.id}:provider`]));
  }
  // R3's request was sent again after the crash, under the same key; R1's and R2's once
  expect(stripeRefunds().filter((r) => r.form['metadata[creditPurchaseId]'] === r3.purchaseId).length).toBe(
    2,
  );
  expect(stripeRefunds()).toHaveLength(4);
});
