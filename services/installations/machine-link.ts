import { maskEmail } from '../../domain/account';
import { AppError } from '../../domain/errors';
import { workflowIds } from '../../workflows/ids';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { submitEmailCode } from '../email-codes/email-code-flow';
import { startEmailCode } from '../email-codes/email-code-flow';

/** "Register an existing account" on this machine: a personal code goes to the account's address. */
export async function requestMachineLink(
  deps: ServiceDeps,
  options: { installationId: string; accountId: number },
) {
  const account = await deps.prisma.account.findUnique({ where: { id: options.accountId } });
  if (!account || account.status !== 'ACTIVE')
    throw new AppError('ACCOUNT_NOT_FOUND', `Account ${options.accountId} does not exist`);
  const installation = await deps.prisma.installation.findUniqueOrThrow({
    where: { id: options.installationId },
  });
  if (installation.accountId === account.id) {
    return { status: 'LINKED' as const, accountId: account.id };
  }
  await startEmailCode(deps, workflowIds.machineLink(installation.id, account.id), {
    purpose: 'MACHINE_LINK',
    email: account.email,
    accountId: account.id,
    installationId: installation.id,
  });
  return { status: 'CODE_SENT' as const, accountId: account.id, codeSentTo: maskEmail(account.email) };
}

/** The code typed back links the machine (done by the workflow, durably). */
export async function confirmMachineLink(
  deps: ServiceDeps,
  options: { installationId: string; accountId: number; code: string },
) {
  await submitEmailCode(
    deps,
    workflowIds.machineLink(options.installationId, options.accountId),
    options.code,
  );
  const installation = await deps.prisma.installation.findUniqueOrThrow({
    where: { id: options.installationId },
  });
  return {
    status: 'LINKED' as const,
    accountId: installation.accountId,
    linkedAt: installation.linkedAt?.toISOString() ?? null,
  };
}

/** The machine leaves its account; it can later be linked to another one. */
export async function unlinkMachine(deps: ServiceDeps, options: { actor: Actor; installationId: string }) {
  await deps.prisma.$transaction(async (tx) => {
    const installation = await tx.installation.findUniqueOrThrow({ where: { id: options.installationId } });
    if (installation.accountId === null)
      throw new AppError('NOT_LINKED', 'This machine is not linked to an account');
    await tx.installation.update({
      where: { id: installation.id },
      data: { accountId: null, linkedAt: null },
    });
    await audit(tx, options.actor, {
      action: 'installation.unlinked',
      entityType: 'INSTALLATION',
      entityId: installation.id,
      data: { accountId: installation.accountId },
    });
  });
}
