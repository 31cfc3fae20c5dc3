/**
 * sessionExpiryWorkflow: one short run per minute, started by the `session-expiry` Temporal Schedule
 * (services/sessions/expiry-schedule.ts, created at worker start-up; overlapping runs are skipped). It
 * expires the sessions whose last heartbeat is older than the timeout. Admission never waits for it: it
 * already ignores (and expires) the silent sessions of the base it admits to.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../activities/sessions';

const sessions = proxyActivities<SessionActivities>({
  startToCloseTimeout: '50 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 3 },
});

export async function sessionExpiryWorkflow(): Promise<{ expired: number }> {
  return sessions.expireSilentSessions();
}
