/**
 * Ledger property against the real stack: random sequences of wallet charges, replays of earlier
 * idempotency keys and overdraft-limit changes, sent through the API to PostgreSQL, checked after every
 * step against a model that follows the posting rule (domain/credits.ts `movementAllowed`): the answer
 * (201 new, 200 replay, 409 INSUFFICIENT_CREDIT), the balance the API reports, the balance = the sum of
 * the account's entries, a charge never taking the wallet below minus the limit. Few runs: each is a new
 * account on the real database (domain-level properties: tests/domain/ledger-properties.test.ts).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import request from 'supertest';
import { movementAllowed } from '../../domain/credits';
import { systemActor } from '../../services/actor';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, systemActor('test'), { name: 'support', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
});

type Step =
  { kind: 'charge'; cents: number } | { kind: 'replay'; index: number } | { kind: 'limit'; cents: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('charge' as const), cents: fc.integer({ min: 1, max: 3000 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), index: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('limit' as const), cents: fc.integer({ min: 0, max: 10000 }) }),
  },
);

it('random charges, replays and limit changes: the API and the database follow the ledger rule', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), async (steps) => {
      run += 1;
      const { accountId, apiKey } = await confirmedAccount(h);
      const model = { balance: 0, limit: 0 };
      const sent: { key: string; cents: number; balance: number }[] = [];
      for (const [i, s] of steps.entries()) {
        if (s.kind === 'limit') {
          const res = await request(h.app)
            .put(`/ops/accounts/${accountId}/overdraft-limits/WALLET`)
            .set(bearer(ops))
            .send({ limit: s.cents });
          expect(res.status).toBe(200);
          model.limit = s.cents;
          continue;
        }
        const replay = s.kind === 'replay' && sent.length > 0 ? sent[s.index % sent.length]! : undefined;
        const key = replay?.key ?? `prop-${run}-${i}`;
        const cents = replay?.cents ?? (s.kind === 'charge' ? s.cents : 1);
        const res = await request(h.app)
          .post(`/accounts/${accountId}/wallet/charges`)
          .set(bearer(apiKey))
          .send({ idempotencyKey: key, type: 'sms', amountCents: cents });
        if (replay) {
          expect(res.status).toBe(200);
          expect(res.body.balanceCents).toBe(replay.balance);
        } else if (movementAllowed(model.balance, -cents, model.limit)) {
          expect(res.status).toBe(201);
          model.balance -= cents;
          expect(res.body.balanceCents).toBe(model.balance);
          sent.push({ key, cents, balance: model.balance });
        } else {
          expect(res.status).toBe(409);
          expect(res.body.error.code).toBe('INSUFFICIENT_CREDIT');
        }
        if (!replay && res.status === 201) expect(model.balance).toBeGreaterThanOrEqual(-model.limit);
      }
      const wallet = await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(apiKey));
      expect(wallet.body.balanceCents).toBe(model.balance);
      const sum = await h.prisma.creditEntry.aggregate({
        where: { accountId, ledger: 'WALLET' },
        _sum: { amount: true },
        _count: true,
      });
      expect(sum._sum.amount ?? 0).toBe(model.balance);
      expect(sum._count).toBe(sent.length);
    }),
    { numRuns: 4, seed: 20261123 },
  );
});
