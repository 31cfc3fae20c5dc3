import { seatLimit, sessionsToTrim } from '../../domain/sessions';
import type { Db, PrismaClient } from '../../infra/prisma';
import { systemActor, type Actor } from '../actor';
import { lockBaseSessions } from './admission-sql';
import { decidingLicence } from './list-sessions';

/**
 * When a base's connections drop (licence ended or suspended, fewer connections), its extra sessions are
 * closed oldest-first, each with a TRIMMED journal entry, so the newest logins stay. Runs inside the
 * transaction that changes the licence (under the base's admission lock): no login can slip in between.
 */
export async function trimSessionsIn(tx: Db, baseId: string, actor: Actor, why: string) {
  await tx.$executeRaw(lockBaseSessions(baseId));
  const limit = seatLimit(await decidingLicence(tx, baseId));
  const active = await tx.session.findMany({ where: { baseId, status: 'ACTIVE' } });
  const extra = sessionsToTrim(active, limit.maxConnections);
  if (extra.length === 0) return { trimmed: [], maxConnections: limit.maxConnections };
  const reason = `${why} : ${limit.maxConnections} connexion(s) autorisée(s)`;
  const endedAt = new Date();
  await tx.session.updateMany({
    where: { id: { in: extra.map((s) => s.id) }, status: 'ACTIVE' },
    data: { status: 'TRIMMED', endedAt },
  });
  await tx.sessionEvent.createMany({
    data: extra.map((s) => ({
      baseId,
      sessionId: s.id,
      kind: 'TRIMMED' as const,
      at: endedAt,
      actorType: actor.type,
      actorId: actor.id,
      reason,
      userCode: s.userCode,
      userName: s.userName,
      ip: s.ip,
      computerName: s.computerName,
    })),
  });
  return { trimmed: extra.map((s) => Number(s.id)), maxConnections: limit.maxConnections };
}

/** `trimSessionsIn` in its own transaction (ops, or a caller without one). */
export function trimSessions(
  prisma: PrismaClient,
  baseId: string,
  options: { actor?: Actor; why?: string } = {},
) {
  return prisma.$transaction((tx) =>
    trimSessionsIn(
      tx,
      baseId,
      options.actor ?? systemActor('trimSessions'),
      options.why ?? 'Connexions réduites',
    ),
  );
}
