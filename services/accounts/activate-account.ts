import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { linkInstallationToAccount } from '../installations/link-installation';

/**
 * A confirmed email turns a PENDING account ACTIVE — unless the company got an active account
 * meanwhile (one account per company). The machine that created the account is linked to it.
 * Run inside a transaction; idempotent.
 */
export async function activateAccount(
  db: Db,
  actor: Actor,
  options: { accountId: number; installationId?: string | null },
): Promise<void> {
  const account = await db.account.findUnique({ where: { id: options.accountId } });
  if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `Account ${options.accountId} does not exist`);
  if (account.status === 'PENDING') {
    // serialise activations of the same company so two pending accounts can't both become active
    await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${account.companyKey}))`;
    const rival = await db.account.findFirst({
      where: { status: 'ACTIVE', companyKey: account.companyKey, id: { not: account.id } },
      select: { id: true },
    });
    if (rival) {
      throw new AppError(
        'ACCOUNT_EXISTS',
        'This company already has an account; register the existing account instead',
        {
          hint: 'REGISTER_EXISTING_ACCOUNT',
        },
      );
    }
    await db.account.update({
      where: { id: account.id },
      data: { status: 'ACTIVE', confirmedAt: new Date() },
    });
    await audit(db, actor, { action: 'account.confirmed', entityType: 'ACCOUNT', entityId: account.id });
  }
  if (options.installationId) {
    await linkInstallationToAccount(db, actor, {
      installationId: options.installationId,
      accountId: account.id,
    });
  }
}
