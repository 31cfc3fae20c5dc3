/**
 * Promo codes through the API on the real stack (PostgreSQL, Temporal, SMTP peer): ops create, list and
 * deactivate them; the quote and the purchase show the discount as a line, the paid invoice too (PDF);
 * 50 concurrent purchases with a code limited to 1 redeem it exactly once; a code that does not apply is
 * refused with its reason, nothing recorded.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';
import { licenceBilling, opsToken } from '../helpers/ops';
import { pdfText } from '../helpers/pdf-text';

jest.setTimeout(240_000);

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = await opsToken(h, 'promo-ops');
});
afterAll(async () => {
  await h?.close();
});

const terms = { version: '2026-01', accepted: true };
const createCode = (body: Record<string, unknown>) =>
  request(h.app).post('/ops/promo-codes').set(bearer(ops)).send(body);
const quoteWith = (promoCode: string, over: Record<string, unknown> = {}) =>
  request(h.app)
    .post('/quotes')
    .send({
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 1,
      period: 'ANNUAL',
      country: 'FRA',
      promoCode,
      ...over,
    });
async function buy(promoCode: string | undefined, over: Record<string, unknown> = {}) {
  const machine = await registerMachine(h);
  const res = await request(h.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `promo-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 1,
      period: 'ANNUAL',
      paymentMethod: 'CHEQUE',
      billing: licenceBilling(),
      terms,
      ...(promoCode ? { promoCode } : {}),
      ...over,
    });
  return { ...machine, res };
}

it('ops create a code (validated), list it and deactivate it; a duplicate name is refused', async () => {
  const bad = await createCode({ code: 'BAD1', kind: 'PERCENT', duration: 'FIRST_PERIOD' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  const created = await createCode({
    code: 'liste-26',
    kind: 'AMOUNT',
    amountOffCents: 1500,
    duration: 'REPEATING',
    durationPeriods: 3,
    maxRedemptions: 10,
    periods: ['MONTHLY'],
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    code: 'LISTE-26',
    kind: 'AMOUNT',
    amountOffCents: 1500,
    duration: 'REPEATING',
    durationPeriods: 3,
    redemptionCount: 0,
    periods: ['MONTHLY'],
    editions: [],
    active: true,
  });
  const again = await createCode({
    code: 'LISTE-26',
    kind: 'PERCENT',
    percentBasisPoints: 500,
    duration: 'FOREVER',
  });
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('PROMO_CODE_EXISTS');
  const installation = await registerMachine(h);
  expect((await request(h.app).get('/ops/promo-codes').set(bearer(installation.apiKey))).status).toBe(403);
  const listed = await request(h.app).get('/ops/promo-codes?active=true').set(bearer(ops));
  expect(listed.body.map((c: { code: string }) => c.code)).toContain('LISTE-26');
  const off = await request(h.app).post('/ops/promo-codes/liste-26/deactivation').set(bearer(ops));
  expect(off.status).toBe(200);
  expect(off.body).toMatchObject({ active: false, deactivatedAt: expect.any(String) });
  const missing = await request(h.app).post('/ops/promo-codes/NOPE-NOPE/deactivation').set(bearer(ops));
  expect(missing.body.error.code).toBe('PROMO_CODE_NOT_FOUND');
  const refused = await quoteWith('LISTE-26', { period: 'MONTHLY' });
  expect(refused.status).toBe(422);
  expect(refused.body.error.code).toBe('PROMO_CODE_INACTIVE');
  expect(await h.prisma.auditLog.count({ where: { entityType: 'PROMO_CODE' } })).toBeGreaterThanOrEqual(2);
});

it('a 20 % first-period code: a line of the quote, of the purchase and of its paid invoice', async () => {
  expect(
    (await createCode({ code: 'VINGT', kind: 'PERCENT', percentBasisPoints: 2000, duration: 'FIRST_PERIOD' }))
      .status,
  ).toBe(201);
  // ENTERPRISE LOCAL annual, 1 connection: 12 × 8.50 = 102.00 excl. VAT; −20.40; VAT 20 % per line
  const quoted = await quoteWith('vingt');
  expect(quoted.status).toBe(200);
  expect(quoted.body.lines).toHaveLength(2);
  expect(quoted.body.lines[1]).toEqual({
    description: 'Code promo VINGT −20 % (première période)',
    quantity: -1,
    unitPriceCents: 2040,
    totalExclVatCents: -2040,
    vatRateBasisPoints: 2000,
    vatCents: -408,
  });
  expect(quoted.body).toMatchObject({ totalExclVatCents: 8160, vatCents: 1632, totalInclVatCents: 9792 });

  const { baseId, res } = await buy('VINGT');
  expect(res.status).toBe(201);
  expect(res.body.quote).toEqual(quoted.body);
  const confirmed = await request(h.app)
    .post(`/ops/purchases/${res.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'CONFIRM_PAYMENT', reference: 'Chèque n° 42' });
  expect(confirmed.status).toBe(200);
  const invoice = await h.prisma.invoice.findFirstOrThrow({ where: { baseId } });
  expect(invoice).toMatchObject({ totalExclVatCents: 8160, vatCents: 1632, totalInclVatCents: 9792 });
  expect((invoice.lines as { description: string }[]).map((l) => l.description)).toEqual([
    expect.stringMatching(/^Licence ENTERPRISE LOCAL/),
    'Code promo VINGT −20 % (première période)',
  ]);
  const text = await pdfText(
    (await request(h.app).get(`/invoices/${invoice.number}.pdf`).set(bearer(ops)).buffer(true))
      .body as Buffer,
  );
  expect(text).toContain('Code promo VINGT');
  expect(text).toContain('-20,40');
  const redemption = await h.prisma.promoRedemption.findFirstOrThrow({ where: { baseId } });
  expect(redemption.discount).toMatchObject({
    code: 'VINGT',
    duration: 'FIRST_PERIOD',
    percentBasisPoints: 2000,
  });
});

it('50 concurrent purchases with a code limited to 1 redeem it exactly once', async () => {
  expect(
    (
      await createCode({
        code: 'UNIQUE-1',
        kind: 'AMOUNT',
        amountOffCents: 1000,
        duration: 'FOREVER',
        maxRedemptions: 1,
      })
    ).status,
  ).toBe(201);
  const machines = await Promise.all(Array.from({ length: 50 }, () => registerMachine(h)));
  const answers = await Promise.all(
    machines.map((m) =>
      request(h.app)
        .post(`/bases/${m.baseId}/subscriptions`)
        .set(bearer(m.apiKey))
        .send({
          idempotencyKey: `race-${m.baseId}`,
          edition: 'ENTERPRISE',
          mode: 'LOCAL',
          connections: 1,
          period: 'ANNUAL',
          paymentMethod: 'CHEQUE',
          billing: licenceBilling(),
          terms,
          promoCode: 'UNIQUE-1',
        }),
    ),
  );
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  expect(statuses.filter((s) => s === 409)).toHaveLength(49);
  for (const a of answers.filter((x) => x.status === 409))
    expect(a.body.error.code).toBe('PROMO_CODE_EXHAUSTED');
  const code = await h.prisma.promoCode.findUniqueOrThrow({
    where: { code: 'UNIQUE-1' },
    include: { redemptions: true },
  });
  expect(code.redemptionCount).toBe(1);
  expect(code.redemptions).toHaveLength(1);
  // the refused purchases left nothing behind
  const bases = machines.map((m) => m.baseId);
  expect(await h.prisma.purchase.count({ where: { baseId: { in: bases } } })).toBe(1);
  expect(await h.prisma.licence.count({ where: { baseId: { in: bases } } })).toBe(1);

  // the winner's purchase is cancelled by ops: the code is free again
  const winner = answers.find((a) => a.status === 201)!;
  const cancelled = await request(h.app)
    .post(`/ops/purchases/${winner.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'REJECT', reason: 'cheque never arrived' });
  expect(cancelled.status).toBe(200);
  // the purchase is closed right after the decision answers
  let released = await h.prisma.promoCode.findUniqueOrThrow({ where: { code: 'UNIQUE-1' } });
  for (let i = 0; i < 100 && released.redemptionCount > 0; i += 1) {
    await new Promise((r) => setTimeout(r, 50));
    released = await h.prisma.promoCode.findUniqueOrThrow({ where: { code: 'UNIQUE-1' } });
  }
  expect(released.redemptionCount).toBe(0);
  expect((await buy('UNIQUE-1')).res.status).toBe(201);
});

it('a code that no longer applies is refused with its reason, and nothing is recorded', async () => {
  const past = new Date(Date.now() - 86_400_000).toISOString();
  const older = new Date(Date.now() - 10 * 86_400_000).toISOString();
  const future = new Date(Date.now() + 10 * 86_400_000).toISOString();
  await createCode({
    code: 'EXPIRE',
    kind: 'PERCENT',
    percentBasisPoints: 1000,
    duration: 'FOREVER',
    validFrom: older,
    validUntil: past,
  });
  await createCode({
    code: 'LATER',
    kind: 'PERCENT',
    percentBasisPoints: 1000,
    duration: 'FOREVER',
    validFrom: future,
  });
  await createCode({
    code: 'CLOUD-ONLY',
    kind: 'PERCENT',
    percentBasisPoints: 1000,
    duration: 'FOREVER',
    modes: ['CLOUD'],
  });
  await createCode({ code: 'ONCE-EACH', kind: 'PERCENT', percentBasisPoints: 1000, duration: 'FOREVER' });

  const cases: [string, number, string][] = [
    ['EXPIRE', 422, 'PROMO_CODE_EXPIRED'],
    ['LATER', 422, 'PROMO_CODE_NOT_YET_VALID'],
    ['CLOUD-ONLY', 422, 'PROMO_CODE_NOT_ELIGIBLE'],
    ['NO-SUCH-CODE', 422, 'PROMO_CODE_UNKNOWN'],
  ];
  for (const [code, status, error] of cases) {
    const quoted = await quoteWith(code);
    expect({ code, status: quoted.status, error: quoted.body.error?.code }).toEqual({ code, status, error });
    const { baseId, res } = await buy(code);
    expect({ code, status: res.status, error: res.body.error?.code }).toEqual({ code, status, error });
    expect(await h.prisma.purchase.count({ where: { baseId } })).toBe(0);
  }
  const ineligible = await quoteWith('CLOUD-ONLY');
  expect(ineligible.body.error.details).toMatchObject({ modes: ['CLOUD'] });
  expect((await quoteWith('CLOUD-ONLY', { mode: 'CLOUD' })).status).toBe(200);

  // once per base: a paid purchase keeps its redemption after its licence ends; the base's next purchase
  // with the same code is refused
  const first = await buy('ONCE-EACH');
  expect(first.res.status).toBe(201);
  await request(h.app)
    .post(`/ops/purchases/${first.res.body.purchaseId}/decision`)
    .set(bearer(ops))
    .send({ decision: 'CONFIRM_PAYMENT', reference: 'Virement 7' });
  await h.prisma.licence.updateMany({ where: { baseId: first.baseId }, data: { status: 'ENDED' } });
  const second = await request(h.app)
    .post(`/bases/${first.baseId}/subscriptions`)
    .set(bearer(first.apiKey))
    .send({
      idempotencyKey: `again-${first.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 1,
      period: 'ANNUAL',
      paymentMethod: 'CHEQUE',
      billing: licenceBilling(),
      terms,
      promoCode: 'ONCE-EACH',
    });
  expect(second.status).toBe(409);
  expect(second.body.error.code).toBe('PROMO_CODE_ALREADY_USED');
});

it('the ops command line creates, lists and deactivates a code through the same use-cases', async () => {
  const run = promisify(execFile);
  const root = path.resolve(__dirname, '..', '..');
  const cli = (...args: string[]) =>
    run(path.join(root, 'node_modules', '.bin', 'tsx'), ['cli/ops.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: h.databaseUrl },
    });
  const definition = { code: 'cli-10', kind: 'PERCENT', percentBasisPoints: 1000, duration: 'FOREVER' };
  expect((await cli('promo:create', '--definition', JSON.stringify(definition))).stdout).toContain(
    'promo code CLI-10 created',
  );
  expect((await quoteWith('CLI-10')).body.lines[1].description).toBe(
    'Code promo CLI-10 −10 % (chaque période)',
  );
  expect((await cli('promo:list')).stdout).toContain('CLI-10');
  await expect(
    cli(
      'promo:create',
      '--definition',
      JSON.stringify({ ...definition, code: 'CLI-11', duration: 'REPEATING' }),
    ),
  ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('durationPeriods') });
  await cli('promo:deactivate', 'cli-10');
  expect((await quoteWith('CLI-10')).body.error.code).toBe('PROMO_CODE_INACTIVE');
});
