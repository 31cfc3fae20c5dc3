/**
 * Durability: the worker is stopped in the middle of account confirmations (real Temporal dev server,
 * real activities, real SMTP) and a new worker finishes them, with nothing done twice.
 */
import request from 'supertest';
import { workflowIds } from '../../workflows/ids';
import { bearer, PASSWORD, registerMachine, waitForCode } from '../helpers/api';
import { companyDetails, createHarness, uniqueEmail, type Harness } from '../helpers/harness';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

it('a confirmation started while no worker runs completes once a worker is back', async () => {
  const machine = await registerMachine(h);
  await h.stopWorker();
  const email = uniqueEmail();
  const created = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...companyDetails(), email });
  expect(created.status).toBe(202);
  await new Promise((r) => setTimeout(r, 1000));
  expect(h.mail.messagesTo(email)).toHaveLength(0); // nothing runs without a worker...

  await h.startWorker(); // ...and nothing is lost
  const code = await waitForCode(h, email);
  const res = await request(h.app)
    .post(`/accounts/${created.body.accountId}/confirmation`)
    .set(bearer(machine.apiKey))
    .send({ code, password: PASSWORD });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('ACTIVE');
  expect(h.mail.messagesTo(email)).toHaveLength(1);
});

it('the worker restarts between the emailed code and its submission: the flow still completes', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail();
  const created = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...companyDetails(), email });
  const code = await waitForCode(h, email);

  await h.stopWorker();
  const wrongWhileDown = request(h.app)
    .post(`/accounts/${created.body.accountId}/confirmation`)
    .set(bearer(machine.apiKey))
    .send({ code: code === '000000' ? '000001' : '000000', password: PASSWORD });
  const pending = wrongWhileDown.then((r) => r); // the update waits for a worker
  await new Promise((r) => setTimeout(r, 500));
  await h.startWorker();
  const wrong = await pending;
  expect(wrong.body.error).toMatchObject({ code: 'CODE_INVALID', details: { triesLeft: 4 } });

  const res = await request(h.app)
    .post(`/accounts/${created.body.accountId}/confirmation`)
    .set(bearer(machine.apiKey))
    .send({ code, password: PASSWORD });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('ACTIVE');

  const history = await h.temporal.workflow.getHandle(workflowIds.accountConfirmation(email)).fetchHistory();
  const scheduled = (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((name): name is string => Boolean(name));
  expect(scheduled.filter((n) => n === 'issueCode')).toHaveLength(1);
  expect(scheduled.filter((n) => n === 'completeChallenge')).toHaveLength(1);
  expect(h.mail.messagesTo(email)).toHaveLength(1);
  expect(
    await h.prisma.auditLog.count({
      where: { entityId: String(created.body.accountId), action: 'account.confirmed' },
    }),
  ).toBe(1);
});
