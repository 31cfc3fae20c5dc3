import { seatLimit, type DecidingLicence } from '../../domain/sessions';
import type { Db } from '../../infra/prisma';
import { sessionView } from './session-view';
import type { SessionSettings } from './settings';

/** The licence that decides a base's connections (newest A1 licence ACTIVE, PAST_DUE, SUSPENDED or ENDED). */
export async function decidingLicence(db: Db, baseId: string): Promise<DecidingLicence | null> {
  const licence = await db.licence.findFirst({
    where: { baseId, version: 'A1', status: { in: ['ACTIVE', 'PAST_DUE', 'SUSPENDED', 'ENDED'] } },
    orderBy: { createdAt: 'desc' },
    select: { status: true, connections: true },
  });
  return licence as DecidingLicence | null;
}

/**
 * The sessions screen of a base: how many it may have, and the sessions that count (active, heard from
 * within the heartbeat timeout), oldest first. The caller has checked access to the base.
 */
export async function listSessions(db: Db, settings: SessionSettings, baseId: string) {
  const [licence, [{ now }]] = await Promise.all([
    decidingLicence(db, baseId),
    db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`.then((r) => r as [{ now: Date }]),
  ]);
  const cutoff = new Date(now.getTime() - settings.heartbeatTimeoutSeconds * 1000);
  const rows = await db.session.findMany({
    where: { baseId, status: 'ACTIVE', lastSeenAt: { gte: cutoff } },
    orderBy: [{ openedAt: 'asc' }, { id: 'asc' }],
  });
  const limit = seatLimit(licence);
  return {
    baseId,
    maxConnections: limit.maxConnections,
    source: limit.source,
    activeSessions: rows.length,
    heartbeatTimeoutSeconds: settings.heartbeatTimeoutSeconds,
    sessions: rows.map((r) => sessionView(r, now)),
  };
}
