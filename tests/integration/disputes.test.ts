/**
 * Card disputes and early fraud warnings through the real webhook route (signed events), the ops queue
 * (API) and the subscription workflow: a dispute opened then lost is in the queue with its evidence
 * deadline, its money is reversed once (the Payment row untouched, one DISPUTE credit note), the licence
 * ends (LOCAL) or is suspended (CLOUD); a won dispute changes nothing; a lost one on a wallet recharge debits
 * what is left of it. Real API, worker, PostgreSQL, Temporal dev server, SMTP peer and stripe-mock.
 */
import request from 'supertest';
import { bearer, confirmedAccount } from '../helpers/api';
import { deliver, paymentSucceededEvent, purchaseReaches } from '../helpers/credits';
import {
  disputeEvent,
  fraudWarningEvent,
  newDisputeId,
  paidCardLicence,
  type DisputeFacts,
} from '../helpers/disputes';
import { until } from '../helpers/faults';
import { createHarness, type Harness } from '../helpers/harness';
import { opsToken } from '../helpers/ops';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';

let h: Harness;
let ops: string;

beforeAll(async () => {
  h = await createHarness();
  ops = await opsToken(h);
});
afterAll(async () => {
  await h?.close();
});

const now = () => Math.floor(Date.now() / 1000);

async function send(event: { payload: string; signature: string }) {
  const res = await deliver(h, event);
  expect(res.status).toBe(200);
  return res.body as { duplicate: boolean; outcome?: string };
}

const queue = async (query = '') => {
  const res = await request(h.app).get(`/ops/disputes${query}`).set(bearer(ops));
  expect(res.status).toBe(200);
  return res.body as { id: string; stripeId: string; [k: string]: unknown }[];
};

const stateOf = (baseId: string) =>
  h.temporal.workflow.getHandle(subscriptionWorkflowId(baseId)).query(getSubscriptionStateQuery);

it('a dispute opened, then lost: in the queue with its deadline, money reversed once, the LOCAL licence ended', async () => {
  const x = await paidCardLicence(h);
  const paymentBefore = await h.prisma.payment.findUniqueOrThrow({ where: { id: x.payment.id } });
  const dueBy = now() + 10 * 86_400;
  const d: DisputeFacts = {
    disputeId: newDisputeId(),
    paymentIntentId: x.bought.payment.paymentIntentId,
    amountCents: x.bought.quote.totalInclVatCents,
    status: 'needs_response',
    createdAt: now(),
    dueBy,
  };
  const created = disputeEvent('charge.dispute.created', d);
  expect(await send(created)).toMatchObject({ duplicate: false, outcome: 'recorded' });
  // the same webhook again: nothing
  expect(await send(created)).toMatchObject({ duplicate: true });

  const open = (await queue()).filter((q) => q.stripeId === d.disputeId);
  expect(open).toHaveLength(1);
  expect(open[0]).toMatchObject({
    kind: 'DISPUTE',
    baseId: x.baseId,
    paymentId: x.payment.id,
    licenceId: x.bought.licenceId,
    amountCents: d.amountCents,
    outcome: 'OPEN',
    stripeStatus: 'needs_response',
    evidenceDueBy: new Date(dueBy * 1000).toISOString(),
    reversal: null,
  });
  const one = await request(h.app).get(`/ops/disputes/${open[0]!.id}`).set(bearer(ops));
  expect(one.status).toBe(200);
  expect(one.body.stripeId).toBe(d.disputeId);
  expect((await stateOf(x.baseId)).status).toBe('ACTIVE');

  const lost = disputeEvent('charge.dispute.closed', { ...d, status: 'lost', createdAt: now() + 1 });
  expect(await send(lost)).toMatchObject({ duplicate: false, outcome: 'signalled' });
  expect(await send(lost)).toMatchObject({ duplicate: true });
  // the same outcome again under a new event id (Stripe's `updated` after `closed`): nothing more
  expect(
    await send(disputeEvent('charge.dispute.updated', { ...d, status: 'lost', createdAt: now() + 2 })),
  ).toMatchObject({ duplicate: false });

  const licence = await until(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: x.bought.licenceId } }),
    (l) => l.status === 'ENDED',
    'licence ended',
  );
  expect(licence.autoRenew).toBe(false);
  expect((await stateOf(x.baseId)).status).toBe('ENDED');
  await h.mail.waitFor((m) => m.to.includes(x.email) && m.subject === 'Votre licence a pris fin');

  const dispute = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: d.disputeId } });
  expect(dispute).toMatchObject({
    outcome: 'LOST',
    stripeStatus: 'lost',
    reversalCents: d.amountCents,
    licenceAction: 'ENDED',
  });
  expect(dispute.reversedAt).not.toBeNull();
  const notes = await h.prisma.creditNote.findMany({ where: { baseId: x.baseId } });
  expect(notes).toHaveLength(1);
  expect(notes[0]).toMatchObject({
    kind: 'DISPUTE',
    totalInclVatCents: d.amountCents,
    number: dispute.creditNoteNumber,
  });
  expect(await h.prisma.auditLog.count({ where: { entityId: dispute.id, action: 'dispute.reversed' } })).toBe(
    1,
  );
  // the payment row is never edited: the reversal is a movement of its own
  expect(await h.prisma.payment.findUniqueOrThrow({ where: { id: x.payment.id } })).toEqual(paymentBefore);
  expect(await h.prisma.payment.count({ where: { baseId: x.baseId } })).toBe(1);

  expect((await queue()).some((q) => q.stripeId === d.disputeId)).toBe(false);
  const lostList = await queue(`?outcome=LOST&baseId=${x.baseId}`);
  expect(lostList).toHaveLength(1);
  expect(lostList[0]!.reversal).toMatchObject({
    amountCents: d.amountCents,
    creditNoteNumber: dispute.creditNoteNumber,
    licenceAction: 'ENDED',
  });
  expect(h.mail.messagesTo(x.email).filter((m) => m.subject === 'Votre licence a pris fin')).toHaveLength(1);
});

it('a CLOUD licence whose dispute is lost is suspended', async () => {
  const x = await paidCardLicence(h, 'CLOUD');
  const d: DisputeFacts = {
    disputeId: newDisputeId(),
    paymentIntentId: x.bought.payment.paymentIntentId,
    amountCents: x.bought.quote.totalInclVatCents,
    status: 'lost',
    createdAt: now(),
  };
  await send(disputeEvent('charge.dispute.closed', d));
  await until(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: x.bought.licenceId } }),
    (l) => l.status === 'SUSPENDED',
    'licence suspended',
  );
  expect((await stateOf(x.baseId)).status).toBe('SUSPENDED');
});

it('a dispute won: recorded, no reversal, the licence stays active', async () => {
  const x = await paidCardLicence(h);
  const d: DisputeFacts = {
    disputeId: newDisputeId(),
    paymentIntentId: x.bought.payment.paymentIntentId,
    amountCents: x.bought.quote.totalInclVatCents,
    status: 'under_review',
    createdAt: now(),
    dueBy: now() + 86_400,
  };
  await send(disputeEvent('charge.dispute.created', d));
  await send(disputeEvent('charge.dispute.closed', { ...d, status: 'won', createdAt: now() + 1 }));
  // a late `updated` still under review does not reopen it
  await send(disputeEvent('charge.dispute.updated', { ...d, status: 'under_review', createdAt: now() - 60 }));
  const dispute = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: d.disputeId } });
  expect(dispute).toMatchObject({ outcome: 'WON', stripeStatus: 'won', reversedAt: null });
  expect(await h.prisma.creditNote.count({ where: { baseId: x.baseId } })).toBe(0);
  expect((await stateOf(x.baseId)).status).toBe('ACTIVE');
  expect((await h.prisma.licence.findUniqueOrThrow({ where: { id: x.bought.licenceId } })).status).toBe(
    'ACTIVE',
  );
});

it('a lost dispute on a wallet recharge debits what is left of it, never below zero; no credit note (a receipt)', async () => {
  const account = await confirmedAccount(h);
  const res = await request(h.app)
    .post(`/accounts/${account.accountId}/credit-purchases`)
    .set(bearer(account.apiKey))
    .send({ idempotencyKey: 'recharge-dispute-1', product: { kind: 'WALLET_RECHARGE', amountCents: 5000 } });
  expect(res.status).toBe(201);
  const bought = res.body as {
    purchaseId: string;
    amountCents: number;
    payment: { paymentIntentId: string };
  };
  await send(paymentSucceededEvent(bought));
  await purchaseReaches(h, bought.purchaseId, 'COMPLETED');
  // 20.00 of the 50.00 are spent
  const spent = await request(h.app)
    .post(`/accounts/${account.accountId}/wallet/charges`)
    .set(bearer(account.apiKey))
    .send({ idempotencyKey: 'dispute-spend-1', amountCents: 2000, type: 'sms', description: 'SMS' });
  expect(spent.status).toBe(201);

  const d: DisputeFacts = {
    disputeId: newDisputeId(),
    paymentIntentId: bought.payment.paymentIntentId,
    amountCents: 5000,
    status: 'lost',
    createdAt: now(),
  };
  expect(await send(disputeEvent('charge.dispute.closed', d))).toMatchObject({ outcome: 'recorded' });
  await send(disputeEvent('charge.dispute.closed', { ...d, createdAt: now() + 1 }));
  const dispute = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: d.disputeId } });
  expect(dispute).toMatchObject({
    outcome: 'LOST',
    accountId: account.accountId,
    creditPurchaseId: bought.purchaseId,
    reversalCents: 5000,
    creditDebited: 3000,
    creditNoteNumber: null,
  });
  const entries = await h.prisma.creditEntry.findMany({
    where: { accountId: account.accountId, ledger: 'WALLET', type: 'dispute' },
  });
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ amount: -3000, balanceAfter: 0 });
});

it('an early fraud warning is queued until ops acknowledge it; a dispute can not be acknowledged', async () => {
  const x = await paidCardLicence(h);
  const warningId = `issfr_${Math.random().toString(36).slice(2)}`;
  const w = {
    warningId,
    paymentIntentId: x.bought.payment.paymentIntentId,
    actionable: true,
    createdAt: now(),
  };
  await send(fraudWarningEvent('radar.early_fraud_warning.created', w));
  const queued = (await queue(`?baseId=${x.baseId}`)).find((q) => q.stripeId === warningId);
  expect(queued).toMatchObject({
    kind: 'EARLY_FRAUD_WARNING',
    stripeStatus: 'actionable',
    reason: 'unauthorized_use_of_card',
    amountCents: x.bought.quote.totalInclVatCents,
    outcome: 'OPEN',
  });

  const noReason = await request(h.app)
    .post(`/ops/disputes/${queued!.id}/acknowledge`)
    .set(bearer(ops))
    .send({});
  expect(noReason.status).toBe(400);
  const ack = await request(h.app)
    .post(`/ops/disputes/${queued!.id}/acknowledge`)
    .set(bearer(ops))
    .send({ reason: 'client joint, achat confirmé' });
  expect(ack.status).toBe(200);
  expect(ack.body).toMatchObject({ outcome: 'CLOSED', acknowledgedBy: 'compta' });
  const again = await request(h.app)
    .post(`/ops/disputes/${queued!.id}/acknowledge`)
    .set(bearer(ops))
    .send({ reason: 'deuxième clic' });
  expect(again.status).toBe(200);
  expect(
    await h.prisma.auditLog.count({
      where: { entityId: queued!.id, action: 'ops.fraud_warning_acknowledged' },
    }),
  ).toBe(1);
  // a later update of the warning does not bring it back
  await send(
    fraudWarningEvent('radar.early_fraud_warning.updated', { ...w, actionable: false, createdAt: now() + 5 }),
  );
  expect((await queue(`?baseId=${x.baseId}`)).some((q) => q.stripeId === warningId)).toBe(false);

  const d = newDisputeId();
  await send(
    disputeEvent('charge.dispute.created', {
      disputeId: d,
      paymentIntentId: x.bought.payment.paymentIntentId,
      amountCents: 100,
      status: 'needs_response',
      createdAt: now(),
    }),
  );
  const row = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: d } });
  const refused = await request(h.app)
    .post(`/ops/disputes/${row.id}/acknowledge`)
    .set(bearer(ops))
    .send({ reason: 'pas possible' });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('DISPUTE_NOT_ACKNOWLEDGEABLE');
  const missing = await request(h.app)
    .get('/ops/disputes/00000000-0000-4000-8000-000000000000')
    .set(bearer(ops));
  expect(missing.status).toBe(404);
  expect(missing.body.error.code).toBe('DISPUTE_NOT_FOUND');
  const unauthenticated = await request(h.app).get('/ops/disputes');
  expect(unauthenticated.status).toBe(401);
});
