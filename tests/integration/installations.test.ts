/**
 * Installations, API keys and tenancy: claiming a base, a further machine needing the owner's emailed
 * code, machine link and unlink, keys scoped to bases, ops tokens and key revocation, rate limits.
 */
import request from 'supertest';
import { createApp } from '../../api/app';
import pino from 'pino';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount, registerMachine, waitForCode } from '../helpers/api';
import { createHarness, randomBaseId, type Harness } from '../helpers/harness';

let h: Harness;
let opsToken: string;
let adminToken: string;

beforeAll(async () => {
  h = await createHarness();
  opsToken = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'support', role: 'OPS' }))
    .token;
  adminToken = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'boss', role: 'ADMIN' }))
    .token;
});
afterAll(async () => {
  await h?.close();
});

describe('registration and tenancy', () => {
  it('the first machine of a base claims it; a key for base A gets 403 on base B', async () => {
    const a = await registerMachine(h);
    const b = await registerMachine(h);
    const own = await request(h.app).get(`/bases/${a.baseId}`).set(bearer(a.apiKey));
    expect(own.status).toBe(200);
    expect(own.body.installations[0]).toMatchObject({
      machineName: 'POSTE-1',
      apiKeys: [expect.objectContaining({ prefix: a.apiKey.slice(0, 9) })],
    });
    expect(JSON.stringify(own.body)).not.toContain(a.apiKey);

    const other = await request(h.app).get(`/bases/${b.baseId}`).set(bearer(a.apiKey));
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('BASE_FORBIDDEN');
    const unknown = await request(h.app).get(`/bases/${randomBaseId()}`).set(bearer(a.apiKey));
    expect(unknown.status).toBe(403);

    const stored = await h.prisma.apiKey.findFirstOrThrow({ where: { installationId: a.installationId } });
    expect(stored.hash).not.toContain(a.apiKey);
  });

  it('a guessed base ID never yields a key: a further machine needs the owner account and its emailed code', async () => {
    const owner = await confirmedAccount(h);
    const keys = await h.prisma.apiKey.count();

    const blind = await request(h.app)
      .post('/installations')
      .send({ baseId: owner.baseId, machineName: 'INTRUS' });
    expect(blind.status).toBe(409);
    expect(blind.body.error.code).toBe('BASE_ALREADY_CLAIMED');
    const wrongAccount = await request(h.app)
      .post('/installations')
      .send({ baseId: owner.baseId, machineName: 'INTRUS', accountId: owner.accountId + 1000 });
    expect(wrongAccount.status).toBe(409);
    expect(wrongAccount.body).toEqual(blind.body);
    expect(await h.prisma.apiKey.count()).toBe(keys);

    const before = h.mail.messagesTo(owner.email).at(-1)!.id;
    const asked = await request(h.app)
      .post('/installations')
      .send({ baseId: owner.baseId, machineName: 'POSTE-2', accountId: owner.accountId });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({
      status: 'CODE_SENT',
      codeSentTo: expect.stringMatching(/^\w\*+@example\.fr$/),
    });
    const code = await waitForCode(h, owner.email, before);

    const wrong = await request(h.app)
      .post('/installations/claims')
      .send({ baseId: owner.baseId, machineName: 'POSTE-2', code: code === '000000' ? '000001' : '000000' });
    expect(wrong.status).toBe(422);
    const claimed = await request(h.app)
      .post('/installations/claims')
      .send({ baseId: owner.baseId, machineName: 'POSTE-2', code });
    expect(claimed.status).toBe(201);
    expect(claimed.body.apiKey).toMatch(/^lk_/);
    const me = await request(h.app).get('/installations/me').set(bearer(claimed.body.apiKey));
    expect(me.body).toMatchObject({
      baseId: owner.baseId,
      machineName: 'POSTE-2',
      accountId: owner.accountId,
    });

    const replay = await request(h.app)
      .post('/installations/claims')
      .send({ baseId: owner.baseId, machineName: 'POSTE-2', code });
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe('CHALLENGE_ALREADY_USED');
    expect(await h.prisma.apiKey.count()).toBe(keys + 1);
  });

  it('links a machine of another base to an existing account with a code, then unlinks it', async () => {
    const owner = await confirmedAccount(h);
    const machine = await registerMachine(h);
    expect((await request(h.app).get(`/bases/${owner.baseId}`).set(bearer(machine.apiKey))).status).toBe(403);

    const before = h.mail.messagesTo(owner.email).at(-1)!.id;
    const asked = await request(h.app)
      .post('/installations/me/account-link')
      .set(bearer(machine.apiKey))
      .send({ accountId: owner.accountId });
    expect(asked.status).toBe(202);
    const code = await waitForCode(h, owner.email, before);
    const linked = await request(h.app)
      .post('/installations/me/account-link/confirmation')
      .set(bearer(machine.apiKey))
      .send({ accountId: owner.accountId, code });
    expect(linked.status).toBe(200);
    expect(linked.body).toMatchObject({ status: 'LINKED', accountId: owner.accountId });

    // the key now covers the account's bases, and its own base joined the account
    const me = await request(h.app).get('/installations/me').set(bearer(machine.apiKey));
    expect(me.body.bases).toEqual([owner.baseId, machine.baseId].sort());
    expect((await request(h.app).get(`/bases/${owner.baseId}`).set(bearer(machine.apiKey))).status).toBe(200);
    expect(
      (await request(h.app).get(`/accounts/${owner.accountId}`).set(bearer(machine.apiKey))).status,
    ).toBe(200);

    const unlinked = await request(h.app)
      .delete('/installations/me/account-link')
      .set(bearer(machine.apiKey));
    expect(unlinked.status).toBe(204);
    expect((await request(h.app).get(`/bases/${owner.baseId}`).set(bearer(machine.apiKey))).status).toBe(403);
    const again = await request(h.app).delete('/installations/me/account-link').set(bearer(machine.apiKey));
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('NOT_LINKED');
    const actions = (
      await h.prisma.auditLog.findMany({
        where: { entityType: 'INSTALLATION', entityId: machine.installationId },
      })
    ).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['installation.registered', 'installation.linked', 'installation.unlinked']),
    );
  });

  it('refuses to link to an unknown account', async () => {
    const machine = await registerMachine(h);
    const res = await request(h.app)
      .post('/installations/me/account-link')
      .set(bearer(machine.apiKey))
      .send({ accountId: 999999 });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('rate-limits registrations per client address, across API processes', async () => {
    // two API processes behind one proxy, sharing the database: the count is in PostgreSQL
    const apiProcess = () =>
      createApp({
        services: h.services,
        logger: pino({ level: 'silent' }),
        registrationsPerHour: 2,
        trustProxyHops: 1,
        readiness: {},
      });
    const [one, two] = [apiProcess(), apiProcess()];
    const register = (app: typeof one, address: string) =>
      request(app)
        .post('/installations')
        .set('x-forwarded-for', address)
        .send({ baseId: randomBaseId(), machineName: 'X' });
    const statuses: number[] = [];
    for (const app of [one, two, one, two]) statuses.push((await register(app, '203.0.113.7')).status);
    expect(statuses).toEqual([201, 201, 429, 429]);
    const last = await register(two, '203.0.113.7');
    expect(last.body.error.code).toBe('RATE_LIMITED');
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(3000);
    // another address is not affected
    expect((await register(one, '203.0.113.8')).status).toBe(201);
  });
});

describe('ops', () => {
  it('ops tokens are stored hashed; ops can see any base, issue and revoke keys', async () => {
    const machine = await registerMachine(h);
    const stored = await h.prisma.opsToken.findMany();
    expect(stored.every((t) => !t.hash.includes(opsToken))).toBe(true);

    expect((await request(h.app).get(`/bases/${machine.baseId}`).set(bearer(opsToken))).status).toBe(200);

    const issued = await request(h.app)
      .post('/ops/installations')
      .set(bearer(opsToken))
      .send({ baseId: machine.baseId, machineName: 'SUPPORT' });
    expect(issued.status).toBe(201);
    expect((await request(h.app).get('/installations/me').set(bearer(issued.body.apiKey))).status).toBe(200);

    const revoked = await request(h.app).delete(`/ops/api-keys/${issued.body.keyId}`).set(bearer(opsToken));
    expect(revoked.status).toBe(204);
    const after = await request(h.app).get('/installations/me').set(bearer(issued.body.apiKey));
    expect(after.status).toBe(401);
    const audit = await request(h.app)
      .get('/ops/audit')
      .query({ entityType: 'API_KEY', entityId: issued.body.keyId })
      .set(bearer(opsToken));
    expect(audit.body.map((a: { action: string }) => a.action)).toEqual([
      'api_key.issued',
      'api_key.revoked',
    ]);
    expect(audit.body[1]).toMatchObject({ actorType: 'OPS', actorId: 'support' });
  });

  it('roles: installations and plain ops tokens cannot manage ops tokens; admins can', async () => {
    const machine = await registerMachine(h);
    expect(
      (
        await request(h.app)
          .post('/ops/installations')
          .set(bearer(machine.apiKey))
          .send({ baseId: randomBaseId(), machineName: 'X' })
      ).status,
    ).toBe(403);
    const asOps = await request(h.app)
      .post('/ops/tokens')
      .set(bearer(opsToken))
      .send({ name: 'x', role: 'OPS' });
    expect(asOps.status).toBe(403);
    expect(asOps.body.error.code).toBe('ROLE_REQUIRED');

    const created = await request(h.app)
      .post('/ops/tokens')
      .set(bearer(adminToken))
      .send({ name: 'temp', role: 'OPS' });
    expect(created.status).toBe(201);
    expect(
      (await request(h.app).get(`/bases/${machine.baseId}`).set(bearer(created.body.token))).status,
    ).toBe(200);
    expect(
      (await request(h.app).delete(`/ops/tokens/${created.body.id}`).set(bearer(adminToken))).status,
    ).toBe(204);
    expect(
      (await request(h.app).get(`/bases/${machine.baseId}`).set(bearer(created.body.token))).status,
    ).toBe(401);
  });
});

describe('service endpoints', () => {
  it('readyz checks the database, Temporal and SMTP', async () => {
    const res = await request(h.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok', smtp: 'ok' } });
    expect((await request(h.app).get('/healthz')).body).toEqual({ status: 'ok' });
  });

  it('readyz is 503 with the failing part named when a dependency is down', async () => {
    const app = createApp({
      services: h.services,
      logger: pino({ level: 'silent' }),
      registrationsPerHour: 10,
      readiness: {
        database: async () => undefined,
        smtp: () => Promise.reject(new Error('connection refused')),
      },
    });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({
      code: 'NOT_READY',
      details: { checks: { database: 'ok', smtp: 'failing: connection refused' } },
    });
  });

  it('serves the OpenAPI document generated from the route schemas, and its docs page', async () => {
    const doc = await request(h.app).get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/installations',
        '/accounts',
        '/accounts/{accountId}/confirmation',
        '/bases/{baseId}',
      ]),
    );
    expect(
      doc.body.paths['/accounts'].post.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('apeCode');
    const page = await request(h.app).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger');
  });
});
