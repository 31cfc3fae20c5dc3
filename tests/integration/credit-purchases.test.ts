/**
 * creditPurchaseWorkflow on the real stack (PostgreSQL, Temporal dev server, SMTP, stripe-mock behind a
 * recording proxy): refusals before payment, duplicated webhooks, the manual-credit queue (website
 * purchase without an account, ops assign or refund), cancellation, and a worker that dies after the
 * credit is committed but before Temporal hears of it.
 */
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import request from 'supertest';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { createActivities } from '../../worker';
import { creditPurchaseWorkflowId } from '../../workflows/ids';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, eventually, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { createHarness, uniqueEmail, workflowBundle, workerDeps, type Harness } from '../helpers/harness';
import { startStripeRecorder, type StripeRecorder } from '../helpers/stripe-recorder';

let h: Harness;
let ops: string;
let recorder: StripeRecorder;

beforeAll(async () => {
  recorder = await startStripeRecorder();
  h = await createHarness({ stripeApiBase: recorder.url });
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'lucie', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
  await recorder?.stop();
});

const websiteBuyer = (overrides: Record<string, unknown> = {}) => ({
  companyName: 'Garage des Lilas',
  lastName: 'Morel',
  firstName: 'Anne',
  address: '8 rue des Lilas',
  postalCode: '31000',
  city: 'Toulouse',
  country: 'FRA',
  email: uniqueEmail('anne'),
  ...overrides,
});

function buyOnWebsite(billing: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return request(h.app)
    .post('/credit-purchases')
    .send({
      idempotencyKey: `web-${Math.random().toString(36).slice(2)}`,
      product: { kind: 'SUPPORT_PACK', minutes: 60 },
      billing,
      ...extra,
    });
}

describe('refused before any payment', () => {
  it.each([
    ['an EU business (reverse charge)', { country: 'DEU', vatNumber: 'DE811907980' }, 'EU_REVERSE_CHARGE'],
    ['a buyer outside the EU', { country: 'CHE', postalCode: '1200' }, 'OUTSIDE_EU'],
  ])('%s gets VAT_CONTACT_REQUIRED with the contact', async (_label, where, kind) => {
    const billing = websiteBuyer(where);
    const before = recorder.requests.length;
    const res = await buyOnWebsite(billing);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'VAT_CONTACT_REQUIRED',
      details: { vat: kind, contact: { email: 'contact@localhost' } },
    });
    expect(recorder.requests.length).toBe(before); // Stripe never called
    expect(
      await h.prisma.creditPurchase.count({ where: { billing: { path: ['email'], equals: billing.email } } }),
    ).toBe(0);
  });

  it('an account in another country is refused from the ERP too; unknown packs and small recharges are refused', async () => {
    const foreign = await confirmedAccount(h, {
      country: 'BEL',
      vatNumber: 'BE0403170701',
      postalCode: '1000',
    });
    const res = await request(h.app)
      .post(`/accounts/${foreign.accountId}/credit-purchases`)
      .set(bearer(foreign.apiKey))
      .send({ idempotencyKey: 'pack-foreign-1', product: { kind: 'SUPPORT_PACK', minutes: 15 } });
    expect(res.body.error?.code).toBe('VAT_CONTACT_REQUIRED');

    const pack = await buyOnWebsite(websiteBuyer(), { product: { kind: 'SUPPORT_PACK', minutes: 45 } });
    expect(pack.status).toBe(422);
    expect(pack.body.error).toMatchObject({
      code: 'CREDIT_PRODUCT_INVALID',
      details: { packs: [15, 30, 60] },
    });
    const small = await buyOnWebsite(websiteBuyer(), {
      product: { kind: 'WALLET_RECHARGE', amountCents: 999 },
    });
    expect(small.body.error).toMatchObject({
      code: 'CREDIT_PRODUCT_INVALID',
      details: { minimumCents: 1000 },
    });
  });
});

it('a duplicated webhook credits once; the same purchase request again gets the same PaymentIntent', async () => {
  const account = await confirmedAccount(h);
  const body = { idempotencyKey: 'recharge-dup-1', product: { kind: 'WALLET_RECHARGE', amountCents: 5000 } };
  const bought = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send(body);
  expect(bought.status).toBe(201);
  const intents = recorder.requests.filter(
    (r) => r.idempotencyKey === `credit-purchase:${bought.body.purchaseId}:intent`,
  );
  expect(intents).toHaveLength(1);
  expect(intents[0]!.form).toMatchObject({
    amount: '5000',
    'metadata[workflowId]': `credit-purchase:${bought.body.purchaseId}`,
  });
  expect(intents[0]!.form.setup_future_usage).toBeUndefined();
  const again = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send(body);
  expect(again.status).toBe(200);
  expect(again.body.payment.paymentIntentId).toBe(bought.body.payment.paymentIntentId);

  const event = paymentSucceededEvent(bought.body);
  const [first, second] = await Promise.all([deliver(h, event), deliver(h, event)]);
  expect([first.status, second.status]).toEqual([200, 200]);
  // Stripe may also send the outcome again under a new event id
  expect((await deliver(h, paymentSucceededEvent(bought.body))).status).toBe(200);
  await purchaseReaches(h, bought.body.purchaseId, 'COMPLETED');
  const handle = h.temporal.workflow.getHandle(creditPurchaseWorkflowId(bought.body.purchaseId));
  await handle.result();

  expect(await h.prisma.creditEntry.count({ where: { accountId: account.accountId } })).toBe(1);
  const wallet = await request(h.app)
    .get(`/accounts/${account.accountId}/wallet`)
    .set(bearer(account.apiKey));
  expect(wallet.body.balanceCents).toBe(5000);
  expect(
    h.mail.messagesTo(account.email).filter((m) => m.subject === 'Vos crédits sont disponibles'),
  ).toHaveLength(1);
});

it('a website purchase without an account waits in the ops queue; two ops assign at once: credited once, buyer and account mailed', async () => {
  const account = await confirmedAccount(h);
  const billing = websiteBuyer();
  const bought = await buyOnWebsite(billing, { claimedAccountId: account.accountId });
  expect(bought.status).toBe(201);
  expect(bought.body).toMatchObject({ status: 'AWAITING_PAYMENT', accountId: null, amountCents: 12000 });
  await deliver(h, paymentSucceededEvent(bought.body));
  await purchaseReaches(h, bought.body.purchaseId, 'UNMATCHED');

  const told = await h.mail.waitFor((m) => m.to.includes(billing.email));
  expect(told.subject).toBe('Paiement reçu : crédit de votre compte en attente');
  expect(told.text).toContain(`achat n° ${bought.body.number}`);
  const queue = await request(h.app).get('/ops/purchases/unmatched').set(bearer(ops));
  expect(queue.status).toBe(200);
  expect(
    queue.body.find((p: { purchaseId: string }) => p.purchaseId === bought.body.purchaseId),
  ).toMatchObject({
    claimedAccountId: account.accountId,
    buyer: { companyName: 'Garage des Lilas', email: billing.email },
    paidAt: expect.any(String),
  });
  expect((await request(h.app).get('/ops/purchases/unmatched').set(bearer(account.apiKey))).status).toBe(403);

  const assign = () =>
    request(h.app)
      .post(`/ops/purchases/${bought.body.purchaseId}/assign`)
      .set(bearer(ops))
      .send({ accountId: account.accountId });
  const answers = await Promise.all([assign(), assign()]);
  expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
  const ok = answers.find((a) => a.status === 200)!;
  const loser = answers.find((a) => a.status === 409)!;
  expect(ok.body).toMatchObject({
    status: 'COMPLETED',
    accountId: account.accountId,
    invoiceNumber: expect.any(String),
  });
  expect(loser.body.error.code).toBe('PURCHASE_NOT_UNMATCHED');
  const later = await assign();
  expect(later.status).toBe(409);
  expect(later.body.error).toMatchObject({
    code: 'PURCHASE_NOT_UNMATCHED',
    details: { status: 'COMPLETED' },
  });

  expect(await h.prisma.creditEntry.count({ where: { accountId: account.accountId } })).toBe(1);
  const time = await request(h.app)
    .get(`/accounts/${account.accountId}/support-time`)
    .set(bearer(account.apiKey));
  expect(time.body.balanceSeconds).toBe(3600);
  const buyerMail = await h.mail.waitFor(
    (m) => m.to.includes(billing.email) && m.subject === 'Votre crédit-temps est disponible',
  );
  expect(buyerMail.text).toContain(ok.body.invoiceNumber);
  const accountMail = await h.mail.waitFor(
    (m) => m.to.includes(account.email) && m.subject === 'Crédit-temps ajouté à votre compte',
  );
  expect(accountMail.text).toContain('1 h 00 min');
  const invoice = await h.prisma.invoice.findUniqueOrThrow({ where: { number: ok.body.invoiceNumber } });
  expect(invoice.buyer).toMatchObject({ companyName: 'Garage des Lilas' });
  expect(invoice.accountId).toBe(account.accountId);
  const audits = await h.prisma.auditLog.findMany({
    where: {
      entityType: 'CREDIT_PURCHASE',
      entityId: bought.body.purchaseId,
      action: 'credit_purchase.assigned',
    },
  });
  expect(audits).toHaveLength(1);
  expect(audits[0]!.data).toMatchObject({ by: 'lucie' });
});

it('ops refund an unmatched purchase (Stripe refund with an idempotency key); an unpaid one can be cancelled', async () => {
  const billing = websiteBuyer();
  const bought = await buyOnWebsite(billing);
  await deliver(h, paymentSucceededEvent(bought.body));
  await purchaseReaches(h, bought.body.purchaseId, 'UNMATCHED');
  const refunded = await request(h.app)
    .post(`/ops/purchases/${bought.body.purchaseId}/refund`)
    .set(bearer(ops))
    .send({ reason: 'acheteur sans compte, achat en double' });
  expect(refunded.status).toBe(200);
  expect(refunded.body.status).toBe('REFUNDED');
  const sent = recorder.requests.filter(
    (r) => r.idempotencyKey === `credit-purchase:${bought.body.purchaseId}:refund`,
  );
  expect(sent).toEqual([
    expect.objectContaining({
      path: '/v1/refunds',
      form: expect.objectContaining({ payment_intent: bought.body.payment.paymentIntentId }),
    }),
  ]);
  await h.mail.waitFor((m) => m.to.includes(billing.email) && m.subject === 'Achat remboursé');
  expect(await h.prisma.creditEntry.count({ where: { creditPurchaseId: bought.body.purchaseId } })).toBe(0);

  const unpaid = await buyOnWebsite(websiteBuyer());
  const cancelled = await request(h.app).post(`/credit-purchases/${unpaid.body.purchaseId}/cancellation`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('CANCELLED');
  expect(
    recorder.requests.some(
      (r) => r.path === `/v1/payment_intents/${unpaid.body.payment.paymentIntentId}/cancel`,
    ),
  ).toBe(true);
  const twice = await request(h.app).post(`/credit-purchases/${unpaid.body.purchaseId}/cancellation`);
  expect(twice.body.error.code).toBe('PURCHASE_NOT_AWAITING_PAYMENT');
});

it('the worker dies after the credit is committed, before Temporal hears of it: credited exactly once', async () => {
  const account = await confirmedAccount(h);
  await h.stopWorker();
  const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const real = createActivities(workerDeps(h));
  let committed!: () => void;
  const creditCommitted = new Promise<void>((resolve) => (committed = resolve));
  const doomed = await Worker.create({
    connection,
    taskQueue: h.taskQueue,
    dataConverter: h.dataConverter,
    workflowBundle: await workflowBundle(),
    shutdownGraceTime: '100ms',
    activities: {
      ...real,
      // the real work commits, then the process "dies" before reporting it
      creditPurchase: async (input: Parameters<typeof real.creditPurchase>[0]) => {
        await real.creditPurchase(input);
        committed();
        await Context.current().cancelled;
        throw new Error('unreachable');
      },
    },
  });
  const running = doomed.run();
  try {
    const bought = await request(h.app)
      .post(`/accounts/${account.accountId}/credit-purchases`)
      .set(bearer(account.apiKey))
      .send({ idempotencyKey: 'pack-crash-1', product: { kind: 'SUPPORT_PACK', minutes: 30 } });
    expect(bought.status).toBe(201);
    await deliver(h, paymentSucceededEvent(bought.body));
    await creditCommitted;
    doomed.shutdown();
    await running;
    expect(await h.prisma.creditEntry.count({ where: { accountId: account.accountId } })).toBe(1);

    await h.startWorker(); // a new worker retries the activity: it finds the credit already made
    await h.temporal.workflow.getHandle(creditPurchaseWorkflowId(bought.body.purchaseId)).result();
    expect(await h.prisma.creditEntry.count({ where: { accountId: account.accountId } })).toBe(1);
    const time = await eventually(
      () => request(h.app).get(`/accounts/${account.accountId}/support-time`).set(bearer(account.apiKey)),
      (r) => r.status === 200,
    );
    expect(time.body.balanceSeconds).toBe(1800);
    const p = await h.prisma.creditPurchase.findUniqueOrThrow({ where: { id: bought.body.purchaseId } });
    expect(await h.prisma.invoice.count({ where: { accountId: account.accountId } })).toBe(1);
    expect(p.invoiceNumber).not.toBeNull();

    const history = await h.temporal.workflow
      .getHandle(creditPurchaseWorkflowId(bought.body.purchaseId))
      .fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt)
      .filter((a): a is number => typeof a === 'number');
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2); // the credit activity did run twice
    expect(
      h.mail.messagesTo(account.email).filter((m) => m.subject === 'Votre crédit-temps est disponible'),
    ).toHaveLength(1);
  } finally {
    await connection.close();
  }
});
