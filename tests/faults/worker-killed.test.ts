/**
 * The worker is killed (SIGKILL) with six bases each caught at a different step of a card purchase or a
 * renewal; another worker takes over and every one ends right, with money moved exactly once.
 *
 *   A  purchase, the Stripe customer request sent, its answer lost (before the PaymentIntent exists)
 *   A2 purchase, the PaymentIntent request sent, its answer lost (created at Stripe, unknown to us)
 *   B  purchase, PaymentIntent created, waiting for the customer to pay (the webhook comes after the restart)
 *   C  purchase, paid while no worker runs (the webhook's signal waits in the history, before activation)
 *   D  purchase, activation in progress: its transaction waits on a row lock the test holds
 *   E  renewal, the off-session charge done, its recording (payment, invoice, period) waiting on a row lock
 *
 * The worker is the real one (`main.ts --role worker`, child process) on the Temporal dev server; the test
 * holds Stripe answers back (stripe-recorder `stall`) and database rows (`SELECT ... FOR UPDATE` in its own
 * transaction) to catch each step, then kills the process once. No production code knows about the test.
 * The stalled activities come back when their attempt times out (payment activities: 60 s).
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Express } from 'express';
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { addDays, nthPeriod } from '../../domain/periods';
import { subscriptionWorkflowId } from '../../workflows/ids';
import {
  getSubscriptionStateQuery,
  subscriptionWorkflow,
  type SubscriptionState,
} from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { deliver } from '../helpers/credits';
import { installTestRuntime, uniqueEmail, type Harness } from '../helpers/harness';
import {
  paymentIntentEvent,
  rowLock,
  terminateWaiting,
  until,
  waitingOnLocks,
  type RowLock,
} from '../helpers/faults';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import { takeOverWorker, harnessWithWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(300_000);

let temporal: Client;
let h: Harness;
let app: Express;
let recorder: StripeRecorder;
let child: WorkerProcess | undefined;
let worker: Worker | undefined;
let connection: NativeConnection | undefined;
let running: Promise<void> | undefined;
const locks: RowLock[] = [];
const taskQueue = `faults-worker-${Date.now()}`;

beforeAll(async () => {
  installTestRuntime();
  recorder = await startStripeRecorder();
  // A is the file's first card purchase: its customer request reaches Stripe and never gets an answer
  recorder.answer({ method: 'POST', path: '/v1/customers' }, { stall: true });
  // A2 is the first to reach the PaymentIntent request (A never gets there): same
  recorder.answer({ method: 'POST', path: '/v1/payment_intents' }, { stall: true });
  // stripe-mock can't take money: created PaymentIntents look succeeded (the off-session renewal charge)
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  // this file's workers are its own: one in a child process, killed; then one here
  ({ h, app, child } = await harnessWithWorkerProcess(recorder.url, taskQueue));
  temporal = h.temporal;
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

const stateOf = (baseId: string) =>
  temporal.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

interface Buyer {
  baseId: string;
  apiKey: string;
  email: string;
  body: Record<string, unknown>;
}

async function buyer(): Promise<Buyer> {
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  return {
    ...machine,
    email,
    body: licenceOrder(machine.baseId, { email }),
  };
}

/** The purchase request, as the ERP sends it (and sends it again with the same key after an error). */
const purchase = (b: Buyer) =>
  request(app).post(`/bases/${b.baseId}/subscriptions`).set(bearer(b.apiKey)).send(b.body);

interface Purchased {
  purchaseId: string;
  licenceId: string;
  quote: { totalInclVatCents: number };
  payment: { paymentIntentId: string };
}

const pay = (b: Buyer, p: Purchased) =>
  deliver(h, paymentIntentEvent('payment_intent.succeeded', b.baseId, p));

it('six bases caught at six steps, one SIGKILL: each purchase and renewal completes once', async () => {
  // ---- A: the customer request is stalled; the purchase request waits for the payment instructions
  const a = await buyer();
  const aFirst = purchase(a).then(
    (r) => r.status,
    () => 'no answer',
  );
  await until(
    async () => recorder.requests.filter((r) => r.path === '/v1/customers').length,
    (n) => n === 1,
    'A: the customer request',
  );

  // ---- A2: the PaymentIntent request is stalled
  const a2 = await buyer();
  const a2First = purchase(a2).then(
    (r) => r.status,
    () => 'no answer',
  );
  await until(
    async () => recorder.requests.filter((r) => r.path === '/v1/payment_intents').length,
    (n) => n === 1,
    'A2: the PaymentIntent request',
  );

  // ---- B: waiting for the customer to pay
  const b = await buyer();
  const bBought = await purchase(b);
  expect(bBought.status).toBe(201);

  // ---- C: will be paid while no worker runs
  const c = await buyer();
  const cBought = await purchase(c);
  expect(cBought.status).toBe(201);

  // ---- E: an active monthly licence (activated before D holds the invoice numbering)
  const e = await buyer();
  const eBought = await purchase(e);
  expect(eBought.status).toBe(201);
  expect((await pay(e, eBought.body as Purchased)).status).toBe(200);
  const eActive: SubscriptionState = await until(
    () => stateOf(e.baseId),
    (s) => s.status === 'ACTIVE',
    'E: activation',
  );

  // ---- D: paid; activation waits on the licence row the test holds
  const d = await buyer();
  const dBought = await purchase(d);
  expect(dBought.status).toBe(201);
  locks.push(await rowLock(h.databaseUrl, 'Licence', (dBought.body as Purchased).licenceId));
  expect((await pay(d, dBought.body as Purchased)).status).toBe(200);

  // ---- E: its renewal is due; the charge goes through, its recording waits
  const eLicence = eActive.licenceId;
  const anchorDate = addDays(dayOf(Date.now()), -35);
  const period0 = nthPeriod(anchorDate, 'MONTHLY', 0);
  await temporal.workflow.getHandle(subscriptionWorkflowId(e.baseId)).terminate('time moved on');
  await h.prisma.licence.update({
    where: { id: eLicence },
    data: { periodStart: period0.start, periodEnd: period0.end },
  });
  locks.push(await rowLock(h.databaseUrl, 'Licence', eLicence));
  await temporal.workflow.start(subscriptionWorkflow, {
    workflowId: subscriptionWorkflowId(e.baseId),
    taskQueue,
    args: [
      {
        state: { ...eActive, anchorDate, periodIndex: 0, paidThroughIndex: 0 },
      },
    ],
  });
  const renewalCharges = () =>
    recorder.requests.filter(
      (r) => r.path === '/v1/payment_intents' && r.idempotencyKey?.startsWith('renewal:'),
    );
  await until(
    async () => renewalCharges().length,
    (n) => n === 1,
    'E: the renewal charge',
  );

  // D's activation and E's recording are both inside their transactions, waiting on the test's locks
  await until(
    () => waitingOnLocks(h.databaseUrl),
    (n) => n >= 2,
    'D and E waiting on their row locks',
  );

  // ---- the crash
  await child!.kill();
  child = undefined;
  expect(
    await h.prisma.payment.count({ where: { baseId: { in: [a, a2, b, c, d].map((x) => x.baseId) } } }),
  ).toBe(0);
  expect(await h.prisma.payment.count({ where: { licenceId: eLicence } })).toBe(1); // the purchase only

  // C is paid now: the webhook's signal is recorded in the workflow's history, no worker runs it
  expect((await pay(c, cBought.body as Purchased)).status).toBe(200);
  // the dead worker's connections end (as PostgreSQL ends them once it sees their client gone): its two
  // transactions never commit; the locks can go
  expect(await terminateWaiting(h.databaseUrl)).toBeGreaterThanOrEqual(2);
  for (const lock of locks.splice(0)) await lock.release();

  // ---- another worker takes over
  ({ connection, worker, running } = await takeOverWorker(h, taskQueue));
  expect((await pay(b, bBought.body as Purchased)).status).toBe(200);

  // A and A2: the ERP got no answer; it sends the same request again, same key → the same purchase
  const [aAgain, a2Again] = await Promise.all([purchase(a), purchase(a2)]);
  expect([aAgain.status, a2Again.status]).toEqual([200, 200]);
  await Promise.all([aFirst, a2First]);
  expect((await pay(a, aAgain.body as Purchased)).status).toBe(200);
  expect((await pay(a2, a2Again.body as Purchased)).status).toBe(200);

  // ---- every base ends right
  for (const x of [a, a2, b, c, d])
    await until(
      () => stateOf(x.baseId),
      (s) => s.status === 'ACTIVE',
      `${x.baseId}: activation`,
      150,
    );
  await until(
    () => stateOf(e.baseId),
    (s) => s.periodIndex === 1 && s.paidThroughIndex === 1 && s.status === 'ACTIVE',
    'E: the renewal recorded',
    150,
  );

  for (const [x, bought] of [
    [a, aAgain],
    [a2, a2Again],
    [b, bBought],
    [c, cBought],
    [d, dBought],
  ] as const) {
    const { purchaseId, licenceId, quote } = bought.body as Purchased;
    expect(await h.prisma.purchase.count({ where: { baseId: x.baseId } })).toBe(1);
    const payments = await h.prisma.payment.findMany({ where: { baseId: x.baseId } });
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ status: 'SUCCEEDED', amountCents: quote.totalInclVatCents });
    expect(await h.prisma.invoice.count({ where: { baseId: x.baseId } })).toBe(1);
    expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).toMatchObject({
      status: 'ACTIVE',
    });
    // on Stripe's side, every PaymentIntent request of the purchase carried its one key: one PaymentIntent
    const intents = recorder.requests.filter((r) => r.form['metadata[purchaseId]'] === purchaseId);
    expect(new Set(intents.map((r) => r.idempotencyKey))).toEqual(new Set([`purchase:${purchaseId}:intent`]));
    // the activation email, once (sent after the activation committed)
    await h.mail.waitFor((m) => m.to.includes(x.email) && m.subject === 'Votre licence est active');
    expect(h.mail.messagesTo(x.email).filter((m) => m.subject === 'Votre licence est active')).toHaveLength(
      1,
    );
  }
  // A's customer request and A2's PaymentIntent request were sent again after the crash, under the same key
  const aCustomer = recorder.requests.filter((r) => r.path === '/v1/customers' && r.form.email === a.email);
  expect(aCustomer.length).toBeGreaterThanOrEqual(2);
  expect(new Set(aCustomer.map((r) => r.idempotencyKey)).size).toBe(1);
  const a2Intents = recorder.requests.filter(
    (r) => r.idempotencyKey === `purchase:${(a2Again.body as Purchased).purchaseId}:intent`,
  );
  expect(a2Intents.length).toBeGreaterThanOrEqual(2);

  // E: charged once (the charge is not repeated: only its recording was), recorded once
  expect(renewalCharges()).toHaveLength(1);
  const ePayments = await h.prisma.payment.findMany({
    where: { licenceId: eLicence },
    orderBy: { createdAt: 'asc' },
  });
  expect(ePayments).toHaveLength(2);
  expect(ePayments[1]).toMatchObject({
    status: 'SUCCEEDED',
    idempotencyKey: renewalCharges()[0]!.idempotencyKey,
  });
  expect(await h.prisma.invoice.count({ where: { licenceId: eLicence } })).toBe(2);
  await h.mail.waitFor((m) => m.to.includes(e.email) && m.subject === 'Votre licence est renouvelée');
  expect(h.mail.messagesTo(e.email).filter((m) => m.subject === 'Votre licence est renouvelée')).toHaveLength(
    1,
  );
});
