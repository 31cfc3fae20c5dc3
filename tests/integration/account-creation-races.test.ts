/**
 * POST /accounts under concurrency and right after its answer: parallel requests for one email (case and
 * space variants included) answer as sequential ones do, and the account the 202 names can be confirmed
 * (or its code re-sent) at once.
 */
import request from 'supertest';
import { bearer, registerMachine, waitForCode, PASSWORD } from '../helpers/api';
import { companyDetails, createHarness, uniqueEmail, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

it('50 parallel POST /accounts with one email (case variants): all 202, one account, as in sequence', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail('race');
  const details = companyDetails();
  const variants = [email, email.toUpperCase(), email.replace(/^./, (c) => c.toUpperCase())];
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      request(h.app)
        .post('/accounts')
        .set(bearer(machine.apiKey))
        .send({ ...details, email: variants[i % variants.length] }),
    ),
  );
  const statuses = answers.map((a) => a.status);
  expect(statuses.filter((s) => s !== 202)).toEqual([]);
  const ids = new Set(answers.map((a) => a.body.accountId as number));
  expect(ids.size).toBe(1);
  expect(await h.prisma.account.count({ where: { email } })).toBe(1);

  // the sequential case: one more request answers the same account
  const again = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...details, email });
  expect(again.status).toBe(202);
  expect(again.body.accountId).toBe([...ids][0]);
});

it('an email with surrounding spaces is refused the same way in parallel as alone', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail('space');
  const details = companyDetails();
  const alone = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...details, email: ` ${email} ` });
  const parallel = await Promise.all(
    Array.from({ length: 10 }, () =>
      request(h.app)
        .post('/accounts')
        .set(bearer(machine.apiKey))
        .send({ ...details, email: ` ${email} ` }),
    ),
  );
  expect(parallel.map((p) => p.status)).toEqual(parallel.map(() => alone.status));
  expect(alone.status).toBeLessThan(500);
});

it('right after the 202, the confirmation route knows the account (a wrong code is CODE_INVALID, not 404)', async () => {
  for (let round = 0; round < 5; round++) {
    const machine = await registerMachine(h);
    const email = uniqueEmail('fast');
    const created = await request(h.app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({ ...companyDetails(), email });
    expect(created.status).toBe(202);
    const accountId = created.body.accountId as number;
    const wrong = await request(h.app)
      .post(`/accounts/${accountId}/confirmation`)
      .set(bearer(machine.apiKey))
      .send({ code: '000000', password: PASSWORD });
    // the code mailed is random: '000000' is (almost always) wrong; either way, never ACCOUNT_NOT_FOUND
    expect(wrong.body.error?.code ?? 'OK').not.toBe('ACCOUNT_NOT_FOUND');
    expect([422, 200]).toContain(wrong.status);
    const resend = await request(h.app)
      .post(`/accounts/${accountId}/confirmation/resend`)
      .set(bearer(machine.apiKey));
    expect(resend.body.error?.code ?? 'OK').not.toBe('ACCOUNT_NOT_FOUND');
  }
});

it('the code of the 202 confirms the account', async () => {
  const machine = await registerMachine(h);
  const email = uniqueEmail('ok');
  const created = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...companyDetails(), email });
  const code = await waitForCode(h, email);
  const confirmed = await request(h.app)
    .post(`/accounts/${created.body.accountId as number}/confirmation`)
    .set(bearer(machine.apiKey))
    .send({ code, password: PASSWORD });
  expect(confirmed.status).toBe(200);
});
