/**
 * How much of a credit purchase (support pack or wallet recharge) can be paid back, and how much credit the
 * refund takes back (issue 16 point 2). The credit debited is never more than what is left unused on the
 * account's ledger nor than what the purchase brought: a refund never pays back time or credits already used.
 */

/**
 * The ledger entry type of a refund's debit: credit taken back because its money was paid back, not
 * consumption (a consumption invoice never bills it).
 */
export const REFUND_ENTRY_TYPE = 'refund';

export interface RefundablePurchase {
  /** what the card was charged, VAT included */
  amountCents: number;
  /** what the purchase credited: seconds (support pack) or cents (wallet recharge) */
  creditAmount: number;
}

export interface RefundsSoFar {
  refundedCents: number;
  /** credit already taken back by earlier refunds of this purchase */
  debitedCredit: number;
}

export type RefundRefusal = 'AMOUNT_INVALID' | 'EXCEEDS_UNUSED';

export type RefundDecision =
  | { ok: true; amountCents: number; debitCredit: number }
  | { ok: false; reason: RefundRefusal; refundableCents: number };

/** The credit a refund of `cents` takes back: proportional, rounded up (the buyer never keeps unpaid credit). */
function creditFor(purchase: RefundablePurchase, cents: number): number {
  return Math.ceil((cents * purchase.creditAmount) / purchase.amountCents);
}

/** The most that can be paid back now: the unused part of what is left of the purchase, in cents. */
export function refundableCents(purchase: RefundablePurchase, soFar: RefundsSoFar, balance: number): number {
  const leftCents = purchase.amountCents - soFar.refundedCents;
  const leftCredit = purchase.creditAmount - soFar.debitedCredit;
  if (leftCents <= 0 || leftCredit <= 0 || balance <= 0) return 0;
  if (balance >= leftCredit) return leftCents;
  // part of it is used: pay back only what the unused credit is worth (rounded down)
  return Math.min(leftCents, Math.floor((balance * purchase.amountCents) / purchase.creditAmount));
}

/**
 * Decides a refund of `amountCents` of a purchase, given earlier refunds and the ledger's balance now. The
 * last refund of a purchase takes back exactly the credit left (no rounding drift across partial refunds).
 */
export function decideRefund(
  purchase: RefundablePurchase,
  soFar: RefundsSoFar,
  balance: number,
  amountCents: number,
): RefundDecision {
  const refundable = refundableCents(purchase, soFar, balance);
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0)
    return { ok: false, reason: 'AMOUNT_INVALID', refundableCents: refundable };
  if (amountCents > refundable) return { ok: false, reason: 'EXCEEDS_UNUSED', refundableCents: refundable };
  const leftCredit = purchase.creditAmount - soFar.debitedCredit;
  const debitCredit =
    amountCents === purchase.amountCents - soFar.refundedCents && balance >= leftCredit
      ? leftCredit
      : Math.min(leftCredit, creditFor(purchase, amountCents));
  return { ok: true, amountCents, debitCredit };
}
