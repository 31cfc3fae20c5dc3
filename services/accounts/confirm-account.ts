import { AppError } from '../../domain/errors';
import { hashPassword } from '../../infra/crypto';
import { workflowIds } from '../../workflows/ids';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { consumeChallenge, resendEmailCode, submitEmailCode } from '../email-codes/email-code-flow';
import { accountView } from './account-view';

async function findAccount(deps: ServiceDeps, accountId: number) {
  const account = await deps.prisma.account.findUnique({ where: { id: accountId } });
  if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `Account ${accountId} does not exist`);
  return account;
}

/**
 * The code typed back activates the account (in the workflow, durably); the chosen password is then
 * stored (scrypt hash) with the challenge marked used, in one transaction.
 */
export async function confirmAccount(
  deps: ServiceDeps,
  options: { actor: Actor; accountId: number; code: string; password: string },
) {
  const account = await findAccount(deps, options.accountId);
  if (account.status === 'ACTIVE' && account.passwordHash) {
    throw new AppError('ALREADY_CONFIRMED', 'This account is already confirmed');
  }
  const challengeId = await submitEmailCode(
    deps,
    workflowIds.accountConfirmation(account.email),
    options.code,
  );
  const passwordHash = await hashPassword(options.password);
  const saved = await deps.prisma.$transaction(async (tx) => {
    await consumeChallenge(tx, challengeId);
    const updated = await tx.account.update({ where: { id: account.id }, data: { passwordHash } });
    await audit(tx, options.actor, {
      action: 'account.password_set',
      entityType: 'ACCOUNT',
      entityId: account.id,
    });
    return updated;
  });
  return accountView(saved);
}

export async function resendAccountCode(deps: ServiceDeps, accountId: number) {
  const account = await findAccount(deps, accountId);
  if (account.status === 'ACTIVE')
    throw new AppError('ALREADY_CONFIRMED', 'This account is already confirmed');
  return resendEmailCode(deps, workflowIds.accountConfirmation(account.email));
}
