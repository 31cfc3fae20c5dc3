/**
 * Payment methods as data: who confirms a payment, whether it settles at once or later, whether a mandate
 * or an ops decision is needed, and the Stripe type it is settled through. A new method (SEPA Direct Debit)
 * is switched on here (`offered`) once the payment layer and the workflows handle it; PaymentIntents name
 * the Stripe types of the offered methods only (`payment_method_types`), so a method switched on in the
 * Stripe dashboard cannot reach code that does not handle it.
 */
import type { PaymentMethodKind } from './licence';

export type PaymentMethodId = 'CARD' | 'SEPA_DEBIT' | 'CHEQUE' | 'TRANSFER' | 'FREE';

export interface PaymentMethodRules {
  /** who makes the payment happen: the customer (card page, bank), ops (cheque received), nobody (free) */
  confirmedBy: 'CUSTOMER' | 'OPS' | 'NOBODY';
  /** IMMEDIATE: the charge's answer is final; LATER: it is pending until the provider's webhook tells */
  settlement: 'IMMEDIATE' | 'LATER';
  /** a mandate signed by the customer before the first debit (SEPA) */
  needsMandate: boolean;
  /** the purchase waits for an ops decision (payment received, free licence approved) */
  needsOpsDecision: boolean;
  /** charged again without the customer (renewals, changes) */
  reusableOffSession: boolean;
  /** the Stripe payment method type, for methods Stripe settles */
  stripeType?: 'card' | 'sepa_debit';
  /** handled end to end today */
  offered: boolean;
}

export const PAYMENT_METHODS: Record<PaymentMethodId, PaymentMethodRules> = {
  CARD: {
    confirmedBy: 'CUSTOMER',
    settlement: 'IMMEDIATE',
    needsMandate: false,
    needsOpsDecision: false,
    reusableOffSession: true,
    stripeType: 'card',
    offered: true,
  },
  SEPA_DEBIT: {
    confirmedBy: 'CUSTOMER',
    settlement: 'LATER',
    needsMandate: true,
    needsOpsDecision: false,
    reusableOffSession: true,
    stripeType: 'sepa_debit',
    offered: true,
  },
  CHEQUE: {
    confirmedBy: 'OPS',
    settlement: 'LATER',
    needsMandate: false,
    needsOpsDecision: true,
    reusableOffSession: false,
    offered: true,
  },
  TRANSFER: {
    confirmedBy: 'OPS',
    settlement: 'LATER',
    needsMandate: false,
    needsOpsDecision: true,
    reusableOffSession: false,
    offered: true,
  },
  FREE: {
    confirmedBy: 'NOBODY',
    settlement: 'IMMEDIATE',
    needsMandate: false,
    needsOpsDecision: true,
    reusableOffSession: false,
    offered: true,
  },
};

/**
 * The method behind a purchase's payment kind. `ONLINE` is paid on the payment page, by card or by SEPA
 * Direct Debit (the customer chooses there; both settle through Stripe): its rules are the card's — a SEPA
 * debit's later settlement is the payment layer's PENDING answer, and its mandate is kept by the page.
 */
export function paymentMethodOf(kind: PaymentMethodKind): PaymentMethodId {
  return kind === 'ONLINE' ? 'CARD' : kind;
}

export function rulesOf(kind: PaymentMethodKind): PaymentMethodRules {
  return PAYMENT_METHODS[paymentMethodOf(kind)];
}

/** The Stripe types a PaymentIntent may be paid with: those of the offered methods Stripe settles. */
export function stripePaymentMethodTypes(): ('card' | 'sepa_debit')[] {
  return Object.values(PAYMENT_METHODS)
    .filter((m) => m.offered && m.stripeType)
    .map((m) => m.stripeType!);
}

/**
 * The payment layer's answer to a charge (activities/payments.ts `collectPayment`):
 * - SUCCEEDED: the money is taken (`provider: 'NONE'` for a zero amount, settled without Stripe);
 * - DECLINED: refused, with the provider's codes (the dunning schedule acts on it);
 * - PENDING: accepted, settles later; the provider's webhook tells the end (paymentResultSignal);
 * - NEEDS_CUSTOMER: the customer must act (3-D Secure authentication) on this PaymentIntent; what to send
 *   them (the client secret for a payment page) is read from Stripe when needed, never kept in workflow state.
 */
export type PaymentOutcome =
  | { outcome: 'SUCCEEDED'; provider: 'STRIPE' | 'NONE'; reference: string; amountCents: number }
  | { outcome: 'DECLINED'; code: string; declineCode?: string; message?: string; paymentIntentId?: string }
  | { outcome: 'PENDING'; paymentIntentId: string }
  | { outcome: 'NEEDS_CUSTOMER'; paymentIntentId: string; action: 'AUTHENTICATE' };
