import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';
import { canAccessBase, type Principal } from '../auth/principal';

/**
 * The session, if the caller may act on it: its base must be covered by the caller's key; ops tokens see
 * every base. Another base's session answers exactly like a missing one (404 SESSION_NOT_FOUND), so
 * session numbers can't be probed.
 */
export async function sessionForCaller(db: Db, principal: Principal, sessionId: number) {
  const session = await db.session.findUnique({ where: { id: BigInt(sessionId) } });
  if (!session || !(await canAccessBase(db, principal, session.baseId)))
    throw new AppError('SESSION_NOT_FOUND', `No session ${sessionId}`);
  return session;
}

/** How an ended session ended, from its journal: what an ERP shows a user who was disconnected. */
export async function sessionEnded(db: Db, sessionId: bigint) {
  const session = await db.session.findUniqueOrThrow({ where: { id: sessionId } });
  const event = await db.sessionEvent.findFirst({
    where: { sessionId, kind: { not: 'OPENED' } },
    orderBy: { id: 'desc' },
  });
  return new AppError('SESSION_ENDED', `Session ${session.id} has ended (${session.status})`, {
    status: session.status,
    endedAt: session.endedAt?.toISOString() ?? null,
    reason: event?.reason ?? null,
    by: event
      ? {
          actorType: event.actorType,
          actorId: event.actorId,
          userCode: event.byUserCode,
          userName: event.byUserName,
        }
      : null,
  });
}
