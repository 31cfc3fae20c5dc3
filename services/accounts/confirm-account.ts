import { AppError } from '../../domain/errors';
import { hashPassword } from '../../infra/crypto';
import { workflowIds } from '../../workflows/ids';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { consumeChallenge, resendEmailCode, submitEmailCode } from '../email-codes/email-code-flow';
import { accountView } from './account-view';

/** The machine confirming an account: the one that asked for it (or, later, any machine linked to it). */
export interface ConfirmingMachine {
  installationId: string;
  accountId: number | null;
}

/**
 * Loads the account for the machine that created it. Another machine gets 404 like for a missing account,
 * so account numbers can't be probed and nobody else can spend the code's tries or re-send it.
 */
async function findAccount(deps: ServiceDeps, accountId: number, machine: ConfirmingMachine) {
  const account = await deps.prisma.account.findUnique({ where: { id: accountId } });
  const mine =
    account &&
    (machine.accountId === account.id ||
      (await deps.prisma.emailChallenge.count({
        where: { purpose: 'ACCOUNT_CONFIRMATION', accountId, installationId: machine.installationId },
      })) > 0);
  if (!account || !mine) throw new AppError('ACCOUNT_NOT_FOUND', `Account ${accountId} does not exist`);
  return account;
}

/**
 * The code typed back activates the account (in the workflow, durably); the chosen password is then
 * stored (scrypt hash) with the challenge marked used, in one transaction.
 */
export async function confirmAccount(
  deps: ServiceDeps,
  options: { actor: Actor; machine: ConfirmingMachine; accountId: number; code: string; password: string },
) {
  const account = await findAccount(deps, options.accountId, options.machine);
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

export async function resendAccountCode(deps: ServiceDeps, accountId: number, machine: ConfirmingMachine) {
  const account = await findAccount(deps, accountId, machine);
  if (account.status === 'ACTIVE')
    throw new AppError('ALREADY_CONFIRMED', 'This account is already confirmed');
  return resendEmailCode(deps, workflowIds.accountConfirmation(account.email));
}
