/** Version 2, changed carelessly: a reminder activity before the wait (a new first command). */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { VersioningActivities } from './activities';

const acts = proxyActivities<VersioningActivities>({ startToCloseTimeout: '10 seconds' });

export async function versionedWorkflow(): Promise<string> {
  await acts.note('reminder');
  await sleep('1 day');
  await acts.note('done');
  return 'v2';
}
