/**
 * Durability of the v15 → A1 migration: the worker dies right after the "create A1" step wrote the A1 licence
 * (before it could report it), a new worker takes over, and the migration completes once — one A1 licence,
 * the v15 licence TRANSFERRED, one email. Real Temporal dev server, PostgreSQL and SMTP; the only stand-in is
 * a wrapper at the activity boundary that holds the finished step until the worker is shut down.
 */
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { oneMonthAfter } from '../../domain/migration';
import { addDays } from '../../domain/periods';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { requestLicenceMigration } from '../../services/migrations/request-licence-migration';
import { createActivities } from '../../worker';
import { licenceMigrationWorkflowId } from '../../workflows/ids';
import type { LicenceMigrationOutcome } from '../../workflows/licence-migration';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, uniqueEmail, workflowBundle, workerDeps, type Harness } from '../helpers/harness';

let h: Harness;
let connection: NativeConnection;

beforeAll(async () => {
  h = await createHarness();
  connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
});
afterAll(async () => {
  await connection?.close();
  await h?.close();
});

it('the worker dies between "create A1" and "mark v15": the migration completes once on a new worker', async () => {
  const ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'support', role: 'OPS' }))
    .token;
  const { baseId, installationId } = await registerMachine(h);
  const email = uniqueEmail('v15');
  const endDate = addDays(oneMonthAfter(dayOf(Date.now())), 90);
  const imported = await request(h.app)
    .post('/ops/licences/v15-imports')
    .set(bearer(ops))
    .send([{ baseId, holder: 'Garage Martin', email, edition: 'ENTERPRISE', connections: 2, endDate }]);
  expect(imported.body.imported).toBe(1);

  // a worker whose "create A1" step writes the licence, then never reports back
  await h.stopWorker();
  const real = createActivities(workerDeps(h));
  let written!: () => void;
  const a1Written = new Promise<void>((resolve) => (written = resolve));
  const doomed = await Worker.create({
    connection,
    taskQueue: h.taskQueue,
    dataConverter: h.dataConverter,
    workflowBundle: await workflowBundle(),
    activities: {
      ...real,
      createA1Licence: async (input: Parameters<typeof real.createA1Licence>[0]) => {
        await real.createA1Licence(input);
        written();
        await Context.current().cancelled; // until the worker shuts down: the attempt is lost
        throw new Error('unreachable');
      },
    },
  });
  const doomedRun = doomed.run();

  const accepted = await requestLicenceMigration(h.services, {
    actor: { type: 'INSTALLATION', id: installationId },
    baseId,
    request: {},
    waitMs: 0,
  });
  expect(accepted.status).toBe('RUNNING');
  await a1Written;
  doomed.shutdown();
  await doomedRun;

  // the crash point: the A1 licence exists, nothing after it was done
  expect(await h.prisma.licence.count({ where: { baseId, version: 'A1' } })).toBe(1);
  expect(await h.prisma.licence.findFirstOrThrow({ where: { baseId, version: 'V15' } })).toMatchObject({
    status: 'ACTIVE',
  });
  expect(h.mail.messagesTo(email)).toHaveLength(0);

  await h.startWorker();
  const handle = h.temporal.workflow.getHandle(licenceMigrationWorkflowId(baseId));
  const outcome = (await handle.result()) as LicenceMigrationOutcome;
  expect(outcome).toMatchObject({ status: 'COMPLETED', carriedBy: 'SUBSCRIPTION' });

  const a1 = await h.prisma.licence.findMany({ where: { baseId, version: 'A1' } });
  expect(a1).toHaveLength(1);
  expect(a1[0]).toMatchObject({ status: 'ACTIVE', connections: 2, periodEnd: addDays(endDate, 1) });
  expect(await h.prisma.licence.findFirstOrThrow({ where: { baseId, version: 'V15' } })).toMatchObject({
    status: 'TRANSFERRED',
    transferredToId: a1[0]!.id,
  });
  await h.mail.waitFor((m) => m.to.includes(email));
  expect(h.mail.messagesTo(email)).toHaveLength(1);
  expect(
    await h.prisma.auditLog.count({ where: { action: 'licence.migrated_from_v15', entityId: a1[0]!.id } }),
  ).toBe(1);

  // the step was scheduled once; its lost first attempt was retried (attempt 2 is the one recorded)
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createA1Licence',
  );
  expect(scheduled).toHaveLength(1);
  const started = events.find(
    (e) =>
      Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === Number(scheduled[0]!.eventId),
  );
  expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);

  const status = await request(h.app).get(`/bases/${baseId}/licence/migrations`).set(bearer(ops));
  expect(status.body).toMatchObject({ status: 'COMPLETED', a1LicenceId: a1[0]!.id });
});
