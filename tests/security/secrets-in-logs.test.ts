/**
 * Secrets never reach the logs: a scenario touching every kind of secret runs through an app built with
 * the service's real logger (infra/logger.ts, at `trace`, everything pino-http and the error handler
 * write), captured in memory; then the captured text is searched for each secret: installation keys, ops
 * tokens, passwords, email codes, the Stripe secret key, the webhook secret and signatures, payment
 * client secrets, the app secret.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createLogger } from '../../infra/logger';
import { PASSWORD, waitForCode } from '../helpers/api';
import { paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import {
  companyDetails,
  createHarness,
  randomBaseId,
  TEST_WEBHOOK_SECRET,
  uniqueEmail,
  type Harness,
} from '../helpers/harness';
import { systemActor } from '../../services/actor';
import { createOpsToken } from '../../services/ops/ops-tokens';

let h: Harness;
let captured = '';

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

it('a scenario with every kind of secret leaves none of them in the log output', async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured += chunk.toString();
      done();
    },
  });
  const app = createApp({
    services: h.services,
    logger: createLogger('trace', 'licensing', sink),
    readiness: {},
    registrationsPerHour: 10_000,
  });
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  const secrets: Record<string, string> = {
    'Stripe secret key': 'sk_test_harness',
    'webhook secret': TEST_WEBHOOK_SECRET,
    'app secret': h.secret,
  };

  const { token: admin } = await createOpsToken(h.prisma, systemActor('test'), {
    name: 'root',
    role: 'ADMIN',
  });
  secrets['admin ops token'] = admin;
  const minted = await request(app).post('/ops/tokens').set(auth(admin)).send({ name: 'alice', role: 'OPS' });
  expect(minted.status).toBe(201);
  secrets['ops token minted over the API'] = minted.body.token;

  const registered = await request(app)
    .post('/installations')
    .send({ baseId: randomBaseId(), machineName: 'POSTE-1' });
  expect(registered.status).toBe(201);
  const apiKey: string = registered.body.apiKey;
  secrets['installation key'] = apiKey;

  const email = uniqueEmail();
  const created = await request(app)
    .post('/accounts')
    .set(auth(apiKey))
    .send({ ...companyDetails(), email });
  expect(created.status).toBe(202);
  const code = await waitForCode(h, email);
  secrets['email code'] = code;
  const wrongCode = code === '000000' ? '999999' : '000000';
  await request(app)
    .post(`/accounts/${created.body.accountId}/confirmation`)
    .set(auth(apiKey))
    .send({ code: wrongCode, password: PASSWORD });
  const confirmed = await request(app)
    .post(`/accounts/${created.body.accountId}/confirmation`)
    .set(auth(apiKey))
    .send({ code, password: PASSWORD });
  expect(confirmed.status).toBe(200);
  secrets.password = PASSWORD;
  const wrongPassword = 'not the password at all, 42';
  secrets['wrong password'] = wrongPassword;
  expect(
    (
      await request(app)
        .post(`/accounts/${created.body.accountId}/export`)
        .set(auth(apiKey))
        .send({ password: wrongPassword })
    ).status,
  ).toBe(401);
  expect(
    (
      await request(app)
        .post(`/accounts/${created.body.accountId}/export`)
        .set(auth(apiKey))
        .send({ password: PASSWORD })
    ).status,
  ).toBe(200);

  // a card payment: its client secret in the answer, then a signed webhook and a forged one
  const bought = await request(app)
    .post(`/accounts/${created.body.accountId}/credit-purchases`)
    .set(auth(apiKey))
    .send({
      idempotencyKey: `log-scenario-${created.body.accountId}`,
      product: { kind: 'WALLET_RECHARGE', amountCents: 2000 },
    });
  expect(bought.status).toBe(201);
  secrets['payment client secret'] = bought.body.payment.clientSecret;
  // the payment page, opened with its link: the token must not reach the request log
  const paymentPath = new URL(bought.body.payment.paymentUrl as string).pathname;
  secrets['payment link token'] = paymentPath.slice('/pay/'.length);
  expect((await request(app).get(`${paymentPath}/status`)).status).toBe(200);
  const event = paymentSucceededEvent(bought.body);
  secrets['webhook signature'] = /v1=([0-9a-f]+)/.exec(event.signature)![1]!;
  const forged = await request(app)
    .post('/webhooks/stripe')
    .set('content-type', 'application/json')
    .set('stripe-signature', `${event.signature}0`)
    .send(event.payload);
  expect(forged.status).toBe(400);
  const paid = await request(app)
    .post('/webhooks/stripe')
    .set('content-type', 'application/json')
    .set('stripe-signature', event.signature)
    .send(event.payload);
  expect(paid.status).toBe(200);
  await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED');

  // a revoked and an unknown key, and a key sent where an ops token is required
  await request(app).get('/ops/audit').set(auth(apiKey));
  await request(app)
    .get(`/accounts/${created.body.accountId}`)
    .set(auth(`${apiKey}x`));

  // the log did capture the scenario (one line per request at least): method, URL and status, no headers
  const lines = captured.trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(12);
  expect(captured).toContain('/webhooks/stripe');
  expect(captured).not.toContain('"headers"');
  const found = Object.entries(secrets)
    .filter(([, value]) => value.length >= 6 && captured.includes(value))
    .map(([name]) => name);
  expect(found).toEqual([]);
});

it('the logger censors secret fields and credential headers wherever a log call puts them', () => {
  let out = '';
  const logger = createLogger(
    'trace',
    'licensing',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out += chunk.toString();
        done();
      },
    }),
  );
  logger.info({
    password: 'pw-secret-1',
    body: { code: '123456', nested: { clientSecret: 'pi_secret_2' } },
    req: { headers: { authorization: 'Bearer lk_secret_3', 'stripe-signature': 't=1,v1=abcdef' } },
  });
  for (const secret of ['pw-secret-1', '123456', 'lk_secret_3', 'v1=abcdef'])
    expect(out).not.toContain(secret);
  expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(4);
});
