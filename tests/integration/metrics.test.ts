/**
 * GET /metrics on the real stack: HTTP latency by route pattern, workflow starts counted on the Temporal
 * client, payments and ops queues read from the database, and the Temporal worker's own metrics from a
 * worker process (main.ts --role worker with METRICS_TEMPORAL_PORT) appended to the page.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { Client } from '@temporalio/client';
import type { Express } from 'express';
import pino from 'pino';
import Stripe from 'stripe';
import request from 'supertest';
import { createSubscriptionActivities } from '../../activities/subscriptions';
import { createApp } from '../../api/app';
import { parseLocalDate } from '../../domain/periods';
import { createMetrics, workflowStartInterceptor, type Metrics } from '../../infra/metrics';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { workflowIds } from '../../workflows/ids';
import { bearer, registerMachine, waitForCode } from '../helpers/api';
import { eventually, paymentSucceededEvent } from '../helpers/credits';
import { disputeEvent, newDisputeId } from '../helpers/disputes';
import {
  companyDetails,
  createHarness,
  TEST_WEBHOOK_SECRET,
  uniqueEmail,
  type Harness,
} from '../helpers/harness';
import { parsePrometheus, samplesOf, valueOf, type Sample } from '../helpers/prometheus';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

const METRICS_TOKEN = 'scrape-0123456789abcdef0123456789abcdef';

let h: Harness;
let ops: string;
let metrics: Metrics;
let client: Client;
let app: Express;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'compta', role: 'OPS' })).token;
  // the app of main.ts: one registry, shared by the HTTP middleware and the Temporal client's interceptor
  metrics = createMetrics({ processMetrics: false });
  client = new Client({
    connection: h.temporal.connection,
    namespace: 'default',
    interceptors: { workflow: [workflowStartInterceptor(metrics)] },
    dataConverter: h.dataConverter,
  });
  app = createApp({
    services: { ...h.services, temporal: client },
    logger: pino({ level: 'silent' }),
    registrationsPerHour: 10_000,
    readiness: {},
    metrics,
    metricsToken: METRICS_TOKEN,
    metricsCacheSeconds: 0,
  });
});
afterAll(async () => {
  await h?.close();
});

async function scrape(target: Express = app): Promise<{ text: string; samples: Sample[] }> {
  const res = await request(target).get('/metrics').set(bearer(METRICS_TOKEN));
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: res.text, samples: parsePrometheus(res.text) };
}

const billing = {
  companyName: 'Garage Martin',
  lastName: 'Martin',
  firstName: 'Paul',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email: 'paul@garage-martin.example.fr',
};
const terms = { version: '2026-01', accepted: true };

function buy(baseId: string, apiKey: string, extra: Record<string, unknown>) {
  return request(app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({
      idempotencyKey: `k-${baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 1,
      period: 'ANNUAL',
      billing,
      terms,
      ...extra,
    });
}

function signedLicencePayment(baseId: string, purchaseId: string, paymentIntentId: string) {
  const payload = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: paymentIntentId,
        object: 'payment_intent',
        amount: 12240,
        amount_received: 12240,
        payment_method: 'pm_card_visa',
        metadata: { workflowId: `subscription:${baseId}`, purchaseId, baseId },
      },
    },
  });
  return {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  };
}

function deliver(event: { payload: string; signature: string }) {
  return request(app)
    .post('/webhooks/stripe')
    .set('stripe-signature', event.signature)
    .set('content-type', 'application/json')
    .send(event.payload);
}

describe('who may scrape', () => {
  it('takes the static metrics token or an ops token; refuses no token, a wrong one, an installation key', async () => {
    const machine = await registerMachine(h);
    const none = await request(app).get('/metrics');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    const wrong = await request(app).get('/metrics').set(bearer('scrape-not-the-right-one-0000000000000000'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('UNAUTHENTICATED');
    const installation = await request(app).get('/metrics').set(bearer(machine.apiKey));
    expect(installation.status).toBe(403);
    expect(installation.body.error.code).toBe('ROLE_REQUIRED');

    const byOps = await request(app).get('/metrics').set(bearer(ops));
    expect(byOps.status).toBe(200);
    expect(byOps.text).toContain('# TYPE http_request_duration_seconds histogram');
    await scrape();
  });

  it('is in the OpenAPI document as text/plain behind the metrics or ops token', async () => {
    const doc = await request(app).get('/openapi.json');
    const op = doc.body.paths['/metrics'].get;
    expect(Object.keys(op.responses['200'].content)).toEqual(['text/plain']);
    expect(op.security).toEqual([{ metricsToken: [] }, { opsToken: [] }]);
    expect(doc.body.components.securitySchemes.metricsToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });
});

describe('what the page says', () => {
  it('HTTP latency by route pattern (never the raw path), workflow starts, payments, queues and sessions', async () => {
    // a card purchase, paid through the signed webhook
    const paid = await registerMachine(h);
    const card = await buy(paid.baseId, paid.apiKey, { paymentMethod: 'ONLINE' });
    expect(card.status).toBe(201);
    expect(
      (
        await deliver(
          signedLicencePayment(paid.baseId, card.body.purchaseId, card.body.payment.paymentIntentId),
        )
      ).status,
    ).toBe(200);
    await eventually(
      () => h.prisma.licence.findUniqueOrThrow({ where: { id: card.body.licenceId } }),
      (l) => l.status === 'ACTIVE',
    );
    // a cheque and a free licence request, both waiting for ops
    const cheque = await registerMachine(h);
    expect((await buy(cheque.baseId, cheque.apiKey, { paymentMethod: 'CHEQUE' })).status).toBe(201);
    const free = await registerMachine(h);
    const freeRequest = await buy(free.baseId, free.apiKey, {
      paymentMethod: 'FREE',
      free: { category: 'ASSOCIATION', justification: 'Association loi 1901, récépissé W691234567' },
    });
    expect(freeRequest.status).toBe(201);
    // a support pack bought on the website without an account: paid, waiting in the unmatched queue
    const web = await request(app)
      .post('/credit-purchases')
      .send({
        idempotencyKey: `web-${Math.random().toString(36).slice(2)}`,
        product: { kind: 'SUPPORT_PACK', minutes: 60 },
        billing: { ...companyDetails(), email: uniqueEmail('anne') },
      });
    expect(web.status).toBe(201);
    expect((await deliver(paymentSucceededEvent(web.body))).status).toBe(200);
    await eventually(
      () => h.prisma.creditPurchase.findUniqueOrThrow({ where: { id: web.body.purchaseId } }),
      (p) => p.status === 'UNMATCHED',
    );
    // the paid licence's renewal declined: what the subscription workflow's activities record
    const renewal = createSubscriptionActivities({
      prisma: h.prisma,
      mailer: h.mailer,
      billing: h.services.billing,
    });
    await renewal.recordFailedPayment({
      licenceId: card.body.licenceId,
      idempotencyKey: `renewal:${card.body.licenceId}:2027-01-01:1`,
      amountCents: 12240,
      failureCode: 'card_declined',
    });
    await renewal.markPastDue({
      licenceId: card.body.licenceId,
      failures: 1,
      nextAttemptOn: parseLocalDate('2027-01-02'),
      reason: 'card_declined',
    });
    // one ERP session, and a few reads: one of them refused (400), one on no route at all (404)
    const session = await request(app)
      .post(`/bases/${cheque.baseId}/sessions`)
      .set(bearer(cheque.apiKey))
      .send({ userCode: 'U1', userName: 'Utilisateur 1', ip: '192.168.1.148', computerName: 'POSTE-1' });
    expect(session.status).toBe(201);
    expect(
      (await request(app).get(`/bases/${cheque.baseId}/licence`).set(bearer(cheque.apiKey))).status,
    ).toBe(200);
    expect(
      (await request(app).post(`/bases/${cheque.baseId}/sessions`).set(bearer(cheque.apiKey)).send({}))
        .status,
    ).toBe(400);
    expect((await request(app).get(`/no-such-thing/${cheque.baseId}`)).status).toBe(404);
    // a dispute opened (Stripe's webhook), and a renewal's invoice to pay as the workflow notes it
    const opened = await deliver(
      disputeEvent('charge.dispute.created', {
        disputeId: newDisputeId(),
        paymentIntentId: 'pi_not_ours_metrics',
        amountCents: 1000,
        status: 'needs_response',
        createdAt: Math.floor(Date.now() / 1000),
      }),
    );
    expect(opened.status).toBe(200);
    await h.prisma.invoiceToPay.create({
      data: {
        licenceId: crypto.randomUUID(),
        baseId: cheque.baseId,
        paymentMethod: 'CHEQUE',
        periodStart: '2027-01-01',
        periodEnd: '2027-02-01',
        amountCents: 12240,
        dueOn: '2027-01-06',
        origin: 'NOTICE',
      },
    });

    const { text, samples } = await scrape();

    // HTTP: one series per route pattern, the base IDs of the paths never appear
    for (const baseId of [paid.baseId, cheque.baseId, free.baseId]) expect(text).not.toContain(baseId);
    const count = (method: string, route: string, status: string) =>
      valueOf(samples, 'http_request_duration_seconds_count', { method, route, status });
    expect(count('POST', '/bases/:baseId/subscriptions', '201')).toBe(3);
    expect(count('POST', '/bases/:baseId/sessions', '201')).toBe(1);
    expect(count('POST', '/bases/:baseId/sessions', '400')).toBe(1);
    expect(count('GET', '/bases/:baseId/licence', '200')).toBe(1);
    expect(count('POST', '/webhooks/stripe', '200')).toBe(3); // two payments and the dispute
    expect(count('GET', 'unmatched', '404')).toBe(1);
    const buckets = samplesOf(samples, 'http_request_duration_seconds_bucket', {
      method: 'POST',
      route: '/bases/:baseId/subscriptions',
      status: '201',
    });
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(3);

    // workflow starts by type, as asked by this process
    expect(
      valueOf(samples, 'workflow_starts_total', {
        workflow_type: 'subscriptionWorkflow',
        outcome: 'started',
      }),
    ).toBe(3);
    expect(
      valueOf(samples, 'workflow_starts_total', {
        workflow_type: 'creditPurchaseWorkflow',
        outcome: 'started',
      }),
    ).toBe(1);

    // payments by kind, method and outcome, with their amounts
    const payment = (kind: string, method: string, status: string) => ({
      count: valueOf(samples, 'payments_total', { kind, method, status }),
      cents: valueOf(samples, 'payments_amount_cents_total', { kind, method, status }),
    });
    expect(payment('licence_purchase', 'ONLINE', 'SUCCEEDED')).toEqual({ count: 1, cents: 12240 });
    expect(payment('licence_renewal', 'ONLINE', 'FAILED')).toEqual({ count: 1, cents: 12240 });
    expect(payment('credit_purchase', 'ONLINE', 'SUCCEEDED')).toEqual({
      count: 1,
      cents: web.body.amountCents as number,
    });
    expect(samplesOf(samples, 'payments_total')).toHaveLength(3);
    expect(valueOf(samples, 'credit_purchases', { product: 'SUPPORT_PACK', status: 'UNMATCHED' })).toBe(1);
    expect(valueOf(samples, 'licences', { version: 'A1', status: 'PAST_DUE' })).toBe(1);
    expect(valueOf(samples, 'licences', { version: 'A1', status: 'PENDING' })).toBe(2);

    // the ops queues, each with how long its oldest item has waited
    const queue = (name: string) => valueOf(samples, 'ops_queue_size', { queue: name });
    expect(queue('unmatched_purchases')).toBe(1);
    expect(queue('manual_payments')).toBe(1);
    expect(queue('free_licences')).toBe(1);
    expect(queue('failed_payments')).toBe(1);
    expect(queue('renewals_to_pay')).toBe(1);
    expect(queue('open_disputes')).toBe(1);
    expect(samplesOf(samples, 'ops_queue_oldest_seconds')).toHaveLength(6);
    for (const s of samplesOf(samples, 'ops_queue_oldest_seconds')) expect(s.value).toBeGreaterThanOrEqual(0);

    expect(valueOf(samples, 'sessions_active')).toBe(1);
    expect(valueOf(samples, 'business_metrics_up')).toBe(1);

    // ops work the queue: the next scrape says so
    const confirmed = await request(app)
      .post(`/ops/purchases/${freeRequest.body.purchaseId}/decision`)
      .set(bearer(ops))
      .send({ decision: 'APPROVE' });
    expect(confirmed.status).toBe(200);
    const after = await scrape();
    expect(valueOf(after.samples, 'ops_queue_size', { queue: 'free_licences' })).toBe(0);
    expect(valueOf(after.samples, 'ops_queue_oldest_seconds', { queue: 'free_licences' })).toBe(0);
    expect(valueOf(after.samples, 'ops_queue_size', { queue: 'manual_payments' })).toBe(1);
  });

  it('counts workflow starts by type, and a start Temporal refuses (already running) apart', async () => {
    const machine = await registerMachine(h);
    const email = uniqueEmail();
    const created = await request(app)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({ ...companyDetails(), email });
    expect(created.status).toBe(202);
    await waitForCode(h, email);
    // the same workflow id again, without the use-case's join-the-running-one policy: Temporal refuses it
    await expect(
      client.workflow.start('emailCodeWorkflow', {
        workflowId: workflowIds.accountConfirmation(email),
        taskQueue: h.taskQueue,
        args: [{}],
      }),
    ).rejects.toMatchObject({ name: 'WorkflowExecutionAlreadyStartedError' });

    const { samples } = await scrape();
    const starts = (outcome: string) =>
      valueOf(samples, 'workflow_starts_total', { workflow_type: 'emailCodeWorkflow', outcome });
    expect(starts('started')).toBe(1);
    expect(starts('already_started')).toBe(1);
  });
});

describe('Temporal worker metrics', () => {
  let child: WorkerProcess | undefined;
  afterAll(async () => {
    await child?.kill();
  });

  function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
  }

  it("a worker process started with METRICS_TEMPORAL_PORT exports Core's metrics; /metrics appends them", async () => {
    const port = await freePort();
    const taskQueue = `${h.taskQueue}-metrics`;
    child = await startWorkerProcess(h, {
      temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
      taskQueue,
      stripeApiBase: process.env.TEST_STRIPE_API_BASE ?? 'http://127.0.0.1:9',
      env: { METRICS_TEMPORAL_PORT: String(port) },
    });
    const withWorker = createApp({
      services: { ...h.services, temporal: client, taskQueue },
      logger: pino({ level: 'silent' }),
      registrationsPerHour: 10_000,
      readiness: {},
      metrics: createMetrics({ processMetrics: false }),
      metricsToken: METRICS_TOKEN,
      temporalMetricsUrl: `http://127.0.0.1:${port}/metrics`,
    });

    // an account confirmation runs on that worker: emailCodeWorkflow and its issueCode activity
    const machine = await registerMachine(h);
    const email = uniqueEmail();
    const created = await request(withWorker)
      .post('/accounts')
      .set(bearer(machine.apiKey))
      .send({ ...companyDetails(), email });
    expect(created.status).toBe(202);
    await waitForCode(h, email);

    const direct = parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(samplesOf(direct, 'temporal_worker_start').length).toBeGreaterThan(0);

    const { samples } = await scrape(withWorker);
    expect(valueOf(samples, 'temporal_worker_metrics_up')).toBe(1);
    expect(
      samplesOf(samples, 'temporal_activity_execution_latency_count', {
        activity_type: 'issueCode',
        task_queue: taskQueue,
      }).length,
    ).toBe(1);
    expect(
      samplesOf(samples, 'temporal_workflow_task_execution_latency_count', {
        workflow_type: 'emailCodeWorkflow',
        task_queue: taskQueue,
      }).length,
    ).toBe(1);
    // ours are still there, once
    expect(samplesOf(samples, 'http_request_duration_seconds_count', { route: '/accounts' })).toHaveLength(1);
  });

  it('a worker endpoint that does not answer costs one gauge at 0, not the scrape', async () => {
    const gone = await freePort();
    const lonely = createApp({
      services: h.services,
      logger: pino({ level: 'silent' }),
      registrationsPerHour: 10_000,
      readiness: {},
      metricsToken: METRICS_TOKEN,
      temporalMetricsUrl: `http://127.0.0.1:${gone}/metrics`,
    });
    const { samples } = await scrape(lonely);
    expect(valueOf(samples, 'temporal_worker_metrics_up')).toBe(0);
    expect(valueOf(samples, 'business_metrics_up')).toBe(1);
  });
});
