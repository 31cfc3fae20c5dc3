import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { eInvoiceOutboxScheduleId } from '../../workflows/ids';
import { eInvoiceOutboxWorkflow } from '../../workflows/einvoice-outbox';

/**
 * The Temporal Schedule that runs eInvoiceOutboxWorkflow every minute on the worker's task queue. Created
 * at worker start-up; idempotent (a schedule already there is kept: ops may have paused it). Overlapping
 * runs are skipped, so one document is never sent by two runs at once.
 */
export async function ensureEInvoiceOutboxSchedule(
  temporal: Client,
  taskQueue: string,
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = eInvoiceOutboxScheduleId(taskQueue);
  try {
    await temporal.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 minute' }] },
      action: {
        type: 'startWorkflow',
        workflowType: eInvoiceOutboxWorkflow,
        workflowId: `${scheduleId}:run`,
        taskQueue,
        args: [],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
    return { scheduleId, created: true };
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return { scheduleId, created: false };
    throw error;
  }
}
