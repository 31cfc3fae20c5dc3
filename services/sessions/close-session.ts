import type { Principal } from '../auth/principal';
import { actorOf } from '../auth/principal';
import type { ServiceDeps } from '../deps';
import { endSessionStatement } from './end-session-sql';
import { sessionForCaller } from './session-access';

/** The user quits the ERP: the session is closed (journal entry). Closing an ended session changes nothing. */
export async function closeSession(
  deps: Pick<ServiceDeps, 'prisma'>,
  principal: Principal,
  sessionId: number,
) {
  const session = await sessionForCaller(deps.prisma, principal, sessionId);
  const ended = await deps.prisma.$queryRaw<{ endedAt: Date }[]>(
    endSessionStatement({ sessionId: session.id, kind: 'CLOSED', actor: actorOf(principal), reason: null }),
  );
  if (ended[0]) return { sessionId, status: 'CLOSED', endedAt: ended[0].endedAt.toISOString() };
  const now = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } });
  return { sessionId, status: now.status, endedAt: now.endedAt?.toISOString() ?? null };
}
