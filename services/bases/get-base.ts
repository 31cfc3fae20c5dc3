import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';

/** A base with its machines and their keys (prefixes only). */
export async function getBase(db: Db, baseId: string) {
  const base = await db.base.findUnique({
    where: { id: baseId },
    include: { installations: { include: { apiKeys: true }, orderBy: { createdAt: 'asc' } } },
  });
  if (!base) throw new AppError('BASE_NOT_FOUND', `Base ${baseId} is not registered`);
  return {
    baseId: base.id,
    accountId: base.accountId,
    claimedAt: base.claimedAt.toISOString(),
    installations: base.installations.map((i) => ({
      installationId: i.id,
      machineName: i.machineName,
      accountId: i.accountId,
      createdAt: i.createdAt.toISOString(),
      apiKeys: i.apiKeys.map((k) => ({
        keyId: k.id,
        prefix: k.prefix,
        createdAt: k.createdAt.toISOString(),
        revokedAt: k.revokedAt?.toISOString() ?? null,
      })),
    })),
  };
}
