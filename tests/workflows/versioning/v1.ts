/** Version 1 of a small workflow: waits a day, then notes it is done. */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { VersioningActivities } from './activities';

const acts = proxyActivities<VersioningActivities>({ startToCloseTimeout: '10 seconds' });

export async function versionedWorkflow(): Promise<string> {
  await sleep('1 day');
  await acts.note('done');
  return 'v1';
}
