/**
 * Cheque and transfer renewals (subscription/offline-renewal.ts) on the time-skipping server, with the real
 * activities (PostgreSQL, the SMTP catcher): the invoice to pay and its reminders before the due date, ops
 * confirming its receipt (twice: one payment, one paid invoice, the period extended once), and the end of
 * a licence whose renewal is not paid by the due date; renew now by a cheque payer (the invoice to pay at
 * once, the same one when asked twice or when the notice is out) and the ops queue of renewals to pay.
 */
import request from 'supertest';
import { startOfDayMs } from '../../domain/licence';
import { addDays, nthPeriod } from '../../domain/periods';
import type { Actor } from '../../services/actor';
import type { ServiceDeps } from '../../services/deps';
import { confirmManualPayment, confirmRenewalPayment } from '../../services/ops/manual-queues';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery, type SubscriptionState } from '../../workflows/subscription';
import { bearer, registerMachine } from '../helpers/api';
import { licenceBilling, opsToken } from '../helpers/ops';
import { startTimeSkippingStack, type TimeSkippingStack } from '../helpers/time-skipping';

let stack: TimeSkippingStack;
let services: ServiceDeps;
let opsBearer: Record<string, string>;
const ops: Actor = { type: 'OPS', id: 'compta', role: 'OPS' };

beforeAll(async () => {
  // invoice to pay 10 days before the end, due 5 days after it, reminders 7 and 2 days before the due date
  stack = await startTimeSkippingStack('offline-renewal', {
    billing: { offlineRenewalNoticeDays: 10, offlineRenewalGraceDays: 5, offlineRenewalReminderDays: [7, 2] },
  });
  services = { ...stack.h.services, temporal: stack.env.client };
  opsBearer = bearer(await opsToken(stack.h));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const stateOf = (baseId: string) =>
  stack.env.client.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

/** Polls, letting an hour of test-server time pass between reads. */
async function whenState(baseId: string, ok: (s: SubscriptionState) => boolean, what: string) {
  for (let i = 0; i < 300; i += 1) {
    const s = await stateOf(baseId);
    if (ok(s)) return s;
    await stack.env.sleep(3_600_000);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await stateOf(baseId))}`);
}

async function skipTo(ms: number): Promise<void> {
  await stack.env.sleep(Math.max(ms - (await stack.env.currentTimeMs()), 1000));
}

/** A monthly CLOUD or LOCAL licence bought by cheque, its payment confirmed by ops: ACTIVE. */
async function chequeLicence(mode: 'LOCAL' | 'CLOUD', paymentMethod: 'CHEQUE' | 'TRANSFER' = 'CHEQUE') {
  const machine = await registerMachine(stack.h);
  const billing = licenceBilling();
  const bought = await request(stack.app)
    .post(`/bases/${machine.baseId}/subscriptions`)
    .set(bearer(machine.apiKey))
    .send({
      idempotencyKey: `buy-${machine.baseId}`,
      edition: 'ENTERPRISE',
      mode,
      connections: 1,
      period: 'MONTHLY',
      paymentMethod,
      billing,
      terms: { version: '2026-01', accepted: true },
    });
  expect(bought.status).toBe(201);
  await confirmManualPayment(services, {
    purchaseId: bought.body.purchaseId,
    actor: ops,
    reference: 'CHQ-1',
  });
  const state = await whenState(machine.baseId, (s) => s.status === 'ACTIVE', 'activation');
  return { baseId: machine.baseId, apiKey: machine.apiKey, email: billing.email, state };
}

const subjects = (email: string) => stack.h.mail.messagesTo(email).map((m) => m.subject);
const INVOICE_TO_PAY = 'Facture à régler pour le renouvellement de votre licence';
const REMINDER = 'Rappel : renouvellement de votre licence à régler';

it('cheque: the invoice to pay and reminders by email; ops confirm twice, the period is extended once', async () => {
  const { baseId, email, state } = await chequeLicence('LOCAL');
  const periodEnd = state.periodEnd!;
  const dueOn = addDays(periodEnd, 5);
  expect(state.autoRenew).toBe(false);

  // ten days before the end: the invoice to pay, with its amount, due date and where to pay
  await skipTo(startOfDayMs(addDays(periodEnd, -10)) - 3_600_000);
  expect(subjects(email)).not.toContain(INVOICE_TO_PAY);
  const waiting = await whenState(baseId, (s) => s.offlineRenewal !== undefined, 'the invoice to pay');
  expect(await stack.env.currentTimeMs()).toBeGreaterThanOrEqual(startOfDayMs(addDays(periodEnd, -10)));
  const invoiceMail = await stack.h.mail.waitFor((m) => m.to.includes(email) && m.subject === INVOICE_TO_PAY);
  const amount = (waiting.offlineRenewal!.amountCents / 100).toFixed(2).replace('.', ',');
  expect(invoiceMail.text).toContain(`${amount} €`);
  expect(invoiceMail.text).toContain(`au plus tard le ${dueOn}`);
  expect(invoiceMail.text).toContain('IBAN FR7630006000011234567890189');
  expect(invoiceMail.text).toContain("à l'ordre de Gestan SAS");
  expect(invoiceMail.text).toContain(state.licenceId);

  // the first reminder (7 days before the due date: before the period end), then the period end passes
  // unpaid: usable, PAST_DUE, until the due date
  await skipTo(startOfDayMs(addDays(dueOn, -7)) + 3_600_000);
  await stack.h.mail.waitFor((m) => m.to.includes(email) && m.subject === REMINDER);
  await skipTo(startOfDayMs(periodEnd) + 3_600_000);
  await whenState(baseId, (s) => s.status === 'PAST_DUE', 'past due in the grace');

  // ops confirm the cheque twice, at once and again: one payment, one paid invoice, one period
  const twice = await Promise.allSettled([
    confirmRenewalPayment(services, { baseId, actor: ops, reference: 'CHQ-2' }),
    confirmRenewalPayment(services, { baseId, actor: ops, reference: 'CHQ-2' }),
  ]);
  expect(twice.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
  for (const r of twice)
    if (r.status === 'rejected')
      expect((r.reason as { code?: string }).code).toBe('PURCHASE_NOT_AWAITING_OPS');
  await expect(
    confirmRenewalPayment(services, { baseId, actor: ops, reference: 'CHQ-2' }),
  ).rejects.toMatchObject({
    code: 'PURCHASE_NOT_AWAITING_OPS',
  });

  const next = nthPeriod(state.anchorDate!, 'MONTHLY', 1);
  const renewed = await whenState(
    baseId,
    (s) => s.periodIndex === 1 && s.status === 'ACTIVE',
    'the next run',
  );
  expect(renewed.periodEnd).toBe(next.end);
  const payments = await stack.h.prisma.payment.findMany({
    where: { licenceId: state.licenceId, status: 'SUCCEEDED' },
    include: { invoice: true },
    orderBy: { createdAt: 'asc' },
  });
  expect(payments).toHaveLength(2); // the purchase and the renewal
  expect(payments[1]).toMatchObject({ method: 'CHEQUE', provider: 'CHEQUE', providerRef: 'CHQ-2' });
  expect(payments[1]!.amountCents).toBe(waiting.offlineRenewal!.amountCents);
  expect(payments[1]!.invoice).not.toBeNull();
  const licence = await stack.h.prisma.licence.findUniqueOrThrow({ where: { id: state.licenceId } });
  expect(licence).toMatchObject({ status: 'ACTIVE', periodEnd: next.end });
  await stack.h.mail.waitFor((m) => m.to.includes(email) && m.subject === 'Votre licence est renouvelée');
  expect(subjects(email).filter((s) => s === INVOICE_TO_PAY)).toHaveLength(1);
  // paid before the second reminder (2 days before the due date): no second one
  expect(subjects(email).filter((s) => s === REMINDER)).toHaveLength(1);
}, 300_000);

it.each([
  ['LOCAL', 'ENDED'],
  ['CLOUD', 'SUSPENDED'],
] as const)(
  'transfer, %s: no confirmation by the due date → %s, as after a last failed payment',
  async (mode, end) => {
    const { baseId, email, state } = await chequeLicence(mode, 'TRANSFER');
    const dueOn = addDays(state.periodEnd!, 5);
    await skipTo(startOfDayMs(dueOn) + 3_600_000);
    const ended = await whenState(baseId, (s) => s.status === end, 'the end');
    expect(ended.offlineRenewal).toBeUndefined();
    const licence = await stack.h.prisma.licence.findUniqueOrThrow({ where: { id: state.licenceId } });
    expect(licence.status).toBe(end);
    expect(subjects(email).filter((s) => s === INVOICE_TO_PAY)).toHaveLength(1);
    expect(subjects(email).filter((s) => s === REMINDER)).toHaveLength(2);
    const payments = await stack.h.prisma.payment.count({ where: { licenceId: state.licenceId } });
    expect(payments).toBe(1); // the purchase only
    await expect(
      confirmRenewalPayment(services, { baseId, actor: ops, reference: 'late' }),
    ).rejects.toMatchObject({
      code: 'NO_PAID_LICENCE',
    });
  },
  300_000,
);

const toPayListing = async () => {
  const listed = await request(stack.app).get('/ops/renewals-to-pay').set(opsBearer);
  expect(listed.status).toBe(200);
  return listed.body as {
    baseId: string;
    remindersSent: number;
    origin: string;
    dueOn: string;
    amountCents: number;
  }[];
};

it('cheque, renew now: the invoice to pay at once (asked twice: the same, one mail), listed; ops confirm twice, renewed once', async () => {
  const { baseId, apiKey, email, state } = await chequeLicence('LOCAL');
  const periodEnd = state.periodEnd!;
  const dueOn = addDays(periodEnd, 5);
  const next = nthPeriod(state.anchorDate!, 'MONTHLY', 1);
  const licence = `/bases/${baseId}/licence`;

  // the price first, then renew now at that price: nothing charged, the invoice to pay (202)
  const quoted = await request(stack.app).post(`${licence}/renewals/quote`).set(bearer(apiKey)).send({});
  expect(quoted.status).toBe(200);
  expect(quoted.body.period).toEqual({ start: next.start, end: addDays(next.end, -1) });
  const renewed = await request(stack.app)
    .post(`${licence}/renewals`)
    .set(bearer(apiKey))
    .send({ priceFingerprint: quoted.body.priceFingerprint });
  expect(renewed.status).toBe(202);
  expect(renewed.body).toMatchObject({
    status: 'INVOICE_TO_PAY',
    invoiceNumber: null,
    amountCents: quoted.body.amountCents,
    invoiceToPay: {
      amountCents: quoted.body.amountCents,
      dueOn,
      periodStart: next.start,
      periodEnd: next.end,
      remindersSent: 0,
      paid: false,
      reference: state.licenceId,
      payee: { iban: 'FR7630006000011234567890189', chequePayee: 'Gestan SAS' },
    },
    subscription: { status: 'ACTIVE', paidUntil: periodEnd, invoiceToPay: { dueOn } },
  });
  const invoiceMail = await stack.h.mail.waitFor((m) => m.to.includes(email) && m.subject === INVOICE_TO_PAY);
  const amount = (quoted.body.amountCents / 100).toFixed(2).replace('.', ',');
  expect(invoiceMail.text).toContain(`${amount} €`);
  expect(invoiceMail.text).toContain(`au plus tard le ${dueOn}`);
  expect(invoiceMail.text).toContain('IBAN FR7630006000011234567890189');

  // asked again (and the quote again): the same invoice, no second mail, no charge
  const again = await request(stack.app).post(`${licence}/renewals`).set(bearer(apiKey)).send({});
  expect(again.status).toBe(202);
  expect(again.body.invoiceToPay).toEqual(renewed.body.invoiceToPay);
  const requoted = await request(stack.app).post(`${licence}/renewals/quote`).set(bearer(apiKey)).send({});
  expect(requoted.body.priceFingerprint).toBe(quoted.body.priceFingerprint);

  // in the ops queue and on the licence screen
  expect((await toPayListing()).find((r) => r.baseId === baseId)).toMatchObject({
    origin: 'RENEW_NOW',
    dueOn,
    remindersSent: 0,
    amountCents: quoted.body.amountCents,
  });
  const screen = await request(stack.app).get(licence).set(bearer(apiKey));
  expect(screen.body.invoiceToPay).toMatchObject({ amountCents: quoted.body.amountCents, dueOn });

  // the notice day passes: the invoice is out already, not mailed again; the first reminder comes
  await skipTo(startOfDayMs(addDays(dueOn, -7)) + 3_600_000);
  await stack.h.mail.waitFor((m) => m.to.includes(email) && m.subject === REMINDER);
  await whenState(baseId, (s) => s.offlineRenewal?.remindersSent === 1, 'the reminder noted');
  expect((await toPayListing()).find((r) => r.baseId === baseId)?.remindersSent).toBe(1);
  expect(subjects(email).filter((s) => s === INVOICE_TO_PAY)).toHaveLength(1);

  // ops confirm twice at once, over the API: one payment, one invoice, the period extended once
  const twice = await Promise.all(
    [1, 2].map(() =>
      request(stack.app)
        .post(`/ops/bases/${baseId}/renewal-payment`)
        .set(opsBearer)
        .send({ reference: 'CHQ-NOW' }),
    ),
  );
  expect(twice.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
  for (const r of twice) if (r.status !== 200) expect(r.body.error.code).toBe('PURCHASE_NOT_AWAITING_OPS');
  for (const r of twice.filter((x) => x.status === 200))
    expect(r.body).toMatchObject({ paidUntil: next.end, invoiceToPay: null });
  expect((await toPayListing()).find((r) => r.baseId === baseId)).toBeUndefined();

  await whenState(baseId, (s) => s.periodIndex === 1 && s.status === 'ACTIVE', 'the next run');
  const payments = await stack.h.prisma.payment.findMany({
    where: { licenceId: state.licenceId, status: 'SUCCEEDED' },
    include: { invoice: true },
  });
  expect(payments).toHaveLength(2); // the purchase and the renewal
  expect(payments.filter((p) => p.providerRef === 'CHQ-NOW' && p.invoice)).toHaveLength(1);
  expect(await stack.h.prisma.invoice.count({ where: { licenceId: state.licenceId } })).toBe(2);
  expect(await stack.h.prisma.licence.findUniqueOrThrow({ where: { id: state.licenceId } })).toMatchObject({
    status: 'ACTIVE',
    periodEnd: next.end,
  });
  expect(await stack.h.prisma.invoiceToPay.findMany({ where: { licenceId: state.licenceId } })).toMatchObject(
    [{ status: 'PAID', origin: 'RENEW_NOW', remindersSent: 1 }],
  );
  // renew now again, in the renewed period: the invoice to pay of the period after it
  const later = await request(stack.app).post(`${licence}/renewals`).set(bearer(apiKey)).send({});
  expect(later.status).toBe(202);
  expect(later.body.invoiceToPay.periodStart).toBe(next.end);
}, 300_000);

it('transfer, renew now once the notice is out: the invoice mailed before the end, not a second one', async () => {
  const { baseId, apiKey, email, state } = await chequeLicence('CLOUD', 'TRANSFER');
  await skipTo(startOfDayMs(addDays(state.periodEnd!, -10)) + 3_600_000);
  const waiting = await whenState(baseId, (s) => s.offlineRenewal !== undefined, 'the invoice to pay');
  await stack.h.mail.waitFor((m) => m.to.includes(email) && m.subject === INVOICE_TO_PAY);
  const renewed = await request(stack.app)
    .post(`/bases/${baseId}/licence/renewals`)
    .set(bearer(apiKey))
    .send({});
  expect(renewed.status).toBe(202);
  expect(renewed.body.invoiceToPay).toMatchObject({
    amountCents: waiting.offlineRenewal!.amountCents,
    dueOn: waiting.offlineRenewal!.dueOn,
    issuedOn: waiting.offlineRenewal!.issuedOn,
  });
  expect((await toPayListing()).find((r) => r.baseId === baseId)?.origin).toBe('NOTICE');
  // a fingerprint of another price: refused, nothing changes
  const stale = await request(stack.app)
    .post(`/bases/${baseId}/licence/renewals`)
    .set(bearer(apiKey))
    .send({ priceFingerprint: 'pf1_0000000000000000000000000000' });
  expect(stale.status).toBe(409);
  expect(stale.body.error.code).toBe('PRICE_CHANGED');
  await stack.env.sleep(3_600_000);
  expect(subjects(email).filter((s) => s === INVOICE_TO_PAY)).toHaveLength(1);
  await stack.env.client.workflow.getHandle(subscriptionWorkflowId(baseId)).terminate('test over');
}, 300_000);
