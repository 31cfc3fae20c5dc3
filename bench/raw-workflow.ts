/** The minimal Temporal workflow of the purchase benchmark's raw figure: one activity, then done. */
import { proxyActivities } from '@temporalio/workflow';

const { echo } = proxyActivities<{ echo(value: string): Promise<string> }>({
  startToCloseTimeout: '10 seconds',
});

export async function rawWorkflow(value: string): Promise<string> {
  return echo(value);
}
