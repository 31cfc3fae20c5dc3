/**
 * Password guessing (PATCH /accounts/{id}, POST /accounts/{id}/export) is bounded per account, whatever the
 * sequence of requests: no key, unknown keys, another account's key, path spellings of the id (`57`, `057`,
 * `57.0`), both routes, requests in parallel, and two API processes sharing the database. Requests that did
 * not authenticate never count, so nobody can lock an account out without holding a key linked to it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { defaultPasswordLimits } from '../../api/attempt-limiter';
import { bearer, confirmedAccount, PASSWORD } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';

const LIMIT = defaultPasswordLimits.perAccount;

describe('password guessing', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const patch = (path: string, password: string) =>
    request(h.app)
      .patch(path)
      .send({ password, changes: { city: 'Lille' } });
  const exportCall = (path: string, password: string) =>
    request(h.app).post(`${path}/export`).send({ password });

  it('requests without a key, with unknown keys or with another account key never lock the owner', async () => {
    const victim = await confirmedAccount(h);
    const stranger = await confirmedAccount(h);
    const id = victim.accountId;
    const statuses = new Set<number>();
    for (let i = 0; i < 3 * LIMIT; i += 1) {
      for (const path of [`/accounts/${id}`, `/accounts/0${id}`, `/accounts/${id}.0`]) {
        statuses.add((await patch(path, `guess ${i}`)).status);
        statuses.add((await exportCall(path, `guess ${i}`).set(bearer('lk_unknown_key'))).status);
        statuses.add((await patch(path, `guess ${i}`).set(bearer(stranger.apiKey))).status);
      }
    }
    // 401 UNAUTHENTICATED (no key, unknown key) and 403 FORBIDDEN (a key of another account), never 429
    expect([...statuses].sort()).toEqual([401, 403]);
    const owner = await patch(`/accounts/${id}`, PASSWORD).set(bearer(victim.apiKey));
    expect(owner.status).toBe(200);
    expect(owner.body.city).toBe('Lille');
  });

  it(`spellings of the id and both routes share one counter: ${LIMIT} guesses, then 429 everywhere`, async () => {
    const { accountId: id, apiKey } = await confirmedAccount(h);
    const paths = [`/accounts/${id}`, `/accounts/0${id}`, `/accounts/${id}.0`, `/accounts/00${id}.00`];
    let guessesChecked = 0;
    const refusals: string[] = [];
    for (let i = 0; i < 4 * LIMIT; i += 1) {
      const path = paths[i % paths.length]!;
      const res = await (i % 2 ? exportCall(path, `guess ${i}`) : patch(path, `guess ${i}`)).set(
        bearer(apiKey),
      );
      if (res.status === 401) {
        expect(res.body.error.code).toBe('INVALID_PASSWORD');
        guessesChecked += 1;
      } else {
        refusals.push(`${res.status} ${res.body.error.code}`);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(guessesChecked).toBe(LIMIT);
    expect(new Set(refusals)).toEqual(new Set(['429 TOO_MANY_ATTEMPTS']));
    for (const path of paths) {
      const right = await patch(path, PASSWORD).set(bearer(apiKey));
      expect(right.status).toBe(429);
      expect(right.body.error.details.retryAfterSeconds).toBeLessThanOrEqual(
        defaultPasswordLimits.windowSeconds,
      );
    }
    expect((await h.prisma.account.findUniqueOrThrow({ where: { id } })).city).toBe('Paris');
  });

  it(`parallel guesses through two API processes sharing the database: at most ${LIMIT} checked`, async () => {
    const { accountId: id, apiKey } = await confirmedAccount(h);
    // a second API process: its own app, the same database (counters are in PostgreSQL)
    const other = createApp({
      services: h.services,
      logger: pino({ level: 'silent' }),
      registrationsPerHour: 10_000,
      readiness: {},
    });
    const answers = await Promise.all(
      Array.from({ length: 4 * LIMIT }, (_, i) =>
        request(i % 2 ? other : h.app)
          .post(`/accounts/${id}/export`)
          .set(bearer(apiKey))
          .send({ password: `parallel guess ${i}` }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3 * LIMIT);
  });

  it('right passwords and refusals of another kind do not count', async () => {
    const { accountId: id, apiKey } = await confirmedAccount(h);
    for (let i = 0; i < 2 * LIMIT; i += 1) {
      expect((await exportCall(`/accounts/${id}`, PASSWORD).set(bearer(apiKey))).status).toBe(200);
      const invalid = await request(h.app)
        .patch(`/accounts/${id}`)
        .set(bearer(apiKey))
        .send({ password: 'x', changes: {} });
      expect(invalid.status).toBe(400);
    }
    expect((await patch(`/accounts/${id}`, PASSWORD).set(bearer(apiKey))).status).toBe(200);
  });
});
