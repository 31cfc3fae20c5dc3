/**
 * Ops decisions on a credit purchase, carried by its workflow (so two ops clicking at once credit once):
 * attach a paid purchase from the manual-credit queue to an account, refund it, or cancel an unpaid one.
 */
import { AppError } from '../../domain/errors';
import {
  assignCreditPurchaseUpdate,
  cancelCreditPurchaseUpdate,
  refundCreditPurchaseUpdate,
} from '../../workflows/credit-purchase';
import type { ServiceDeps } from '../deps';
import { toAppError } from '../subscriptions/workflow-errors';
import { creditPurchaseView } from './purchase-credits';
import { requireActiveAccount } from './read-ledger';

async function load(deps: ServiceDeps, purchaseId: string) {
  const p = await deps.prisma.creditPurchase.findUnique({ where: { id: purchaseId } });
  if (!p) throw new AppError('PURCHASE_NOT_FOUND', `No credit purchase ${purchaseId}`);
  return p;
}

async function viaWorkflow(
  deps: ServiceDeps,
  purchaseId: string,
  notWaiting: (status: string, accountId: number | null) => AppError,
  work: (workflowId: string) => Promise<unknown>,
) {
  const p = await load(deps, purchaseId);
  try {
    await work(p.workflowId);
  } catch (error) {
    const fresh = await load(deps, purchaseId);
    throw toAppError(error, notWaiting(fresh.status, fresh.accountId));
  }
  return creditPurchaseView(await load(deps, purchaseId));
}

const notUnmatched = (status: string, accountId: number | null) =>
  new AppError(
    'PURCHASE_NOT_UNMATCHED',
    status === 'COMPLETED'
      ? `This purchase is already credited to account ${accountId}`
      : `This purchase is ${status}, not waiting in the manual-credit queue`,
    { status, accountId },
  );

export async function assignCreditPurchase(
  deps: ServiceDeps,
  options: { purchaseId: string; accountId: number; by: string },
) {
  await requireActiveAccount(deps.prisma, options.accountId);
  const p = await load(deps, options.purchaseId);
  if (p.status !== 'UNMATCHED') throw notUnmatched(p.status, p.accountId);
  return viaWorkflow(deps, options.purchaseId, notUnmatched, (workflowId) =>
    deps.temporal.workflow.getHandle(workflowId).executeUpdate(assignCreditPurchaseUpdate, {
      args: [{ accountId: options.accountId, by: options.by }],
    }),
  );
}

export async function refundCreditPurchase(
  deps: ServiceDeps,
  options: { purchaseId: string; by: string; reason: string },
) {
  const p = await load(deps, options.purchaseId);
  if (p.status !== 'UNMATCHED') throw notUnmatched(p.status, p.accountId);
  return viaWorkflow(deps, options.purchaseId, notUnmatched, (workflowId) =>
    deps.temporal.workflow
      .getHandle(workflowId)
      .executeUpdate(refundCreditPurchaseUpdate, { args: [{ by: options.by, reason: options.reason }] }),
  );
}

export async function cancelCreditPurchase(
  deps: ServiceDeps,
  options: { purchaseId: string; by: string; reason: string },
) {
  const notAwaiting = (status: string) =>
    new AppError(
      'PURCHASE_NOT_AWAITING_PAYMENT',
      `This purchase is ${status}: it can no longer be cancelled`,
      {
        status,
      },
    );
  const p = await load(deps, options.purchaseId);
  if (p.status !== 'AWAITING_PAYMENT') throw notAwaiting(p.status);
  return viaWorkflow(deps, options.purchaseId, notAwaiting, (workflowId) =>
    deps.temporal.workflow
      .getHandle(workflowId)
      .executeUpdate(cancelCreditPurchaseUpdate, { args: [{ by: options.by, reason: options.reason }] }),
  );
}

/** The manual-credit queue: paid purchases without an account, oldest first. */
export async function listUnmatchedPurchases(deps: ServiceDeps) {
  const rows = await deps.prisma.creditPurchase.findMany({
    where: { status: 'UNMATCHED' },
    orderBy: { paidAt: 'asc' },
    take: 500,
  });
  return rows.map((p) => ({
    ...creditPurchaseView(p),
    claimedAccountId: p.claimedAccountId,
    buyer: p.billing,
  }));
}
