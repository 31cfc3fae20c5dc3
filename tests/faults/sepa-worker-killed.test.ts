/**
 * The worker is killed (SIGKILL) while a SEPA purchase's settlement is being recorded: the bank's answer
 * came days after the debit was submitted (localstripe's held debit, released), its webhook reached the
 * workflow, and the activation (payment, paid invoice, licence) waits on a row lock the test holds.
 * Another worker takes over: one payment, one invoice, one activation mail, the mandate ACTIVE.
 *
 * The worker is the real one (`main.ts --role worker`, child process) on the Temporal dev server, with
 * localstripe as Stripe for it and for the API (whose webhooks localstripe sends).
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import request from 'supertest';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, licenceOrder, registerMachine } from '../helpers/api';
import { rowLock, terminateWaiting, until, waitingOnLocks, type RowLock } from '../helpers/faults';
import { createHarness, installTestRuntime, uniqueEmail, type Harness } from '../helpers/harness';
import { confirmOnPage, heldDebits, IBAN, releaseDebit, sepaAccount } from '../helpers/sepa';
import { startWorkerProcess, takeOverWorker, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(300_000);

let h: Harness;
let child: WorkerProcess | undefined;
let worker: Worker | undefined;
let connection: NativeConnection | undefined;
let running: Promise<void> | undefined;
let lock: RowLock | undefined;

beforeAll(async () => {
  installTestRuntime();
  h = await createHarness({ stripe: 'localstripe' });
  await h.stopWorker();
  child = await startWorkerProcess(h, {
    temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
    taskQueue: h.taskQueue,
    stripeApiBase: h.localstripe!.apiBase,
  });
});

afterAll(async () => {
  await child?.kill();
  await lock?.release();
  worker?.shutdown();
  await running;
  await connection?.close();
  await h?.close();
});

it('a SEPA settlement being recorded when the worker dies: one payment, one invoice, one activation', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  const bought = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send(licenceOrder(machine.baseId, { email }));
  expect(bought.status).toBe(201);
  const paymentIntentId: string = bought.body.payment.paymentIntentId;
  const account = await sepaAccount(h.stripe, IBAN.SUCCEEDS_LATER);
  const submitted = await confirmOnPage(h.app, bought.body.payment.paymentUrl, {
    paymentMethodId: account.id,
    mandateAccepted: true,
  });
  expect(submitted.body.status).toBe('processing');
  expect(await heldDebits(h.localstripe!.apiBase)).toContain(paymentIntentId);
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId));
  const { licenceId } = await handle.query(getSubscriptionStateQuery);

  // the bank settles; the activation waits on the licence row the test holds
  lock = await rowLock(h.databaseUrl, 'Licence', licenceId);
  await releaseDebit(h.localstripe!.apiBase, paymentIntentId);
  await until(
    () => waitingOnLocks(h.databaseUrl),
    (n) => n >= 1,
    'the activation waiting on the row lock',
    90,
  );

  // ---- the crash: nothing of the settlement is written
  await child!.kill();
  child = undefined;
  expect(await h.prisma.payment.count({ where: { baseId: machine.baseId } })).toBe(0);
  expect(await terminateWaiting(h.databaseUrl)).toBeGreaterThanOrEqual(1);
  await lock.release();
  lock = undefined;

  // ---- another worker takes over
  ({ connection, worker, running } = await takeOverWorker(h, h.taskQueue));
  const state = await until(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
    'activation by the new worker',
    90,
  );
  expect(state.paymentMethodId).toBe(account.id);
  const payments = await h.prisma.payment.findMany({ where: { baseId: machine.baseId } });
  expect(payments).toHaveLength(1);
  expect(payments[0]).toMatchObject({ status: 'SUCCEEDED', providerRef: paymentIntentId });
  expect(await h.prisma.invoice.count({ where: { baseId: machine.baseId } })).toBe(1);
  expect(
    (await h.prisma.sepaMandate.findUniqueOrThrow({ where: { paymentMethodId: account.id } })).status,
  ).toBe('ACTIVE');
  await h.mail.waitFor((m) => m.to.includes(email) && m.subject === 'Votre licence est active');
  expect(h.mail.messagesTo(email).filter((m) => m.subject === 'Votre licence est active')).toHaveLength(1);
  await handle.terminate('test over');
});
