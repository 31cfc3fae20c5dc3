import { AppError } from '../../domain/errors';
import { FREE_EDITION_CONNECTIONS, fullBaseChoices, seatLimit } from '../../domain/sessions';
import type { Actor } from '../actor';
import { pgPoolOf } from '../../infra/prisma';
import type { ServiceDeps } from '../deps';
import { admissionStatement, lockBaseSessions, type AdmissionRow } from './admission-sql';
import { sessionSettingsOf } from './settings';
import { sessionView } from './session-view';

export interface OpenSessionRequest {
  userCode: string;
  userName: string;
  ip: string;
  computerName: string;
  /** evict-and-take-over: disconnect this session and open mine in its place, atomically */
  evict?: { sessionId: number; reason: string; byUserCode?: string; byUserName?: string };
}

/**
 * Opens a session on a base while it has fewer active sessions than its licence's connections; exact under
 * concurrency (one transaction: the base's advisory lock, then one statement — see admission-sql.ts).
 * A full base answers SEAT_LIMIT_REACHED with its sessions and the three choices of the seed's screen.
 */
export async function openSession(
  deps: Pick<ServiceDeps, 'prisma' | 'sessions'>,
  options: { actor: Actor; baseId: string; request: OpenSessionRequest },
) {
  const { actor, baseId, request } = options;
  const { heartbeatTimeoutSeconds, synchronousCommit } = sessionSettingsOf(deps);
  const evict = request.evict
    ? {
        sessionId: BigInt(request.evict.sessionId),
        reason: request.evict.reason,
        byUserCode: request.evict.byUserCode ?? request.userCode,
        byUserName: request.evict.byUserName ?? request.userName,
      }
    : undefined;
  const work = admissionStatement({
    baseId,
    userCode: request.userCode,
    userName: request.userName,
    ip: request.ip,
    computerName: request.computerName,
    actor,
    heartbeatTimeoutSeconds,
    freeEditionConnections: FREE_EDITION_CONNECTIONS,
    evict,
  });
  const lock = lockBaseSessions(baseId);
  // straight on the pool under Prisma: four round trips (BEGIN, lock, statement, COMMIT) and little else
  const client = await pgPoolOf(deps.prisma).connect();
  let rows: AdmissionRow[];
  try {
    // the transaction alone (SET LOCAL): the pool's other users, money writes among them, keep waiting for
    // their WAL flush. Lost on a database crash: the last admissions (the ERP logs in again), never a seat.
    await client.query(synchronousCommit ? 'BEGIN' : 'BEGIN; SET LOCAL synchronous_commit TO off');
    // named: each pooled connection parses and plans them once (the text never changes, only the values)
    await client.query({ name: 'session-lock', text: lock.text, values: lock.values });
    rows = (
      await client.query<AdmissionRow>({ name: 'session-admission', text: work.text, values: work.values })
    ).rows;
    await client.query('COMMIT');
  } catch (error) {
    // a connection that can't even roll back is dropped from the pool
    const broken = await client.query('ROLLBACK').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    client.release(broken);
    throw error;
  }
  client.release();
  const row = rows[0]!;
  if (!row.baseFound) throw new AppError('BASE_NOT_FOUND', `Base ${baseId} is not registered`);
  const limit = seatLimit(
    row.licenceStatus ? { status: row.licenceStatus, connections: row.licenceConnections! } : null,
  );
  if (row.sessionId !== null) {
    return {
      sessionId: Number(row.sessionId),
      baseId,
      openedAt: row.openedAt!.toISOString(),
      maxConnections: row.maxConnections,
      heartbeatTimeoutSeconds,
      evictedSessionId: row.evictedSessionId === null ? null : Number(row.evictedSessionId),
    };
  }
  if (limit.source === 'SUSPENDED') {
    throw new AppError(
      'LICENCE_SUSPENDED',
      'The CLOUD licence of this base is suspended after failed payments: buy a new licence to reopen it',
      { purchase: { method: 'POST', href: `/bases/${baseId}/subscriptions` } },
    );
  }
  const sessions = (row.sessions ?? []).map((s) => sessionView(s, row.now));
  throw new AppError(
    'SEAT_LIMIT_REACHED',
    `This base allows ${row.maxConnections} concurrent session(s) and all are in use: disconnect one, order a connection, or come back later`,
    {
      maxConnections: row.maxConnections,
      activeSessions: sessions.length,
      sessions,
      choices: fullBaseChoices(baseId, row.maxConnections, limit.source),
      ...(request.evict
        ? { evictRefused: { sessionId: request.evict.sessionId, reason: 'SESSION_NOT_ACTIVE' } }
        : {}),
    },
  );
}
