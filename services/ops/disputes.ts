/**
 * The ops queue of card disputes and early fraud warnings (recorded from Stripe's webhook by
 * services/disputes/record-dispute-event.ts): open ones first by evidence deadline, and the acknowledgement
 * that takes an early fraud warning out of the queue. A dispute leaves the queue with Stripe's outcome.
 */
import { AppError } from '../../domain/errors';
import type { Dispute } from '../../generated/prisma/client';
import type { Actor } from '../actor';
import type { ServiceDeps } from '../deps';
import { recordOpsAction } from './ops-action';

export interface DisputeView {
  id: string;
  kind: 'DISPUTE' | 'EARLY_FRAUD_WARNING';
  stripeId: string;
  paymentIntentId: string | null;
  paymentId: string | null;
  baseId: string | null;
  licenceId: string | null;
  creditPurchaseId: string | null;
  accountId: number | null;
  amountCents: number;
  currency: string;
  reason: string | null;
  stripeStatus: string;
  outcome: 'OPEN' | 'WON' | 'LOST' | 'CLOSED';
  /** the day and time Stripe must have our evidence by (disputes) */
  evidenceDueBy: string | null;
  openedAt: string;
  closedAt: string | null;
  /** a lost dispute: the money taken back, once, and what followed */
  reversal: {
    reversedAt: string;
    amountCents: number;
    creditNoteNumber: string | null;
    licenceAction: string | null;
    creditDebited: number | null;
  } | null;
  acknowledgedBy: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toDisputeView(d: Dispute): DisputeView {
  return {
    id: d.id,
    kind: d.kind,
    stripeId: d.stripeId,
    paymentIntentId: d.paymentIntentId,
    paymentId: d.paymentId,
    baseId: d.baseId,
    licenceId: d.licenceId,
    creditPurchaseId: d.creditPurchaseId,
    accountId: d.accountId,
    amountCents: d.amountCents,
    currency: d.currency,
    reason: d.reason,
    stripeStatus: d.stripeStatus,
    outcome: d.outcome,
    evidenceDueBy: iso(d.evidenceDueBy),
    openedAt: d.openedAt.toISOString(),
    closedAt: iso(d.closedAt),
    reversal: d.reversedAt
      ? {
          reversedAt: d.reversedAt.toISOString(),
          amountCents: d.reversalCents ?? d.amountCents,
          creditNoteNumber: d.creditNoteNumber,
          licenceAction: d.licenceAction,
          creditDebited: d.creditDebited,
        }
      : null,
    acknowledgedBy: d.acknowledgedBy,
  };
}

/** The queue (open: the nearest evidence deadline first) or every dispute in one outcome, newest first. */
export async function listDisputes(
  deps: Pick<ServiceDeps, 'prisma'>,
  filter: { outcome?: DisputeView['outcome']; baseId?: string },
): Promise<DisputeView[]> {
  const outcome = filter.outcome ?? 'OPEN';
  const rows = await deps.prisma.dispute.findMany({
    where: { outcome, ...(filter.baseId ? { baseId: filter.baseId } : {}) },
    orderBy:
      outcome === 'OPEN'
        ? [{ evidenceDueBy: { sort: 'asc', nulls: 'last' } }, { openedAt: 'asc' }]
        : [{ closedAt: 'desc' }],
    take: 500,
  });
  return rows.map(toDisputeView);
}

export async function getDispute(deps: Pick<ServiceDeps, 'prisma'>, id: string): Promise<DisputeView> {
  const row = await deps.prisma.dispute.findUnique({ where: { id } });
  if (!row) throw new AppError('DISPUTE_NOT_FOUND', `No dispute ${id}`);
  return toDisputeView(row);
}

/**
 * Ops looked at an early fraud warning (refunded the payment, or judged it safe): it leaves the queue.
 * Acknowledging it twice answers the same; a dispute can't be acknowledged (Stripe's outcome closes it).
 */
export async function acknowledgeWarning(
  deps: Pick<ServiceDeps, 'prisma'>,
  input: { id: string; actor: Actor; reason: string },
): Promise<DisputeView> {
  return deps.prisma.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<{ id: string }[]>`
      SELECT "id" FROM "Dispute" WHERE "id" = ${input.id}::uuid FOR UPDATE`;
    const row = locked && (await tx.dispute.findUnique({ where: { id: locked.id } }));
    if (!row) throw new AppError('DISPUTE_NOT_FOUND', `No dispute ${input.id}`);
    if (row.kind !== 'EARLY_FRAUD_WARNING')
      throw new AppError(
        'DISPUTE_NOT_ACKNOWLEDGEABLE',
        'A dispute is closed by its outcome at Stripe, not by ops',
        { kind: row.kind },
      );
    if (row.outcome === 'CLOSED') return toDisputeView(row);
    const updated = await tx.dispute.update({
      where: { id: row.id },
      data: { outcome: 'CLOSED', closedAt: new Date(), acknowledgedBy: input.actor.id },
    });
    await recordOpsAction(tx, input.actor, {
      action: 'ops.fraud_warning_acknowledged',
      entityType: 'DISPUTE',
      entityId: row.id,
      reason: input.reason,
      data: { stripeId: row.stripeId },
    });
    return toDisputeView(updated);
  });
}
