/**
 * Ops record a support call (SPEC §5): its time is deducted from the account's support time unless the
 * problem came from the software, the call is not billable, or the base runs a CLOUD licence (support
 * included); then a report is emailed (operation, time deducted, balance left) by a workflow, so the mail
 * goes out even if this process dies right after the commit.
 *
 * A deduction beyond the balance (plus the account's overdraft limit) is refused with INSUFFICIENT_CREDIT
 * and nothing is recorded: ops ask the customer to buy time, or allow an overdraft for the account.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { supportCallDeduction } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';
import { supportCallReportWorkflowId } from '../../workflows/ids';
import { supportCallReportWorkflow } from '../../workflows/support-call-report';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { fingerprintOf, lockBalance, postCreditEntry } from '../credits/post-credit-entry';
import { requireActiveAccount } from '../credits/read-ledger';
import type { ServiceDeps } from '../deps';

export interface SupportCallRequest {
  idempotencyKey: string;
  accountId: number;
  baseId?: string;
  technician: string;
  operation: string;
  durationSeconds: number;
  /** false: ops decided not to charge this call */
  billable: boolean;
  /** the problem was caused by the software itself: free */
  causedBySoftware: boolean;
  /** when the call took place; default now */
  calledAt?: string;
}

/** Support is included for a base whose usable licence is CLOUD. */
async function baseRunsCloud(db: Db, baseId: string): Promise<boolean> {
  const licence = await db.licence.findFirst({
    where: { baseId, mode: 'CLOUD', status: { in: ['ACTIVE', 'PAST_DUE'] } },
    select: { id: true },
  });
  return licence !== null;
}

export async function recordSupportCall(
  deps: Pick<ServiceDeps, 'prisma' | 'temporal' | 'taskQueue'>,
  actor: Actor,
  request: SupportCallRequest,
) {
  const { prisma } = deps;
  await requireActiveAccount(prisma, request.accountId);
  if (request.baseId) {
    const base = await prisma.base.findUnique({ where: { id: request.baseId } });
    if (!base || base.accountId !== request.accountId)
      throw new AppError(
        'BASE_NOT_FOUND',
        `Base ${request.baseId} is not a base of account ${request.accountId}`,
      );
  }
  const { idempotencyKey, ...asked } = request;
  const fingerprint = fingerprintOf({ ...asked });
  const key = `support-call:${idempotencyKey}`;

  const call = await prisma.$transaction(async (tx) => {
    // the account's support-time row is the lock that serialises calls and their keys
    const locked = await lockBalance(tx, request.accountId, 'SUPPORT_TIME');
    const existing = await tx.supportCall.findUnique({ where: { idempotencyKey: key } });
    if (existing) {
      if (existing.fingerprint !== fingerprint)
        throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for a different call');
      return { row: existing, created: false };
    }
    const cloud = request.baseId ? await baseRunsCloud(tx, request.baseId) : false;
    const deduction = supportCallDeduction({ ...request, cloud });
    const row = await tx.supportCall.create({
      data: {
        idempotencyKey: key,
        fingerprint,
        accountId: request.accountId,
        baseId: request.baseId,
        technician: request.technician,
        operation: request.operation,
        durationSeconds: request.durationSeconds,
        billable: request.billable,
        causedBySoftware: request.causedBySoftware,
        cloudIncluded: cloud,
        deductedSeconds: deduction.deductedSeconds,
        balanceAfterSeconds: locked.balance,
        calledAt: request.calledAt ? new Date(request.calledAt) : new Date(),
        recordedBy: actor.id,
      },
    });
    let balance = locked.balance;
    if (deduction.deductedSeconds > 0) {
      balance = (
        await postCreditEntry(tx, actor, {
          accountId: request.accountId,
          ledger: 'SUPPORT_TIME',
          idempotencyKey: `support-call:${row.id}`,
          amount: -deduction.deductedSeconds,
          type: 'support-call',
          description: request.operation,
          staff: request.technician,
          baseId: request.baseId,
          occurredAt: row.calledAt,
          supportCallId: row.id,
        })
      ).balance;
    }
    const saved = await tx.supportCall.update({
      where: { id: row.id },
      data: { balanceAfterSeconds: balance },
    });
    await audit(tx, actor, {
      action: 'support_call.recorded',
      entityType: 'SUPPORT_CALL',
      entityId: row.id,
      data: {
        accountId: request.accountId,
        deductedSeconds: deduction.deductedSeconds,
        reason: deduction.reason,
      },
    });
    return { row: saved, created: true };
  });

  // started after the commit (and again on a retry, joining the first): the report goes out once
  await deps.temporal.workflow
    .start(supportCallReportWorkflow, {
      workflowId: supportCallReportWorkflowId(call.row.id),
      taskQueue: deps.taskQueue,
      args: [{ supportCallId: call.row.id }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    })
    .catch((error: unknown) => {
      // already sent (a closed run with this id): nothing to do
      if ((error as { name?: string }).name !== 'WorkflowExecutionAlreadyStartedError') throw error;
    });
  return { created: call.created, call: supportCallView(call.row) };
}

export function supportCallView(row: {
  id: string;
  accountId: number;
  baseId: string | null;
  technician: string;
  operation: string;
  durationSeconds: number;
  billable: boolean;
  causedBySoftware: boolean;
  cloudIncluded: boolean;
  deductedSeconds: number;
  balanceAfterSeconds: number;
  calledAt: Date;
}) {
  return {
    id: row.id,
    accountId: row.accountId,
    baseId: row.baseId,
    technician: row.technician,
    operation: row.operation,
    durationSeconds: row.durationSeconds,
    billable: row.billable,
    causedBySoftware: row.causedBySoftware,
    cloudIncluded: row.cloudIncluded,
    deductedSeconds: row.deductedSeconds,
    balanceAfterSeconds: row.balanceAfterSeconds,
    calledAt: row.calledAt.toISOString(),
  };
}
