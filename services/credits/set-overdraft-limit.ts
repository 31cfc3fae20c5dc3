import type { CreditLedger } from '../../domain/credits';
import type { PrismaClient } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { lockBalance } from './post-credit-entry';
import { requireActiveAccount } from './read-ledger';

/**
 * Ops allow an account to go below zero on one ledger, down to `limit` (seconds or cents). Lowering the
 * limit never touches past movements: it only refuses the next charges that would cross it.
 */
export async function setOverdraftLimit(
  prisma: PrismaClient,
  actor: Actor,
  options: { accountId: number; ledger: CreditLedger; limit: number },
) {
  await requireActiveAccount(prisma, options.accountId);
  return prisma.$transaction(async (tx) => {
    const before = await lockBalance(tx, options.accountId, options.ledger);
    const row = await tx.creditBalance.update({
      where: { accountId_ledger: { accountId: options.accountId, ledger: options.ledger } },
      data: { overdraftLimit: options.limit },
    });
    await audit(tx, actor, {
      action: 'credit.overdraft_limit_set',
      entityType: 'ACCOUNT',
      entityId: options.accountId,
      data: { ledger: options.ledger, before: before.overdraftLimit, after: options.limit },
    });
    return {
      accountId: row.accountId,
      ledger: row.ledger,
      balance: row.balance,
      overdraftLimit: row.overdraftLimit,
    };
  });
}
