import { maskEmail } from '../../domain/account';
import { AppError } from '../../domain/errors';
import { Prisma } from '../../infra/prisma';
import { workflowIds } from '../../workflows/ids';
import type { Actor } from '../actor';
import type { ServiceDeps } from '../deps';
import { consumeChallenge, startEmailCode, submitEmailCode } from '../email-codes/email-code-flow';
import { createInstallation } from './api-keys';

export type RegistrationResult =
  | { status: 'REGISTERED'; installationId: string; baseId: string; machineName: string; apiKey: string }
  | { status: 'CODE_SENT'; baseId: string; machineName: string; codeSentTo: string };

const claimedError = () =>
  new AppError(
    'BASE_ALREADY_CLAIMED',
    'This base is already registered. Give the ID of the account that owns it to receive a code by email, or ask support',
    { hint: 'GIVE_OWNER_ACCOUNT_ID' },
  );

/**
 * An ERP machine asks for an API key. The first machine of a base claims it and gets a key at once.
 * A further machine must name the account that owns the base: a code goes to that account's address
 * and is confirmed with `confirmInstallationClaim`. A base whose owner is unknown needs ops.
 * A wrong account ID gets the same answer as none, so the owner of a base can't be guessed.
 */
export async function registerInstallation(
  deps: ServiceDeps,
  options: { actor: Actor; baseId: string; machineName: string; accountId?: number },
): Promise<RegistrationResult> {
  const base = await deps.prisma.base.findUnique({
    where: { id: options.baseId },
    include: { account: true },
  });
  if (!base) {
    try {
      const created = await deps.prisma.$transaction(async (tx) => {
        await tx.base.create({ data: { id: options.baseId } });
        return createInstallation(tx, options.actor, {
          baseId: options.baseId,
          machineName: options.machineName,
        });
      });
      return { status: 'REGISTERED', ...created };
    } catch (error) {
      // another machine claimed the base a moment ago
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
        throw claimedError();
      throw error;
    }
  }
  const owner = base.account;
  if (
    !owner ||
    options.accountId === undefined ||
    owner.id !== options.accountId ||
    owner.status !== 'ACTIVE'
  ) {
    throw claimedError();
  }
  await startEmailCode(deps, workflowIds.installationClaim(base.id, options.machineName), {
    purpose: 'INSTALLATION_CLAIM',
    email: owner.email,
    accountId: owner.id,
    baseId: base.id,
    machineName: options.machineName,
  });
  return {
    status: 'CODE_SENT',
    baseId: base.id,
    machineName: options.machineName,
    codeSentTo: maskEmail(owner.email),
  };
}

/** The owner's code typed back on the new machine: the installation is created, linked, and gets its key. */
export async function confirmInstallationClaim(
  deps: ServiceDeps,
  options: { actor: Actor; baseId: string; machineName: string; code: string },
) {
  const challengeId = await submitEmailCode(
    deps,
    workflowIds.installationClaim(options.baseId, options.machineName),
    options.code,
  );
  return deps.prisma.$transaction(async (tx) => {
    await consumeChallenge(tx, challengeId);
    const challenge = await tx.emailChallenge.findUniqueOrThrow({ where: { id: challengeId } });
    return createInstallation(tx, options.actor, {
      baseId: options.baseId,
      machineName: options.machineName,
      accountId: challenge.accountId,
    });
  });
}
