/**
 * The Temporal Schedule that runs monthlyFeesWorkflow on the 1st of each month, 06:00 UTC. Created at worker
 * start-up, idempotently (an existing schedule is left as it is: ops may have paused it). A catch-up window
 * of a week: if the cluster was down on the 1st, the run still happens when it is back, for the right month.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { MONTHLY_FEES_SCHEDULE_ID } from '../../workflows/ids';
import { monthlyFeesWorkflow } from '../../workflows/monthly-fees';

export async function ensureMonthlyFeesSchedule(
  temporal: Client,
  options: { taskQueue: string; scheduleId?: string },
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = options.scheduleId ?? MONTHLY_FEES_SCHEDULE_ID;
  try {
    await temporal.schedule.create({
      scheduleId,
      spec: { calendars: [{ dayOfMonth: 1, hour: 6, minute: 0, comment: '1st of each month, 06:00 UTC' }] },
      action: {
        type: 'startWorkflow',
        workflowType: monthlyFeesWorkflow,
        workflowId: scheduleId,
        taskQueue: options.taskQueue,
        args: [{}],
      },
      policies: { catchupWindow: '7 days', overlap: ScheduleOverlapPolicy.BUFFER_ONE },
    });
    return { scheduleId, created: true };
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return { scheduleId, created: false };
    throw error;
  }
}
