import { companyKey, normaliseApe } from '../../domain/account';
import { AppError } from '../../domain/errors';
import { verifyPassword } from '../../infra/crypto';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { accountView, type AccountDetails } from './account-view';

/** Loads an active account and checks its password (401 INVALID_PASSWORD otherwise). */
export async function authenticateAccount(deps: ServiceDeps, accountId: number, password: string) {
  const account = await deps.prisma.account.findUnique({ where: { id: accountId } });
  if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `Account ${accountId} does not exist`);
  if (!(await verifyPassword(password, account.passwordHash))) {
    throw new AppError('INVALID_PASSWORD', 'The account password is wrong');
  }
  return account;
}

/** Changes the account's details at once; the password is required. The email is not changed here. */
export async function updateAccount(
  deps: ServiceDeps,
  options: { actor: Actor; accountId: number; password: string; changes: Partial<AccountDetails> },
) {
  const account = await authenticateAccount(deps, options.accountId, options.password);
  const changes = { ...options.changes };
  if (changes.apeCode) changes.apeCode = normaliseApe(changes.apeCode);
  const next = { ...account, ...changes };
  const key = companyKey(next.companyName, next.postalCode, next.country);

  const saved = await deps.prisma.$transaction(async (tx) => {
    if (key !== account.companyKey) {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
      const rival = await tx.account.findFirst({
        where: { status: 'ACTIVE', companyKey: key, id: { not: account.id } },
      });
      if (rival) throw new AppError('ACCOUNT_EXISTS', 'Another account already exists for this company');
    }
    const updated = await tx.account.update({
      where: { id: account.id },
      data: { ...changes, companyKey: key },
    });
    const changed = Object.keys(changes).filter(
      (k) => account[k as keyof typeof account] !== changes[k as keyof AccountDetails],
    );
    await audit(tx, options.actor, {
      action: 'account.updated',
      entityType: 'ACCOUNT',
      entityId: account.id,
      data: {
        fields: changed,
        before: Object.fromEntries(changed.map((k) => [k, account[k as keyof typeof account]])),
      },
    });
    return updated;
  });
  return accountView(saved);
}
