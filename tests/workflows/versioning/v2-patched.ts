/** Version 2, changed safely: the same reminder under `patched()`; runs started by v1 skip it. */
import { patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { VersioningActivities } from './activities';

const acts = proxyActivities<VersioningActivities>({ startToCloseTimeout: '10 seconds' });

export async function versionedWorkflow(): Promise<string> {
  if (patched('reminder')) await acts.note('reminder');
  await sleep('1 day');
  await acts.note('done');
  return 'v2';
}
