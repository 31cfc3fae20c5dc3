import { companyKey, maskEmail, normaliseApe, normaliseEmail } from '../../domain/account';
import { Prisma } from '../../infra/prisma';
import { AppError } from '../../domain/errors';
import { workflowIds } from '../../workflows/ids';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { startEmailCodeWhenSent } from '../email-codes/email-code-flow';
import type { AccountDetails } from './account-view';

export interface CreateAccountOptions {
  actor: Actor;
  /** the machine asking; it is linked to the account once confirmed */
  installationId?: string;
  email: string;
  details: AccountDetails;
}

/**
 * Records a PENDING account and mails a confirmation code. One account per company: an active account
 * with the same company identity or email refuses with ACCOUNT_EXISTS. Asking again for the same email
 * while a confirmation runs returns that same confirmation (and takes the latest details).
 */
export async function createAccount(deps: ServiceDeps, options: CreateAccountOptions) {
  const email = normaliseEmail(options.email);
  const details = {
    ...options.details,
    apeCode: options.details.apeCode ? normaliseApe(options.details.apeCode) : null,
  };
  const key = companyKey(details.companyName, details.postalCode, details.country);

  const existing = await deps.prisma.account.findFirst({
    where: { status: 'ACTIVE', OR: [{ companyKey: key }, { email }] },
    select: { id: true },
  });
  if (existing) {
    throw new AppError(
      'ACCOUNT_EXISTS',
      'This company (or this email) already has an account: register the existing account on this machine instead',
      { hint: 'REGISTER_EXISTING_ACCOUNT', route: 'POST /installations/me/account-link' },
    );
  }

  const account = await retryOnceOnUniqueViolation(() =>
    recordPending(deps, options.actor, email, details, key),
  );

  await startEmailCodeWhenSent(deps, workflowIds.accountConfirmation(email), {
    purpose: 'ACCOUNT_CONFIRMATION',
    email,
    accountId: account.id,
    installationId: options.installationId,
  });
  return { accountId: account.id, status: account.status, codeSentTo: maskEmail(email) };
}

/**
 * Two requests for one email at once both find no pending account and both insert: the second meets the
 * unique email. Retried, it finds the first one's row and answers as a request that came second would.
 */
async function retryOnceOnUniqueViolation<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return run();
    throw error;
  }
}

async function recordPending(
  deps: ServiceDeps,
  actor: Actor,
  email: string,
  details: AccountDetails & { apeCode: string | null },
  key: string,
) {
  return deps.prisma.$transaction(async (tx) => {
    const pending = await tx.account.findUnique({ where: { email } });
    const saved = pending
      ? await tx.account.update({ where: { id: pending.id }, data: { ...details, companyKey: key } })
      : await tx.account.create({ data: { ...details, email, companyKey: key } });
    await audit(tx, actor, {
      action: pending ? 'account.details_resubmitted' : 'account.created',
      entityType: 'ACCOUNT',
      entityId: saved.id,
      data: { email, companyName: details.companyName },
    });
    return saved;
  });
}
