/**
 * v15 → A1 migrations caught at three steps when the worker is killed (SIGKILL, real `main.ts --role worker`
 * in a child process), then taken over by another worker:
 *
 *   M1  "create A1": waiting for the base's purchase lock (an advisory lock the test holds)
 *   M2  "mark v15 transferred": waiting on the v15 licence row (a row lock the test holds)
 *   M3  "confirm": the confirmation email sent, its record (`confirmationSentAt`) waiting on the migration row
 *
 * Each ends COMPLETED with one A1 licence, the v15 licence TRANSFERRED and the base's subscriptionWorkflow
 * carrying the A1 licence. The email is at-least-once (docs/faults.md): M3's was sent before the crash and
 * not recorded, so the customer gets it twice; M1's and M2's once. (The step after "create A1" has its own
 * test: tests/workflows/licence-migration-worker-restart.test.ts.)
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { oneMonthAfter } from '../../domain/migration';
import { addDays } from '../../domain/periods';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { licenceMigrationWorkflowId, subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { rowLock, terminateWaiting, until, waitingOnLocks, type RowLock } from '../helpers/faults';
import { createHarness, uniqueEmail, type Harness } from '../helpers/harness';
import { takeOverWorker, startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

let h: Harness;
let ops: string;
let child: WorkerProcess | undefined;
let worker: Worker | undefined;
let connection: NativeConnection | undefined;
let running: Promise<void> | undefined;
const locks: RowLock[] = [];
let advisory: pg.Client | undefined;

beforeAll(async () => {
  h = await createHarness();
  await h.stopWorker();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'faults' }, { name: 'support', role: 'OPS' }))
    .token;
  child = await startWorkerProcess(h, {
    temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
    taskQueue: h.taskQueue,
    stripeApiBase: process.env.TEST_STRIPE_API_BASE!,
  });
});
afterAll(async () => {
  await child?.kill();
  for (const lock of locks) await lock.release();
  await advisory?.end();
  worker?.shutdown();
  await running;
  await connection?.close();
  await h?.close();
});

const CONFIRMATION = 'Votre licence Gestan 15 est transférée vers Gestan A1';

async function baseWithV15() {
  const machine = await registerMachine(h);
  const email = uniqueEmail('v15');
  const endDate = addDays(oneMonthAfter(dayOf(Date.now())), 90);
  const imported = await request(h.app)
    .post('/ops/licences/v15-imports')
    .set(bearer(ops))
    .send([
      {
        baseId: machine.baseId,
        holder: 'Garage Martin',
        email,
        edition: 'ENTERPRISE',
        connections: 2,
        endDate,
      },
    ]);
  expect(imported.body.imported).toBe(1);
  const v15 = await h.prisma.licence.findFirstOrThrow({ where: { baseId: machine.baseId, version: 'V15' } });
  return { ...machine, email, v15Id: v15.id };
}

const migrate = (m: { baseId: string; apiKey: string }) =>
  request(h.app).post(`/bases/${m.baseId}/licence/migrations`).set(bearer(m.apiKey)).send({});
const migrationOf = (baseId: string) => h.prisma.licenceMigration.findFirstOrThrow({ where: { baseId } });

it('three migrations caught at three steps, one SIGKILL: each completes once', async () => {
  const [m1, m2, m3] = [await baseWithV15(), await baseWithV15(), await baseWithV15()];

  // M1: "create A1" waits for the base's purchase lock
  advisory = new pg.Client({ connectionString: h.databaseUrl });
  await advisory.connect();
  await advisory.query('SELECT pg_advisory_lock(hashtext($1))', [`purchase:${m1.baseId}`]);
  // M2 and M3: "mark v15 transferred" waits on the v15 row
  const m2Row = await rowLock(h.databaseUrl, 'Licence', m2.v15Id);
  locks.push(m2Row);
  const m3Row = await rowLock(h.databaseUrl, 'Licence', m3.v15Id);

  // the API waits a few seconds for the outcome, then answers that the migration runs
  for (const res of await Promise.all([m1, m2, m3].map(migrate))) expect([201, 202]).toContain(res.status);
  await until(
    () => waitingOnLocks(h.databaseUrl),
    (n) => n >= 3,
    'the three migrations caught',
  );

  // M3 goes on to its confirmation: the migration row held first, so that the email goes out and its
  // record waits
  const m3Migration = await migrationOf(m3.baseId);
  expect(m3Migration.a1LicenceId).not.toBeNull();
  locks.push(await rowLock(h.databaseUrl, 'LicenceMigration', m3Migration.id));
  await m3Row.release();
  await h.mail.waitFor((m) => m.to.includes(m3.email) && m.subject === CONFIRMATION);
  await until(
    () => waitingOnLocks(h.databaseUrl),
    (n) => n >= 3,
    'M3 recording its email',
  );

  // ---- the crash
  await child!.kill();
  child = undefined;
  for (const m of [m1, m2, m3]) expect((await migrationOf(m.baseId)).status).not.toBe('COMPLETED');
  expect(await h.prisma.licence.count({ where: { baseId: m1.baseId, version: 'A1' } })).toBe(0);
  // the dead worker's connections end (its three statements waiting on the locks never run)
  expect(await terminateWaiting(h.databaseUrl)).toBe(3);
  for (const lock of locks.splice(0)) await lock.release();
  await advisory.end();
  advisory = undefined;

  // ---- another worker takes over
  ({ connection, worker, running } = await takeOverWorker(h, h.taskQueue));

  for (const m of [m1, m2, m3]) {
    const outcome = await h.temporal.workflow.getHandle(licenceMigrationWorkflowId(m.baseId)).result();
    expect(outcome).toMatchObject({ status: 'COMPLETED', carriedBy: 'SUBSCRIPTION' });
    const a1s = await h.prisma.licence.findMany({ where: { baseId: m.baseId, version: 'A1' } });
    expect(a1s).toHaveLength(1);
    expect(a1s[0]!.id).toBe(outcome.status === 'COMPLETED' ? outcome.a1LicenceId : undefined);
    expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: m.v15Id } })).toMatchObject({
      status: 'TRANSFERRED',
    });
    expect(await migrationOf(m.baseId)).toMatchObject({ status: 'COMPLETED', a1LicenceId: a1s[0]!.id });
    const state = await h.temporal.workflow
      .getHandle(subscriptionWorkflowId(m.baseId))
      .query(getSubscriptionStateQuery);
    expect(state).toMatchObject({ licenceId: a1s[0]!.id, status: 'ACTIVE', autoRenew: false });
    await h.mail.waitFor((mail) => mail.to.includes(m.email) && mail.subject === CONFIRMATION);
  }
  const confirmations = (email: string) => h.mail.messagesTo(email).filter((m) => m.subject === CONFIRMATION);
  expect(confirmations(m1.email)).toHaveLength(1);
  expect(confirmations(m2.email)).toHaveLength(1);
  // sent, then the crash before it was recorded: sent again (at-least-once, never lost)
  expect(confirmations(m3.email)).toHaveLength(2);
});
