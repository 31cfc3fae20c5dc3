import type { PrismaClient } from '../../infra/prisma';
import type { Actor } from '../actor';
import { fingerprintOf, creditEntryView, postCreditEntry } from '../credits/post-credit-entry';
import { requireActiveAccount } from '../credits/read-ledger';
import { formatEuros } from '../../domain/money';

export interface WalletChargeRequest {
  /** the client's key: a retry gets the first answer, another request with it is refused */
  idempotencyKey: string;
  /** e.g. `sms`, `apf`, or an app's monthly fee label */
  type: string;
  /** positive, in cents: what is taken from the wallet */
  amountCents: number;
  description?: string;
  site?: string;
  staff?: string;
  baseId?: string;
  /** when the consumption happened in the ERP; default now */
  occurredAt?: string;
}

/** The wallet key of a client charge, scoped by account: two accounts may pick the same key. */
export const walletChargeKey = (accountId: number, clientKey: string) =>
  `wallet-charge:${accountId}:${clientKey}`;

/**
 * Spends wallet credits (SMS, APF requests, ...). Refused with INSUFFICIENT_CREDIT, nothing written, when
 * the balance (plus the overdraft limit) does not cover it. Idempotent on the client's key.
 */
export async function chargeWallet(
  prisma: PrismaClient,
  actor: Actor,
  options: { accountId: number; request: WalletChargeRequest },
) {
  const { accountId, request } = options;
  await requireActiveAccount(prisma, accountId);
  const { idempotencyKey, ...asked } = request;
  const posted = await prisma.$transaction((tx) =>
    postCreditEntry(tx, actor, {
      accountId,
      ledger: 'WALLET',
      idempotencyKey: walletChargeKey(accountId, idempotencyKey),
      fingerprint: fingerprintOf({ ...asked }),
      amount: -request.amountCents,
      type: request.type,
      description: request.description,
      site: request.site,
      staff: request.staff,
      baseId: request.baseId,
      occurredAt: request.occurredAt ? new Date(request.occurredAt) : new Date(),
    }),
  );
  return {
    created: !posted.replayed,
    entry: { ...creditEntryView(posted.entry), value: formatEuros(posted.entry.amount) },
    balanceCents: posted.balance,
    credits: formatEuros(posted.balance),
  };
}
