/**
 * The ops tools on the real stack: failed renewals replayed through their workflow (once), bulk replay
 * with a dry run, the manual-payment and free-licence queues, the manual-credit queue under two clicks at
 * once, workflows waiting too long (Temporal visibility), the audit trail of every action, and the ops
 * role required on every `/ops/*` route.
 */
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { addDays } from '../../domain/periods';
import { bearer, confirmedAccount, registerMachine } from '../helpers/api';
import { eventually } from '../helpers/credits';
import { createHarness, type Harness } from '../helpers/harness';
import { awaitingOpsPurchase, opsToken, pastDueLicence, unmatchedPurchase } from '../helpers/ops';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

jest.setTimeout(180_000);

let h: Harness;
let recorder: StripeRecorder;
let ops: string;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  h = await createHarness({ stripeApiBase: recorder.url });
  ops = await opsToken(h, 'compta');
});
afterAll(async () => {
  await h?.close();
  await recorder?.stop();
});

const renewalCharges = (licenceId: string) =>
  recorder.requests.filter(
    (r) => r.path === '/v1/payment_intents' && r.idempotencyKey?.startsWith(`renewal:${licenceId}:`),
  );

const auditOf = (entityType: string, entityId: string) =>
  h.prisma.auditLog.findMany({ where: { entityType, entityId }, orderBy: { id: 'asc' } });

describe('failed renewals', () => {
  it('are listed with base, account, amount, attempts, last error and next retry; a replay pays once, a second one is a no-op', async () => {
    const past = await pastDueLicence(h, recorder);
    const listed = await request(h.app)
      .get('/ops/payments/failed')
      .query({ kind: 'RENEWAL' })
      .set(bearer(ops));
    expect(listed.status).toBe(200);
    const item = listed.body.find((p: { id: string }) => p.id === past.paymentId);
    expect(item).toMatchObject({
      kind: 'RENEWAL',
      baseId: past.baseId,
      holderName: past.billing.companyName,
      attempts: 1,
      lastError: 'insufficient_funds',
      nextRetryOn: addDays(dayOf(Date.now()), 1),
      status: 'PAST_DUE',
      replayable: true,
    });
    expect(item.amountCents).toBeGreaterThan(0);

    const noReason = await request(h.app)
      .post(`/ops/payments/${past.paymentId}/replay`)
      .set(bearer(ops))
      .send({});
    expect(noReason.status).toBe(400);

    const replayed = await request(h.app)
      .post(`/ops/payments/${past.paymentId}/replay`)
      .set(bearer(ops))
      .send({ reason: 'the customer updated the card on the phone' });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ outcome: 'PAID', baseId: past.baseId, status: 'ACTIVE' });
    const licence = await h.prisma.licence.findUniqueOrThrow({ where: { id: past.licenceId } });
    expect(licence.status).toBe('ACTIVE');
    const charged = renewalCharges(past.licenceId).length;
    expect(charged).toBe(2); // the declined attempt, then the replay

    const again = await request(h.app)
      .post(`/ops/payments/${past.paymentId}/replay`)
      .set(bearer(ops))
      .send({ reason: 'clicked twice' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'ALREADY_PAID' });
    expect(again.body.message).toMatch(/Nothing charged: the period was paid/);
    expect(renewalCharges(past.licenceId)).toHaveLength(charged);
    expect(await h.prisma.payment.count({ where: { licenceId: past.licenceId, status: 'SUCCEEDED' } })).toBe(
      2,
    ); // the purchase and one renewal

    const after = await request(h.app).get('/ops/payments/failed').set(bearer(ops));
    expect(after.body.map((p: { id: string }) => p.id)).not.toContain(past.paymentId);

    const trail = (await auditOf('LICENCE', past.licenceId)).filter(
      (e) => e.action === 'ops.payment_replayed',
    );
    expect(trail).toEqual([
      expect.objectContaining({
        actorType: 'OPS',
        actorId: 'compta',
        data: expect.objectContaining({
          outcome: 'PAID',
          reason: 'the customer updated the card on the phone',
        }),
      }),
      expect.objectContaining({
        actorType: 'OPS',
        data: expect.objectContaining({ outcome: 'ALREADY_PAID', reason: 'clicked twice' }),
      }),
    ]);
  });

  it('bulk replay: a dry run lists what matches without acting; the real run replays each once', async () => {
    const a = await pastDueLicence(h, recorder);
    const b = await pastDueLicence(h, recorder);
    const before = recorder.requests.length;

    const dry = await request(h.app)
      .post('/ops/payments/replays')
      .set(bearer(ops))
      .send({ filter: { failureCode: 'insufficient_funds' }, dryRun: true, reason: 'weekly retry' });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    const ids = dry.body.items.map((i: { paymentId: string }) => i.paymentId);
    expect(ids).toEqual(expect.arrayContaining([a.paymentId, b.paymentId]));
    expect(dry.body.items.every((i: { outcome: string }) => i.outcome === 'WOULD_REPLAY')).toBe(true);
    expect(recorder.requests.length).toBe(before);
    for (const { licenceId } of [a, b])
      expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).status).toBe(
        'PAST_DUE',
      );

    const onlyA = await request(h.app)
      .post('/ops/payments/replays')
      .set(bearer(ops))
      .send({ filter: { baseId: a.baseId }, reason: 'weekly retry' });
    expect(onlyA.body).toMatchObject({
      dryRun: false,
      matched: 1,
      items: [expect.objectContaining({ paymentId: a.paymentId, outcome: 'PAID' })],
    });
    expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: b.licenceId } })).status).toBe(
      'PAST_DUE',
    );
  });

  it('a purchase or an unknown id is refused with a documented code', async () => {
    const queued = await unmatchedPurchase(h);
    const closed = await request(h.app)
      .post(`/ops/payments/${queued.purchaseId}/replay`)
      .set(bearer(ops))
      .send({ reason: 'try it' });
    expect(closed.status).toBe(409);
    expect(closed.body.error.code).toBe('PAYMENT_NOT_REPLAYABLE');
    const unknown = await request(h.app)
      .post('/ops/payments/00000000-0000-4000-8000-000000000000/replay')
      .set(bearer(ops))
      .send({ reason: 'try it' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('PAYMENT_NOT_FOUND');
  });
});

describe('manual queues', () => {
  it('cheque purchases: listed, cancelled (buyer told) or confirmed (licence active), each audited', async () => {
    const cancelled = await awaitingOpsPurchase(h, 'CHEQUE');
    const confirmed = await awaitingOpsPurchase(h, 'TRANSFER');
    const queue = await request(h.app).get('/ops/manual-payments').set(bearer(ops));
    expect(queue.status).toBe(200);
    expect(queue.body.map((p: { purchaseId: string }) => p.purchaseId)).toEqual(
      expect.arrayContaining([cancelled.purchaseId, confirmed.purchaseId]),
    );
    expect(
      queue.body.find((p: { purchaseId: string }) => p.purchaseId === cancelled.purchaseId),
    ).toMatchObject({
      baseId: cancelled.baseId,
      paymentMethod: 'CHEQUE',
      holderName: cancelled.billing.companyName,
    });

    const cancel = await request(h.app)
      .post(`/ops/manual-payments/${cancelled.purchaseId}/cancel`)
      .set(bearer(ops))
      .send({ reason: 'the customer paid by card instead' });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'CANCELLED', licenceStatus: 'CANCELLED' });
    await h.mail.waitFor((m) => m.to.includes(cancelled.billing.email));
    const row = await h.prisma.purchase.findUniqueOrThrow({ where: { id: cancelled.purchaseId } });
    expect(row).toMatchObject({
      status: 'CANCELLED',
      decidedBy: 'compta',
      decisionReason: 'the customer paid by card instead',
    });

    const confirm = await request(h.app)
      .post(`/ops/manual-payments/${confirmed.purchaseId}/confirm`)
      .set(bearer(ops))
      .send({ reference: 'VIR-2026-0042' });
    expect(confirm.status).toBe(200);
    expect(confirm.body).toMatchObject({ status: 'COMPLETED', licenceStatus: 'ACTIVE' });

    const twice = await request(h.app)
      .post(`/ops/manual-payments/${confirmed.purchaseId}/confirm`)
      .set(bearer(ops))
      .send({ reference: 'VIR-2026-0042' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('PURCHASE_NOT_AWAITING_OPS');

    const left = await request(h.app).get('/ops/manual-payments').set(bearer(ops));
    expect(left.body.map((p: { purchaseId: string }) => p.purchaseId)).not.toEqual(
      expect.arrayContaining([cancelled.purchaseId]),
    );
    expect(await auditOf('PURCHASE', cancelled.purchaseId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'ops.manual_payment_cancelled',
          actorType: 'OPS',
          actorId: 'compta',
          data: expect.objectContaining({ reason: 'the customer paid by card instead' }),
        }),
      ]),
    );
    expect(await auditOf('PURCHASE', confirmed.purchaseId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'ops.manual_payment_confirmed',
          actorId: 'compta',
          data: expect.objectContaining({ reference: 'VIR-2026-0042' }),
        }),
      ]),
    );
  });

  it('free licence requests: listed, approved or rejected with a reason, each audited', async () => {
    const approved = await awaitingOpsPurchase(h, 'FREE');
    const rejected = await awaitingOpsPurchase(h, 'FREE');
    const queue = await request(h.app).get('/ops/free-licences').set(bearer(ops));
    expect(queue.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ purchaseId: approved.purchaseId, freeCategory: 'ASSOCIATION' }),
      ]),
    );
    const cheque = await request(h.app)
      .post(`/ops/manual-payments/${approved.purchaseId}/confirm`)
      .set(bearer(ops))
      .send({ reference: 'CHQ-1' });
    expect(cheque.status).toBe(409);

    const ok = await request(h.app)
      .post(`/ops/free-licences/${approved.purchaseId}/approve`)
      .set(bearer(ops))
      .send({ reason: 'statuts reçus' });
    expect(ok.body).toMatchObject({ status: 'COMPLETED', licenceStatus: 'ACTIVE' });
    const no = await request(h.app)
      .post(`/ops/free-licences/${rejected.purchaseId}/reject`)
      .set(bearer(ops))
      .send({ reason: 'not an association' });
    expect(no.body).toMatchObject({ status: 'REJECTED' });
    await h.mail.waitFor((m) => m.to.includes(rejected.billing.email) && /not an association/.test(m.text));
    expect(
      (await auditOf('PURCHASE', approved.purchaseId)).map((e) => [e.action, e.actorType, e.actorId]),
    ).toContainEqual(['ops.free_licence_approved', 'OPS', 'compta']);
    expect(
      (await auditOf('PURCHASE', rejected.purchaseId)).map((e) => [e.action, e.actorType, e.actorId]),
    ).toContainEqual(['ops.free_licence_rejected', 'OPS', 'compta']);
  });

  it('two ops assigning the same unmatched purchase at once credit it once', async () => {
    const queued = await unmatchedPurchase(h, 30);
    const { accountId } = await confirmedAccount(h);
    const other = await opsToken(h, 'support');
    const [first, second] = await Promise.all([
      request(h.app).post(`/ops/purchases/${queued.purchaseId}/assign`).set(bearer(ops)).send({ accountId }),
      request(h.app)
        .post(`/ops/purchases/${queued.purchaseId}/assign`)
        .set(bearer(other))
        .send({ accountId }),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect([first, second].find((r) => r.status === 409)!.body.error.code).toBe('PURCHASE_NOT_UNMATCHED');
    const entries = await h.prisma.creditEntry.findMany({ where: { accountId } });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.amount).toBe(30 * 60);
    expect(
      (await auditOf('CREDIT_PURCHASE', queued.purchaseId)).filter(
        (e) => e.action === 'credit_purchase.assigned',
      ),
    ).toHaveLength(1);
  });
});

it('workflows waiting on ops longer than the threshold are listed from Temporal visibility, with a UI link', async () => {
  h.services.temporalUiUrl = 'http://temporal-ui.test';
  const waiting = await awaitingOpsPurchase(h, 'CHEQUE');
  const workflowId = `subscription:${waiting.baseId}`;
  const stuck = await eventually(
    () =>
      request(h.app)
        .get('/ops/workflows/stuck')
        .query({ olderThanHours: 0, waitingOn: 'OPS' })
        .set(bearer(ops)),
    (r) => r.status === 200 && r.body.some((w: { workflowId: string }) => w.workflowId === workflowId),
  );
  expect(stuck.body.find((w: { workflowId: string }) => w.workflowId === workflowId)).toMatchObject({
    type: 'subscriptionWorkflow',
    waitingOn: 'OPS',
    link: expect.stringMatching(
      new RegExp(
        `^http://temporal-ui\\.test/namespaces/default/workflows/${encodeURIComponent(workflowId)}/`,
      ),
    ),
  });
  const recent = await request(h.app).get('/ops/workflows/stuck').set(bearer(ops));
  expect(recent.body.map((w: { workflowId: string }) => w.workflowId)).not.toContain(workflowId);

  // decided: no longer waiting
  await request(h.app)
    .post(`/ops/manual-payments/${waiting.purchaseId}/confirm`)
    .set(bearer(ops))
    .send({ reference: 'CHQ-77' });
  const cleared = await eventually(
    () => request(h.app).get('/ops/workflows/stuck').query({ olderThanHours: 0 }).set(bearer(ops)),
    (r) => !r.body.some((w: { workflowId: string }) => w.workflowId === workflowId),
  );
  expect(cleared.body.map((w: { workflowId: string }) => w.workflowId)).not.toContain(workflowId);
});

it('every /ops/* route of the OpenAPI document refuses an installation key (403) and no key (401)', async () => {
  const { apiKey } = await registerMachine(h);
  const doc = (await request(h.app).get('/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes = Object.entries(doc.paths)
    .filter(([p]) => p.startsWith('/ops/'))
    .flatMap(([p, methods]) => Object.keys(methods).map((method) => ({ method, path: p })));
  expect(routes.length).toBeGreaterThanOrEqual(20);
  const concrete = (p: string) =>
    p.replace(/\{(\w+)\}/g, (_m, name: string) =>
      name === 'baseId' ? '12345678901234567' : '00000000-0000-4000-8000-000000000000',
    );
  const answers = [];
  for (const route of routes) {
    const call = () =>
      (request(h.app) as unknown as Record<string, (url: string) => request.Test>)[route.method]!(
        concrete(route.path),
      );
    const withKey = await call().set(bearer(apiKey)).send({});
    const anonymous = await call().send({});
    answers.push({
      ...route,
      withKey: withKey.status,
      code: withKey.body?.error?.code,
      anonymous: anonymous.status,
    });
  }
  expect(answers).toEqual(routes.map((r) => ({ ...r, withKey: 403, code: 'ROLE_REQUIRED', anonymous: 401 })));
});
