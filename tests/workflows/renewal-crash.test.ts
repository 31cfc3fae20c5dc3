/**
 * A renewal whose worker dies mid-charge: the worker process is killed (SIGKILL) after the off-session
 * PaymentIntent request reached Stripe and before Stripe's answer came back. Another worker picks the
 * renewal up when the charge's attempt times out, and the customer is charged exactly once: every request
 * for that renewal carries the same idempotency key, and one payment and one invoice are recorded.
 *
 * Real Temporal dev server, real activities, the first worker in a child process. The licence is bought
 * through the API; then its run is restarted with the period moved back so that the renewal is due now
 * (the time-skipping server can't hand a dead worker's sticky workflow over to another one).
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Express } from 'express';
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { addDays, nthPeriod } from '../../domain/periods';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal } from '../../workflows/payment-messages';
import {
  getSubscriptionStateQuery,
  subscriptionWorkflow,
  type SubscriptionState,
} from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { installTestRuntime, type Harness } from '../helpers/harness';
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
const taskQueue = `renewal-crash-${Date.now()}`;

beforeAll(async () => {
  installTestRuntime();
  recorder = await startStripeRecorder();
  // the first off-session renewal charge reaches Stripe, and its answer never comes back
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents', idempotencyKey: /^renewal:/ },
    { stall: true },
  );
  // stripe-mock can't take money: a created PaymentIntent is made to look succeeded
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
  worker?.shutdown();
  await running;
  await connection?.close();
  await h?.close();
  await recorder?.stop();
});

const stateOf = (baseId: string) =>
  temporal.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, seconds = 60) {
  for (let i = 0; i < seconds * 4; i += 1) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await read())}`);
}

it('the worker is killed while the renewal charge is in flight: one charge, one payment, one invoice', async () => {
  // a monthly licence bought by card (the webhook's signal confirms the payment)
  const machine = await registerMachine(h);
  const bought = await request(app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId));
  expect(bought.status).toBe(201);
  await temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId)).signal(paymentResultSignal, {
    paymentIntentId: bought.body.payment.paymentIntentId,
    status: 'succeeded',
    amountCents: bought.body.quote.totalInclVatCents,
    paymentMethodId: 'pm_card_visa',
  });
  const active: SubscriptionState = await until(
    () => stateOf(machine.baseId),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  const { licenceId } = active;

  // a month and more later: the period ended a few days ago and the renewal is due (same workflow code,
  // restarted from the state it had, with the period moved back)
  const handle = temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
  const anchorDate = addDays(dayOf(Date.now()), -35);
  const period0 = nthPeriod(anchorDate, 'MONTHLY', 0);
  await handle.terminate('time moved on');
  await h.prisma.licence.update({
    where: { id: licenceId },
    data: { periodStart: period0.start, periodEnd: period0.end },
  });
  await temporal.workflow.start(subscriptionWorkflow, {
    workflowId: subscriptionWorkflowId(machine.baseId),
    taskQueue,
    args: [{ state: { ...active, anchorDate, periodIndex: 0, paidThroughIndex: 0 } }],
  });
  const renewalRequests = () =>
    recorder.requests.filter(
      (r) => r.path === '/v1/payment_intents' && r.idempotencyKey?.startsWith(`renewal:${licenceId}:`),
    );
  await until(
    async () => renewalRequests().length,
    (n) => n > 0,
    'the renewal charge',
  );

  // the request reached Stripe; its worker dies before the answer
  await child!.kill();
  child = undefined;
  expect(renewalRequests()).toHaveLength(1);
  expect(await h.prisma.payment.count({ where: { licenceId } })).toBe(1); // the purchase only

  // another worker takes over once the charge's attempt times out
  ({ connection, worker, running } = await takeOverWorker(h, taskQueue));
  // (the stalled attempt times out after the payment activities' 60 s)
  const renewed = await until(
    () => stateOf(machine.baseId),
    (s) => s.periodIndex === 1 && s.paidThroughIndex === 1 && s.status === 'ACTIVE',
    'the renewal after the crash',
    150,
  );

  // Stripe saw the charge twice, under one idempotency key: one PaymentIntent, one charge
  const sent = renewalRequests();
  expect(sent.length).toBeGreaterThanOrEqual(2);
  expect(new Set(sent.map((r) => r.idempotencyKey)).size).toBe(1);
  expect(new Set(sent.map((r) => r.form.amount))).toEqual(
    new Set([String(bought.body.quote.totalInclVatCents)]),
  );

  const payments = await h.prisma.payment.findMany({ where: { licenceId }, orderBy: { createdAt: 'asc' } });
  expect(payments).toHaveLength(2); // purchase + one renewal
  expect(payments[1]).toMatchObject({ status: 'SUCCEEDED', idempotencyKey: sent[0]!.idempotencyKey });
  const invoices = await h.prisma.invoice.findMany({ where: { licenceId } });
  expect(invoices).toHaveLength(2);
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
  expect(licence).toMatchObject({ status: 'ACTIVE', periodEnd: renewed.periodEnd });
  expect(renewed.periodEnd).toBe(nthPeriod(anchorDate, 'MONTHLY', 1).end);
});
