/**
 * The one way a support-time or wallet movement is written (SPEC §7): an append-only `CreditEntry` keyed by
 * a unique idempotency key, and the account's cached balance, in the caller's transaction.
 *
 * Concurrency: the balance row of (account, ledger) is locked (`SELECT ... FOR UPDATE`) before anything is
 * read, so concurrent movements on one ledger run one after the other: the overdraft check sees the balance
 * every earlier movement left, and two requests with the same key cannot both insert (the second finds the
 * first's entry once it gets the lock). Different accounts never wait for each other.
 */
import crypto from 'node:crypto';
import { movementAllowed, type CreditLedger } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import type { CreditEntry } from '../../generated/prisma/client';
import type { Db } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';

export interface CreditMovement {
  accountId: number;
  ledger: CreditLedger;
  idempotencyKey: string;
  /** signed: seconds or cents credited (> 0) or charged (< 0) */
  amount: number;
  type: string;
  description?: string;
  site?: string;
  staff?: string;
  baseId?: string;
  occurredAt: Date;
  creditPurchaseId?: string;
  supportCallId?: string;
  /** what identifies the request behind the key; defaults to the movement itself */
  fingerprint?: string;
}

export interface PostedEntry {
  entry: CreditEntry;
  /** the balance right after this entry */
  balance: number;
  /** the key was seen before: this is the first result, nothing new was written */
  replayed: boolean;
}

/** SHA-256 of a value's JSON with sorted keys: the same request always gives the same print. */
export function fingerprintOf(value: Record<string, unknown>): string {
  const sorted = Object.fromEntries(
    Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => [k, value[k]]),
  );
  return crypto.createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Makes sure the balance row exists, then locks it for the rest of the transaction. */
export async function lockBalance(
  tx: Db,
  accountId: number,
  ledger: CreditLedger,
): Promise<{ balance: number; overdraftLimit: number }> {
  await tx.$executeRaw`
    INSERT INTO "CreditBalance" ("accountId", "ledger", "balance", "overdraftLimit", "updatedAt")
    VALUES (${accountId}, ${ledger}::"CreditLedger", 0, 0, NOW())
    ON CONFLICT ("accountId", "ledger") DO NOTHING`;
  const [row] = await tx.$queryRaw<{ balance: number; overdraftLimit: number }[]>`
    SELECT "balance", "overdraftLimit" FROM "CreditBalance"
    WHERE "accountId" = ${accountId} AND "ledger" = ${ledger}::"CreditLedger"
    FOR UPDATE`;
  if (!row) throw new Error(`no balance row for account ${accountId} ${ledger}`);
  return row;
}

/**
 * Writes one movement, or returns the first result of its idempotency key. Refuses (nothing written) a
 * charge beyond the overdraft limit (INSUFFICIENT_CREDIT) and a key reused for another request
 * (IDEMPOTENCY_KEY_REUSED). MUST run inside a transaction.
 */
export async function postCreditEntry(tx: Db, actor: Actor, movement: CreditMovement): Promise<PostedEntry> {
  if ('$transaction' in tx) throw new Error('postCreditEntry must run inside a transaction');
  if (!Number.isSafeInteger(movement.amount) || movement.amount === 0)
    throw new Error(`a credit movement is a non-zero integer, got ${movement.amount}`);
  const { idempotencyKey: _key, fingerprint: given, occurredAt: _at, ...what } = movement;
  const fingerprint = given ?? fingerprintOf(what);

  const locked = await lockBalance(tx, movement.accountId, movement.ledger);
  const existing = await tx.creditEntry.findUnique({ where: { idempotencyKey: movement.idempotencyKey } });
  if (existing) {
    if (
      existing.fingerprint !== fingerprint ||
      existing.accountId !== movement.accountId ||
      existing.ledger !== movement.ledger
    ) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for a different request');
    }
    return { entry: existing, balance: existing.balanceAfter, replayed: true };
  }
  if (!movementAllowed(locked.balance, movement.amount, locked.overdraftLimit)) {
    throw new AppError(
      'INSUFFICIENT_CREDIT',
      movement.ledger === 'WALLET'
        ? 'Not enough credits in the wallet for this charge'
        : 'Not enough support time left for this call',
      {
        ledger: movement.ledger,
        balance: locked.balance,
        amount: movement.amount,
        overdraftLimit: locked.overdraftLimit,
      },
    );
  }
  const balance = locked.balance + movement.amount;
  const entry = await tx.creditEntry.create({
    data: {
      accountId: movement.accountId,
      ledger: movement.ledger,
      idempotencyKey: movement.idempotencyKey,
      fingerprint,
      amount: movement.amount,
      balanceAfter: balance,
      type: movement.type,
      description: movement.description,
      site: movement.site,
      staff: movement.staff,
      baseId: movement.baseId,
      occurredAt: movement.occurredAt,
      creditPurchaseId: movement.creditPurchaseId,
      supportCallId: movement.supportCallId,
      actorType: actor.type,
      actorId: actor.id,
    },
  });
  await tx.creditBalance.update({
    where: { accountId_ledger: { accountId: movement.accountId, ledger: movement.ledger } },
    data: { balance },
  });
  await audit(tx, actor, {
    action: `${movement.ledger === 'WALLET' ? 'wallet' : 'support_time'}.${movement.amount > 0 ? 'credited' : 'charged'}`,
    entityType: 'CREDIT_ENTRY',
    entityId: entry.id.toString(),
    data: { accountId: movement.accountId, amount: movement.amount, type: movement.type, balance },
  });
  return { entry, balance, replayed: false };
}

/** An entry as the API shows it. `value` is the amount in the ledger's unit (credits or minutes) for display. */
export function creditEntryView(entry: CreditEntry) {
  return {
    id: entry.id.toString(),
    at: entry.occurredAt.toISOString(),
    type: entry.type,
    description: entry.description,
    site: entry.site,
    staff: entry.staff,
    baseId: entry.baseId,
    amount: entry.amount,
    balanceAfter: entry.balanceAfter,
    creditPurchaseId: entry.creditPurchaseId,
    supportCallId: entry.supportCallId,
  };
}

export type CreditEntryView = ReturnType<typeof creditEntryView>;
