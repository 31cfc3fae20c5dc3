/**
 * Refunds as the payment layer keeps them: `Refund` rows, movements of their own next to the payment they
 * pay back (the Payment row is never edited). What a credit purchase can still pay back is decided by
 * `domain/refund.ts` from the ledger's balance and the purchase's earlier refunds; this module reads those.
 */
import type { CreditLedger } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import { decideRefund, refundableCents, type RefundDecision } from '../../domain/refund';
import type { CreditPurchase, Payment, Refund } from '../../generated/prisma/client';
import type { Db } from '../../infra/prisma';

/** The ledger a credit purchase credited. */
export const ledgerOf = (p: Pick<CreditPurchase, 'product'>): CreditLedger =>
  p.product === 'SUPPORT_PACK' ? 'SUPPORT_TIME' : 'WALLET';

/** The paid, credited purchase and its card payment; refused when there is nothing to pay back. */
export async function loadRefundablePurchase(
  db: Db,
  creditPurchaseId: string,
): Promise<{ purchase: CreditPurchase & { accountId: number }; payment: Payment & { providerRef: string } }> {
  const purchase = await db.creditPurchase.findUnique({ where: { id: creditPurchaseId } });
  if (!purchase) throw new AppError('PURCHASE_NOT_FOUND', `No credit purchase ${creditPurchaseId}`);
  const payment =
    purchase.status === 'COMPLETED' && purchase.accountId !== null
      ? await db.payment.findFirst({
          where: { creditPurchaseId, status: 'SUCCEEDED', provider: 'STRIPE', providerRef: { not: null } },
        })
      : null;
  if (!payment || purchase.accountId === null)
    throw new AppError(
      'PURCHASE_NOT_REFUNDABLE',
      `Credit purchase ${purchase.number} is ${purchase.status}: only a purchase paid by card and credited can be refunded`,
      { status: purchase.status },
    );
  return {
    purchase: { ...purchase, accountId: purchase.accountId },
    payment: { ...payment, providerRef: payment.providerRef! },
  };
}

/** What earlier refunds of the purchase paid back and took back (a failed refund counts for nothing). */
export async function refundsSoFar(db: Db, creditPurchaseId: string) {
  const sum = await db.refund.aggregate({
    where: { creditPurchaseId, status: { not: 'FAILED' } },
    _sum: { amountCents: true, debitedCredit: true },
  });
  return { refundedCents: sum._sum.amountCents ?? 0, debitedCredit: sum._sum.debitedCredit ?? 0 };
}

/** The decision for a refund of `amountCents` now, given the ledger's `balance`. */
export async function decideCreditPurchaseRefund(
  db: Db,
  purchase: CreditPurchase,
  balance: number,
  amountCents: number,
): Promise<RefundDecision> {
  return decideRefund(
    { amountCents: purchase.amountCents, creditAmount: purchase.creditAmount },
    await refundsSoFar(db, purchase.id),
    balance,
    amountCents,
  );
}

/** A refused decision as the API answers it. */
export function refusal(decision: Extract<RefundDecision, { ok: false }>, asked: number): AppError {
  if (decision.reason === 'AMOUNT_INVALID')
    return new AppError('VALIDATION_FAILED', 'A refund is a positive whole number of cents', {
      fields: [{ path: 'amountCents', message: 'a positive integer' }],
    });
  return new AppError(
    'REFUND_EXCEEDS_UNUSED',
    `At most ${decision.refundableCents} cents can be refunded (${asked} asked): credit already used is not paid back`,
    { refundableCents: decision.refundableCents },
  );
}

export function refundView(r: Refund) {
  return {
    refundId: r.id,
    kind: r.kind,
    status: r.status,
    paymentId: r.paymentId,
    creditPurchaseId: r.creditPurchaseId,
    amountCents: r.amountCents,
    currency: r.currency,
    debitedCredit: r.debitedCredit,
    creditNoteNumber: r.creditNoteNumber,
    creditNotePdfUrl: r.creditNoteNumber ? `/credit-notes/${r.creditNoteNumber}.pdf` : null,
    provider: r.provider,
    providerRefundId: r.providerRefundId,
    reason: r.reason,
    requestedBy: r.requestedBy,
    createdAt: r.createdAt.toISOString(),
    refundedAt: r.refundedAt?.toISOString() ?? null,
  };
}

export type RefundView = ReturnType<typeof refundView>;

/** The refunds of a credit purchase, oldest first. */
export async function refundsOf(db: Db, creditPurchaseId: string): Promise<RefundView[]> {
  const rows = await db.refund.findMany({ where: { creditPurchaseId }, orderBy: { createdAt: 'asc' } });
  return rows.map(refundView);
}

/** A credit purchase's refund history for ops: what it can still pay back now, and its refunds. */
export async function creditPurchaseRefunds(db: Db, creditPurchaseId: string) {
  const purchase = await db.creditPurchase.findUnique({ where: { id: creditPurchaseId } });
  if (!purchase) throw new AppError('PURCHASE_NOT_FOUND', `No credit purchase ${creditPurchaseId}`);
  let refundable = 0;
  if (purchase.status === 'COMPLETED' && purchase.accountId !== null) {
    const row = await db.creditBalance.findUnique({
      where: { accountId_ledger: { accountId: purchase.accountId, ledger: ledgerOf(purchase) } },
    });
    refundable = refundableCents(
      { amountCents: purchase.amountCents, creditAmount: purchase.creditAmount },
      await refundsSoFar(db, purchase.id),
      row?.balance ?? 0,
    );
  }
  return {
    purchaseId: purchase.id,
    number: purchase.number,
    product: purchase.product,
    status: purchase.status,
    accountId: purchase.accountId,
    amountCents: purchase.amountCents,
    creditAmount: purchase.creditAmount,
    invoiceNumber: purchase.invoiceNumber,
    receiptNumber: purchase.receiptNumber,
    refundableCents: refundable,
    refunds: await refundsOf(db, purchase.id),
  };
}
