/**
 * The database goes away for a few seconds in the middle of a workflow and the workflow resumes. The worker
 * reaches PostgreSQL through a TCP proxy (tests/helpers/db-proxy.ts) that the test cuts: open connections
 * drop, new ones are refused, as in a database restart or a network partition. A card purchase is paid while
 * the database is unreachable: the activation activity fails, Temporal retries it with back-off, and once
 * the database is back the licence is activated — once.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import request from 'supertest';
import { createPrisma, type PrismaClient } from '../../infra/prisma';
import { createActivities } from '../../worker';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { deliver } from '../helpers/credits';
import { startDbProxy, type DbProxy } from '../helpers/db-proxy';
import { paymentIntentEvent, until } from '../helpers/faults';
import { createHarness, uniqueEmail, workflowBundle, workerDeps, type Harness } from '../helpers/harness';

jest.setTimeout(180_000);

let h: Harness;
let proxy: DbProxy;
let proxied: PrismaClient;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  h = await createHarness();
  await h.stopWorker(); // this file's worker reaches the database through the proxy
  proxy = await startDbProxy(h.databaseUrl);
  proxied = createPrisma(proxy.urlFor(h.databaseUrl), 5);
  connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  worker = await Worker.create({
    connection,
    taskQueue: h.taskQueue,
    dataConverter: h.dataConverter,
    workflowBundle: await workflowBundle(),
    activities: createActivities(workerDeps(h, { prisma: proxied })),
  });
  running = worker.run();
});
afterAll(async () => {
  proxy?.restore();
  worker?.shutdown();
  await running;
  await connection?.close();
  await proxied?.$disconnect();
  await proxy?.stop();
  await h?.close();
});

it('paid while the database is unreachable: activation retries, then completes once when it is back', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  const bought = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 1,
      period: 'ANNUAL',
      paymentMethod: 'ONLINE',
      billing: {
        companyName: 'Garage Martin',
        lastName: 'Martin',
        firstName: 'Paul',
        address: '3 avenue Foch',
        postalCode: '69006',
        city: 'Lyon',
        country: 'FRA',
        email,
      },
      terms: { version: '2026-01', accepted: true },
    });
  expect(bought.status).toBe(201);
  const handle = h.temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId));

  // the workflow is waiting for the payment (its PaymentIntent noted): no activity in flight
  await until(
    async () => (await handle.describe()).raw.pendingActivities?.length ?? 0,
    (n) => n === 0,
    'the workflow waiting for the payment',
  );

  proxy.cut();
  const droppedAtCut = proxy.refused();
  // the webhook (the API has its own connection) signals the workflow; the worker can't reach the database
  expect(
    (await deliver(h, paymentIntentEvent('payment_intent.succeeded', machine.baseId, bought.body))).status,
  ).toBe(200);
  // the activation (a local activity, retried by the worker with back-off) keeps trying: each attempt is
  // refused by the cut database
  await until(
    async () => proxy.refused() - droppedAtCut,
    (n) => n >= 3,
    'activateLicence failing against the unreachable database, attempt after attempt',
  );
  expect((await handle.query(getSubscriptionStateQuery)).status).toBe('AWAITING_PAYMENT');
  expect(await h.prisma.payment.count({ where: { baseId: machine.baseId } })).toBe(0);

  proxy.restore();
  const state = await until(
    () => handle.query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
    'activation',
    90,
  );
  expect(state.licenceId).toBe(bought.body.licenceId);
  expect(await h.prisma.payment.count({ where: { baseId: machine.baseId } })).toBe(1);
  expect(await h.prisma.invoice.count({ where: { baseId: machine.baseId } })).toBe(1);
  expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: bought.body.licenceId } })).toMatchObject({
    status: 'ACTIVE',
  });
  await h.mail.waitFor((m) => m.to.includes(email) && m.subject === 'Votre licence est active');
  expect(h.mail.messagesTo(email).filter((m) => m.subject === 'Votre licence est active')).toHaveLength(1);
});
