/**
 * Failed payments for ops: renewals declined by the bank (dunning), and card purchases that were never
 * paid. A renewal in dunning can be replayed now through its base's subscriptionWorkflow (the workflow
 * charges the next unpaid period only: a period already paid is never charged twice).
 */
import { AppError } from '../../domain/errors';
import type { Actor } from '../actor';
import type { ServiceDeps } from '../deps';
import { replayPayment } from '../subscriptions/licence-messages';
import { recordOpsAction } from './ops-action';

export type FailedPaymentKind = 'RENEWAL' | 'LICENCE_PURCHASE' | 'CREDIT_PURCHASE';

export interface FailedPayment {
  /** the failed Payment (renewal) or the purchase id */
  id: string;
  kind: FailedPaymentKind;
  baseId: string | null;
  accountId: number | null;
  holderName: string | null;
  amountCents: number;
  attempts: number;
  lastError: string | null;
  lastAttemptAt: string;
  /** next automatic retry (renewal in dunning), YYYY-MM-DD */
  nextRetryOn: string | null;
  /** licence status for renewals, purchase status otherwise */
  status: string;
  /** ops can replay it now (a renewal in dunning); otherwise the buyer must pay again */
  replayable: boolean;
}

export interface FailedPaymentFilter {
  kind?: FailedPaymentKind;
  baseId?: string;
  failureCode?: string;
  minAttempts?: number;
  replayableOnly?: boolean;
  /** purchases: how far back (days); default 30 */
  sinceDays?: number;
}

async function failedRenewals(deps: ServiceDeps, filter: FailedPaymentFilter): Promise<FailedPayment[]> {
  const failed = await deps.prisma.payment.findMany({
    where: {
      status: 'FAILED',
      licenceId: { not: null },
      purchaseId: null,
      ...(filter.baseId ? { baseId: filter.baseId } : {}),
    },
    orderBy: { createdAt: 'asc' },
    take: 5000,
  });
  const byLicence = new Map<string, typeof failed>();
  for (const p of failed) byLicence.set(p.licenceId!, [...(byLicence.get(p.licenceId!) ?? []), p]);
  if (byLicence.size === 0) return [];
  const licenceIds = [...byLicence.keys()];
  const [licences, successes, pastDue] = await Promise.all([
    deps.prisma.licence.findMany({ where: { id: { in: licenceIds } } }),
    deps.prisma.payment.findMany({
      where: { licenceId: { in: licenceIds }, status: 'SUCCEEDED' },
      select: { licenceId: true, createdAt: true },
    }),
    deps.prisma.auditLog.findMany({
      where: { entityType: 'LICENCE', entityId: { in: licenceIds }, action: 'licence.payment_failed' },
      orderBy: { id: 'asc' },
    }),
  ]);
  const bases = await deps.prisma.base.findMany({
    where: { id: { in: licences.map((l) => l.baseId) } },
    select: { id: true, accountId: true },
  });
  const accountOf = new Map(bases.map((b) => [b.id, b.accountId]));
  const lastSuccess = new Map<string, Date>();
  for (const s of successes) {
    const at = lastSuccess.get(s.licenceId!);
    if (!at || s.createdAt > at) lastSuccess.set(s.licenceId!, s.createdAt);
  }
  const nextRetry = new Map<string, string>();
  for (const entry of pastDue) {
    const data = entry.data as { nextAttemptOn?: string } | null;
    if (data?.nextAttemptOn) nextRetry.set(entry.entityId, data.nextAttemptOn);
  }
  const items: FailedPayment[] = [];
  for (const licence of licences) {
    const paidAfter = lastSuccess.get(licence.id);
    // failures since the last successful payment: the ones still open
    const open = byLicence.get(licence.id)!.filter((p) => !paidAfter || p.createdAt > paidAfter);
    const last = open.at(-1);
    if (!last) continue;
    const replayable = licence.status === 'PAST_DUE';
    items.push({
      id: last.id,
      kind: 'RENEWAL',
      baseId: licence.baseId,
      accountId: licence.holderAccountId ?? accountOf.get(licence.baseId) ?? null,
      holderName: licence.holderName,
      amountCents: last.amountCents,
      attempts: open.length,
      lastError: last.failureCode ?? last.failureMessage,
      lastAttemptAt: last.createdAt.toISOString(),
      nextRetryOn: replayable ? (nextRetry.get(licence.id) ?? null) : null,
      status: licence.status,
      replayable,
    });
  }
  return items;
}

async function failedPurchases(deps: ServiceDeps, filter: FailedPaymentFilter): Promise<FailedPayment[]> {
  const since = new Date(Date.now() - (filter.sinceDays ?? 30) * 86_400_000);
  const [licencePurchases, creditPurchases] = await Promise.all([
    deps.prisma.purchase.findMany({
      where: {
        paymentMethod: 'ONLINE',
        createdAt: { gte: since },
        OR: [{ status: 'FAILED' }, { status: 'CANCELLED', decidedBy: null }],
        ...(filter.baseId ? { baseId: filter.baseId } : {}),
      },
      take: 1000,
    }),
    deps.prisma.creditPurchase.findMany({
      where: {
        status: 'EXPIRED',
        createdAt: { gte: since },
        ...(filter.baseId ? { baseId: filter.baseId } : {}),
      },
      take: 1000,
    }),
  ]);
  const bases = await deps.prisma.base.findMany({
    where: { id: { in: licencePurchases.map((p) => p.baseId) } },
    select: { id: true, accountId: true },
  });
  const accountOf = new Map(bases.map((b) => [b.id, b.accountId]));
  const company = (billing: unknown) => (billing as { companyName?: string } | null)?.companyName ?? null;
  return [
    ...licencePurchases.map((p): FailedPayment => ({
      id: p.id,
      kind: 'LICENCE_PURCHASE',
      baseId: p.baseId,
      accountId: accountOf.get(p.baseId) ?? null,
      holderName: company(p.billing),
      amountCents: p.totalInclVatCents,
      attempts: 1,
      lastError: p.decisionReason,
      lastAttemptAt: p.updatedAt.toISOString(),
      nextRetryOn: null,
      status: p.status,
      replayable: false,
    })),
    ...creditPurchases.map((p): FailedPayment => ({
      id: p.id,
      kind: 'CREDIT_PURCHASE',
      baseId: p.baseId,
      accountId: p.accountId,
      holderName: company(p.billing),
      amountCents: p.amountCents,
      attempts: 1,
      lastError: p.closedReason,
      lastAttemptAt: p.updatedAt.toISOString(),
      nextRetryOn: null,
      status: p.status,
      replayable: false,
    })),
  ];
}

/** Failed renewals (open ones: not paid since) and unpaid card purchases, oldest attempt first. */
export async function listFailedPayments(
  deps: ServiceDeps,
  filter: FailedPaymentFilter = {},
): Promise<FailedPayment[]> {
  const items = [
    ...(filter.kind === undefined || filter.kind === 'RENEWAL' ? await failedRenewals(deps, filter) : []),
    ...(filter.kind === undefined || filter.kind !== 'RENEWAL' ? await failedPurchases(deps, filter) : []),
  ].filter(
    (p) =>
      (filter.kind === undefined || p.kind === filter.kind) &&
      (filter.failureCode === undefined || p.lastError === filter.failureCode) &&
      (filter.minAttempts === undefined || p.attempts >= filter.minAttempts) &&
      (!filter.replayableOnly || p.replayable),
  );
  return items.sort((a, b) => a.lastAttemptAt.localeCompare(b.lastAttemptAt));
}

export type ReplayOutcome = 'PAID' | 'DECLINED' | 'ALREADY_PAID';

export interface ReplayResult {
  paymentId: string;
  baseId: string;
  outcome: ReplayOutcome;
  message: string;
  /** the decline code when the bank refused again */
  declineCode?: string;
  status: string;
}

/**
 * Retries a failed renewal now through the base's workflow. A period paid meanwhile (by a retry, a
 * manual renewal or another ops) is not an error: the answer is ALREADY_PAID and nothing is charged.
 */
export async function replayFailedPayment(
  deps: ServiceDeps,
  input: { paymentId: string; actor: Actor; reason: string },
): Promise<ReplayResult> {
  const payment = await deps.prisma.payment.findUnique({ where: { id: input.paymentId } });
  if (!payment) {
    const purchase =
      (await deps.prisma.purchase.findUnique({ where: { id: input.paymentId } })) ??
      (await deps.prisma.creditPurchase.findUnique({ where: { id: input.paymentId } }));
    if (purchase) {
      throw new AppError(
        'PAYMENT_NOT_REPLAYABLE',
        `This purchase is ${purchase.status}: its card payment can't be retried by ops, the buyer pays again`,
        { reason: 'PURCHASE_CLOSED', status: purchase.status },
      );
    }
    throw new AppError('PAYMENT_NOT_FOUND', `No payment ${input.paymentId}`);
  }
  const baseId = payment.baseId;
  if (baseId === null || payment.licenceId === null) {
    // a credit purchase's payment: the buyer pays again, there is no schedule to retry
    throw new AppError(
      'PAYMENT_NOT_REPLAYABLE',
      `Payment ${payment.id} is not a licence renewal: its card payment can't be retried by ops, the buyer pays again`,
      { reason: 'NOT_A_RENEWAL', status: payment.status },
    );
  }
  const licenceId = payment.licenceId;
  const audited = async (result: ReplayResult) => {
    await recordOpsAction(deps.prisma, input.actor, {
      action: 'ops.payment_replayed',
      entityType: 'LICENCE',
      entityId: licenceId,
      reason: input.reason,
      data: { paymentId: payment.id, outcome: result.outcome, declineCode: result.declineCode },
    });
    return result;
  };
  const alreadyPaid = async (): Promise<ReplayResult | undefined> => {
    const paid = await deps.prisma.payment.findFirst({
      where: {
        status: 'SUCCEEDED',
        licenceId,
        createdAt: { gt: payment.createdAt },
      },
      orderBy: { createdAt: 'asc' },
    });
    if (payment.status !== 'SUCCEEDED' && !paid) return undefined;
    const licence = await deps.prisma.licence.findUnique({ where: { id: licenceId } });
    return {
      paymentId: payment.id,
      baseId,
      outcome: 'ALREADY_PAID',
      message: paid
        ? `Nothing charged: the period was paid on ${paid.createdAt.toISOString()} (payment ${paid.id})`
        : 'Nothing charged: this payment succeeded',
      status: licence?.status ?? 'ACTIVE',
    };
  };

  const before = await alreadyPaid();
  if (before) return audited(before);
  const licence = await deps.prisma.licence.findUnique({ where: { id: licenceId } });
  if (!licence || licence.status !== 'PAST_DUE') {
    throw new AppError(
      'PAYMENT_NOT_REPLAYABLE',
      `The licence is ${licence?.status ?? 'gone'}: the failed payment can no longer be retried (the customer buys a new licence)`,
      { reason: 'LICENCE_NOT_IN_DUNNING', status: licence?.status ?? null },
    );
  }
  let state;
  try {
    state = await replayPayment(deps, baseId, input.actor.id);
  } catch (error) {
    // another ops (or the scheduled retry) got there first
    if (error instanceof AppError && error.code === 'NO_PAID_LICENCE') {
      const after = await alreadyPaid();
      if (after) return audited(after);
      const now = await deps.prisma.licence.findUnique({ where: { id: licence.id } });
      throw new AppError('PAYMENT_NOT_REPLAYABLE', `The licence is ${now?.status}: nothing to replay`, {
        reason: 'LICENCE_NOT_IN_DUNNING',
        status: now?.status ?? null,
      });
    }
    throw error;
  }
  const paid =
    state.status === 'ACTIVE' ||
    (state.paidUntil !== null && state.periodEnd !== null && state.paidUntil > state.periodEnd);
  return audited({
    paymentId: payment.id,
    baseId,
    outcome: paid ? 'PAID' : 'DECLINED',
    message: paid
      ? 'The renewal was charged: the licence is active again'
      : `The card was declined again (${state.dunning?.lastFailure ?? 'declined'})`,
    declineCode: paid ? undefined : (state.dunning?.lastFailure ?? undefined),
    status: paid ? 'ACTIVE' : state.status,
  });
}

export interface BulkReplayItem extends Partial<Omit<ReplayResult, 'baseId' | 'outcome'>> {
  paymentId: string;
  baseId: string | null;
  amountCents: number;
  attempts: number;
  lastError: string | null;
  /** dry run: WOULD_REPLAY; otherwise the outcome, or ERROR with the error code */
  outcome: ReplayOutcome | 'WOULD_REPLAY' | 'ERROR';
  error?: { code: string; message: string };
}

/**
 * Replays every replayable failed renewal matching the filter, one after the other. With `dryRun`, only
 * lists what would be replayed (nothing is charged, nothing is written).
 */
export async function replayFailedPayments(
  deps: ServiceDeps,
  input: {
    filter: Omit<FailedPaymentFilter, 'kind' | 'replayableOnly'>;
    dryRun: boolean;
    limit: number;
    actor: Actor;
    reason: string;
  },
): Promise<{ dryRun: boolean; matched: number; items: BulkReplayItem[] }> {
  const matched = await listFailedPayments(deps, { ...input.filter, kind: 'RENEWAL', replayableOnly: true });
  const chosen = matched.slice(0, input.limit);
  const items: BulkReplayItem[] = [];
  for (const p of chosen) {
    const base = {
      paymentId: p.id,
      baseId: p.baseId,
      amountCents: p.amountCents,
      attempts: p.attempts,
      lastError: p.lastError,
    };
    if (input.dryRun) {
      items.push({ ...base, outcome: 'WOULD_REPLAY' });
      continue;
    }
    try {
      const result = await replayFailedPayment(deps, {
        paymentId: p.id,
        actor: input.actor,
        reason: input.reason,
      });
      items.push({ ...base, ...result });
    } catch (error) {
      // one item's trouble (e.g. Temporal unreachable for this workflow) doesn't stop the others
      const code = error instanceof AppError ? error.code : 'INTERNAL';
      const message = error instanceof Error ? error.message : String(error);
      items.push({ ...base, outcome: 'ERROR', error: { code, message } });
    }
  }
  return { dryRun: input.dryRun, matched: matched.length, items };
}
