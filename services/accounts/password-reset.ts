import { maskEmail, normaliseEmail } from '../../domain/account';
import { hashPassword } from '../../infra/crypto';
import { workflowIds } from '../../workflows/ids';
import { AppError } from '../../domain/errors';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { consumeChallenge, startEmailCode, submitEmailCode } from '../email-codes/email-code-flow';

/**
 * Mails a reset code to an active account's address. The answer is the same whether or not the address
 * has an account, so the endpoint can't be used to find out who is a customer.
 */
export async function requestPasswordReset(deps: ServiceDeps, options: { email: string }) {
  const email = normaliseEmail(options.email);
  const account = await deps.prisma.account.findUnique({ where: { email } });
  if (account?.status === 'ACTIVE') {
    await startEmailCode(deps, workflowIds.passwordReset(account.id), {
      purpose: 'PASSWORD_RESET',
      email,
      accountId: account.id,
    }).catch((error: unknown) => {
      // past the mail limits nothing is sent, and the answer stays the same (no sign the account exists)
      const limited =
        error instanceof AppError &&
        (error.code === 'RESEND_TOO_SOON' || error.code === 'RESEND_LIMIT_REACHED');
      if (!limited) throw error;
    });
  }
  return { codeSentTo: maskEmail(email) };
}

export async function confirmPasswordReset(
  deps: ServiceDeps,
  options: { actor: Actor; email: string; code: string; newPassword: string },
) {
  const email = normaliseEmail(options.email);
  const account = await deps.prisma.account.findUnique({ where: { email } });
  if (!account || account.status !== 'ACTIVE')
    throw new AppError('CHALLENGE_NOT_FOUND', 'No code was requested for this address');
  const challengeId = await submitEmailCode(deps, workflowIds.passwordReset(account.id), options.code);
  const passwordHash = await hashPassword(options.newPassword);
  await deps.prisma.$transaction(async (tx) => {
    await consumeChallenge(tx, challengeId);
    await tx.account.update({ where: { id: account.id }, data: { passwordHash } });
    await audit(tx, options.actor, {
      action: 'account.password_reset',
      entityType: 'ACCOUNT',
      entityId: account.id,
    });
  });
  return { accountId: account.id };
}
