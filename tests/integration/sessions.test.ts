/**
 * Concurrent sessions on the real stack (PostgreSQL, Temporal, the HTTP app): exact admission under a
 * burst, eviction with its journal, evict-and-take-over races, heartbeats and expiry, trimming when the
 * licence's connections drop, tenancy.
 */
import type { Server } from 'node:http';
import type { PoolClient } from 'pg';
import request from 'supertest';
import { createSubscriptionActivities } from '../../activities/subscriptions';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { createPrincipalCache } from '../../services/auth/principal-cache';
import { ensureSessionExpirySchedule } from '../../services/sessions/expiry-schedule';
import { openSession } from '../../services/sessions/open-session';
import { systemActor } from '../../services/actor';
import { pgPoolOf } from '../../infra/prisma';
import { sessionExpiryWorkflow } from '../../workflows/session-expiry';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';

let h: Harness;
let server: Server;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'support', role: 'OPS' })).token;
  // one listening server for the whole file: bursts of requests share it instead of one server each
  server = h.app.listen(0);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

const billing = {
  companyName: 'Association Les Amis',
  lastName: 'Martin',
  firstName: 'Paul',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email: 'bureau@amis.example.org',
};

/** A base with a paid licence of `connections` (a free licence approved by ops: the real purchase path). */
async function licensedBase(connections: number) {
  const machine = await registerMachine(h);
  const bought = await request(server)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `free-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'CLOUD',
      connections,
      period: 'ANNUAL',
      paymentMethod: 'FREE',
      billing,
      terms: { version: '2026-01', accepted: true },
      free: { category: 'ASSOCIATION', justification: 'Association loi 1901, récépissé W691234567' },
    });
  expect(bought.status).toBe(201);
  const approved = await request(server)
    .post(`/ops/purchases/${bought.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'APPROVE' });
  expect(approved.status).toBe(200);
  return { ...machine, licenceId: bought.body.licenceId as string };
}

const user = (n: number) => ({
  userCode: `U${n}`,
  userName: `Utilisateur ${n}`,
  ip: '192.168.1.148',
  computerName: `POSTE-${n}`,
});

function open(baseId: string, key: string, body: Record<string, unknown>) {
  return request(server).post(`/bases/${baseId}/sessions`).set(bearer(key)).send(body);
}

async function journal(baseId: string, key: string, query = '') {
  const res = await request(server).get(`/bases/${baseId}/session-journal${query}`).set(bearer(key));
  expect(res.status).toBe(200);
  return res.body as {
    items: { event: string; sessionId: number; reason: string | null; by: Record<string, unknown> }[];
    nextCursor: number | null;
  };
}

/** Moves a session's last heartbeat into the past: the client has been silent that long. */
async function silentFor(sessionId: number, seconds: number) {
  await h.prisma.$executeRaw`
    UPDATE "Session" SET "lastSeenAt" = now() - make_interval(secs => ${seconds}::int) WHERE id = ${sessionId}::int8`;
}

it('200 simultaneous opens on a 3-connection base: exactly 3 get in, 197 get 409 with the sessions and choices', async () => {
  const { baseId, apiKey } = await licensedBase(3);
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => open(baseId, apiKey, user(i))));

  const admitted = answers.filter((r) => r.status === 201);
  const refused = answers.filter((r) => r.status === 409);
  expect(admitted).toHaveLength(3);
  expect(refused).toHaveLength(197);
  const ids = admitted.map((r) => r.body.sessionId as number).sort((a, b) => a - b);
  for (const r of refused) {
    expect(r.body.error.code).toBe('SEAT_LIMIT_REACHED');
    expect(r.body.error.details.maxConnections).toBe(3);
    expect(r.body.error.details.sessions.map((s: { sessionId: number }) => s.sessionId).sort()).toEqual(
      ids.slice().sort(),
    );
  }
  const details = refused[0]!.body.error.details;
  expect(details.sessions[0]).toMatchObject({
    userCode: expect.stringMatching(/^U\d+$/),
    userName: expect.stringMatching(/^Utilisateur/),
    ip: '192.168.1.148',
    computerName: expect.stringMatching(/^POSTE-/),
    openedAt: expect.any(String),
    durationSeconds: expect.any(Number),
  });
  expect(details.choices).toEqual([
    expect.objectContaining({
      choice: 'DISCONNECT_SESSION',
      method: 'POST',
      href: `/bases/${baseId}/sessions`,
    }),
    expect.objectContaining({
      choice: 'ORDER_CONNECTION',
      method: 'POST',
      href: `/bases/${baseId}/licence/changes`,
      body: { connections: 4 },
    }),
    expect.objectContaining({ choice: 'QUIT' }),
  ]);
  expect(await h.prisma.session.count({ where: { baseId, status: 'ACTIVE' } })).toBe(3);
  expect(await h.prisma.sessionEvent.count({ where: { baseId, kind: 'OPENED' } })).toBe(3);

  const screen = await request(server).get(`/bases/${baseId}/sessions`).set(bearer(apiKey));
  expect(screen.status).toBe(200);
  expect(screen.body).toMatchObject({ maxConnections: 3, source: 'LICENCE', activeSessions: 3 });
});

it('a base without a paid licence has the free edition’s one connection; ordering one means buying a licence', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  expect((await open(baseId, apiKey, user(1))).status).toBe(201);
  const full = await open(baseId, apiKey, user(2));
  expect(full.status).toBe(409);
  expect(full.body.error.details.maxConnections).toBe(1);
  expect(full.body.error.details.choices[1]).toMatchObject({
    choice: 'ORDER_CONNECTION',
    href: `/bases/${baseId}/subscriptions`,
  });
});

it('evict: the journal says who disconnected the session and why; its heartbeat then says so too', async () => {
  const { baseId, apiKey } = await licensedBase(2);
  const a = (await open(baseId, apiKey, user(1))).body.sessionId as number;
  const b = (await open(baseId, apiKey, user(2))).body.sessionId as number;
  expect((await open(baseId, apiKey, user(3))).status).toBe(409);

  const evicted = await request(server)
    .post(`/sessions/${a}/evict`)
    .set(bearer(apiKey))
    .send({ byUserCode: 'U3', byUserName: 'Utilisateur 3' });
  expect(evicted.status).toBe(200);
  expect(evicted.body).toMatchObject({ status: 'EVICTED', reason: 'Dépassement connexions autorisées' });
  const again = await request(server).post(`/sessions/${a}/evict`).set(bearer(apiKey)).send({});
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('SESSION_ENDED');

  const byOps = await request(server)
    .post(`/sessions/${b}/evict`)
    .set(bearer(ops))
    .send({ reason: 'Maintenance de la base' });
  expect(byOps.status).toBe(200);

  const entries = (await journal(baseId, apiKey)).items;
  expect(entries.map((e) => e.event)).toEqual(['EVICTED', 'EVICTED', 'OPENED', 'OPENED']);
  expect(entries[1]).toMatchObject({
    sessionId: a,
    reason: 'Dépassement connexions autorisées',
    by: { actorType: 'INSTALLATION', userCode: 'U3', userName: 'Utilisateur 3' },
  });
  expect(entries[0]).toMatchObject({
    sessionId: b,
    reason: 'Maintenance de la base',
    by: { actorType: 'OPS', actorId: 'support' },
  });

  const heartbeat = await request(server).post(`/sessions/${a}/heartbeat`).set(bearer(apiKey));
  expect(heartbeat.status).toBe(409);
  expect(heartbeat.body.error).toMatchObject({
    code: 'SESSION_ENDED',
    details: { status: 'EVICTED', reason: 'Dépassement connexions autorisées', by: { userCode: 'U3' } },
  });
});

it('two simultaneous evict-and-take-over of the same session: one wins, the other sees the full base', async () => {
  const { baseId, apiKey } = await licensedBase(2);
  const victim = (await open(baseId, apiKey, user(1))).body.sessionId as number;
  await open(baseId, apiKey, user(2));

  const takeOver = (n: number) =>
    open(baseId, apiKey, {
      ...user(n),
      evict: { sessionId: victim, reason: 'Dépassement connexions autorisées' },
    });
  const [x, y] = await Promise.all([takeOver(3), takeOver(4)]);
  const statuses = [x.status, y.status].sort();
  expect(statuses).toEqual([201, 409]);
  const winner = x.status === 201 ? x : y;
  const loser = x.status === 201 ? y : x;
  expect(winner.body.evictedSessionId).toBe(victim);
  expect(loser.body.error.code).toBe('SEAT_LIMIT_REACHED');
  expect(loser.body.error.details.evictRefused).toEqual({ sessionId: victim, reason: 'SESSION_NOT_ACTIVE' });
  expect(loser.body.error.details.sessions.map((s: { sessionId: number }) => s.sessionId)).toContain(
    winner.body.sessionId,
  );
  expect(await h.prisma.session.count({ where: { baseId, status: 'ACTIVE' } })).toBe(2);
  const evictions = (await journal(baseId, apiKey)).items.filter((e) => e.event === 'EVICTED');
  expect(evictions).toHaveLength(1);
  expect(evictions[0]).toMatchObject({ sessionId: victim, by: { userCode: winner === x ? 'U3' : 'U4' } });
});

it('heartbeats keep a session; a silent one stops counting, and the expiry job closes it with a journal entry', async () => {
  const { baseId, apiKey } = await licensedBase(2);
  const talking = (await open(baseId, apiKey, user(1))).body.sessionId as number;
  const silent = (await open(baseId, apiKey, user(2))).body.sessionId as number;

  // four minutes pass for both; only one sends its heartbeat
  await silentFor(talking, 240);
  await silentFor(silent, 240);
  const beat = await request(server).post(`/sessions/${talking}/heartbeat`).set(bearer(apiKey));
  expect(beat.status).toBe(200);
  expect(beat.body).toMatchObject({ status: 'ACTIVE', heartbeatTimeoutSeconds: 300 });
  // two more minutes: the silent one is past the five-minute timeout, the other is not
  await silentFor(talking, 120);
  await silentFor(silent, 360);

  const screen = await request(server).get(`/bases/${baseId}/sessions`).set(bearer(apiKey));
  expect(screen.body.sessions.map((s: { sessionId: number }) => s.sessionId)).toEqual([talking]);

  const run = await h.temporal.workflow.execute(sessionExpiryWorkflow, {
    workflowId: `session-expiry-test-${baseId}`,
    taskQueue: h.taskQueue,
  });
  expect(run.expired).toBeGreaterThanOrEqual(1);
  expect(await h.prisma.session.findUniqueOrThrow({ where: { id: BigInt(silent) } })).toMatchObject({
    status: 'EXPIRED',
  });
  expect(await h.prisma.session.findUniqueOrThrow({ where: { id: BigInt(talking) } })).toMatchObject({
    status: 'ACTIVE',
  });
  const expiredBeat = await request(server).post(`/sessions/${silent}/heartbeat`).set(bearer(apiKey));
  expect(expiredBeat.status).toBe(409);
  expect(expiredBeat.body.error.details.status).toBe('EXPIRED');
  const entry = (await journal(baseId, apiKey)).items[0];
  expect(entry).toMatchObject({ event: 'EXPIRED', sessionId: silent, by: { actorType: 'SYSTEM' } });
});

it('admission does not count a silent session: it expires it and admits', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  const silent = (await open(baseId, apiKey, user(1))).body.sessionId as number;
  await silentFor(silent, 301);
  const next = await open(baseId, apiKey, user(2));
  expect(next.status).toBe(201);
  const entries = (await journal(baseId, apiKey)).items;
  expect(entries.map((e) => [e.event, e.sessionId])).toEqual([
    ['OPENED', next.body.sessionId],
    ['EXPIRED', silent],
    ['OPENED', silent],
  ]);
});

it('the expiry schedule is created once, whatever the number of worker start-ups', async () => {
  const queue = `${h.taskQueue}-schedule`;
  const first = await ensureSessionExpirySchedule(h.temporal, queue);
  const second = await ensureSessionExpirySchedule(h.temporal, queue);
  expect(first.created).toBe(true);
  expect(second).toEqual({ scheduleId: first.scheduleId, created: false });
  const handle = h.temporal.schedule.getHandle(first.scheduleId);
  const described = await handle.describe();
  expect(described.spec.intervals).toMatchObject([{ every: 60_000 }]);
  expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sessionExpiryWorkflow' });
  await handle.delete();
});

it('connections dropping close the extra sessions oldest first; a suspended CLOUD base takes none', async () => {
  const { baseId, apiKey, licenceId } = await licensedBase(3);
  const ids: number[] = [];
  for (const n of [1, 2, 3]) ids.push((await open(baseId, apiKey, user(n))).body.sessionId as number);

  const activities = createSubscriptionActivities({
    prisma: h.prisma,
    mailer: h.mailer,
    billing: h.services.billing,
  });
  await activities.endLicence({ licenceId, status: 'ENDED', reason: 'NOT_RENEWED' });
  // back to the free edition: one connection, the newest session stays
  const active = await h.prisma.session.findMany({ where: { baseId, status: 'ACTIVE' } });
  expect(active.map((s) => Number(s.id))).toEqual([ids[2]]);
  const trimmed = (await journal(baseId, apiKey)).items.filter((e) => e.event === 'TRIMMED');
  expect(trimmed.map((e) => e.sessionId).sort()).toEqual([ids[0], ids[1]].sort());
  expect(trimmed[0]!.reason).toMatch(/Licence terminée/);

  await activities.endLicence({ licenceId, status: 'SUSPENDED', reason: 'PAYMENT_FAILED' });
  expect(await h.prisma.session.count({ where: { baseId, status: 'ACTIVE' } })).toBe(0);
  const refused = await open(baseId, apiKey, user(4));
  expect(refused.status).toBe(422);
  expect(refused.body.error.code).toBe('LICENCE_SUSPENDED');
});

it('sessions of another base: 404 with its key like an unknown session, allowed with an ops token', async () => {
  const mine = await registerMachine(h);
  const other = await registerMachine(h);
  const sessionId = (await open(mine.baseId, mine.apiKey, user(1))).body.sessionId as number;

  expect((await open(mine.baseId, other.apiKey, user(2))).body.error.code).toBe('BASE_FORBIDDEN');
  for (const path of [`/bases/${mine.baseId}/sessions`, `/bases/${mine.baseId}/session-journal`]) {
    const res = await request(server).get(path).set(bearer(other.apiKey));
    expect(res.status).toBe(403);
  }
  const calls = [
    request(server).post(`/sessions/${sessionId}/heartbeat`).set(bearer(other.apiKey)),
    request(server).post(`/sessions/${sessionId}/evict`).set(bearer(other.apiKey)).send({}),
    request(server).delete(`/sessions/${sessionId}`).set(bearer(other.apiKey)),
  ];
  // the same answer as for a session that does not exist: session numbers can't be probed
  for (const res of await Promise.all(calls)) {
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'SESSION_NOT_FOUND', message: `No session ${sessionId}` });
  }
  expect(await h.prisma.session.count({ where: { id: BigInt(sessionId), status: 'ACTIVE' } })).toBe(1);

  const byOps = await request(server).post(`/sessions/${sessionId}/heartbeat`).set(bearer(ops));
  expect(byOps.status).toBe(200);
  const missing = await request(server).post('/sessions/999999999/heartbeat').set(bearer(mine.apiKey));
  expect(missing.status).toBe(404);
  expect(missing.body.error.code).toBe('SESSION_NOT_FOUND');

  const closed = await request(server).delete(`/sessions/${sessionId}`).set(bearer(mine.apiKey));
  expect(closed.body).toMatchObject({ sessionId, status: 'CLOSED' });
  const closedAgain = await request(server).delete(`/sessions/${sessionId}`).set(bearer(mine.apiKey));
  expect(closedAgain.body).toMatchObject({ sessionId, status: 'CLOSED' });
  expect(await h.prisma.sessionEvent.count({ where: { sessionId: BigInt(sessionId), kind: 'CLOSED' } })).toBe(
    1,
  );
});

it('the journal pages newest first with a cursor; bad input changes nothing', async () => {
  const { baseId, apiKey } = await licensedBase(5);
  for (const n of [1, 2, 3, 4, 5]) await open(baseId, apiKey, user(n));
  const first = await journal(baseId, apiKey, '?limit=2');
  expect(first.items.map((e) => e.event)).toEqual(['OPENED', 'OPENED']);
  const second = await journal(baseId, apiKey, `?limit=2&cursor=${first.nextCursor}`);
  const third = await journal(baseId, apiKey, `?limit=2&cursor=${second.nextCursor}`);
  expect(third.nextCursor).toBeNull();
  const seen = [...first.items, ...second.items, ...third.items].map((e) => e.sessionId);
  expect(seen).toHaveLength(5);
  expect(seen).toEqual(seen.slice().sort((a, b) => b - a));

  const bad = await open(baseId, apiKey, { ...user(6), ip: 'not-an-ip' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.fields[0].path).toBe('body.ip');
  expect(await h.prisma.session.count({ where: { baseId } })).toBe(5);
});

it('the hot routes’ key cache: a revoked key is refused there once the cache lifetime has passed, at once elsewhere', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  let now = 1_000_000;
  const cache = createPrincipalCache({ ttlMs: 5000, now: () => now });
  expect(await cache.resolve(h.prisma, apiKey)).toMatchObject({ kind: 'installation', baseId });

  await h.prisma.apiKey.updateMany({ where: { installation: { baseId } }, data: { revokedAt: new Date() } });
  now += 4999;
  expect(await cache.resolve(h.prisma, apiKey)).toMatchObject({ baseId }); // within the stated bound
  now += 2;
  expect(await cache.resolve(h.prisma, apiKey)).toBeNull();
  expect(await cache.resolve(h.prisma, 'lk_unknown')).toBeNull();

  // routes without the cache see the revocation at once
  const listing = await request(server).get(`/bases/${baseId}/sessions`).set(bearer(apiKey));
  expect(listing.status).toBe(401);
});

it('admission commits without waiting for the WAL flush, or with it when configured; either way exact, and the pool keeps synchronous commits', async () => {
  const base = await licensedBase(3);
  const actor = systemActor('test');
  // every pooled connection commits synchronously, as in production (the test server's default is off)
  const pool = pgPoolOf(h.prisma);
  const everyConnection = async (work: (c: PoolClient) => Promise<void>) => {
    const clients = await Promise.all(Array.from({ length: pool.options.max ?? 10 }, () => pool.connect()));
    try {
      for (const client of clients) await work(client);
    } finally {
      for (const client of clients) client.release();
    }
  };
  await everyConnection(async (c) => {
    await c.query('SET synchronous_commit TO on');
  });
  const attempt = (n: number, synchronousCommit: boolean) =>
    openSession(
      { prisma: h.prisma, sessions: { heartbeatTimeoutSeconds: 300, synchronousCommit } },
      { actor, baseId: base.baseId, request: user(n) },
    ).then(
      () => 'in',
      (e: { code?: string }) => e.code,
    );
  const outcomes = await Promise.all([
    ...Array.from({ length: 10 }, (_, i) => attempt(i, false)),
    ...Array.from({ length: 10 }, (_, i) => attempt(100 + i, true)),
  ]);
  expect(outcomes.filter((o) => o === 'in')).toHaveLength(3);
  expect(outcomes.filter((o) => o === 'SEAT_LIMIT_REACHED')).toHaveLength(17);
  // SET LOCAL ended with each admission's transaction: the connections still commit synchronously
  const settings: string[] = [];
  await everyConnection(async (c) => {
    settings.push((await c.query('SHOW synchronous_commit')).rows[0].synchronous_commit);
  });
  expect(new Set(settings)).toEqual(new Set(['on']));
});
