/**
 * Buying a licence through the API on the real stack: card payment with stripe-mock and a signed webhook,
 * cheque and free licences decided by ops; the paid invoice downloads at once.
 */
import request from 'supertest';
import Stripe from 'stripe';
import { getCatalog, saveCatalog } from '../../services/catalog/get-catalog';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, registerMachine } from '../helpers/api';
import { pdfText } from '../helpers/pdf-text';
import { createHarness, TEST_WEBHOOK_SECRET, type Harness } from '../helpers/harness';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'compta', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
});

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

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return read();
}

function signedEvent(type: string, object: Record<string, unknown>) {
  const payload = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type,
    data: { object },
  });
  return {
    payload,
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }),
  };
}

it('card purchase: PaymentIntent, signed webhook, licence active, paid invoice downloadable at once', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  const body = {
    idempotencyKey: `card-${baseId}`,
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'ANNUAL',
    paymentMethod: 'ONLINE',
    billing,
    terms,
  };
  const res = await request(h.app).post(`/bases/${baseId}/subscriptions`).set(bearer(apiKey)).send(body);
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({
    status: 'AWAITING_PAYMENT',
    quote: { totalExclVatCents: 10200, vatCents: 2040, totalInclVatCents: 12240 },
  });
  expect(res.body.payment).toMatchObject({
    provider: 'STRIPE',
    paymentIntentId: expect.stringMatching(/^pi_/),
    clientSecret: expect.any(String),
  });

  // the same request again: the same purchase; the key with another request: refused
  const again = await request(h.app).post(`/bases/${baseId}/subscriptions`).set(bearer(apiKey)).send(body);
  expect(again.status).toBe(200);
  expect(again.body.purchaseId).toBe(res.body.purchaseId);
  const reused = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({ ...body, connections: 2 });
  expect(reused.status).toBe(409);
  expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');

  const event = signedEvent('payment_intent.succeeded', {
    id: res.body.payment.paymentIntentId,
    object: 'payment_intent',
    amount: 12240,
    amount_received: 12240,
    payment_method: 'pm_card_visa',
    metadata: { workflowId: `subscription:${baseId}`, purchaseId: res.body.purchaseId, baseId },
  });
  const hook = await request(h.app)
    .post('/webhooks/stripe')
    .set('stripe-signature', event.signature)
    .set('content-type', 'application/json')
    .send(event.payload);
  expect(hook.status).toBe(200);
  const duplicate = await request(h.app)
    .post('/webhooks/stripe')
    .set('stripe-signature', event.signature)
    .set('content-type', 'application/json')
    .send(event.payload);
  expect(duplicate.status).toBe(200);

  const licence = await eventually(
    () => request(h.app).get(`/bases/${baseId}/licence`).set(bearer(apiKey)),
    (r) => r.body.status === 'ACTIVE',
  );
  expect(licence.body).toMatchObject({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'ANNUAL',
    autoRenew: true,
    holder: { name: 'Garage Martin' },
  });
  expect(licence.body.renewalDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);

  const payments = await h.prisma.payment.findMany({ where: { baseId } });
  expect(payments).toHaveLength(1);
  const invoice = await h.prisma.invoice.findFirstOrThrow({ where: { baseId } });
  const pdf = await request(h.app)
    .get(`/invoices/${invoice.number}.pdf`)
    .set(bearer(apiKey))
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  expect(pdf.status).toBe(200);
  expect(pdf.headers['content-type']).toBe('application/pdf');
  const text = await pdfText(pdf.body as Buffer);
  expect(text).toContain(invoice.number);
  expect(text).toMatch(/102,00/);
  expect(text).toMatch(/20,40/);
  expect(text).toMatch(/122,40/);
  const mail = await h.mail.waitFor(
    (m) =>
      m.to.includes(billing.email) && m.subject === 'Votre licence est active' && m.text.includes(baseId),
  );
  expect(mail.text).toContain(invoice.number);

  const second = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({ ...body, idempotencyKey: `other-${baseId}` });
  expect(second.status).toBe(409);
  expect(second.body.error.code).toBe('LICENCE_ALREADY_ACTIVE');
});

it('50 parallel purchases with one idempotency key: one purchase, and only the first answer says created', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  const body = {
    idempotencyKey: `parallel-${baseId}`,
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    connections: 2,
    period: 'MONTHLY',
    paymentMethod: 'ONLINE',
    billing,
    terms,
  };
  const answers = await Promise.all(
    Array.from({ length: 50 }, () =>
      request(h.app).post(`/bases/${baseId}/subscriptions`).set(bearer(apiKey)).send(body),
    ),
  );
  expect(answers.map((a) => a.status).sort((a, b) => a - b)).toEqual([...Array<number>(49).fill(200), 201]);
  expect(answers.filter((a) => a.body.created === true)).toHaveLength(1);
  expect(answers.filter((a) => a.body.created === false)).toHaveLength(49);
  expect(new Set(answers.map((a) => a.body.purchaseId)).size).toBe(1);
  expect(new Set(answers.map((a) => a.body.payment?.paymentIntentId)).size).toBe(1);
  expect(await h.prisma.purchase.count({ where: { baseId } })).toBe(1);
  expect(await h.prisma.licence.count({ where: { baseId } })).toBe(1);
});

it('cheque purchase waits for ops to confirm receipt, then the licence is active and invoiced', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  const res = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({
      idempotencyKey: `cheque-${baseId}`,
      edition: 'STANDARD',
      mode: 'CLOUD',
      connections: 3,
      period: 'QUARTERLY',
      paymentMethod: 'CHEQUE',
      billing,
      terms,
    });
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('AWAITING_OPS');
  expect(res.body.payment).toBeUndefined();
  expect((await request(h.app).get(`/bases/${baseId}/licence`).set(bearer(apiKey))).body).toMatchObject({
    status: 'FREE',
    pendingPurchase: { status: 'AWAITING_OPS' },
  });

  const queue = await request(h.app).get('/ops/purchases').set(bearer(ops));
  expect(queue.body.map((p: { purchaseId: string }) => p.purchaseId)).toContain(res.body.purchaseId);
  const wrong = await request(h.app)
    .post(`/ops/purchases/${res.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'APPROVE' });
  expect(wrong.status).toBe(409);
  const confirmed = await request(h.app)
    .post(`/ops/purchases/${res.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'CONFIRM_PAYMENT', reference: 'Chèque n° 1234567' });
  expect(confirmed.status).toBe(200);
  expect(confirmed.body).toMatchObject({ status: 'ACTIVE', autoRenew: false });
  const twice = await request(h.app)
    .post(`/ops/purchases/${res.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'CONFIRM_PAYMENT', reference: 'x' });
  expect(twice.status).toBe(409);
  expect(twice.body.error.code).toBe('PURCHASE_NOT_AWAITING_OPS');

  const payment = await h.prisma.payment.findFirstOrThrow({ where: { baseId } });
  expect(payment).toMatchObject({ method: 'CHEQUE', providerRef: 'Chèque n° 1234567', amountCents: 11880 });
  expect(await h.prisma.invoice.count({ where: { baseId } })).toBe(1);
});

it('free licence: approved or rejected by ops with the stated eligibility; the rejection reason is emailed', async () => {
  const asso = await registerMachine(h);
  const request1 = {
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 2,
    period: 'ANNUAL',
    paymentMethod: 'FREE',
    billing: { ...billing, companyName: 'Association Les Amis', email: 'bureau@amis.example.org' },
    terms,
    free: { category: 'ASSOCIATION', justification: 'Association loi 1901, récépissé W691234567' },
  };
  const missing = await request(h.app)
    .post(`/bases/${asso.baseId}/subscriptions`)
    .set(bearer(asso.apiKey))
    .send({ ...request1, idempotencyKey: `free-x-${asso.baseId}`, free: undefined });
  expect(missing.status).toBe(400);
  const res = await request(h.app)
    .post(`/bases/${asso.baseId}/subscriptions`)
    .set(bearer(asso.apiKey))
    .send({ ...request1, idempotencyKey: `free-${asso.baseId}` });
  expect(res.status).toBe(201);
  const approved = await request(h.app)
    .post(`/ops/purchases/${res.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'APPROVE' });
  expect(approved.status).toBe(200);
  expect(approved.body.status).toBe('ACTIVE');
  expect(await h.prisma.payment.count({ where: { baseId: asso.baseId } })).toBe(0);
  expect(await h.prisma.invoice.count({ where: { baseId: asso.baseId } })).toBe(0);

  const other = await registerMachine(h);
  const refused = await request(h.app)
    .post(`/bases/${other.baseId}/subscriptions`)
    .set(bearer(other.apiKey))
    .send({ ...request1, idempotencyKey: `free-${other.baseId}` });
  const rejected = await request(h.app)
    .post(`/ops/purchases/${refused.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'REJECT', reason: 'Pas de justificatif de statut associatif' });
  expect(rejected.body.status).toBe('REJECTED');
  const mail = await h.mail.waitFor(
    (m) => m.subject === 'Demande de licence refusée' && m.text.includes(other.baseId),
  );
  expect(mail.text).toContain('Pas de justificatif de statut associatif');
  expect((await h.prisma.purchase.findUniqueOrThrow({ where: { id: refused.body.purchaseId } })).status).toBe(
    'REJECTED',
  );
});

it('refuses bad purchases with clear codes and writes nothing', async () => {
  const { baseId, apiKey } = await registerMachine(h);
  const base = {
    idempotencyKey: `bad-${baseId}`,
    edition: 'ENTERPRISE',
    mode: 'CLOUD',
    connections: 1,
    period: 'MONTHLY',
    paymentMethod: 'ONLINE',
    billing,
    terms,
  };
  const free = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({ ...base, edition: 'STANDARD', mode: 'LOCAL' });
  expect(free.body.error.code).toBe('FREE_LICENCE_NEEDS_NO_PURCHASE');
  const noTerms = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({ ...base, terms: { version: '2019-01', accepted: true } });
  expect(noTerms.status).toBe(422);
  expect(noTerms.body.error).toMatchObject({
    code: 'TERMS_NOT_ACCEPTED',
    details: { currentVersion: '2026-01' },
  });
  const vat = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({ ...base, billing: { ...billing, country: 'DEU', vatNumber: 'FR12345678901' } });
  expect(vat.body.error.code).toBe('VAT_NUMBER_INVALID');
  const malformed = await request(h.app)
    .post(`/bases/${baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send({ ...base, connections: 0, period: 'WEEKLY' });
  expect(malformed.status).toBe(400);
  expect(malformed.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual(
    expect.arrayContaining(['body.connections', 'body.period']),
  );
  const otherBase = await registerMachine(h);
  const forbidden = await request(h.app)
    .post(`/bases/${otherBase.baseId}/subscriptions`)
    .set(bearer(apiKey))
    .send(base);
  expect(forbidden.status).toBe(403);
  expect(await h.prisma.purchase.count({ where: { baseId: { in: [baseId, otherBase.baseId] } } })).toBe(0);
  expect(await h.prisma.licence.count({ where: { baseId: { in: [baseId, otherBase.baseId] } } })).toBe(0);
});

it('public catalogue and quotes: the seed figure, reverse charge with its legal mention', async () => {
  const catalog = await request(h.app).get('/catalog');
  expect(catalog.body.licencePrices.ENTERPRISE.LOCAL.ANNUAL).toBe(850);
  const seed = await request(h.app)
    .post('/quotes')
    .send({ edition: 'ENTERPRISE', mode: 'LOCAL', connections: 1, period: 'ANNUAL', country: 'FRA' });
  expect(seed.body).toMatchObject({ totalExclVatCents: 10200, vatCents: 2040, totalInclVatCents: 12240 });
  const eu = await request(h.app).post('/quotes').send({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'ANNUAL',
    country: 'DEU',
    vatNumber: 'DE811907980',
  });
  expect(eu.body).toMatchObject({
    vatCents: 0,
    totalInclVatCents: 10200,
    vat: { kind: 'EU_REVERSE_CHARGE', legalMention: expect.stringContaining('Autoliquidation') },
  });
  const bad = await request(h.app).post('/quotes').send({
    edition: 'ENTERPRISE',
    mode: 'LOCAL',
    connections: 1,
    period: 'ANNUAL',
    country: 'DEU',
    vatNumber: 'XX1',
  });
  expect(bad.status).toBe(422);
  expect(bad.body.error.code).toBe('VAT_NUMBER_INVALID');
});

it('a zero-price catalogue entry: the card purchase is settled without Stripe and the licence is active', async () => {
  const before = await getCatalog(h.prisma);
  const actor = { type: 'CLI' as const, id: 'test' };
  const prices = before.licencePrices;
  await saveCatalog(h.prisma, actor, {
    ...before,
    licencePrices: {
      ...prices,
      ENTERPRISE: { ...prices.ENTERPRISE, LOCAL: { ...prices.ENTERPRISE.LOCAL, ANNUAL: 0 } },
    },
  });
  try {
    const { baseId, apiKey } = await registerMachine(h);
    const res = await request(h.app)
      .post(`/bases/${baseId}/subscriptions`)
      .set(bearer(apiKey))
      .send({
        idempotencyKey: `zero-${baseId}`,
        edition: 'ENTERPRISE',
        mode: 'LOCAL',
        connections: 1,
        period: 'ANNUAL',
        paymentMethod: 'ONLINE',
        billing,
        terms,
      });
    expect(res.status).toBe(201);
    expect(res.body.quote.totalInclVatCents).toBe(0);
    expect(res.body.payment).toBeUndefined();
    const licence = await eventually(
      () => request(h.app).get(`/bases/${baseId}/licence`).set(bearer(apiKey)),
      (r) => r.body.status === 'ACTIVE',
    );
    expect(licence.body).toMatchObject({ status: 'ACTIVE', edition: 'ENTERPRISE', mode: 'LOCAL' });
    const payments = await h.prisma.payment.findMany({ where: { baseId } });
    expect(payments).toEqual([
      expect.objectContaining({ provider: 'NONE', amountCents: 0, status: 'SUCCEEDED' }),
    ]);
    const purchase = await h.prisma.purchase.findUniqueOrThrow({ where: { id: res.body.purchaseId } });
    expect(purchase.stripePaymentIntentId).toBeNull();
  } finally {
    await saveCatalog(h.prisma, actor, before);
  }
});
