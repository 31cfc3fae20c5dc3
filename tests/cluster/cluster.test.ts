/**
 * The production shape (docs/cluster.md): the real Temporal server on PostgreSQL, 2 API processes, 2 worker
 * processes, each a real `main.ts` child process. Purchases, renewals ("renew now", the same charge as the
 * period-end renewal) and session opens go to both API processes; one worker is SIGKILLed with flows in flight;
 * then a rolling restart moves the workers onto a new build (WORKER_BUILD_ID build-2) one at a time, with
 * purchases waiting for their payment and payments arriving meanwhile. Nothing is lost (every workflow ends
 * ACTIVE, none failed, the histories show the new build carrying on what the old one started) and nothing is
 * charged twice (one PaymentIntent key per charge at Stripe, one payment and one invoice per charge in the
 * database). The Schedules exist once, created by the first worker, however many started since.
 */
import {
  randomBaseId,
  uniqueEmail,
  createHarness,
  installTestRuntime,
  type Harness,
} from '../helpers/harness';
import { licenceOrder } from '../helpers/api';
import { paymentIntentEvent, until } from '../helpers/faults';
import { call, startTestCluster, type TestCluster } from '../helpers/cluster';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';
import {
  MONTHLY_FEES_SCHEDULE_ID,
  eInvoiceOutboxScheduleId,
  sessionExpiryScheduleId,
  subscriptionWorkflowId,
} from '../../workflows/ids';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';

jest.setTimeout(600_000);

let h: Harness;
let recorder: StripeRecorder;
let cluster: TestCluster;

beforeAll(async () => {
  installTestRuntime();
  recorder = await startStripeRecorder();
  // stripe-mock can't take money: created PaymentIntents look succeeded (the off-session renewal charge)
  recorder.answer(
    { method: 'POST', path: '/v1/payment_intents' },
    { patch: (pi) => ({ ...pi, status: 'succeeded' }) },
    Infinity,
  );
  h = await createHarness({ stripeApiBase: recorder.url });
  await h.stopWorker(); // the cluster's workers are the only ones
  cluster = await startTestCluster(h, { stripeApiBase: recorder.url, env: { WORKER_BUILD_ID: 'build-1' } });
});

afterAll(async () => {
  await cluster?.close();
  await h?.close();
  await recorder?.stop();
});

interface Buyer {
  baseId: string;
  apiKey: string;
  email: string;
  /** the API process this base talks to */
  api: string;
  purchaseId?: string;
  licenceId?: string;
  paymentIntentId?: string;
  amountCents?: number;
  renewed?: boolean;
}

const apiUrl = (i: number) => cluster.apis[i % cluster.apis.length]!.url!;

async function buyer(i: number): Promise<Buyer> {
  const baseId = randomBaseId();
  // registrations through the front (round robin over the two processes)
  const registered = await call(cluster.front.url, 'POST', '/installations', {
    body: { baseId, machineName: 'POSTE-1' },
  });
  expect(registered.status).toBe(201);
  return { baseId, apiKey: registered.body.apiKey as string, email: uniqueEmail('compta'), api: apiUrl(i) };
}

async function purchase(b: Buyer): Promise<void> {
  const res = await call(b.api, 'POST', `/bases/${b.baseId}/subscriptions`, {
    apiKey: b.apiKey,
    body: licenceOrder(b.baseId, { email: b.email }),
  });
  expect(res.status).toBe(201);
  const body = res.body as {
    purchaseId: string;
    licenceId: string;
    quote: { totalInclVatCents: number };
    payment: { paymentIntentId: string };
  };
  Object.assign(b, {
    purchaseId: body.purchaseId,
    licenceId: body.licenceId,
    paymentIntentId: body.payment.paymentIntentId,
    amountCents: body.quote.totalInclVatCents,
  });
}

/** Stripe's webhook for the purchase's payment, to the other API process than the buyer's. */
async function pay(b: Buyer): Promise<void> {
  const event = paymentIntentEvent('payment_intent.succeeded', b.baseId, {
    purchaseId: b.purchaseId!,
    quote: { totalInclVatCents: b.amountCents! },
    payment: { paymentIntentId: b.paymentIntentId! },
  });
  const other = cluster.apis.find((a) => a.url !== b.api)!.url!;
  const res = await call(other, 'POST', '/webhooks/stripe', {
    raw: event.payload,
    headers: { 'stripe-signature': event.signature },
  });
  expect(res.status).toBe(200);
}

/**
 * "Renew now" (the charge of the next period, as at the period's end), from the buyer's API process. An
 * answer lost with a dying worker is asked again, as the ERP would: the second ask finds the period paid.
 */
async function renew(b: Buyer): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const res = await call(b.api, 'POST', `/bases/${b.baseId}/licence/renewals`, { apiKey: b.apiKey }).catch(
      (): Awaited<ReturnType<typeof call>> => ({ status: 0, body: {} }),
    );
    if (res.status === 200) break;
    const details = (res.body.error as { details?: { reason?: string } } | undefined)?.details;
    if (res.status === 409 && details?.reason === 'ALREADY_RENEWED') break;
    if (attempt === 4) throw new Error(`renewal of ${b.baseId}: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  b.renewed = true;
}

const stateOf = (b: Buyer) =>
  cluster.client.workflow.getHandle(subscriptionWorkflowId(b.baseId)).query(getSubscriptionStateQuery);

const activeAndPaid = (b: Buyer) =>
  until(
    () => stateOf(b).catch((error: unknown) => ({ error: String(error) }) as unknown as SubscriptionState),
    (s) => s.status === 'ACTIVE' && s.paidThroughIndex === (b.renewed ? 1 : 0),
    `${b.baseId}: active${b.renewed ? ' and renewed' : ''}`,
    240,
  );

/** Who completed each workflow task of the base's workflow (all its runs), and when, newest run first. */
async function taskIdentities(b: Buyer): Promise<{ identity: string; at: number }[]> {
  const identities: { identity: string; at: number }[] = [];
  let runId: string | undefined;
  for (;;) {
    const handle = cluster.client.workflow.getHandle(subscriptionWorkflowId(b.baseId), runId);
    const history = await handle.fetchHistory();
    const run: { identity: string; at: number }[] = [];
    for (const event of history.events ?? []) {
      const identity = event.workflowTaskCompletedEventAttributes?.identity;
      if (identity) run.push({ identity, at: Number(event.eventTime?.seconds ?? 0) * 1000 });
    }
    identities.unshift(...run);
    // an earlier run, if this one was continued-as-new from it
    const first = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!first?.continuedExecutionRunId) break;
    runId = first.continuedExecutionRunId;
  }
  return identities;
}

it('purchases, renewals and sessions over 2 APIs and 2 workers; a worker killed; a rolling restart: nothing lost, nothing charged twice', async () => {
  // ---- 8 purchases, alternately through each API process, each waiting for its payment
  const buyers: Buyer[] = [];
  for (let i = 0; i < 8; i += 1) buyers.push(await buyer(i));
  await Promise.all(buyers.map(purchase));
  const [b1, b2, b3, b4, b5, b6, b7, b8] = buyers as [Buyer, Buyer, Buyer, Buyer, Buyer, Buyer, Buyer, Buyer];

  // ---- two are paid (webhooks to the other API process) and active
  await Promise.all([pay(b1), pay(b2)]);
  await Promise.all([activeAndPaid(b1), activeAndPaid(b2)]);

  // ---- a worker is SIGKILLed while two activations and a renewal are in flight
  await Promise.all([pay(b3), pay(b4)]);
  const renewing = renew(b1);
  const killed = cluster.workers.shift()!;
  await killed.kill();
  await renewing;
  await Promise.all([activeAndPaid(b1), activeAndPaid(b3), activeAndPaid(b4)]);

  // ---- rolling restart onto build-2, one worker at a time, payments and a renewal arriving meanwhile
  const restartStarted = new Date();
  await cluster.addWorker({ WORKER_BUILD_ID: 'build-2' });
  await Promise.all([pay(b5), pay(b6)]);
  const renewing2 = renew(b2);
  const old = cluster.workers.shift()!; // the last build-1 worker: SIGTERM, it finishes its tasks and stops
  expect(old.output()).not.toMatch(/build-2/);
  await old.stop();
  const build1Gone = Date.now();
  await cluster.addWorker({ WORKER_BUILD_ID: 'build-2' });
  await renewing2;
  // b7 and b8 ordered on build-1 and are paid now that only build-2 runs
  await Promise.all([pay(b7), pay(b8)]);
  for (const b of buyers) await activeAndPaid(b);

  // ---- sessions, opened through both API processes: the limit (1 connection) holds across processes
  const session = (b: Buyer, api: string, evict?: number) =>
    call(api, 'POST', `/bases/${b.baseId}/sessions`, {
      apiKey: b.apiKey,
      body: {
        userCode: 'BB',
        userName: 'BB BB',
        ip: '192.168.1.148',
        computerName: 'ICS01-PC',
        ...(evict ? { evict: { sessionId: evict } } : {}),
      },
    });
  const opened = await Promise.all(buyers.map((b, i) => session(b, apiUrl(i))));
  expect(opened.map((r) => r.status)).toEqual(buyers.map(() => 201));
  const second = await Promise.all(buyers.map((b, i) => session(b, apiUrl(i + 1))));
  expect(second.map((r) => (r.body.error as { code?: string } | undefined)?.code)).toEqual(
    buyers.map(() => 'SEAT_LIMIT_REACHED'),
  );
  const takeOver = await session(b1, apiUrl(1), opened[0]!.body.sessionId as number);
  expect(takeOver.status).toBe(201);
  // two logins at once on a fresh seat, one per API process: exactly one gets in
  await call(apiUrl(1), 'DELETE', `/sessions/${takeOver.body.sessionId as number}`, { apiKey: b1.apiKey });
  const race = await Promise.all([session(b1, apiUrl(0)), session(b1, apiUrl(1))]);
  expect(race.map((r) => r.status).sort()).toEqual([201, 409]);

  // ---- nothing lost: every base active, every renewal recorded, no workflow failed or terminated
  const closedBadly = await cluster.client.workflow
    .count(
      `WorkflowType = 'subscriptionWorkflow' AND ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut', 'Canceled')`,
    )
    .then((c) => c.count);
  expect(closedBadly).toBe(0);
  const running = await cluster.client.workflow
    .count(`WorkflowType = 'subscriptionWorkflow' AND ExecutionStatus = 'Running'`)
    .then((c) => c.count);
  expect(running).toBe(buyers.length);

  // ---- nothing charged twice: at Stripe, one PaymentIntent key per charge; in the database, one payment and
  // one invoice per charge, under that key
  for (const b of buyers) {
    const keys = new Set(
      recorder.requests
        .filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents')
        .map((r) => r.idempotencyKey!)
        .filter((k) => k === `purchase:${b.purchaseId}:intent` || k.startsWith(`renewal:${b.licenceId}:`)),
    );
    expect(keys.size).toBe(b.renewed ? 2 : 1);
    const payments = await h.prisma.payment.findMany({ where: { baseId: b.baseId } });
    expect(payments.map((p) => p.status)).toEqual(payments.map(() => 'SUCCEEDED'));
    expect(payments).toHaveLength(keys.size);
    expect(payments[0]!.amountCents).toBe(b.amountCents);
    const renewalKeys = [...keys].filter((k) => k.startsWith('renewal:'));
    for (const key of renewalKeys) expect(payments.map((p) => p.idempotencyKey)).toContain(key);
    expect(await h.prisma.invoice.count({ where: { baseId: b.baseId } })).toBe(keys.size);
    expect(await h.prisma.purchase.count({ where: { baseId: b.baseId } })).toBe(1);
    expect(await h.prisma.licence.findUniqueOrThrow({ where: { id: b.licenceId! } })).toMatchObject({
      status: 'ACTIVE',
    });
  }
  // the activation email once per base (sent after its activation committed)
  for (const b of buyers) {
    await h.mail.waitFor((m) => m.to.includes(b.email) && m.subject === 'Votre licence est active');
    expect(h.mail.messagesTo(b.email).filter((m) => m.subject === 'Votre licence est active')).toHaveLength(
      1,
    );
  }

  // ---- the new build carried on what the old one started: b7 and b8 ordered on build-1, activated on build-2
  for (const b of [b7, b8]) {
    const tasks = await taskIdentities(b);
    expect(tasks[0]!.identity).toMatch(/^build-1:/);
    expect(tasks[tasks.length - 1]!.identity).toMatch(/^build-2:/);
  }
  // every workflow task completed once the last build-1 worker was gone ran on build-2 (history times are in
  // whole seconds: a second of margin)
  const all = (await Promise.all(buyers.map(taskIdentities))).flat();
  const late = all.filter((t) => t.at > build1Gone + 1000);
  expect(late.length).toBeGreaterThan(0);
  expect(late.filter((t) => !t.identity.startsWith('build-2:'))).toEqual([]);

  // ---- the Schedules: once each, created before the restart, however many workers started (4)
  const schedules: string[] = [];
  for await (const s of cluster.client.schedule.list()) schedules.push(s.scheduleId);
  expect(schedules.sort()).toEqual(
    [
      MONTHLY_FEES_SCHEDULE_ID,
      sessionExpiryScheduleId(cluster.taskQueue),
      eInvoiceOutboxScheduleId(cluster.taskQueue),
    ].sort(),
  );
  for (const id of schedules) {
    const described = await cluster.client.schedule.getHandle(id).describe();
    expect(described.info.createdAt.getTime()).toBeLessThan(restartStarted.getTime());
  }
});
