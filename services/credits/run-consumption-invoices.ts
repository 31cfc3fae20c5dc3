/**
 * Ops run a month's wallet consumption invoices by hand (a month the monthly run missed, or sooner than the
 * 1st): consumptionInvoicesWorkflow, one run per month at a time (a second request joins the running one),
 * idempotent per account and month. Only a month that is over can be invoiced.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { monthOf } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import { consumptionInvoicesWorkflowId } from '../../workflows/ids';
import { consumptionInvoicesWorkflow, type ConsumptionInvoicesResult } from '../../workflows/monthly-fees';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';

export async function runConsumptionInvoices(
  deps: Pick<ServiceDeps, 'prisma' | 'temporal' | 'taskQueue'>,
  input: { month: string; actor: Actor; now: Date },
): Promise<ConsumptionInvoicesResult> {
  if (input.month >= monthOf(input.now))
    throw new AppError('MONTH_NOT_OVER', `${input.month} is not over: it can't be invoiced yet`, {
      month: input.month,
    });
  await audit(deps.prisma, input.actor, {
    action: 'consumption_invoices.run_requested',
    entityType: 'ACCOUNT',
    entityId: '*',
    data: { month: input.month },
  });
  const handle = await deps.temporal.workflow.start(consumptionInvoicesWorkflow, {
    workflowId: consumptionInvoicesWorkflowId(input.month),
    taskQueue: deps.taskQueue,
    args: [{ month: input.month }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  return handle.result();
}
