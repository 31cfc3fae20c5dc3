/**
 * POST /webhooks/stripe with payloads signed like Stripe does: signature checks, duplicate deliveries and
 * the paymentResult signal, read back from the workflow's history. The target workflow is of a type no
 * worker polls: it stays Running and its history records every signal, which is all the route can do.
 */
import crypto from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import request from 'supertest';
import { createHarness, TEST_WEBHOOK_SECRET, type Harness } from '../helpers/harness';

let h: Harness;
const started: WorkflowHandle[] = [];

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  for (const handle of started) await handle.terminate('test over').catch(() => undefined);
  await h?.close();
});

function paymentIntentEvent(type: string, intent: Record<string, unknown>) {
  return {
    id: `evt_${crypto.randomBytes(8).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    data: {
      object: {
        id: `pi_${crypto.randomBytes(8).toString('hex')}`,
        object: 'payment_intent',
        amount: 12240,
        amount_received: 0,
        currency: 'eur',
        payment_method: 'pm_card_visa',
        last_payment_error: null,
        metadata: {},
        ...intent,
      },
    },
  };
}

function deliver(event: object, secret = TEST_WEBHOOK_SECRET) {
  const payload = JSON.stringify(event);
  return request(h.app)
    .post('/webhooks/stripe')
    .set('content-type', 'application/json')
    .set('stripe-signature', h.stripe.webhooks.generateTestHeaderString({ payload, secret }))
    .send(payload);
}

async function waitingWorkflow(): Promise<WorkflowHandle> {
  const handle = await h.temporal.workflow.start('noWorkerForThis', {
    taskQueue: `nobody-${crypto.randomBytes(4).toString('hex')}`,
    workflowId: `payment-test:${crypto.randomUUID()}`,
    args: [],
  });
  started.push(handle);
  return handle;
}

/** the paymentResult signals in the workflow's history, decoded */
async function paymentSignals(handle: WorkflowHandle): Promise<unknown[]> {
  const history = await handle.fetchHistory();
  const payloads = (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a) => a?.signalName === 'paymentResult')
    .map((a) => a!.input!.payloads![0]!);
  // histories hold encrypted payloads (infra/payload-codec.ts): decrypt with the harness's codec first
  let decoded = payloads;
  for (const codec of [...(h.dataConverter.payloadCodecs ?? [])].reverse()) decoded = await codec.decode(decoded);
  return decoded.map((p) => defaultPayloadConverter.fromPayload(p));
}

describe('POST /webhooks/stripe', () => {
  it('refuses a missing or wrong signature with 400 WEBHOOK_SIGNATURE_INVALID', async () => {
    const event = paymentIntentEvent('payment_intent.succeeded', {});
    const unsigned = await request(h.app)
      .post('/webhooks/stripe')
      .set('content-type', 'application/json')
      .send(JSON.stringify(event));
    expect(unsigned.status).toBe(400);
    expect(unsigned.body).toEqual({
      error: { code: 'WEBHOOK_SIGNATURE_INVALID', message: expect.any(String) },
    });

    const forged = await deliver(event, 'whsec_someone_else_0123456789');
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatchObject({
      code: 'WEBHOOK_SIGNATURE_INVALID',
      details: expect.anything(),
    });

    // the signed bytes matter: the same event re-serialised differently is refused
    const payload = JSON.stringify(event);
    const header = h.stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET });
    const altered = await request(h.app)
      .post('/webhooks/stripe')
      .set('content-type', 'application/json')
      .set('stripe-signature', header)
      .send(JSON.stringify(event, null, 2));
    expect(altered.status).toBe(400);
    expect(await h.prisma.stripeEvent.count({ where: { id: event.id } })).toBe(0);
  });

  it('signals the waiting workflow once, even when Stripe delivers the event twice', async () => {
    const workflow = await waitingWorkflow();
    const event = paymentIntentEvent('payment_intent.succeeded', {
      amount_received: 12240,
      status: 'succeeded',
      metadata: { workflowId: workflow.workflowId, purchaseId: crypto.randomUUID() },
    });

    const first = await deliver(event);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true, duplicate: false, outcome: 'signalled' });
    const again = await deliver(event);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, duplicate: true });

    expect(await paymentSignals(workflow)).toEqual([
      {
        paymentIntentId: event.data.object.id,
        status: 'succeeded',
        amountCents: 12240,
        paymentMethodId: 'pm_card_visa',
      },
    ]);
    expect(await h.prisma.stripeEvent.findUnique({ where: { id: event.id } })).toMatchObject({
      type: 'payment_intent.succeeded',
    });
  });

  it('passes a failed payment with its decline code', async () => {
    const workflow = await waitingWorkflow();
    const event = paymentIntentEvent('payment_intent.payment_failed', {
      status: 'requires_payment_method',
      metadata: { workflowId: workflow.workflowId },
      last_payment_error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      },
    });
    expect((await deliver(event)).body).toMatchObject({ outcome: 'signalled' });
    expect(await paymentSignals(workflow)).toEqual([
      {
        paymentIntentId: event.data.object.id,
        status: 'failed',
        amountCents: 12240,
        paymentMethodId: 'pm_card_visa',
        failureCode: 'insufficient_funds',
        failureMessage: 'Your card has insufficient funds.',
      },
    ]);
  });

  it('acknowledges an event for a workflow that does not exist (Stripe must not retry forever)', async () => {
    const event = paymentIntentEvent('payment_intent.succeeded', {
      amount_received: 12240,
      metadata: { workflowId: `subscription:gone-${crypto.randomUUID()}` },
    });
    const res = await deliver(event);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, duplicate: false, outcome: 'workflow-not-found' });
    expect(await h.prisma.stripeEvent.count({ where: { id: event.id } })).toBe(1);
  });

  it('accepts and ignores other events, and PaymentIntents that name no workflow', async () => {
    const other = { ...paymentIntentEvent('customer.created', {}), data: { object: { id: 'cus_1' } } };
    expect((await deliver(other)).body).toEqual({ received: true, duplicate: false, outcome: 'ignored' });
    const anonymous = paymentIntentEvent('payment_intent.succeeded', { amount_received: 100 });
    expect((await deliver(anonymous)).body).toEqual({
      received: true,
      duplicate: false,
      outcome: 'no-workflow',
    });
  });

  it('is in the OpenAPI document, and other routes still parse JSON', async () => {
    const doc = await request(h.app).get('/openapi.json');
    expect(doc.body.paths['/webhooks/stripe'].post.responses).toHaveProperty('400');
    const json = await request(h.app).post('/installations').send({ baseId: 'nope' });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('VALIDATION_FAILED');
  });
});
