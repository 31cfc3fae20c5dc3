/**
 * v15 → A1 migrations on the real stack (PostgreSQL, Temporal dev server, SMTP peer): the ops import of v15
 * licences, then the migration asked by the ERP (or ops), with every refusal.
 */
import request from 'supertest';
import { dayOf } from '../../domain/licence';
import { oneMonthAfter } from '../../domain/migration';
import { addDays, type LocalDate } from '../../domain/periods';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, randomBaseId, uniqueEmail, type Harness } from '../helpers/harness';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = (await createOpsToken(h.prisma, { type: 'CLI', id: 'test' }, { name: 'support', role: 'OPS' })).token;
});
afterAll(async () => {
  await h?.close();
});

const today = () => dayOf(Date.now());
/** comfortably eligible: more than a month left */
const eligibleEnd = () => addDays(oneMonthAfter(today()), 60);

function v15Row(overrides: Record<string, unknown> = {}) {
  return {
    baseId: randomBaseId(),
    holder: 'Garage Martin',
    email: uniqueEmail('v15'),
    edition: 'ENTERPRISE',
    connections: 3,
    endDate: eligibleEnd(),
    ...overrides,
  };
}

async function importRows(rows: unknown[]) {
  const res = await request(h.app).post('/ops/licences/v15-imports').set(bearer(ops)).send(rows);
  expect(res.status).toBe(200);
  return res.body as {
    received: number;
    imported: number;
    updated: number;
    unchanged: number;
    rejected: number;
    errors: { line: number; baseId?: string; reason: string }[];
  };
}

/** A registered base with an imported v15 licence. */
async function baseWithV15(overrides: Record<string, unknown> = {}) {
  const machine = await registerMachine(h);
  const row = v15Row({ baseId: machine.baseId, ...overrides });
  expect((await importRows([row])).imported).toBe(1);
  return { ...machine, row };
}

const migrate = (baseId: string, key: string, body: Record<string, unknown> = {}) =>
  request(h.app).post(`/bases/${baseId}/licence/migrations`).set(bearer(key)).send(body);

describe('v15 import', () => {
  it('imports 97 good rows out of 100 and reports the 3 bad ones with their line and reason; again: no change', async () => {
    const rows: Record<string, unknown>[] = Array.from({ length: 100 }, (_, i) =>
      v15Row({ connections: 1 + (i % 5), mode: i % 2 ? 'CLOUD' : undefined }),
    );
    rows[9] = { ...rows[9], baseId: '12345' };
    rows[41] = { ...rows[41], edition: 'PREMIUM' };
    rows[76] = { ...rows[76], endDate: '31/02/2027' };

    const first = await importRows(rows);
    expect(first).toMatchObject({ received: 100, imported: 97, updated: 0, unchanged: 0, rejected: 3 });
    expect(first.errors).toEqual([
      { line: 10, baseId: '12345', reason: expect.stringContaining('17 digits') },
      { line: 42, baseId: rows[41].baseId, reason: expect.stringContaining('edition') },
      { line: 77, baseId: rows[76].baseId, reason: expect.stringContaining('endDate') },
    ]);
    const good = rows.filter((_, i) => ![9, 41, 76].includes(i)).map((r) => r.baseId as string);
    const stored = await h.prisma.licence.findMany({ where: { baseId: { in: good }, version: 'V15' } });
    expect(stored).toHaveLength(97);
    const sample = stored.find((l) => l.baseId === rows[3]!.baseId)!;
    expect(sample).toMatchObject({
      status: 'ACTIVE',
      edition: 'ENTERPRISE',
      mode: 'CLOUD',
      connections: 4,
      holderName: 'Garage Martin',
      periodEnd: addDays(rows[3]!.endDate as LocalDate, 1),
    });
    // the base is not created: its first machine must still be able to claim it
    expect(await h.prisma.base.count({ where: { id: { in: good } } })).toBe(0);

    const again = await importRows(rows);
    expect(again).toMatchObject({ imported: 0, updated: 0, unchanged: 97, rejected: 3 });
    expect(await h.prisma.licence.count({ where: { baseId: { in: good }, version: 'V15' } })).toBe(97);

    const changed = await importRows([{ ...rows[0], connections: 9 }]);
    expect(changed).toMatchObject({ updated: 1, rejected: 0 });
    expect(
      (await h.prisma.licence.findFirstOrThrow({ where: { baseId: rows[0]!.baseId as string } })).connections,
    ).toBe(9);
  });

  it('reads a CSV file (semicolons, French dates) and reports its bad lines', async () => {
    const [a, b] = [randomBaseId(), randomBaseId()];
    const csv =
      'baseId;holder;edition;connections;endDate;mode\n' +
      `${a};Boulangerie Dupont;ENTERPRISE;2;31/12/2030;\n` +
      `${b};;STANDARD;1;2030-12-31;LOCAL\n`;
    const res = await request(h.app)
      .post('/ops/licences/v15-imports')
      .set(bearer(ops))
      .set('content-type', 'text/csv')
      .send(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 2, imported: 1, rejected: 1 });
    expect(res.body.errors).toEqual([{ line: 3, baseId: b, reason: expect.stringContaining('holder') }]);
    expect(await h.prisma.licence.findFirstOrThrow({ where: { baseId: a } })).toMatchObject({
      mode: 'LOCAL',
      periodEnd: '2031-01-01',
    });

    const unreadable = await request(h.app)
      .post('/ops/licences/v15-imports')
      .set(bearer(ops))
      .set('content-type', 'text/csv')
      .send('base;owner\n1;2\n');
    expect(unreadable.status).toBe(400);
    expect(unreadable.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('is for ops only', async () => {
    const { apiKey } = await registerMachine(h);
    const res = await request(h.app).post('/ops/licences/v15-imports').set(bearer(apiKey)).send([v15Row()]);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ROLE_REQUIRED');
  });
});

describe('migration', () => {
  it('an eligible licence: A1 active until the same day with the same connections, v15 TRANSFERRED, one email; a second request is refused', async () => {
    const { baseId, apiKey, row } = await baseWithV15({ connections: 4, mode: 'CLOUD' });

    const res = await migrate(baseId, apiKey);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      baseId,
      status: 'COMPLETED',
      edition: 'ENTERPRISE',
      mode: 'CLOUD',
      connections: 4,
      endDate: row.endDate,
      email: row.email,
      refusal: null,
    });
    const a1 = await h.prisma.licence.findUniqueOrThrow({ where: { id: res.body.a1LicenceId } });
    expect(a1).toMatchObject({
      version: 'A1',
      status: 'ACTIVE',
      edition: 'ENTERPRISE',
      mode: 'CLOUD',
      connections: 4,
      periodStart: today(),
      periodEnd: addDays(row.endDate, 1),
      autoRenew: false,
      paymentMethod: 'FREE',
    });
    const v15 = await h.prisma.licence.findUniqueOrThrow({ where: { id: res.body.v15LicenceId } });
    expect(v15).toMatchObject({ version: 'V15', status: 'TRANSFERRED', transferredToId: a1.id });

    const mail = await h.mail.waitFor((m) => m.to.includes(row.email));
    expect(mail.subject).toContain('transférée');
    expect(mail.text).toContain(`jusqu'au ${row.endDate} inclus`);
    expect(h.mail.messagesTo(row.email)).toHaveLength(1);

    // the licence screen shows the A1 licence, up to date, ending on the v15 day, not renewing
    const screen = await request(h.app).get(`/bases/${baseId}/licence`).set(bearer(apiKey));
    expect(screen.body).toMatchObject({
      version: 'A1',
      status: 'ACTIVE',
      connections: 4,
      paidThrough: row.endDate,
      autoRenew: false,
      renewalDate: null,
      update: { upToDate: true },
    });
    // the base's subscriptionWorkflow carries it, in its opening period
    const state = await h.temporal.workflow
      .getHandle(subscriptionWorkflowId(baseId))
      .query(getSubscriptionStateQuery);
    expect(state).toMatchObject({
      licenceId: a1.id,
      status: 'ACTIVE',
      autoRenew: false,
      periodIndex: -1,
      periodEnd: addDays(row.endDate, 1),
    });
    // auto-renewal needs a card first
    const autoRenew = await request(h.app)
      .put(`/bases/${baseId}/licence/auto-renew`)
      .set(bearer(apiKey))
      .send({ autoRenew: true });
    expect(autoRenew.status).toBe(422);
    expect(autoRenew.body.error).toMatchObject({ code: 'PAYMENT_METHOD_REQUIRED' });
    const renew = await request(h.app).post(`/bases/${baseId}/licence/renewals`).set(bearer(apiKey));
    expect(renew.body.error).toMatchObject({ code: 'PAYMENT_METHOD_REQUIRED' });

    const second = await migrate(baseId, apiKey);
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: 'ALREADY_TRANSFERRED',
      details: { transferredToId: a1.id },
    });
    expect(await h.prisma.licence.count({ where: { baseId, version: 'A1' } })).toBe(1);
    expect(h.mail.messagesTo(row.email)).toHaveLength(1);

    const status = await request(h.app).get(`/bases/${baseId}/licence/migrations`).set(bearer(apiKey));
    expect(status.body).toMatchObject({ status: 'COMPLETED', a1LicenceId: a1.id });
    const listed = await request(h.app).get(`/ops/licence-migrations?baseId=${baseId}`).set(bearer(ops));
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      total: 1,
      items: [{ baseId, status: 'COMPLETED', a1LicenceId: a1.id }],
    });
  });

  it('exactly one month left is refused; one day more is not', async () => {
    const { baseId, apiKey } = await baseWithV15({ endDate: oneMonthAfter(today()) });
    const res = await migrate(baseId, apiKey);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'MIGRATION_TOO_LATE',
      details: { endDate: oneMonthAfter(today()), mustEndAfter: oneMonthAfter(today()) },
    });
    expect(await h.prisma.licenceMigration.count({ where: { baseId } })).toBe(0);
    expect(await h.prisma.licence.count({ where: { baseId, version: 'A1' } })).toBe(0);

    const later = await baseWithV15({ endDate: addDays(oneMonthAfter(today()), 1) });
    expect((await migrate(later.baseId, later.apiKey)).status).toBe(201);
  });

  it('refuses STANDARD, an unknown v15 licence, and a base of someone else', async () => {
    const standard = await baseWithV15({ edition: 'STANDARD' });
    const res = await migrate(standard.baseId, standard.apiKey);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('MIGRATION_NOT_ELIGIBLE_EDITION');
    expect(await h.prisma.licence.findFirstOrThrow({ where: { baseId: standard.baseId } })).toMatchObject({
      status: 'ACTIVE',
    });

    const unknown = await registerMachine(h);
    const missing = await migrate(unknown.baseId, unknown.apiKey);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('V15_LICENCE_NOT_FOUND');

    const other = await migrate(standard.baseId, unknown.apiKey);
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('BASE_FORBIDDEN');
  });

  it('needs an address for the confirmation', async () => {
    const { baseId, apiKey } = await baseWithV15({ email: undefined });
    const res = await migrate(baseId, apiKey);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('MIGRATION_EMAIL_REQUIRED');

    const email = uniqueEmail('admin');
    const given = await migrate(baseId, apiKey, { email });
    expect(given.status).toBe(201);
    await h.mail.waitFor((m) => m.to.includes(email));
  });

  it('a base with an A1 paid licence is refused; ops may migrate it anyway, with a reason', async () => {
    const { baseId, apiKey } = await baseWithV15();
    const bought = await request(h.app)
      .post(`/bases/${baseId}/subscriptions`)
      .set(bearer(apiKey))
      .send({
        idempotencyKey: `cheque-${baseId}`,
        edition: 'ENTERPRISE',
        mode: 'LOCAL',
        connections: 1,
        period: 'ANNUAL',
        paymentMethod: 'CHEQUE',
        billing: {
          companyName: 'Garage Martin',
          lastName: 'Martin',
          firstName: 'Paul',
          address: '3 avenue Foch',
          postalCode: '69006',
          city: 'Lyon',
          country: 'FRA',
          email: uniqueEmail('compta'),
        },
        terms: { version: '2026-01', accepted: true },
      });
    expect(bought.status).toBe(201);

    const refused = await migrate(baseId, apiKey);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'A1_LICENCE_ACTIVE', details: { status: 'PENDING' } });

    const notOps = await migrate(baseId, apiKey, {
      override: { reason: 'customer paid twice, see ticket 4521' },
    });
    expect(notOps.status).toBe(403);
    expect(notOps.body.error.code).toBe('ROLE_REQUIRED');

    const forced = await migrate(baseId, ops, {
      override: { reason: 'customer paid twice, see ticket 4521' },
    });
    expect(forced.status).toBe(201);
    expect(forced.body).toMatchObject({
      status: 'COMPLETED',
      override: { reason: 'customer paid twice, see ticket 4521', by: 'support' },
      requestedBy: { type: 'OPS', id: 'support' },
    });
    // the purchase keeps the base's subscription; the migrated licence is carried by the migration
    const purchase = await h.prisma.licence.findUniqueOrThrow({ where: { id: bought.body.licenceId } });
    expect(purchase.status).toBe('PENDING');
    const migrated = await h.prisma.licence.findUniqueOrThrow({ where: { id: forced.body.a1LicenceId } });
    expect(migrated).toMatchObject({ status: 'ACTIVE', workflowId: `licence-migration:${baseId}` });
    const audited = await h.prisma.auditLog.findFirstOrThrow({
      where: { entityId: forced.body.migrationId, action: 'licence_migration.requested' },
    });
    expect(audited).toMatchObject({ actorType: 'OPS', actorId: 'support' });
    expect(audited.data).toMatchObject({ override: { reason: 'customer paid twice, see ticket 4521' } });
  });
});
