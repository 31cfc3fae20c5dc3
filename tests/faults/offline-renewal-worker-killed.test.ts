/**
 * The worker is killed (SIGKILL) while a cheque renewal confirmed by ops is being recorded (its payment,
 * paid invoice and period waiting on a row lock the test holds); another worker takes over: one payment,
 * one paid invoice, the period extended once, and a second confirmation refused.
 *
 * The worker is the real one (`main.ts --role worker`, child process) on the Temporal dev server, with a
 * renewal notice longer than a month so the monthly licence's invoice to pay is mailed at once.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import request from 'supertest';
import { nthPeriod } from '../../domain/periods';
import type { Actor } from '../../services/actor';
import type { ServiceDeps } from '../../services/deps';
import { confirmManualPayment, confirmRenewalPayment } from '../../services/ops/manual-queues';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { rowLock, terminateWaiting, until, waitingOnLocks, type RowLock } from '../helpers/faults';
import { installTestRuntime, uniqueEmail, type Harness } from '../helpers/harness';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import { takeOverWorker, harnessWithWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(300_000);

let h: Harness;
let app: Parameters<typeof request>[0];
let recorder: StripeRecorder;
let child: WorkerProcess | undefined;
let worker: Worker | undefined;
let connection: NativeConnection | undefined;
let running: Promise<void> | undefined;
let lock: RowLock | undefined;
const taskQueue = `faults-offline-renewal-${Date.now()}`;
const ops: Actor = { type: 'OPS', id: 'compta', role: 'OPS' };

beforeAll(async () => {
  installTestRuntime();
  recorder = await startStripeRecorder();
  ({ h, app, child } = await harnessWithWorkerProcess(recorder.url, taskQueue, {
    OFFLINE_RENEWAL_NOTICE_DAYS: '40',
  }));
});

afterAll(async () => {
  await child?.kill();
  await lock?.release();
  worker?.shutdown();
  await running;
  await connection?.close();
  await h?.close();
  await recorder?.stop();
});

it('a cheque renewal being recorded when the worker dies: one payment, one invoice, one period', async () => {
  const services: ServiceDeps = { ...h.services, taskQueue };
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  const bought = await request(app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId, { email, paymentMethod: 'CHEQUE' }));
  expect(bought.status).toBe(201);
  await confirmManualPayment(services, {
    purchaseId: bought.body.purchaseId,
    actor: ops,
    reference: 'CHQ-1',
  });
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
  const waiting = await until(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.offlineRenewal !== undefined,
    'the invoice to pay',
  );
  await h.mail.waitFor((m) => m.to.includes(email) && m.subject.startsWith('Facture à régler'));
  const licenceId = waiting.licenceId;

  // ops confirm the cheque; its recording waits on the licence row the test holds
  lock = await rowLock(h.databaseUrl, 'Licence', licenceId);
  const confirmed = confirmRenewalPayment(services, {
    baseId: machine.baseId,
    actor: ops,
    reference: 'CHQ-2',
  });
  await until(
    () => waitingOnLocks(h.databaseUrl),
    (n) => n >= 1,
    'the recording waiting on the row lock',
  );

  // ---- the crash: nothing of the renewal is written
  await child!.kill();
  child = undefined;
  expect(await h.prisma.payment.count({ where: { licenceId } })).toBe(1); // the purchase only
  expect(await terminateWaiting(h.databaseUrl)).toBeGreaterThanOrEqual(1);
  await lock.release();
  lock = undefined;

  // ---- another worker takes over; ops click again meanwhile
  ({ connection, worker, running } = await takeOverWorker(h, taskQueue));
  await expect(
    confirmRenewalPayment(services, { baseId: machine.baseId, actor: ops, reference: 'CHQ-2' }),
  ).rejects.toMatchObject({ code: 'PURCHASE_NOT_AWAITING_OPS' });
  const state = await confirmed;
  expect(state.paidUntil).toBe(nthPeriod(waiting.anchorDate!, 'MONTHLY', 1).end);

  const next = nthPeriod(waiting.anchorDate!, 'MONTHLY', 1);
  const payments = await h.prisma.payment.findMany({
    where: { licenceId },
    include: { invoice: true },
    orderBy: { createdAt: 'asc' },
  });
  expect(payments).toHaveLength(2);
  expect(payments[1]).toMatchObject({ method: 'CHEQUE', providerRef: 'CHQ-2', status: 'SUCCEEDED' });
  expect(payments[1]!.amountCents).toBe(waiting.offlineRenewal!.amountCents);
  expect(await h.prisma.invoice.count({ where: { licenceId } })).toBe(2);
  const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } });
  expect(licence).toMatchObject({ status: 'ACTIVE', periodEnd: next.end });
  await h.mail.waitFor((m) => m.to.includes(email) && m.subject === 'Votre licence est renouvelée');
  expect(h.mail.messagesTo(email).filter((m) => m.subject === 'Votre licence est renouvelée')).toHaveLength(
    1,
  );
  await handle.terminate('test over');
});
