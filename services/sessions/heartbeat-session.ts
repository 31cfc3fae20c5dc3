import { pgPoolOf } from '../../infra/prisma';
import type { Principal } from '../auth/principal';
import type { ServiceDeps } from '../deps';
import { sessionEnded, sessionForCaller } from './session-access';
import { sessionSettingsOf } from './settings';

/**
 * A session says it is alive (database clock, like the expiry checks). One statement in the usual case (an installation's own base); a session of
 * another base of the account, or called with an ops token, is looked up first. An ended session is not
 * revived: SESSION_ENDED says how it ended (so the ERP can tell its user who disconnected them and why).
 */
export async function heartbeatSession(
  deps: Pick<ServiceDeps, 'prisma' | 'sessions'>,
  principal: Principal,
  sessionId: number,
) {
  const { heartbeatTimeoutSeconds } = sessionSettingsOf(deps);
  const id = BigInt(sessionId);
  const ownBase = principal.kind === 'installation' ? principal.baseId : undefined;
  if (ownBase) {
    // every open session sends one a minute or so: one statement straight on the pool
    const touched = (
      await pgPoolOf(deps.prisma).query<{ lastSeenAt: Date }>({
        name: 'session-heartbeat',
        text: `UPDATE "Session" SET "lastSeenAt" = now()
               WHERE id = $1::int8 AND "baseId" = $2::bpchar AND status = 'ACTIVE'
               RETURNING "lastSeenAt"`,
        values: [String(sessionId), ownBase],
      })
    ).rows;
    if (touched[0]) return answer(sessionId, touched[0].lastSeenAt, heartbeatTimeoutSeconds);
  }
  const session = await sessionForCaller(deps.prisma, principal, sessionId);
  const touched = await deps.prisma.$queryRaw<{ lastSeenAt: Date }[]>`
    UPDATE "Session" SET "lastSeenAt" = now() WHERE id = ${id}::int8 AND status = 'ACTIVE'
    RETURNING "lastSeenAt"`;
  if (!touched[0]) throw await sessionEnded(deps.prisma, session.id);
  return answer(sessionId, touched[0].lastSeenAt, heartbeatTimeoutSeconds);
}

function answer(sessionId: number, at: Date, heartbeatTimeoutSeconds: number) {
  return { sessionId, status: 'ACTIVE' as const, lastHeartbeatAt: at.toISOString(), heartbeatTimeoutSeconds };
}
