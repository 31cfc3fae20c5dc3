/**
 * Monthly app fees the wallet could not pay (SPEC §6). What happens to them, decided here:
 *
 * - the refusal is recorded (`UnpaidAppFee`, one row per app and month) and the account is mailed once
 *   ("recharge your credits": the fees due, the balance, the amount missing);
 * - ops list them (`GET /ops/app-fees/unpaid`);
 * - each is retried at every monthly run (before the month's fees) and right after every wallet recharge,
 *   with the fee's own idempotency key `app-fee:<account>:<app>:<month>`: a month is never charged twice,
 *   whoever retries it and however often;
 * - the app is not suspended: the fee stays due and ops decide (the ERP reads the list).
 *
 * A retried fee is dated when it is finally charged, so it appears in that month's consumption invoice.
 */
import { appFeeKey } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import type { Db, PrismaClient } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { postCreditEntry } from './post-credit-entry';

export interface RefusedFee {
  accountId: number;
  accountAppId: string;
  month: string;
  amountCents: number;
  label: string;
}

/** Records a refusal (first one, or one more attempt of a fee already unpaid). */
export async function recordRefusedAppFee(db: Db, fee: RefusedFee, at: Date): Promise<void> {
  await db.unpaidAppFee.upsert({
    where: { accountAppId_month: { accountAppId: fee.accountAppId, month: fee.month } },
    create: { ...fee, lastTriedAt: at },
    update: { lastTriedAt: at, attempts: { increment: 1 } },
  });
}

/** A fee charged (by the month's run or a retry) is no longer unpaid. */
export async function markAppFeePaid(
  db: Db,
  fee: { accountAppId: string; month: string; creditEntryId: bigint },
  at: Date,
): Promise<boolean> {
  const updated = await db.unpaidAppFee.updateMany({
    where: { accountAppId: fee.accountAppId, month: fee.month, paidAt: null },
    data: { paidAt: at, lastTriedAt: at, creditEntryId: fee.creditEntryId },
  });
  return updated.count > 0;
}

export type RetryOutcome = 'PAID' | 'STILL_UNPAID';

/**
 * Retries the unpaid fees of one account, oldest month first, each in its own transaction; stops at the
 * first one the wallet still can't pay (the later ones would not pass either, and the order is kept).
 */
export async function retryUnpaidAppFees(
  prisma: PrismaClient,
  actor: Actor,
  input: { accountId: number; at: Date },
): Promise<{ paid: number; stillUnpaid: number }> {
  const fees = await prisma.unpaidAppFee.findMany({
    where: { accountId: input.accountId, paidAt: null },
    orderBy: [{ month: 'asc' }, { refusedAt: 'asc' }],
  });
  let paid = 0;
  for (const [i, fee] of fees.entries()) {
    const key = appFeeKey(fee.accountId, fee.accountAppId, fee.month);
    try {
      await prisma.$transaction(async (tx) => {
        const posted = await postCreditEntry(tx, actor, {
          accountId: fee.accountId,
          ledger: 'WALLET',
          idempotencyKey: key,
          fingerprint: key,
          amount: -fee.amountCents,
          type: fee.label,
          description: `${fee.label} ${fee.month} (impayé)`,
          occurredAt: input.at,
        });
        await markAppFeePaid(
          tx,
          { accountAppId: fee.accountAppId, month: fee.month, creditEntryId: posted.entry.id },
          input.at,
        );
        await audit(tx, actor, {
          action: 'app_fee.unpaid_charged',
          entityType: 'ACCOUNT_APP',
          entityId: fee.accountAppId,
          data: { month: fee.month, amountCents: fee.amountCents, replayed: posted.replayed },
        });
      });
      paid += 1;
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'INSUFFICIENT_CREDIT')) throw error;
      const { accountId, accountAppId, month, amountCents, label } = fee;
      await recordRefusedAppFee(prisma, { accountId, accountAppId, month, amountCents, label }, input.at);
      return { paid, stillUnpaid: fees.length - i };
    }
  }
  return { paid, stillUnpaid: 0 };
}

/** Accounts with unpaid fees, in id order after `afterId` (a run retries them page by page). */
export async function accountsWithUnpaidFees(
  db: Db,
  input: { afterId?: number; limit: number },
): Promise<number[]> {
  const rows = await db.unpaidAppFee.findMany({
    where: { paidAt: null, accountId: { gt: input.afterId ?? 0 } },
    distinct: ['accountId'],
    select: { accountId: true },
    orderBy: { accountId: 'asc' },
    take: input.limit,
  });
  return rows.map((r) => r.accountId);
}

/** For ops: fees still unpaid (of one month, or all), oldest first, with the account's email and balance. */
export async function listUnpaidAppFees(db: Db, input: { month?: string }) {
  const fees = await db.unpaidAppFee.findMany({
    where: { paidAt: null, ...(input.month ? { month: input.month } : {}) },
    orderBy: [{ month: 'asc' }, { accountId: 'asc' }, { refusedAt: 'asc' }],
  });
  const accountIds = [...new Set(fees.map((f) => f.accountId))];
  const [accounts, balances] = await Promise.all([
    db.account.findMany({
      where: { id: { in: accountIds } },
      select: { id: true, email: true, companyName: true },
    }),
    db.creditBalance.findMany({ where: { accountId: { in: accountIds }, ledger: 'WALLET' } }),
  ]);
  const accountOf = new Map(accounts.map((a) => [a.id, a]));
  const balanceOf = new Map(balances.map((b) => [b.accountId, b.balance]));
  return fees.map((f) => ({
    id: f.id,
    accountId: f.accountId,
    companyName: accountOf.get(f.accountId)?.companyName ?? null,
    email: accountOf.get(f.accountId)?.email ?? null,
    accountAppId: f.accountAppId,
    label: f.label,
    month: f.month,
    amountCents: f.amountCents,
    walletBalanceCents: balanceOf.get(f.accountId) ?? 0,
    refusedAt: f.refusedAt.toISOString(),
    lastTriedAt: f.lastTriedAt.toISOString(),
    attempts: f.attempts,
    notifiedAt: f.notifiedAt?.toISOString() ?? null,
  }));
}
