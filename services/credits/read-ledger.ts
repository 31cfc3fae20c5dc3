/**
 * Balances and movements of an account's support time and wallet, as the ERP screens show them: the
 * balance, and the movements newest first (date-time, site, staff, type, value), paginated by cursor.
 */
import type { CreditLedger } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import { formatDuration } from '../../domain/credits';
import { formatEuros } from '../../domain/money';
import type { Db } from '../../infra/prisma';
import { creditEntryView } from './post-credit-entry';

/** The account must exist and be confirmed to hold credits. */
export async function requireActiveAccount(db: Db, accountId: number) {
  const account = await db.account.findUnique({ where: { id: accountId } });
  if (!account || account.status !== 'ACTIVE')
    throw new AppError('ACCOUNT_NOT_FOUND', `No confirmed account ${accountId}`);
  return account;
}

export async function readBalance(db: Db, accountId: number, ledger: CreditLedger) {
  const row = await db.creditBalance.findUnique({ where: { accountId_ledger: { accountId, ledger } } });
  return { balance: row?.balance ?? 0, overdraftLimit: row?.overdraftLimit ?? 0 };
}

export async function getWalletBalance(db: Db, accountId: number) {
  await requireActiveAccount(db, accountId);
  const { balance, overdraftLimit } = await readBalance(db, accountId, 'WALLET');
  return {
    accountId,
    balanceCents: balance,
    /** 1 credit = 1 EUR */
    credits: formatEuros(balance),
    overdraftLimitCents: overdraftLimit,
    currency: 'EUR' as const,
  };
}

export async function getSupportTimeBalance(db: Db, accountId: number) {
  await requireActiveAccount(db, accountId);
  const { balance, overdraftLimit } = await readBalance(db, accountId, 'SUPPORT_TIME');
  return {
    accountId,
    balanceSeconds: balance,
    balance: formatDuration(balance),
    overdraftLimitSeconds: overdraftLimit,
  };
}

interface Cursor {
  at: Date;
  id: bigint;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.at.toISOString()}|${c.id}`).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  const [at, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || !/^\d+$/.test(id) || Number.isNaN(date.getTime())) {
    throw new AppError('VALIDATION_FAILED', 'The request is invalid', {
      fields: [{ path: 'query.cursor', message: 'not a cursor this API gave' }],
    });
  }
  return { at: date, id: BigInt(id) };
}

/** Movements newest first; `nextCursor` fetches the following page (null on the last one). */
export async function listCreditEntries(
  db: Db,
  options: { accountId: number; ledger: CreditLedger; limit: number; cursor?: string },
) {
  await requireActiveAccount(db, options.accountId);
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const where = { accountId: options.accountId, ledger: options.ledger };
  const rows = await db.creditEntry.findMany({
    where: after
      ? {
          ...where,
          OR: [{ occurredAt: { lt: after.at } }, { occurredAt: after.at, id: { lt: after.id } }],
        }
      : where,
    orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
    take: options.limit + 1,
  });
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  const total = await db.creditEntry.count({ where });
  return {
    total,
    items: page.map((entry) => ({
      ...creditEntryView(entry),
      value: options.ledger === 'WALLET' ? formatEuros(entry.amount) : formatDuration(entry.amount),
    })),
    nextCursor:
      rows.length > options.limit && last ? encodeCursor({ at: last.occurredAt, id: last.id }) : null,
  };
}
