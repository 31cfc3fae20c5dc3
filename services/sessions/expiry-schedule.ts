import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { sessionExpiryScheduleId } from '../../workflows/ids';
import { sessionExpiryWorkflow } from '../../workflows/session-expiry';

/**
 * The Temporal Schedule that runs sessionExpiryWorkflow every minute on the worker's task queue. Created at
 * worker start-up; idempotent (a schedule already there is left as it is, so several workers and restarts
 * share one). Overlapping runs are skipped: a slow run never piles up behind itself.
 */
export async function ensureSessionExpirySchedule(
  temporal: Client,
  taskQueue: string,
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = sessionExpiryScheduleId(taskQueue);
  try {
    await temporal.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 minute' }] },
      action: {
        type: 'startWorkflow',
        workflowType: sessionExpiryWorkflow,
        workflowId: `${scheduleId}:run`,
        taskQueue,
        args: [],
        workflowRunTimeout: '55 seconds',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
    return { scheduleId, created: true };
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return { scheduleId, created: false };
    throw error;
  }
}
