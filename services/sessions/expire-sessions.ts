import { Prisma, type Db } from '../../infra/prisma';
import { expiryReason } from './admission-sql';

/**
 * Expires every session silent for longer than the heartbeat timeout, with a journal entry each, in
 * batches (one statement each: SKIP LOCKED leaves rows being admitted or closed to their transaction).
 * Admission already ignores and expires silent sessions of its base; this keeps the screens and the
 * journal right for bases nobody logs in to. Returns how many it expired.
 */
export async function expireSilentSessions(
  db: Db,
  options: { heartbeatTimeoutSeconds: number; batchSize?: number; maxBatches?: number },
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const timeout = options.heartbeatTimeoutSeconds;
  let total = 0;
  for (let i = 0; i < (options.maxBatches ?? 50); i += 1) {
    const [{ n }] = (await db.$queryRaw<{ n: number }[]>(Prisma.sql`
WITH stale AS (
  SELECT id FROM "Session"
  WHERE status = 'ACTIVE' AND "lastSeenAt" < now() - make_interval(secs => ${timeout}::int)
  ORDER BY "lastSeenAt" LIMIT ${batchSize}::int
  FOR UPDATE SKIP LOCKED
),
expired AS (
  UPDATE "Session" AS s SET status = 'EXPIRED', "endedAt" = now()
  FROM stale WHERE s.id = stale.id
  RETURNING s.*
),
journal AS (
  INSERT INTO "SessionEvent" ("baseId", "sessionId", kind, "actorType", "actorId", reason,
                              "userCode", "userName", ip, "computerName")
  SELECT "baseId", id, 'EXPIRED'::"SessionEventKind", 'SYSTEM', 'session-expiry',
         ${expiryReason(timeout)}::text, "userCode", "userName", ip, "computerName"
  FROM expired
)
SELECT count(*)::int AS n FROM expired`)) as [{ n: number }];
    total += n;
    if (n < batchSize) break;
  }
  return total;
}
