/**
 * Customer accounts through the API, on real PostgreSQL, Temporal and SMTP: creation confirmed by an
 * emailed code, wrong / expired / locked codes, re-send, one account per company, updates, export.
 */
import request from 'supertest';
import { workflowIds } from '../../workflows/ids';
import { bearer, confirmedAccount, PASSWORD, registerMachine, waitForCode } from '../helpers/api';
import { companyDetails, createHarness, uniqueEmail, type Harness } from '../helpers/harness';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

async function startAccount(email = uniqueEmail(), overrides: Record<string, unknown> = {}) {
  const machine = await registerMachine(h);
  const res = await request(h.app)
    .post('/accounts')
    .set(bearer(machine.apiKey))
    .send({ ...companyDetails(overrides), email });
  expect(res.status).toBe(202);
  return { ...machine, email, accountId: res.body.accountId as number };
}

const confirm = (key: string, accountId: number, code: string) =>
  request(h.app)
    .post(`/accounts/${accountId}/confirmation`)
    .set(bearer(key))
    .send({ code, password: PASSWORD });

const wrongCodeFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('account creation confirmed by an emailed code', () => {
  it('sends a real SMTP message whose code, typed back, activates the account and links the machine', async () => {
    const { apiKey, email, accountId, installationId } = await startAccount();
    const mails = h.mail.messagesTo(email);
    const code = await waitForCode(h, email);
    expect(h.mail.messagesTo(email)).toHaveLength(Math.max(mails.length, 1));
    const mail = h.mail.messagesTo(email)[0]!;
    expect(mail.subject).toContain('Confirmez votre compte');

    const res = await confirm(apiKey, accountId, code);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: accountId, status: 'ACTIVE', email, hasPassword: true });
    expect(res.body).not.toHaveProperty('passwordHash');

    const installation = await h.prisma.installation.findUniqueOrThrow({ where: { id: installationId } });
    expect(installation.accountId).toBe(accountId);
    const me = await request(h.app).get('/installations/me').set(bearer(apiKey));
    expect(me.body.accountId).toBe(accountId);

    const stored = await h.prisma.emailCode.findMany({ where: { challenge: { accountId } } });
    expect(stored.every((c) => !c.codeHash.includes(code))).toBe(true);
    const actions = (
      await h.prisma.auditLog.findMany({ where: { entityType: 'ACCOUNT', entityId: String(accountId) } })
    ).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['account.created', 'account.confirmed', 'account.password_set']),
    );

    const again = await confirm(apiKey, accountId, code);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_CONFIRMED');
  });

  it('answers a wrong code with the tries left, decreasing', async () => {
    const { apiKey, email, accountId } = await startAccount();
    const wrong = wrongCodeFor(await waitForCode(h, email));
    const first = await confirm(apiKey, accountId, wrong);
    expect(first.status).toBe(422);
    expect(first.body.error).toMatchObject({ code: 'CODE_INVALID', details: { triesLeft: 4 } });
    const second = await confirm(apiKey, accountId, wrong);
    expect(second.body.error).toMatchObject({ code: 'CODE_INVALID', details: { triesLeft: 3 } });
    const account = await h.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.status).toBe('PENDING');
  });

  it('locks after 5 wrong codes: even the right code is then refused', async () => {
    const { apiKey, email, accountId } = await startAccount();
    const code = await waitForCode(h, email);
    const answers: string[] = [];
    for (let i = 0; i < 5; i += 1)
      answers.push((await confirm(apiKey, accountId, wrongCodeFor(code))).body.error.code);
    expect(answers).toEqual(['CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CODE_LOCKED']);
    const right = await confirm(apiKey, accountId, code);
    expect(right.status).toBe(422);
    expect(right.body.error.code).toBe('CODE_LOCKED');
    expect((await h.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).status).toBe('PENDING');
  });

  it('re-sending voids the old code, and is rate-limited', async () => {
    const { apiKey, email, accountId } = await startAccount();
    const oldCode = await waitForCode(h, email);
    const firstMailId = h.mail.messagesTo(email).at(-1)!.id;

    const tooSoon = await request(h.app)
      .post(`/accounts/${accountId}/confirmation/resend`)
      .set(bearer(apiKey));
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.body.error.code).toBe('RESEND_TOO_SOON');

    await new Promise((r) => setTimeout(r, 1100)); // cool-down is 1 s in tests
    const resent = await request(h.app)
      .post(`/accounts/${accountId}/confirmation/resend`)
      .set(bearer(apiKey));
    expect(resent.status).toBe(202);
    const newCode = await waitForCode(h, email, firstMailId);

    if (newCode !== oldCode) {
      const old = await confirm(apiKey, accountId, oldCode);
      expect(old.body.error.code).toBe('CODE_INVALID');
    }
    const res = await confirm(apiKey, accountId, newCode);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ACTIVE');
  });

  it('a second creation for the same email while one is pending returns the same confirmation', async () => {
    const email = uniqueEmail();
    const first = await startAccount(email);
    await waitForCode(h, email);
    const handle = h.temporal.workflow.getHandle(workflowIds.accountConfirmation(email));
    const runBefore = (await handle.describe()).runId;

    const second = await request(h.app)
      .post('/accounts')
      .set(bearer(first.apiKey))
      .send({ ...companyDetails(), email });
    expect(second.status).toBe(202);
    expect(second.body.accountId).toBe(first.accountId);
    expect((await handle.describe()).runId).toBe(runBefore);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.mail.messagesTo(email)).toHaveLength(1);
    expect(await h.prisma.account.count({ where: { email } })).toBe(1);
  });

  it('refuses a second account for the same company with 409 and the "register existing" hint', async () => {
    const existing = await confirmedAccount(h, { companyName: 'Garage Martin SARL', postalCode: '69001' });
    const machine = await registerMachine(h);
    const before = await h.prisma.account.count();
    const res = await request(h.app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({
        ...companyDetails({ companyName: 'GARAGE MARTIN', postalCode: '69001' }),
        email: uniqueEmail('other'),
      });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'ACCOUNT_EXISTS',
      details: { hint: 'REGISTER_EXISTING_ACCOUNT' },
    });
    expect(await h.prisma.account.count()).toBe(before);

    const sameEmail = await request(h.app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({ ...companyDetails(), email: existing.email });
    expect(sameEmail.status).toBe(409);
  });

  it('an expired code is refused and the challenge is closed as EXPIRED', async () => {
    const shortLived = await createHarness({ emailCode: { ttlSeconds: 2 } });
    try {
      const machine = await registerMachine(shortLived);
      const email = uniqueEmail();
      const created = await request(shortLived.app)
        .post('/accounts')
        .set(bearer(machine.apiKey))
        .send({ ...companyDetails(), email });
      const code = await waitForCode(shortLived, email);
      await new Promise((r) => setTimeout(r, 3000));
      const res = await request(shortLived.app)
        .post(`/accounts/${created.body.accountId}/confirmation`)
        .set(bearer(machine.apiKey))
        .send({ code, password: PASSWORD });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('CODE_EXPIRED');
      const challenge = await shortLived.prisma.emailChallenge.findFirstOrThrow({
        where: { accountId: created.body.accountId },
      });
      expect(challenge.status).toBe('EXPIRED');
      expect(
        (await shortLived.prisma.account.findUniqueOrThrow({ where: { id: created.body.accountId } })).status,
      ).toBe('PENDING');
    } finally {
      await shortLived.close();
    }
  });
});

describe('account details', () => {
  it('an update without the right password is 401 and changes nothing; with it, takes effect at once', async () => {
    const { apiKey, accountId } = await confirmedAccount(h);
    const wrong = await request(h.app)
      .patch(`/accounts/${accountId}`)
      .set(bearer(apiKey))
      .send({ password: 'not the password', changes: { city: 'Lyon' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_PASSWORD');
    expect((await h.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).city).toBe('Paris');

    const ok = await request(h.app)
      .patch(`/accounts/${accountId}`)
      .set(bearer(apiKey))
      .send({ password: PASSWORD, changes: { city: 'Lyon', apeCode: '62.01Z' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ city: 'Lyon', apeCode: '6201Z' });
    const audit = await h.prisma.auditLog.findFirstOrThrow({
      where: { entityId: String(accountId), action: 'account.updated' },
    });
    expect(audit.data).toMatchObject({
      fields: expect.arrayContaining(['city', 'apeCode']),
      before: { city: 'Paris' },
    });
  });

  it("another machine's key can't read or change the account", async () => {
    const { accountId } = await confirmedAccount(h);
    const stranger = await registerMachine(h);
    const res = await request(h.app).get(`/accounts/${accountId}`).set(bearer(stranger.apiKey));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('exports everything held about the account (password required)', async () => {
    const { apiKey, accountId, baseId, email } = await confirmedAccount(h);
    const denied = await request(h.app)
      .post(`/accounts/${accountId}/export`)
      .set(bearer(apiKey))
      .send({ password: 'wrong password!' });
    expect(denied.status).toBe(401);
    const res = await request(h.app)
      .post(`/accounts/${accountId}/export`)
      .set(bearer(apiKey))
      .send({ password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.account).toMatchObject({ id: accountId, email });
    expect(res.body.bases).toEqual([expect.objectContaining({ baseId })]);
    expect(res.body.machines).toHaveLength(1);
    expect(res.body.auditLog.map((a: { action: string }) => a.action)).toContain('account.confirmed');
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt\$/);
  });

  it('resets a forgotten password with an emailed code', async () => {
    const { apiKey, accountId, email } = await confirmedAccount(h);
    const before = h.mail.messagesTo(email).at(-1)!.id;
    const asked = await request(h.app).post('/password-resets').set(bearer(apiKey)).send({ email });
    expect(asked.status).toBe(202);
    const unknown = await request(h.app)
      .post('/password-resets')
      .set(bearer(apiKey))
      .send({ email: uniqueEmail('nobody') });
    expect(unknown.status).toBe(202);
    const code = await waitForCode(h, email, before);
    const res = await request(h.app)
      .post('/password-resets/confirmation')
      .set(bearer(apiKey))
      .send({ email, code, newPassword: 'a brand new passphrase' });
    expect(res.status).toBe(200);
    const update = await request(h.app)
      .patch(`/accounts/${accountId}`)
      .set(bearer(apiKey))
      .send({ password: 'a brand new passphrase', changes: { city: 'Nantes' } });
    expect(update.status).toBe(200);
    const reuse = await request(h.app)
      .post('/password-resets/confirmation')
      .set(bearer(apiKey))
      .send({ email, code, newPassword: 'yet another passphrase' });
    expect(reuse.status).toBe(409);
    expect(reuse.body.error.code).toBe('CHALLENGE_ALREADY_USED');
  });
});

describe('bad input', () => {
  it('malformed bodies get 400 with field details and nothing is written', async () => {
    const machine = await registerMachine(h);
    const accounts = await h.prisma.account.count();
    const audits = await h.prisma.auditLog.count();
    const res = await request(h.app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({
        ...companyDetails({ apeCode: '11B', country: 'FR', phone: 'call me' }),
        email: 'not-an-email',
      });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const paths = res.body.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['body.email', 'body.apeCode', 'body.country', 'body.phone']),
    );

    const broken = await request(h.app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .set('content-type', 'application/json')
      .send('{"email": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('MALFORMED_JSON');

    const badCode = await request(h.app)
      .post('/accounts/1/confirmation')
      .set(bearer(machine.apiKey))
      .send({ code: '12ab', password: 'short' });
    expect(badCode.status).toBe(400);
    expect(badCode.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual([
      'body.code',
      'body.password',
    ]);

    expect(await h.prisma.account.count()).toBe(accounts);
    expect(await h.prisma.auditLog.count()).toBe(audits);
  });

  it('unknown routes and missing keys answer in the documented error shape', async () => {
    const missing = await request(h.app).get('/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    const noKey = await request(h.app).post('/accounts').send({});
    expect(noKey.status).toBe(401);
    expect(noKey.body.error.code).toBe('UNAUTHENTICATED');
    const badKey = await request(h.app).post('/accounts').set(bearer('lk_forged')).send({});
    expect(badKey.status).toBe(401);
  });
});
