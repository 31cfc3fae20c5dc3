/**
 * PostgreSQL lost under the API (docs/faults.md): every route that needs the database answers 503
 * DATABASE_UNAVAILABLE with Retry-After (not 500 INTERNAL, which means a bug), `/readyz` answers 503, and
 * the same routes answer again by themselves once the database is back. The API reaches PostgreSQL through
 * a TCP proxy the test cuts (open connections dropped, new ones refused).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pino from 'pino';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../api/app';
import { createPrisma, type PrismaClient } from '../../infra/prisma';
import { bearer, confirmedAccount } from '../helpers/api';
import { startDbProxy, type DbProxy } from '../helpers/db-proxy';
import { createHarness, randomBaseId, type Harness } from '../helpers/harness';

let h: Harness;
let proxy: DbProxy;
let proxied: PrismaClient;
let app: Express;

beforeAll(async () => {
  h = await createHarness();
  proxy = await startDbProxy(h.databaseUrl);
  proxied = createPrisma(proxy.urlFor(h.databaseUrl), 5);
  app = createApp({
    services: { ...h.services, prisma: proxied },
    logger: pino({ level: 'silent' }),
    registrationsPerHour: 10_000,
    authCacheSeconds: 0,
    readiness: { database: async () => void (await proxied.$queryRaw`SELECT 1`) },
  });
});

afterAll(async () => {
  proxy?.restore();
  await proxied?.$disconnect();
  await proxy?.stop();
  await h?.close();
});

it('connection loss: 503 DATABASE_UNAVAILABLE with Retry-After everywhere, then recovery by itself', async () => {
  const account = await confirmedAccount(h);
  const calls = {
    account: () => request(app).get(`/accounts/${account.accountId}`).set(bearer(account.apiKey)),
    register: () => request(app).post('/installations').send({ baseId: randomBaseId(), machineName: 'P-1' }),
    session: () =>
      request(app)
        .post(`/bases/${account.baseId}/sessions`)
        .set(bearer(account.apiKey))
        .send({ userCode: 'JD', userName: 'Jean Dupont', ip: '192.168.1.20', computerName: 'COMPTA-1' }),
    catalogue: () => request(app).get('/catalog').set(bearer(account.apiKey)),
  };
  expect((await calls.account()).status).toBe(200);

  proxy.cut();
  for (const [name, call] of Object.entries(calls)) {
    const res = await call();
    expect({ name, status: res.status, code: res.body.error?.code }).toEqual({
      name,
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
    });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  }
  expect((await request(app).get('/readyz')).status).toBe(503);

  proxy.restore();
  let back = 0;
  for (let i = 0; i < 50 && back !== 200; i += 1) {
    back = (await calls.account()).status;
    if (back !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(back).toBe(200);
  expect((await calls.register()).status).toBe(201);
  expect((await request(app).get('/readyz')).status).toBe(200);
});
