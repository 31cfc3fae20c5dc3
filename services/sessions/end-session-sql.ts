import type { SessionEndKind } from '../../domain/sessions';
import { Prisma } from '../../infra/prisma';
import type { Actor } from '../actor';

/**
 * Ends one ACTIVE session and writes its journal entry, in one statement (so it is atomic without an
 * explicit transaction). Ending never needs the base's admission lock: it only frees a seat.
 */
export function endSessionStatement(options: {
  sessionId: bigint;
  kind: Exclude<SessionEndKind, 'EXPIRED'>;
  actor: Actor;
  reason: string | null;
  byUserCode?: string | null;
  byUserName?: string | null;
}): Prisma.Sql {
  const { sessionId, kind, actor } = options;
  return Prisma.sql`
WITH ended AS (
  UPDATE "Session" SET status = ${kind}::"SessionStatus", "endedAt" = now()
  WHERE id = ${sessionId}::int8 AND status = 'ACTIVE'
  RETURNING *
),
journal AS (
  INSERT INTO "SessionEvent" ("baseId", "sessionId", kind, "actorType", "actorId", "byUserCode",
                              "byUserName", reason, "userCode", "userName", ip, "computerName")
  SELECT "baseId", id, ${kind}::"SessionEventKind", ${actor.type}::text, ${actor.id}::text,
         ${options.byUserCode ?? null}::text, ${options.byUserName ?? null}::text, ${options.reason}::text,
         "userCode", "userName", ip, "computerName"
  FROM ended
)
SELECT id, "endedAt" FROM ended`;
}
