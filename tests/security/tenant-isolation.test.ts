/**
 * Tenant isolation matrix: EVERY operation of /openapi.json that names a tenant's resource in its path
 * (`{baseId}`, `{accountId}`, `{sessionId}`, `{file}` of an invoice, `{purchaseId}`) is called with the
 * victim's identifiers and a valid body, by foreign installation keys: a key of another customer's base
 * (linked to its own account) and a key of a machine of a base with no account. Each call must answer 403
 * or 404, its body must carry none of the victim's data, and the database must be exactly as before
 * (every table's content hashed before and after). Each answer must also be exactly the answer (status and
 * code) for an identifier of the same kind that exists nowhere, so identifiers can't be probed. A new
 * tenant-scoped route without a sample body here fails the test, so the matrix cannot silently fall behind
 * the API.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { systemActor } from '../../services/actor';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { bearer, confirmedAccount, PASSWORD, registerMachine } from '../helpers/api';
import { changedTables, dbSnapshot } from '../helpers/db-snapshot';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import { createHarness, type Harness } from '../helpers/harness';

type Operation = { security?: Record<string, string[]>[]; requestBody?: unknown };
type Document = { paths: Record<string, Record<string, Operation>> };

const TENANT_PARAM = /\{(baseId|accountId|sessionId|file|purchaseId)\}/;

/** Routes open without a key on purpose: the purchase id (a random UUID given to the buyer) is the secret. */
const CAPABILITY_ROUTES = new Set([
  'GET /credit-purchases/{purchaseId}',
  'POST /credit-purchases/{purchaseId}/cancellation',
]);

const billing = {
  companyName: 'Association Les Amis',
  lastName: 'Martin',
  firstName: 'Paul',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email: 'bureau@amis.example.org',
};

/** A valid body for each tenant-scoped operation that takes one: only the tenancy check may refuse it. */
function sampleBody(operation: string, victim: { baseId: string; accountId: number }): unknown {
  const bodies: Record<string, unknown> = {
    'POST /accounts/{accountId}/confirmation': { code: '123456', password: 'another long password' },
    'PATCH /accounts/{accountId}': { password: PASSWORD, changes: { city: 'Marseille' } },
    'POST /accounts/{accountId}/export': { password: PASSWORD },
    'POST /bases/{baseId}/subscriptions': {
      idempotencyKey: 'intruder-subscription-1',
      edition: 'STANDARD',
      mode: 'LOCAL',
      connections: 2,
      period: 'ANNUAL',
      paymentMethod: 'CHEQUE',
      billing,
      terms: { version: '2026-01', accepted: true },
    },
    'PUT /bases/{baseId}/licence/auto-renew': { autoRenew: false },
    'POST /bases/{baseId}/licence/changes': { connections: 9 },
    'POST /bases/{baseId}/licence/scheduled-change': { connections: 1 },
    'POST /bases/{baseId}/licence/changes/quote': { connections: 9 },
    'POST /bases/{baseId}/licence/renewals': {},
    'POST /ops/purchases/{purchaseId}/decision': { decision: 'APPROVE' },
    'POST /ops/bases/{baseId}/renewal-payment': { reference: 'CHQ 0012345' },
    'POST /bases/{baseId}/licence/migrations': { email: 'intruder@example.fr' },
    'POST /accounts/{accountId}/wallet/charges': {
      idempotencyKey: 'intruder-charge-1',
      type: 'sms',
      amountCents: 15,
    },
    'POST /ops/accounts/{accountId}/apps': {
      app: 'inspector',
      label: 'Inspecteur',
      monthlyFeeCents: 250,
      sinceMonth: '2026-03',
    },
    'POST /ops/accounts/{accountId}/apps/{appSubscriptionId}/end': { untilMonth: '2026-04' },
    'PUT /ops/accounts/{accountId}/overdraft-limits/{ledger}': { limit: 100000 },
    'POST /accounts/{accountId}/credit-purchases': {
      idempotencyKey: 'intruder-purchase-1',
      product: { kind: 'SUPPORT_PACK', minutes: 30 },
    },
    'POST /ops/purchases/{purchaseId}/assign': { accountId: victim.accountId },
    'POST /ops/purchases/{purchaseId}/refund': { reason: 'intrusion' },
    'POST /ops/credit-purchases/{purchaseId}/refunds': {
      amountCents: 100,
      reason: 'intrusion',
      idempotencyKey: 'intrusion-refund',
    },
    'POST /ops/purchases/{purchaseId}/cancel': { reason: 'intrusion' },
    'POST /ops/manual-payments/{purchaseId}/confirm': { reference: 'CHQ-0000001', reason: 'intrusion' },
    'POST /ops/manual-payments/{purchaseId}/cancel': { reason: 'intrusion' },
    'POST /ops/free-licences/{purchaseId}/approve': { reason: 'intrusion' },
    'POST /ops/free-licences/{purchaseId}/reject': { reason: 'intrusion' },
    'POST /bases/{baseId}/sessions': {
      userCode: 'XX',
      userName: 'Intrus',
      ip: '10.0.0.66',
      computerName: 'PIRATE',
    },
    'POST /sessions/{sessionId}/evict': { reason: 'intrusion' },
  };
  if (!(operation in bodies))
    throw new Error(`no sample body for ${operation}: add one to the isolation matrix`);
  return bodies[operation];
}

describe('tenant isolation', () => {
  let h: Harness;
  let document: Document;
  let victim: Awaited<ReturnType<typeof confirmedAccount>> & {
    sessionId: number;
    purchaseId: string;
    invoiceNumber: string;
    creditNoteNumber: string;
    receiptNumber: string;
    licenceId: string;
  };

  beforeAll(async () => {
    h = await createHarness();
    document = (await request(h.app).get('/openapi.json')).body as Document;
    const { token: ops } = await createOpsToken(h.prisma, systemActor('test'), {
      name: 'support',
      role: 'OPS',
    });
    const account = await confirmedAccount(h);
    // a licence (free, approved by ops), an open session, a paid support pack with its invoice
    const bought = await request(h.app)
      .post(`/bases/${account.baseId}/subscriptions`)
      .set(bearer(account.apiKey))
      .send({
        idempotencyKey: `free-${account.baseId}`,
        edition: 'ENTERPRISE',
        mode: 'CLOUD',
        connections: 3,
        period: 'ANNUAL',
        paymentMethod: 'FREE',
        billing,
        terms: { version: '2026-01', accepted: true },
        free: { category: 'ASSOCIATION', justification: 'Association loi 1901, récépissé W691234567' },
      });
    expect(bought.status).toBe(201);
    const approved = await request(h.app)
      .post(`/ops/purchases/${bought.body.purchaseId}/decision`)
      .set(bearer(ops))
      .send({ decision: 'APPROVE' });
    expect(approved.status).toBe(200);
    const session = await request(h.app)
      .post(`/bases/${account.baseId}/sessions`)
      .set(bearer(account.apiKey))
      .send({ userCode: 'JD', userName: 'Jean Dupont', ip: '192.168.1.20', computerName: 'COMPTA-1' });
    expect(session.status).toBe(201);
    const pack = await request(h.app)
      .post(`/accounts/${account.accountId}/credit-purchases`)
      .set(bearer(account.apiKey))
      .send({
        idempotencyKey: `support-pack-${account.accountId}`,
        product: { kind: 'SUPPORT_PACK', minutes: 60 },
      });
    expect(pack.status).toBe(201);
    expect((await deliver(h, paymentSucceededEvent(pack.body))).status).toBe(200);
    const done = await purchaseReaches(h, pack.body.purchaseId, 'COMPLETED');
    expect(done.body.invoiceNumber).toEqual(expect.any(String));
    const credit = await request(h.app)
      .post(`/ops/invoices/${done.body.invoiceNumber}/credit-notes`)
      .set(bearer(ops))
      .send({
        amountInclVatCents: 100,
        reason: 'Geste commercial',
        idempotencyKey: `goodwill-${account.accountId}`,
      });
    expect(credit.status).toBe(201);
    const recharge = await request(h.app)
      .post(`/accounts/${account.accountId}/credit-purchases`)
      .set(bearer(account.apiKey))
      .send({
        idempotencyKey: `recharge-${account.accountId}`,
        product: { kind: 'WALLET_RECHARGE', amountCents: 5000 },
      });
    expect(recharge.status).toBe(201);
    expect((await deliver(h, paymentSucceededEvent(recharge.body))).status).toBe(200);
    const recharged = await purchaseReaches(h, recharge.body.purchaseId, 'COMPLETED');
    victim = {
      ...account,
      creditNoteNumber: credit.body.number,
      receiptNumber: recharged.body.receiptNumber,
      sessionId: session.body.sessionId,
      purchaseId: pack.body.purchaseId,
      invoiceNumber: done.body.invoiceNumber,
      licenceId: bought.body.licenceId,
    };
  });

  afterAll(async () => {
    await h?.close();
  });

  function operations() {
    const list: { method: string; path: string; name: string; open: boolean; hasBody: boolean }[] = [];
    for (const [path, ops] of Object.entries(document.paths)) {
      if (!TENANT_PARAM.test(path)) continue;
      for (const [method, op] of Object.entries(ops)) {
        const name = `${method.toUpperCase()} ${path}`;
        list.push({ method, path, name, open: (op.security ?? []).length === 0, hasBody: !!op.requestBody });
      }
    }
    return list;
  }

  it('the matrix covers every base-, account-, session-, invoice- and purchase-scoped route', () => {
    const names = operations().map((o) => o.name);
    expect(names.length).toBeGreaterThanOrEqual(40);
    for (const expected of [
      'GET /bases/{baseId}/licence',
      'GET /accounts/{accountId}/wallet',
      'POST /sessions/{sessionId}/heartbeat',
      'GET /invoices/{file}',
      'GET /credit-notes/{file}',
      'GET /receipts/{file}',
      'GET /bases/{baseId}/licence/file',
    ])
      expect(names).toContain(expected);
    // the only routes reachable without a key are the purchase-id capability routes
    expect(
      operations()
        .filter((o) => o.open)
        .map((o) => o.name)
        .sort(),
    ).toEqual([...CAPABILITY_ROUTES].sort());
  });

  it.each([
    ['a key of another customer (its machine linked to its own account)', 'linked'],
    ['a key of a machine of a base with no account', 'unlinked'],
  ])('%s: 403/404 everywhere, nothing leaked, nothing changed', async (_label, kind) => {
    const intruder = kind === 'linked' ? await confirmedAccount(h) : await registerMachine(h);
    const before = await dbSnapshot(h.prisma);
    // what the intruder could not have sent itself (identifiers in the URL may be echoed back in a 404)
    const secrets = [victim.email, victim.details.companyName, 'Jean Dupont', 'COMPTA-1', victim.licenceId];
    const answers: string[] = [];
    const missing = {
      baseId: '98765432109876543',
      accountId: 2_147_480_000,
      sessionId: 9_007_199_254_740_000,
      invoiceNumber: victim.invoiceNumber.replace(/\d+$/, (digits) => '9'.repeat(digits.length)),
      creditNoteNumber: victim.creditNoteNumber.replace(/\d+$/, (digits) => '9'.repeat(digits.length)),
      receiptNumber: victim.receiptNumber.replace(/\d+$/, (digits) => '9'.repeat(digits.length)),
      purchaseId: '00000000-0000-4000-8000-00000000dead',
    };
    for (const op of operations()) {
      if (op.open) continue;
      const urlFor = (ids: typeof missing) =>
        op.path
          .replace('{baseId}', ids.baseId)
          .replace('{accountId}', String(ids.accountId))
          .replace('{sessionId}', String(ids.sessionId))
          .replace(
            '{file}',
            op.path.startsWith('/credit-notes/')
              ? `${ids.creditNoteNumber}.pdf`
              : op.path.startsWith('/receipts/')
                ? `${ids.receiptNumber}.pdf`
                : `${ids.invoiceNumber}.pdf`,
          )
          .replace('{purchaseId}', ids.purchaseId)
          .replace('{appSubscriptionId}', '00000000-0000-4000-8000-000000000000')
          .replace('{ledger}', 'WALLET');
      const body = op.hasBody ? sampleBody(op.name, victim) : undefined;
      const send = async (url: string) => {
        const call = request(h.app)[op.method as 'get'](url).set(bearer(intruder.apiKey));
        return body === undefined ? await call : await call.send(body as object);
      };
      const res = await send(urlFor(victim));
      const answer = `${res.status} ${res.body?.error?.code ?? ''}`;
      answers.push(`${op.name} → ${answer}`);
      const nowhere = await send(urlFor(missing));
      expect({ op: op.name, answer }).toEqual({
        op: op.name,
        answer: `${nowhere.status} ${nowhere.body?.error?.code ?? ''}`,
      });
      expect({ op: op.name, status: [403, 404].includes(res.status) ? 'refused' : res.status }).toEqual({
        op: op.name,
        status: 'refused',
      });
      const text = res.text ?? '';
      for (const secret of secrets)
        expect({ op: op.name, leaked: text.includes(secret) ? secret : null }).toEqual({
          op: op.name,
          leaked: null,
        });
    }
    expect(answers.length).toBeGreaterThanOrEqual(38);
    const after = await dbSnapshot(h.prisma);
    expect(changedTables(before, after)).toEqual([]);
  });
});
