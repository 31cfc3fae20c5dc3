import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';

/**
 * Link a machine (installation) to an account. The base follows: a base with no owner becomes the
 * account's; a base owned by another account moves only when none of its other machines is still
 * linked to that account (otherwise BASE_OWNED_BY_OTHER_ACCOUNT: ops decide).
 */
export async function linkInstallationToAccount(
  db: Db,
  actor: Actor,
  options: { installationId: string; accountId: number },
): Promise<void> {
  const installation = await db.installation.findUnique({
    where: { id: options.installationId },
    include: { base: true },
  });
  if (!installation) throw new AppError('INSTALLATION_NOT_FOUND', 'This installation no longer exists');
  const account = await db.account.findUnique({ where: { id: options.accountId } });
  if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `Account ${options.accountId} does not exist`);
  if (account.status !== 'ACTIVE')
    throw new AppError('ACCOUNT_NOT_ACTIVE', 'The account is not confirmed yet');

  const owner = installation.base.accountId;
  if (owner !== null && owner !== account.id) {
    const stillLinked = await db.installation.count({
      where: { baseId: installation.baseId, accountId: owner, id: { not: installation.id } },
    });
    if (stillLinked > 0) {
      throw new AppError(
        'BASE_OWNED_BY_OTHER_ACCOUNT',
        'This base belongs to another account that other machines of the base still use; contact support to move it',
      );
    }
  }
  if (owner !== account.id) {
    await db.base.update({ where: { id: installation.baseId }, data: { accountId: account.id } });
    await audit(db, actor, {
      action: 'base.owner_changed',
      entityType: 'BASE',
      entityId: installation.baseId,
      data: { from: owner, to: account.id },
    });
  }
  if (installation.accountId !== account.id) {
    await db.installation.update({
      where: { id: installation.id },
      data: { accountId: account.id, linkedAt: new Date() },
    });
    await audit(db, actor, {
      action: 'installation.linked',
      entityType: 'INSTALLATION',
      entityId: installation.id,
      data: { accountId: account.id, previousAccountId: installation.accountId },
    });
  }
}
