/**
 * Ops refund a paid, credited support pack or wallet recharge, fully or in part
 * (`POST /ops/credit-purchases/{id}/refunds`, the CLI, the console): the refund's workflow writes the debit
 * entry, the credit note and the Stripe refund, in that order, once each (workflows/refund.ts).
 *
 * The request is checked first (nothing is started for a refund larger than what is left unused:
 * REFUND_EXCEEDS_UNUSED); the workflow checks again under the ledger's lock, so a consumption or another
 * refund landing in between is still refused with nothing written. The client's key makes a retried request
 * the same refund (same workflow, same answer); the same key with another amount is refused.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { AppError, isErrorCode } from '../../domain/errors';
import { refundWorkflowId } from '../../workflows/ids';
import { refundWorkflow, type RefundResult } from '../../workflows/refund';
import type { Actor } from '../actor';
import { readBalance } from '../credits/read-ledger';
import type { ServiceDeps } from '../deps';
import {
  decideCreditPurchaseRefund,
  ledgerOf,
  loadRefundablePurchase,
  refundView,
  refusal,
  type RefundView,
} from './refunds';

export interface RefundRequest {
  creditPurchaseId: string;
  amountCents: number;
  reason: string;
  /** chosen by the caller: the same key is the same refund */
  idempotencyKey: string;
  actor: Actor;
}

/** The business refusal a failed workflow carries (its activity's ApplicationFailure), as an AppError. */
function refusalIn(error: unknown): AppError | undefined {
  for (
    let e = error as { cause?: unknown; type?: unknown; message?: string; details?: unknown[] } | undefined;
    e;
  ) {
    if (typeof e.type === 'string' && isErrorCode(e.type))
      return new AppError(e.type, e.message ?? e.type, e.details?.[0] ?? undefined);
    e = e.cause as typeof e;
  }
  return undefined;
}

export async function requestCreditPurchaseRefund(
  deps: ServiceDeps,
  request: RefundRequest,
): Promise<{ created: boolean; refund: RefundView }> {
  const workflowId = refundWorkflowId(request.creditPurchaseId, request.idempotencyKey);
  const earlier = await deps.prisma.refund.findUnique({ where: { workflowKey: workflowId } });
  if (earlier && earlier.amountCents !== request.amountCents)
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      `Key ${request.idempotencyKey} already asked a refund of ${earlier.amountCents} cents`,
    );
  if (!earlier) {
    const { purchase } = await loadRefundablePurchase(deps.prisma, request.creditPurchaseId);
    const { balance } = await readBalance(deps.prisma, purchase.accountId, ledgerOf(purchase));
    const decision = await decideCreditPurchaseRefund(deps.prisma, purchase, balance, request.amountCents);
    if (!decision.ok) throw refusal(decision, request.amountCents);
  }

  const handle = await deps.temporal.workflow
    .start(refundWorkflow, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [
        {
          creditPurchaseId: request.creditPurchaseId,
          amountCents: request.amountCents,
          reason: request.reason,
          actor: request.actor,
        },
      ],
      // a retried request joins the running refund; a finished one is never run again
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    })
    .catch((error: { name?: string }) => {
      if (error?.name !== 'WorkflowExecutionAlreadyStartedError') throw error;
      return deps.temporal.workflow.getHandle(workflowId);
    });
  let refundId: string;
  try {
    ({ refundId } = (await handle.result()) as RefundResult);
  } catch (error) {
    throw refusalIn(error) ?? error;
  }
  const row = await deps.prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
  return { created: !earlier, refund: refundView(row) };
}
