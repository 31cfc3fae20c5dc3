/**
 * The ops queues of licence purchases waiting for a human: cheques and transfers to confirm (or cancel),
 * free licence requests to approve (or reject). Each decision goes to the purchase's subscriptionWorkflow
 * (so two ops deciding at once decide once) and is audited with who and why.
 */
import type { Actor } from '../actor';
import type { ServiceDeps } from '../deps';
import { decidePurchase, decideRenewal } from '../subscriptions/licence-messages';
import type { OpsDecision } from '../../workflows/subscription';
import { recordOpsAction } from './ops-action';

export interface QueuedPurchase {
  purchaseId: string;
  baseId: string;
  accountId: number | null;
  holderName: string | null;
  email: string | null;
  paymentMethod: string;
  edition: string;
  mode: string;
  connections: number;
  period: string;
  totalInclVatCents: number;
  freeCategory: string | null;
  freeJustification: string | null;
  createdAt: string;
  /** cheque/transfer: the day the purchase is cancelled without payment */
  deadlineOn: string | null;
}

export type PurchaseStatus = 'AWAITING_OPS' | 'AWAITING_PAYMENT' | 'COMPLETED' | 'REJECTED' | 'CANCELLED';

/** Licence purchases in one status, oldest first (at most 500), optionally of some payment methods. */
export async function listPurchases(
  deps: ServiceDeps,
  status: PurchaseStatus,
  methods?: ('CHEQUE' | 'TRANSFER' | 'FREE')[],
): Promise<QueuedPurchase[]> {
  const rows = await deps.prisma.purchase.findMany({
    where: { status, ...(methods ? { paymentMethod: { in: methods } } : {}) },
    orderBy: { createdAt: 'asc' },
    take: 500,
  });
  const bases = await deps.prisma.base.findMany({
    where: { id: { in: rows.map((p) => p.baseId) } },
    select: { id: true, accountId: true },
  });
  const accountOf = new Map(bases.map((b) => [b.id, b.accountId]));
  const days = deps.billing.offlinePaymentDeadlineDays;
  return rows.map((p) => {
    const billing = p.billing as { companyName?: string; email?: string } | null;
    return {
      purchaseId: p.id,
      baseId: p.baseId,
      accountId: accountOf.get(p.baseId) ?? null,
      holderName: billing?.companyName ?? null,
      email: billing?.email ?? null,
      paymentMethod: p.paymentMethod,
      edition: p.edition,
      mode: p.mode,
      connections: p.connections,
      period: p.period,
      totalInclVatCents: p.totalInclVatCents,
      freeCategory: p.freeCategory,
      freeJustification: p.freeJustification,
      createdAt: p.createdAt.toISOString(),
      deadlineOn:
        p.status !== 'AWAITING_OPS' || p.paymentMethod === 'FREE'
          ? null
          : new Date(p.createdAt.getTime() + days * 86_400_000).toISOString().slice(0, 10),
    };
  });
}

export const listManualPayments = (deps: ServiceDeps) =>
  listPurchases(deps, 'AWAITING_OPS', ['CHEQUE', 'TRANSFER']);
export const listFreeLicenceRequests = (deps: ServiceDeps) => listPurchases(deps, 'AWAITING_OPS', ['FREE']);

async function decide(
  deps: ServiceDeps,
  input: { purchaseId: string; actor: Actor; reason?: string; decision: OpsDecision; action: string },
) {
  const state = await decidePurchase(deps, input.purchaseId, input.decision);
  await recordOpsAction(deps.prisma, input.actor, {
    action: input.action,
    entityType: 'PURCHASE',
    entityId: input.purchaseId,
    reason: input.reason,
    data: {
      decision: input.decision.decision,
      ...('reference' in input.decision ? { reference: input.decision.reference } : {}),
      status: state.status,
    },
  });
  const purchase = await deps.prisma.purchase.findUniqueOrThrow({ where: { id: input.purchaseId } });
  // the workflow answers once it has decided; the purchase row of a cancellation follows a moment later
  const status =
    state.status === 'ACTIVE' || state.status === 'PAST_DUE'
      ? 'COMPLETED'
      : state.status === 'CANCELLED' || state.status === 'REJECTED'
        ? state.status
        : purchase.status;
  return { purchaseId: purchase.id, baseId: purchase.baseId, status, licenceStatus: state.status };
}

export interface RenewalToPay {
  baseId: string;
  licenceId: string;
  holderName: string;
  email: string | null;
  paymentMethod: 'CHEQUE' | 'TRANSFER';
  amountCents: number;
  /** the period it pays: first day and the day after the last */
  periodStart: string;
  periodEnd: string;
  dueOn: string;
  remindersSent: number;
  /** NOTICE: mailed before the period end; RENEW_NOW: the customer asked to renew now */
  origin: 'NOTICE' | 'RENEW_NOW';
  issuedAt: string;
}

/**
 * Cheque and transfer renewals whose invoice to pay is out (subscription/offline-renewal.ts), the nearest
 * due date first (at most 500); ops confirm one with `confirmRenewalPayment`.
 */
export async function listRenewalsToPay(deps: ServiceDeps): Promise<RenewalToPay[]> {
  const rows = await deps.prisma.invoiceToPay.findMany({
    where: { status: 'OPEN' },
    orderBy: [{ dueOn: 'asc' }, { issuedAt: 'asc' }],
    take: 500,
  });
  const licences = await deps.prisma.licence.findMany({
    where: { id: { in: rows.map((r) => r.licenceId) } },
    select: { id: true, holderName: true, billing: true },
  });
  const licenceOf = new Map(licences.map((l) => [l.id, l]));
  return rows.map((r) => {
    const licence = licenceOf.get(r.licenceId);
    return {
      baseId: r.baseId,
      licenceId: r.licenceId,
      holderName: licence?.holderName ?? '',
      email: (licence?.billing as { email?: string } | null)?.email ?? null,
      paymentMethod: r.paymentMethod === 'TRANSFER' ? 'TRANSFER' : 'CHEQUE',
      amountCents: r.amountCents,
      periodStart: r.periodStart,
      periodEnd: r.periodEnd,
      dueOn: r.dueOn,
      remindersSent: r.remindersSent,
      origin: r.origin === 'RENEW_NOW' ? 'RENEW_NOW' : 'NOTICE',
      issuedAt: r.issuedAt.toISOString(),
    };
  });
}

/** The cheque or transfer was received: the licence is activated (paid invoice, email). */
export const confirmManualPayment = (
  deps: ServiceDeps,
  input: { purchaseId: string; actor: Actor; reference: string; reason?: string },
) =>
  decide(deps, {
    ...input,
    action: 'ops.manual_payment_confirmed',
    decision: { decision: 'CONFIRM_PAYMENT', by: input.actor.id, reference: input.reference },
  });

/**
 * The cheque or transfer paying a renewal's invoice to pay was received: the next period is recorded once
 * (payment, paid invoice, email), also when ops confirm twice (the second is refused).
 */
export async function confirmRenewalPayment(
  deps: ServiceDeps,
  input: { baseId: string; actor: Actor; reference: string; reason?: string },
) {
  const state = await decideRenewal(deps, input.baseId, {
    decision: 'CONFIRM_PAYMENT',
    by: input.actor.id,
    reference: input.reference,
  });
  await recordOpsAction(deps.prisma, input.actor, {
    action: 'ops.renewal_payment_confirmed',
    entityType: 'LICENCE',
    entityId: state.licenceId,
    reason: input.reason,
    data: { reference: input.reference, status: state.status },
  });
  return state;
}

/** Ops cancel a cheque/transfer purchase (the buyer gave up, or paid otherwise); the buyer is emailed. */
export const cancelManualPayment = (
  deps: ServiceDeps,
  input: { purchaseId: string; actor: Actor; reason: string },
) =>
  decide(deps, {
    ...input,
    action: 'ops.manual_payment_cancelled',
    decision: { decision: 'CANCEL', by: input.actor.id, reason: input.reason },
  });

export const approveFreeLicence = (
  deps: ServiceDeps,
  input: { purchaseId: string; actor: Actor; reason?: string },
) =>
  decide(deps, {
    ...input,
    action: 'ops.free_licence_approved',
    decision: { decision: 'APPROVE', by: input.actor.id },
  });

/** The reason is emailed to the requester. */
export const rejectFreeLicence = (
  deps: ServiceDeps,
  input: { purchaseId: string; actor: Actor; reason: string },
) =>
  decide(deps, {
    ...input,
    action: 'ops.free_licence_rejected',
    decision: { decision: 'REJECT', by: input.actor.id, reason: input.reason },
  });
