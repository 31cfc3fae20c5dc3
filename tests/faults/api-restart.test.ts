/**
 * The API dies in the middle of a purchase request: the real API (`main.ts --role api`, child process) has
 * recorded the purchase and started the base's workflow and is waiting for the payment instructions when it
 * is killed (SIGKILL); the ERP gets no answer. The API comes back; the ERP sends the same request with the
 * same idempotency key and gets the same purchase and the same PaymentIntent: one purchase, one licence,
 * one charge.
 *
 * To catch the request at that point, the worker is stopped while it runs (the workflow can't answer the
 * payment-instructions update until a worker polls again).
 */
import request from 'supertest';
import { freePort } from '../../infra/embedded/ports';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { startApiProcess, type ApiProcess } from '../helpers/api-process';
import { deliver } from '../helpers/credits';
import { paymentIntentEvent, until } from '../helpers/faults';
import { createHarness, uniqueEmail, type Harness } from '../helpers/harness';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

jest.setTimeout(180_000);

let h: Harness;
let recorder: StripeRecorder;
let api: ApiProcess | undefined;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  h = await createHarness({ stripeApiBase: recorder.url });
});
afterAll(async () => {
  await api?.kill();
  await h?.close();
  await recorder?.stop();
});

it('killed while the purchase request waits: the retry with the same key gets the one purchase', async () => {
  const port = await freePort();
  const start = () =>
    startApiProcess(h, {
      port,
      temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
      stripeApiBase: recorder.url,
    });
  api = await start();
  const machine = await registerMachine(h);
  const email = uniqueEmail('compta');
  const body = {
    idempotencyKey: `buy-${machine.baseId}`,
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    connections: 3,
    period: 'ANNUAL',
    paymentMethod: 'ONLINE',
    billing: {
      companyName: 'Garage Martin',
      lastName: 'Martin',
      firstName: 'Paul',
      address: '3 avenue Foch',
      postalCode: '69006',
      city: 'Lyon',
      country: 'FRA',
      email,
    },
    terms: { version: '2026-01', accepted: true },
  };
  const send = () =>
    request(api!.url).post(`/bases/${machine.baseId}/subscriptions`).set(bearer(machine.apiKey)).send(body);

  await h.stopWorker();
  const first = send().then(
    (r) => ({ status: r.status }),
    (error: Error) => ({ error: error.message }),
  );
  // the request got as far as recording the purchase and starting the workflow
  const purchase = await until(
    () => h.prisma.purchase.findFirst({ where: { baseId: machine.baseId } }),
    (p) => p !== null,
    'the purchase recorded by the API',
  );
  await until(
    async () =>
      h.temporal.workflow
        .getHandle(subscriptionWorkflowId(machine.baseId))
        .describe()
        .then(
          (d) => d.status.name,
          () => 'NOT_STARTED_YET',
        ),
    (s) => s === 'RUNNING',
    'the workflow started',
  );
  await api.kill();
  api = undefined;
  // the ERP's connection dropped: no answer
  expect(await first).toEqual({ error: expect.stringMatching(/socket hang up|ECONNRESET/) });

  api = await start();
  await h.startWorker();
  const retried = await send();
  expect(retried.status).toBe(200); // an existing purchase, answered again
  expect(retried.body).toMatchObject({
    purchaseId: purchase!.id,
    status: 'AWAITING_PAYMENT',
    payment: { paymentIntentId: expect.stringMatching(/^pi_/) },
  });
  const again = await send();
  expect(again.body.payment.paymentIntentId).toBe(retried.body.payment.paymentIntentId);

  expect(await h.prisma.purchase.count({ where: { baseId: machine.baseId } })).toBe(1);
  expect(await h.prisma.licence.count({ where: { baseId: machine.baseId } })).toBe(1);
  const intents = recorder.requests.filter(
    (r) => r.path === '/v1/payment_intents' && r.form['metadata[baseId]'] === machine.baseId,
  );
  expect(new Set(intents.map((r) => r.idempotencyKey))).toEqual(new Set([`purchase:${purchase!.id}:intent`]));

  // paid: one payment, one invoice
  expect(
    (await deliver(h, paymentIntentEvent('payment_intent.succeeded', machine.baseId, retried.body))).status,
  ).toBe(200);
  await until(
    () =>
      h.temporal.workflow.getHandle(subscriptionWorkflowId(machine.baseId)).query(getSubscriptionStateQuery),
    (s) => s.status === 'ACTIVE',
    'activation',
  );
  expect(await h.prisma.payment.count({ where: { baseId: machine.baseId } })).toBe(1);
  expect(await h.prisma.invoice.count({ where: { baseId: machine.baseId } })).toBe(1);
});
