/**
 * Side effects of the session-expiry job (sessionExpiryWorkflow, run every minute by a Temporal Schedule).
 */
import type { PrismaClient } from '../infra/prisma';
import { expireSilentSessions } from '../services/sessions/expire-sessions';
import type { SessionSettings } from '../services/sessions/settings';

export interface SessionActivityDeps {
  prisma: PrismaClient;
  sessions: SessionSettings;
}

export function createSessionActivities({ prisma, sessions }: SessionActivityDeps) {
  return {
    /** Expires the sessions silent for longer than the heartbeat timeout (journal entries); how many. */
    async expireSilentSessions(): Promise<{ expired: number }> {
      return { expired: await expireSilentSessions(prisma, sessions) };
    },
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
