/**
 * Dispute webhooks arrive late, twice and out of order: the `closed` (lost) before the `created`, each
 * delivered twice at once and again later, an older `updated` after the outcome, two different events of
 * the same loss racing each other. The final outcome is right, the money is reversed once (one credit
 * note, one audit entry), the licence ends once (one email). Real API, worker, PostgreSQL, Temporal dev
 * server, SMTP peer and stripe-mock (tests/faults/webhooks.test.ts does the same for PaymentIntents).
 */
import { deliver } from '../helpers/credits';
import { disputeEvent, newDisputeId, paidCardLicence, type DisputeFacts } from '../helpers/disputes';
import { until } from '../helpers/faults';
import { createHarness, type Harness } from '../helpers/harness';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { getSubscriptionStateQuery } from '../../workflows/subscription';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const now = () => Math.floor(Date.now() / 1000);

/** Each delivery twice at once, then once more: Stripe's retries racing each other. */
async function deliverTwice(event: { payload: string; signature: string }) {
  const statuses = (await Promise.all([deliver(h, event), deliver(h, event)])).map((r) => r.status);
  statuses.push((await deliver(h, event)).status);
  expect(statuses).toEqual([200, 200, 200]);
}

async function assertLostOnce(x: Awaited<ReturnType<typeof paidCardLicence>>, disputeId: string) {
  await until(
    () => h.prisma.licence.findUniqueOrThrow({ where: { id: x.bought.licenceId } }),
    (l) => l.status === 'ENDED',
    'licence ended',
  );
  const state = await h.temporal.workflow
    .getHandle(subscriptionWorkflowId(x.baseId))
    .query(getSubscriptionStateQuery);
  expect(state.status).toBe('ENDED');
  const dispute = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: disputeId } });
  expect(dispute).toMatchObject({ outcome: 'LOST', stripeStatus: 'lost', licenceAction: 'ENDED' });
  expect(dispute.reversalCents).toBe(x.bought.quote.totalInclVatCents);
  expect(await h.prisma.dispute.count({ where: { paymentIntentId: x.bought.payment.paymentIntentId } })).toBe(
    1,
  );
  expect(await h.prisma.creditNote.count({ where: { baseId: x.baseId, kind: 'DISPUTE' } })).toBe(1);
  expect(await h.prisma.auditLog.count({ where: { entityId: dispute.id, action: 'dispute.reversed' } })).toBe(
    1,
  );
  expect(
    await h.prisma.auditLog.count({ where: { entityId: x.bought.licenceId, action: 'licence.ended' } }),
  ).toBe(1);
  await h.mail.waitFor((m) => m.to.includes(x.email) && m.subject === 'Votre licence a pris fin');
  expect(h.mail.messagesTo(x.email).filter((m) => m.subject === 'Votre licence a pris fin')).toHaveLength(1);
  expect(await h.prisma.payment.count({ where: { baseId: x.baseId } })).toBe(1);
  return dispute;
}

it('closed (lost) before created, both twice, then a late created and an older updated → lost, reversed once', async () => {
  const x = await paidCardLicence(h);
  const opened = now() - 3600;
  const d: DisputeFacts = {
    disputeId: newDisputeId(),
    paymentIntentId: x.bought.payment.paymentIntentId,
    amountCents: x.bought.quote.totalInclVatCents,
    status: 'lost',
    createdAt: now(),
    dueBy: opened + 7 * 86_400,
  };
  await deliverTwice(disputeEvent('charge.dispute.closed', d));
  await deliverTwice(
    disputeEvent('charge.dispute.created', { ...d, status: 'needs_response', createdAt: opened }),
  );
  await deliverTwice(
    disputeEvent('charge.dispute.updated', { ...d, status: 'under_review', createdAt: opened + 60 }),
  );
  const dispute = await assertLostOnce(x, d.disputeId);
  expect(dispute.evidenceDueBy?.toISOString()).toBe(new Date(d.dueBy! * 1000).toISOString());
  expect(dispute.closedAt).not.toBeNull();
});

it('created late, after the outcome arrived under two different events racing each other → reversed once', async () => {
  const x = await paidCardLicence(h);
  const d: DisputeFacts = {
    disputeId: newDisputeId(),
    paymentIntentId: x.bought.payment.paymentIntentId,
    amountCents: x.bought.quote.totalInclVatCents,
    status: 'lost',
    createdAt: now(),
  };
  const statuses = await Promise.all([
    deliver(h, disputeEvent('charge.dispute.closed', d)),
    deliver(h, disputeEvent('charge.dispute.updated', d)),
    deliver(h, disputeEvent('charge.dispute.funds_withdrawn', { ...d, status: 'needs_response' })),
  ]);
  expect(statuses.map((r) => r.status)).toEqual([200, 200, 200]);
  await deliverTwice(
    disputeEvent('charge.dispute.created', { ...d, status: 'needs_response', createdAt: now() - 86_400 }),
  );
  await assertLostOnce(x, d.disputeId);
});

it('a dispute on a PaymentIntent we do not know is queued for ops; lost, it reverses nothing of ours', async () => {
  const d: DisputeFacts = {
    disputeId: newDisputeId(),
    paymentIntentId: `pi_unknown${Math.random().toString(36).slice(2)}`,
    amountCents: 1234,
    status: 'needs_response',
    createdAt: now(),
  };
  await deliverTwice(disputeEvent('charge.dispute.created', d));
  const open = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: d.disputeId } });
  expect(open).toMatchObject({ outcome: 'OPEN', paymentId: null, baseId: null, amountCents: 1234 });
  await deliverTwice(disputeEvent('charge.dispute.closed', { ...d, status: 'lost', createdAt: now() + 1 }));
  const lost = await h.prisma.dispute.findUniqueOrThrow({ where: { stripeId: d.disputeId } });
  expect(lost).toMatchObject({
    outcome: 'LOST',
    creditNoteNumber: null,
    licenceAction: null,
    creditDebited: null,
  });
  expect(lost.reversalCents).toBe(1234);
});
