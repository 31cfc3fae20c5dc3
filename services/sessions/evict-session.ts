import { DEFAULT_EVICTION_REASON } from '../../domain/sessions';
import type { Principal } from '../auth/principal';
import { actorOf } from '../auth/principal';
import type { ServiceDeps } from '../deps';
import { endSessionStatement } from './end-session-sql';
import { sessionEnded, sessionForCaller } from './session-access';

/**
 * Disconnects someone else's session with a reason (pre-filled "Dépassement connexions autorisées"); the
 * journal records who did it (the key's installation or the ops member, and the ERP user if given) and why.
 * To disconnect a session and take its seat in one go, open a session with `evict` instead.
 */
export async function evictSession(
  deps: Pick<ServiceDeps, 'prisma'>,
  principal: Principal,
  sessionId: number,
  request: { reason?: string; byUserCode?: string; byUserName?: string },
) {
  const session = await sessionForCaller(deps.prisma, principal, sessionId);
  const reason = request.reason ?? DEFAULT_EVICTION_REASON;
  const ended = await deps.prisma.$queryRaw<{ endedAt: Date }[]>(
    endSessionStatement({
      sessionId: session.id,
      kind: 'EVICTED',
      actor: actorOf(principal),
      reason,
      byUserCode: request.byUserCode,
      byUserName: request.byUserName,
    }),
  );
  if (!ended[0]) throw await sessionEnded(deps.prisma, session.id);
  return { sessionId, status: 'EVICTED' as const, endedAt: ended[0].endedAt.toISOString(), reason };
}
