import type { Db } from '../../infra/prisma';

export const JOURNAL_PAGE_MAX = 200;

/**
 * The session journal of a base, newest first, one page at a time: `nextCursor` (the last entry's id) asks
 * for the entries before it. The caller has checked access to the base.
 */
export async function listSessionJournal(db: Db, baseId: string, page: { cursor?: number; limit: number }) {
  const limit = Math.min(Math.max(1, page.limit), JOURNAL_PAGE_MAX);
  const rows = await db.sessionEvent.findMany({
    where: { baseId, ...(page.cursor === undefined ? {} : { id: { lt: BigInt(page.cursor) } }) },
    orderBy: { id: 'desc' },
    take: limit + 1,
  });
  const items = rows.slice(0, limit).map((e) => ({
    entryId: Number(e.id),
    at: e.at.toISOString(),
    event: e.kind,
    sessionId: Number(e.sessionId),
    userCode: e.userCode,
    userName: e.userName,
    ip: e.ip,
    computerName: e.computerName,
    by: { actorType: e.actorType, actorId: e.actorId, userCode: e.byUserCode, userName: e.byUserName },
    reason: e.reason,
  }));
  return { baseId, items, nextCursor: rows.length > limit ? items[items.length - 1]!.entryId : null };
}
