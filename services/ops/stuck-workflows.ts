/**
 * Workflows waiting longer than expected on a human (ops decision, manual-credit queue) or on a payment
 * (card payment of a purchase, renewal in dunning), from Temporal visibility: the workflows set the
 * project's search attributes when they start waiting and clear them when the wait ends.
 */
import { WAITING_ON, WAITING_SINCE, type WaitingOn } from '../../workflows/search-attributes';
import type { ServiceDeps } from '../deps';

export interface StuckWorkflow {
  workflowId: string;
  runId: string;
  type: string;
  waitingOn: WaitingOn;
  waitingSince: string;
  waitingHours: number;
  startedAt: string;
  /** the workflow in the Temporal UI, when TEMPORAL_UI_URL is configured */
  link: string | null;
}

export async function listStuckWorkflows(
  deps: ServiceDeps,
  input: { olderThanHours: number; waitingOn?: WaitingOn; limit: number; now?: Date },
): Promise<StuckWorkflow[]> {
  const now = input.now ?? new Date();
  const before = new Date(now.getTime() - input.olderThanHours * 3_600_000);
  const on = input.waitingOn ? `'${input.waitingOn}'` : `'OPS', 'PAYMENT'`;
  const query =
    `ExecutionStatus = 'Running' AND ${WAITING_ON.name} IN (${on}) ` +
    `AND ${WAITING_SINCE.name} <= '${before.toISOString()}'`;
  const namespace = deps.temporal.options.namespace;
  const ui = deps.temporalUiUrl?.replace(/\/+$/, '');
  const found: StuckWorkflow[] = [];
  for await (const wf of deps.temporal.workflow.list({ query, pageSize: Math.min(input.limit, 1000) })) {
    const waitingOn = wf.typedSearchAttributes.get(WAITING_ON) as WaitingOn | undefined;
    const since = wf.typedSearchAttributes.get(WAITING_SINCE);
    if (!waitingOn || !since) continue;
    found.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      type: wf.type,
      waitingOn,
      waitingSince: since.toISOString(),
      waitingHours: Math.floor(((now.getTime() - since.getTime()) / 3_600_000) * 10) / 10,
      startedAt: wf.startTime.toISOString(),
      link: ui
        ? `${ui}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(wf.workflowId)}/${wf.runId}/history`
        : null,
    });
    if (found.length >= input.limit) break;
  }
  return found.sort((a, b) => a.waitingSince.localeCompare(b.waitingSince));
}
