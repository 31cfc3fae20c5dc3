/**
 * The SQL of session admission, the hot path of every ERP login. One transaction, two statements:
 *
 * 1. `pg_advisory_xact_lock(SESSION_LOCK_CLASS, hashtext(baseId))` serialises admissions of one base
 *    (other bases are not touched; a hash collision only makes two bases wait for each other);
 * 2. one statement, run after the lock so its snapshot sees every earlier admission of the base, that
 *    reads the licence's connections, expires the base's silent sessions, evicts the session the caller
 *    takes over (if any), and inserts the new session only while the count stays under the limit — with
 *    the journal entries of all of it.
 *
 * Why it can never over-admit: only this statement inserts ACTIVE sessions, always under the base's lock.
 * The count is "ACTIVE in the snapshot" minus the rows this statement itself ended: a session closed,
 * evicted or expired concurrently by someone else is still counted (we refuse one login too many for a
 * millisecond, never admit one too many), and a heartbeat can't bring an ended session back.
 * Measured against a row lock and a serializable transaction in bench/ (docs/benchmarks.md).
 */
import { Prisma } from '../../infra/prisma';
import type { Actor } from '../actor';

/** First key of the session advisory locks (the second is the base ID's hash). */
export const SESSION_LOCK_CLASS = 6001;

export const lockBaseSessions = (baseId: string) =>
  Prisma.sql`SELECT pg_advisory_xact_lock(${SESSION_LOCK_CLASS}::int4, hashtext(${baseId}::text))`;

export interface AdmissionInput {
  baseId: string;
  userCode: string;
  userName: string;
  ip: string;
  computerName: string;
  actor: Actor;
  heartbeatTimeoutSeconds: number;
  freeEditionConnections: number;
  /** evict-and-take-over: the session to disconnect, with the reason and the ERP user who does it */
  evict?: { sessionId: bigint; reason: string; byUserCode: string; byUserName: string };
}

/** What the admission statement answers (one row, as `pg` parses it: int8 as a string). */
export interface AdmissionRow {
  baseFound: boolean;
  licenceStatus: 'ACTIVE' | 'PAST_DUE' | 'SUSPENDED' | 'ENDED' | null;
  licenceConnections: number | null;
  maxConnections: number;
  sessionId: string | null;
  openedAt: Date | null;
  evictedSessionId: string | null;
  now: Date;
  /** the sessions still counted when the base was full (JSON from the database) */
  sessions: ActiveSessionJson[] | null;
}

export interface ActiveSessionJson {
  id: number;
  userCode: string;
  userName: string;
  ip: string;
  computerName: string;
  openedAt: string;
  lastSeenAt: string;
}

/** The newest A1 licence that decides the base's connections (see domain/sessions.ts `seatLimit`). */
const decidingLicence = (baseId: string) => Prisma.sql`
  SELECT status::text AS status, connections FROM "Licence"
  WHERE "baseId" = ${baseId}::bpchar AND version = 'A1'
    AND status IN ('ACTIVE', 'PAST_DUE', 'SUSPENDED', 'ENDED')
  ORDER BY "createdAt" DESC LIMIT 1`;

/** `seatLimit` of domain/sessions.ts, in SQL (the two are checked against each other by the tests). */
const seatLimitSql = (free: number) => Prisma.sql`
  SELECT CASE WHEN l.status IN ('ACTIVE', 'PAST_DUE') THEN l.connections
              WHEN l.status = 'SUSPENDED' THEN 0
              ELSE ${free}::int END AS max_connections
  FROM (SELECT 1) AS one LEFT JOIN lic AS l ON true`;

export const expiryReason = (timeoutSeconds: number) => `Aucun signal depuis plus de ${timeoutSeconds} s`;

export function admissionStatement(input: AdmissionInput): Prisma.Sql {
  const { baseId, actor } = input;
  const timeout = input.heartbeatTimeoutSeconds;
  const evictId = input.evict?.sessionId ?? null;
  return Prisma.sql`
WITH lic AS (${decidingLicence(baseId)}),
lim AS (${seatLimitSql(input.freeEditionConnections)}),
base AS (SELECT EXISTS (SELECT 1 FROM "Base" WHERE id = ${baseId}::bpchar) AS found),
snap AS (
  SELECT id, "userCode", "userName", ip, "computerName", "openedAt", "lastSeenAt" FROM "Session"
  WHERE "baseId" = ${baseId}::bpchar AND status = 'ACTIVE'
),
expired AS (
  UPDATE "Session" AS s SET status = 'EXPIRED', "endedAt" = now()
  WHERE s."baseId" = ${baseId}::bpchar AND s.status = 'ACTIVE'
    AND s."lastSeenAt" < now() - make_interval(secs => ${timeout}::int)
    AND s.id IS DISTINCT FROM ${evictId}::int8
  RETURNING s.*
),
evicted AS (
  UPDATE "Session" AS s SET status = 'EVICTED', "endedAt" = now()
  WHERE s.id = ${evictId}::int8 AND s."baseId" = ${baseId}::bpchar AND s.status = 'ACTIVE'
    AND (SELECT found FROM base)
    AND (SELECT count(*) FROM snap) - (SELECT count(*) FROM expired) - 1 < (SELECT max_connections FROM lim)
  RETURNING s.*
),
opened AS (
  INSERT INTO "Session" ("baseId", "userCode", "userName", ip, "computerName", "openedBy")
  SELECT ${baseId}::bpchar, ${input.userCode}::text, ${input.userName}::text, ${input.ip}::text,
         ${input.computerName}::text, ${actor.id}::text
  WHERE (SELECT found FROM base)
    AND (SELECT count(*) FROM snap) - (SELECT count(*) FROM expired) - (SELECT count(*) FROM evicted)
        < (SELECT max_connections FROM lim)
  RETURNING *
),
journal AS (
  INSERT INTO "SessionEvent" ("baseId", "sessionId", kind, "actorType", "actorId", "byUserCode",
                              "byUserName", reason, "userCode", "userName", ip, "computerName")
  SELECT "baseId", id, 'EXPIRED'::"SessionEventKind", 'SYSTEM', 'heartbeat-timeout', NULL, NULL,
         ${expiryReason(timeout)}::text, "userCode", "userName", ip, "computerName" FROM expired
  UNION ALL
  SELECT "baseId", id, 'EVICTED'::"SessionEventKind", ${actor.type}::text, ${actor.id}::text,
         ${input.evict?.byUserCode ?? null}::text, ${input.evict?.byUserName ?? null}::text,
         ${input.evict?.reason ?? null}::text, "userCode", "userName", ip, "computerName" FROM evicted
  UNION ALL
  SELECT "baseId", id, 'OPENED'::"SessionEventKind", ${actor.type}::text, ${actor.id}::text, NULL, NULL,
         NULL, "userCode", "userName", ip, "computerName" FROM opened
)
SELECT
  (SELECT found FROM base) AS "baseFound",
  (SELECT status FROM lic) AS "licenceStatus",
  (SELECT connections FROM lic) AS "licenceConnections",
  (SELECT max_connections FROM lim) AS "maxConnections",
  (SELECT id FROM opened) AS "sessionId",
  (SELECT "openedAt" FROM opened) AS "openedAt",
  (SELECT id FROM evicted) AS "evictedSessionId",
  now() AS "now",
  CASE WHEN NOT EXISTS (SELECT 1 FROM opened) THEN (
    SELECT coalesce(json_agg(json_build_object(
             'id', id, 'userCode', "userCode", 'userName', "userName", 'ip', ip,
             'computerName', "computerName", 'openedAt', "openedAt", 'lastSeenAt', "lastSeenAt")
             ORDER BY "openedAt", id), '[]'::json)
    FROM snap WHERE id NOT IN (SELECT id FROM expired) AND id NOT IN (SELECT id FROM evicted)
  ) END AS "sessions"`;
}
