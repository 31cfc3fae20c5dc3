/**
 * A dispute or early-fraud-warning event from Stripe's webhook (`charge.dispute.created|updated|closed|
 * funds_withdrawn|funds_reinstated`, `radar.early_fraud_warning.created|updated`): the dispute is recorded
 * (the ops queue reads it), and a lost one is reversed in our records exactly once (docs/disputes.md).
 *
 * One transaction, under the Dispute row's lock (inserted first if unknown, so two deliveries racing on a
 * new dispute queue behind each other): apply the event unless an applied one is newer or final
 * (domain/disputes.ts), then, the first time the outcome is LOST, the reversal: the Dispute row's reversal
 * fields, a DISPUTE credit note against the payment's invoice, and, for a credit purchase, the unused credit
 * debited (keys `dispute:<stripe id>`). The licence's end goes to its subscriptionWorkflow after the commit
 * (handle-stripe-event.ts), on every delivery of a lost dispute (the workflow takes the first): a crash
 * between the commit and the signal leaves the event unrecorded, so Stripe's redelivery signals again.
 */
import type Stripe from 'stripe';
import { creditableCents } from '../../domain/credit-note';
import {
  creditToDebit,
  disputeOutcomeOf,
  eventApplies,
  licenceAfterLostDispute,
  type DisputeOutcome,
} from '../../domain/disputes';
import type { Db } from '../../infra/prisma';
import { systemActor } from '../actor';
import { audit } from '../audit';
import { issueCreditNote } from '../credit-notes/issue-credit-note';
import { lockBalance, postCreditEntry } from '../credits/post-credit-entry';
import type { ServiceDeps } from '../deps';

export const DISPUTE_EVENT_TYPES = [
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
  'radar.early_fraud_warning.created',
  'radar.early_fraud_warning.updated',
] as const;

export const isDisputeEvent = (type: string): boolean =>
  (DISPUTE_EVENT_TYPES as readonly string[]).includes(type);

const actor = systemActor('stripe-webhook');

/** What an event says about one dispute or warning, whatever its kind. */
interface DisputeFacts {
  kind: 'DISPUTE' | 'EARLY_FRAUD_WARNING';
  stripeId: string;
  chargeId: string | null;
  paymentIntentId: string | null;
  amountCents: number | null;
  currency: string;
  reason: string | null;
  stripeStatus: string;
  outcome: DisputeOutcome;
  evidenceDueBy: Date | null;
  openedAt: Date;
}

const idOf = (ref: string | { id: string } | null | undefined): string | null =>
  ref ? (typeof ref === 'string' ? ref : ref.id) : null;
const secondsToDate = (s: number | null | undefined): Date | null => (s ? new Date(s * 1000) : null);

function factsOf(event: Stripe.Event): DisputeFacts {
  if (event.type.startsWith('radar.early_fraud_warning.')) {
    const w = event.data.object as Stripe.Radar.EarlyFraudWarning;
    return {
      kind: 'EARLY_FRAUD_WARNING',
      stripeId: w.id,
      chargeId: idOf(w.charge),
      paymentIntentId: idOf(w.payment_intent),
      amountCents: null,
      currency: 'EUR',
      reason: w.fraud_type,
      // a warning has no status: whether a dispute can still follow (actionable) is what ops need
      stripeStatus: w.actionable ? 'actionable' : 'not_actionable',
      outcome: 'OPEN',
      evidenceDueBy: null,
      openedAt: secondsToDate(w.created) ?? new Date(event.created * 1000),
    };
  }
  const d = event.data.object as Stripe.Dispute;
  return {
    kind: 'DISPUTE',
    stripeId: d.id,
    chargeId: idOf(d.charge),
    paymentIntentId: idOf(d.payment_intent),
    amountCents: d.amount,
    currency: (d.currency ?? 'eur').toUpperCase(),
    reason: d.reason ?? null,
    stripeStatus: d.status,
    outcome: disputeOutcomeOf(d.status),
    evidenceDueBy: secondsToDate(d.evidence_details?.due_by),
    openedAt: secondsToDate(d.created) ?? new Date(event.created * 1000),
  };
}

export interface RecordedDispute {
  disputeId: string;
  outcome: DisputeOutcome;
  /** this delivery changed the recorded dispute (false: older than what we have, or a final outcome) */
  applied: boolean;
  /** this delivery reversed the money (true once per dispute) */
  reversed: boolean;
  /** the base whose subscriptionWorkflow ends the licence (a lost dispute on a licence payment) */
  licenceBaseId?: string;
}

/** Our payment behind the disputed PaymentIntent, and what it paid for. */
async function paymentOf(tx: Db, paymentIntentId: string | null) {
  if (!paymentIntentId) return null;
  return tx.payment.findFirst({
    where: { providerRef: paymentIntentId, status: 'SUCCEEDED' },
    include: { invoice: { select: { number: true, totalInclVatCents: true } } },
    orderBy: { createdAt: 'asc' },
  });
}

/** The dispute row, locked; inserted from these facts when unknown. */
async function lockDispute(tx: Db, facts: DisputeFacts, event: Stripe.Event) {
  const payment = await paymentOf(tx, facts.paymentIntentId);
  const eventAt = new Date(event.created * 1000);
  const inserted = await tx.$executeRaw`
    INSERT INTO "Dispute" ("id", "kind", "stripeId", "chargeId", "paymentIntentId", "paymentId", "baseId",
      "licenceId", "creditPurchaseId", "accountId", "amountCents", "currency", "reason", "stripeStatus",
      "outcome", "evidenceDueBy", "lastEventAt", "lastEventId", "openedAt", "closedAt", "updatedAt")
    VALUES (gen_random_uuid(), ${facts.kind}::"DisputeKind", ${facts.stripeId}, ${facts.chargeId},
      ${facts.paymentIntentId}, ${payment?.id ?? null}::uuid, ${payment?.baseId ?? null},
      ${payment?.licenceId ?? null}::uuid, ${payment?.creditPurchaseId ?? null}::uuid,
      ${payment?.accountId ?? null}, ${facts.amountCents ?? payment?.amountCents ?? 0},
      ${facts.currency}, ${facts.reason}, ${facts.stripeStatus}, ${facts.outcome}::"DisputeOutcome",
      ${facts.evidenceDueBy}, ${eventAt}, ${event.id}, ${facts.openedAt},
      ${facts.outcome === 'OPEN' ? null : eventAt}, NOW())
    ON CONFLICT ("stripeId") DO NOTHING`;
  const [row] = await tx.$queryRaw<{ id: string }[]>`
    SELECT "id" FROM "Dispute" WHERE "stripeId" = ${facts.stripeId} FOR UPDATE`;
  if (!row) throw new Error(`dispute ${facts.stripeId} vanished`);
  return {
    dispute: await tx.dispute.findUniqueOrThrow({ where: { id: row.id } }),
    payment,
    inserted: inserted === 1,
  };
}

/** The first time a dispute is LOST: its reversal, credit note and credit debit, written once. */
async function reverse(
  tx: Db,
  disputeId: string,
  payment: NonNullable<Awaited<ReturnType<typeof paymentOf>>> | null,
  now: Date,
) {
  const d = await tx.dispute.findUniqueOrThrow({ where: { id: disputeId } });
  let creditNoteNumber: string | null = null;
  if (payment?.invoice) {
    const credited = await tx.creditNote.aggregate({
      where: { invoice: { number: payment.invoice.number } },
      _sum: { totalInclVatCents: true },
    });
    const left = creditableCents(payment.invoice.totalInclVatCents, credited._sum.totalInclVatCents ?? 0);
    const amount = Math.min(left, d.amountCents);
    if (amount > 0) {
      const note = await issueCreditNote(tx, actor, {
        invoiceNumber: payment.invoice.number,
        kind: 'DISPUTE',
        reason: `Contestation ${d.stripeId} perdue${d.reason ? ` (${d.reason})` : ''}`,
        amountInclVatCents: amount,
        idempotencyKey: `dispute:${d.stripeId}`,
        refundedAt: now,
        now,
      });
      creditNoteNumber = note.number;
    }
  }

  let creditDebited: number | null = null;
  let licenceAction: string | null = null;
  if (d.creditPurchaseId) {
    const purchase = await tx.creditPurchase.findUnique({ where: { id: d.creditPurchaseId } });
    if (purchase?.accountId && purchase.creditedAt) {
      const ledger = purchase.product === 'SUPPORT_PACK' ? 'SUPPORT_TIME' : 'WALLET';
      const { balance } = await lockBalance(tx, purchase.accountId, ledger);
      const debit = creditToDebit(purchase, d.amountCents, balance);
      if (debit > 0) {
        await postCreditEntry(tx, actor, {
          accountId: purchase.accountId,
          ledger,
          idempotencyKey: `dispute:${d.stripeId}`,
          amount: -debit,
          type: 'dispute',
          description: `Contestation perdue, achat n° ${purchase.number}`,
          occurredAt: now,
          creditPurchaseId: purchase.id,
        });
      }
      creditDebited = debit;
    }
  } else if (d.licenceId) {
    const licence = await tx.licence.findUnique({ where: { id: d.licenceId }, select: { mode: true } });
    if (licence) licenceAction = licenceAfterLostDispute(licence.mode);
  }

  await tx.dispute.update({
    where: { id: d.id },
    data: { reversedAt: now, reversalCents: d.amountCents, creditNoteNumber, creditDebited, licenceAction },
  });
  await audit(tx, actor, {
    action: 'dispute.reversed',
    entityType: 'DISPUTE',
    entityId: d.id,
    data: {
      stripeId: d.stripeId,
      amountCents: d.amountCents,
      creditNoteNumber,
      creditDebited,
      licenceAction,
    },
  });
}

/**
 * Records one dispute event in its own transaction. A lost dispute on a licence payment names the base whose
 * workflow the caller signals (`disputeLostSignal`).
 */
export async function recordDisputeEvent(
  deps: Pick<ServiceDeps, 'prisma'>,
  event: Stripe.Event,
): Promise<RecordedDispute> {
  const facts = factsOf(event);
  const eventAt = new Date(event.created * 1000);
  const recorded = await deps.prisma.$transaction(async (tx) => {
    const { dispute, payment, inserted } = await lockDispute(tx, facts, event);
    const applied =
      inserted ||
      eventApplies(
        { outcome: dispute.outcome, lastEventAt: dispute.lastEventAt.getTime() },
        { outcome: facts.outcome, eventAt: eventAt.getTime() },
      );
    let outcome = dispute.outcome;
    if (applied && !inserted) {
      outcome = facts.outcome;
      await tx.dispute.update({
        where: { id: dispute.id },
        data: {
          stripeStatus: facts.stripeStatus,
          outcome: facts.outcome,
          reason: facts.reason ?? dispute.reason,
          ...(facts.amountCents !== null ? { amountCents: facts.amountCents } : {}),
          // a `closed` payload still carries the deadline; keep the one we had if it does not
          evidenceDueBy: facts.evidenceDueBy ?? dispute.evidenceDueBy,
          lastEventAt: eventAt,
          lastEventId: event.id,
          closedAt: facts.outcome === 'OPEN' ? null : eventAt,
        },
      });
    }
    if (applied) {
      await audit(tx, actor, {
        action: inserted ? 'dispute.opened' : 'dispute.updated',
        entityType: 'DISPUTE',
        entityId: dispute.id,
        data: { event: event.type, eventId: event.id, stripeStatus: facts.stripeStatus, outcome },
      });
    }
    const reversed = outcome === 'LOST' && dispute.reversedAt === null;
    if (reversed) await reverse(tx, dispute.id, payment, new Date());
    return { disputeId: dispute.id, outcome, applied, reversed, baseId: dispute.baseId, dispute };
  });

  return {
    disputeId: recorded.disputeId,
    outcome: recorded.outcome,
    applied: recorded.applied,
    reversed: recorded.reversed,
    ...(recorded.outcome === 'LOST' && recorded.dispute.licenceId && recorded.baseId
      ? { licenceBaseId: recorded.baseId }
      : {}),
  };
}
