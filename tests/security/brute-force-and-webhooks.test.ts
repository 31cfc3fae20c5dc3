/**
 * Guessing is bounded and forged webhooks change nothing:
 * - email codes: after `maxAttempts` wrong codes the challenge is locked, the right code no longer works;
 * - passwords (PATCH /accounts/{id}, POST /accounts/{id}/export): 5 wrong passwords per account, 20 per
 *   client address, per 15 minutes; then 429 TOO_MANY_ATTEMPTS with Retry-After, even for the right one;
 * - a Stripe webhook with a missing, forged, stale or replayed-onto-another-body signature: 400
 *   WEBHOOK_SIGNATURE_INVALID and the database exactly as before; the genuine event then works.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import request from 'supertest';
import { bearer, confirmedAccount, PASSWORD, registerMachine, waitForCode } from '../helpers/api';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { changedTables, dbSnapshot } from '../helpers/db-snapshot';
import {
  companyDetails,
  createHarness,
  TEST_WEBHOOK_SECRET,
  uniqueEmail,
  type Harness,
} from '../helpers/harness';

describe('per account', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('email codes: locked after 5 wrong codes; the right code is then refused and the account stays pending', async () => {
    const machine = await registerMachine(h);
    const email = uniqueEmail();
    const created = await request(h.app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({ ...companyDetails(), email });
    expect(created.status).toBe(202);
    const code = await waitForCode(h, email);
    const wrong = code === '000000' ? '111111' : '000000';
    const answers: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await request(h.app)
        .post(`/accounts/${created.body.accountId}/confirmation`)
        .set(bearer(machine.apiKey))
        .send({ code: wrong, password: PASSWORD });
      answers.push(res.body.error.code);
    }
    expect(answers).toEqual(['CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CODE_LOCKED']);
    const right = await request(h.app)
      .post(`/accounts/${created.body.accountId}/confirmation`)
      .set(bearer(machine.apiKey))
      .send({ code, password: PASSWORD });
    expect(right.status).toBe(422);
    expect(right.body.error.code).toBe('CODE_LOCKED');
    const account = await h.prisma.account.findUniqueOrThrow({ where: { id: created.body.accountId } });
    expect(account.passwordHash).toBeNull();
  });

  it('passwords: 5 wrong ones, then 429 TOO_MANY_ATTEMPTS with Retry-After, even for the right one', async () => {
    const { accountId, apiKey } = await confirmedAccount(h);
    for (let i = 0; i < 5; i += 1) {
      const res = await request(h.app)
        .patch(`/accounts/${accountId}`)
        .set(bearer(apiKey))
        .send({ password: `wrong password ${i}`, changes: { city: 'Lille' } });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_PASSWORD');
    }
    for (const call of [
      request(h.app)
        .patch(`/accounts/${accountId}`)
        .send({ password: PASSWORD, changes: { city: 'Lille' } }),
      request(h.app).post(`/accounts/${accountId}/export`).send({ password: PASSWORD }),
    ]) {
      const res = await call.set(bearer(apiKey));
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('TOO_MANY_ATTEMPTS');
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      expect(res.body.error.details.retryAfterSeconds).toBeGreaterThan(0);
    }
    const account = await h.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.city).toBe('Paris');
  });

  it('passwords: right ones and refusals of another kind do not count', async () => {
    const { accountId, apiKey } = await confirmedAccount(h);
    for (let i = 0; i < 8; i += 1) {
      const ok = await request(h.app)
        .post(`/accounts/${accountId}/export`)
        .set(bearer(apiKey))
        .send({ password: PASSWORD });
      expect(ok.status).toBe(200);
    }
    const invalid = await request(h.app)
      .patch(`/accounts/${accountId}`)
      .set(bearer(apiKey))
      .send({ password: PASSWORD, changes: {} });
    expect(invalid.status).toBe(400);
    const changed = await request(h.app)
      .patch(`/accounts/${accountId}`)
      .set(bearer(apiKey))
      .send({ password: PASSWORD, changes: { city: 'Lille' } });
    expect(changed.status).toBe(200);
    expect(changed.body.city).toBe('Lille');
  });

  it('a webhook with a bad signature: 400, nothing changed; the genuine event then completes the purchase', async () => {
    const { accountId, apiKey } = await confirmedAccount(h);
    const bought = await request(h.app)
      .post(`/accounts/${accountId}/credit-purchases`)
      .set(bearer(apiKey))
      .send({
        idempotencyKey: `recharge-${accountId}-sig`,
        product: { kind: 'WALLET_RECHARGE', amountCents: 5000 },
      });
    expect(bought.status).toBe(201);
    const genuine = paymentSucceededEvent(bought.body);
    const tampered = genuine.payload.replace('"amount":5000', '"amount":500000');
    const now = Math.floor(Date.now() / 1000);
    const forgeries: { label: string; payload: string; signature?: string }[] = [
      { label: 'no signature', payload: genuine.payload },
      {
        label: 'signed with another secret',
        payload: genuine.payload,
        signature: Stripe.webhooks.generateTestHeaderString({
          payload: genuine.payload,
          secret: 'whsec_attacker',
        }),
      },
      { label: 'genuine signature on a tampered body', payload: tampered, signature: genuine.signature },
      {
        label: 'signed an hour ago (replay)',
        payload: genuine.payload,
        signature: Stripe.webhooks.generateTestHeaderString({
          payload: genuine.payload,
          secret: TEST_WEBHOOK_SECRET,
          timestamp: now - 3600,
        }),
      },
      { label: 'garbage header', payload: genuine.payload, signature: 't=abc,v1=zzz' },
    ];
    const before = await dbSnapshot(h.prisma);
    for (const forgery of forgeries) {
      const call = request(h.app).post('/webhooks/stripe').set('content-type', 'application/json');
      if (forgery.signature) call.set('stripe-signature', forgery.signature);
      const res = await call.send(forgery.payload);
      expect({ forgery: forgery.label, status: res.status, code: res.body.error?.code }).toEqual({
        forgery: forgery.label,
        status: 400,
        code: 'WEBHOOK_SIGNATURE_INVALID',
      });
    }
    expect(changedTables(before, await dbSnapshot(h.prisma))).toEqual([]);
    const pending = await request(h.app).get(`/credit-purchases/${bought.body.purchaseId}`);
    expect(pending.body.status).toBe('AWAITING_PAYMENT');

    expect((await deliver(h, genuine)).status).toBe(200);
    expect((await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED')).body.status).toBe('COMPLETED');
    const wallet = await request(h.app).get(`/accounts/${accountId}/wallet`).set(bearer(apiKey));
    expect(wallet.body.balanceCents).toBe(5000);
  });
});

describe('per client address', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('20 wrong passwords spread over accounts, then every account is refused from that address', async () => {
    const accounts = [];
    for (let i = 0; i < 6; i += 1) accounts.push(await confirmedAccount(h));
    // 4 per account (under the per-account limit) × 5 accounts = 20
    for (const { accountId, apiKey } of accounts.slice(0, 5)) {
      for (let i = 0; i < 4; i += 1) {
        const res = await request(h.app)
          .post(`/accounts/${accountId}/export`)
          .set(bearer(apiKey))
          .send({ password: `guess number ${i}` });
        expect(res.status).toBe(401);
      }
    }
    const fresh = accounts[5]!;
    const blocked = await request(h.app)
      .post(`/accounts/${fresh.accountId}/export`)
      .set(bearer(fresh.apiKey))
      .send({ password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('TOO_MANY_ATTEMPTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});
