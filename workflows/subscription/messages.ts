/**
 * What the outside sees of a subscriptionWorkflow: its state's shape, its input, and the query and updates
 * that services send it (the webhook's `paymentResultSignal` is in ../payment-messages.ts).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { PaymentMethodKind, LicenceTerms } from '../../domain/licence';
import type { LocalDate } from '../../domain/periods';
import type { ChargeOptions } from '../../domain/price-fingerprint';
import type { Quote } from '../../domain/quote';
import type { DisputeLost } from './dispute-messages';
import type { PeriodEndChangeRequest, ScheduledChange } from '../../domain/scheduled-change';

export type SubscriptionStatus =
  | 'AWAITING_PAYMENT'
  | 'AWAITING_OPS'
  | 'ACTIVE'
  | 'PAST_DUE'
  | 'ENDED'
  | 'SUSPENDED'
  | 'CANCELLED'
  | 'REJECTED';

export interface SubscriptionState {
  baseId: string;
  licenceId: string;
  terms: LicenceTerms;
  paymentMethod: PaymentMethodKind;
  autoRenew: boolean;
  status: SubscriptionStatus;
  /** while buying */
  purchase?: {
    purchaseId: string;
    amountCents: number;
    email: string;
    holderName: string;
    paymentIntentId?: string;
    lastFailure?: string;
  };
  /**
   * once active: periods are nthPeriod(anchorDate, period, index); index -1 is an opening period given by
   * periodStart/periodEnd (a licence migrated from v15), whose end is the anchor
   */
  anchorDate?: LocalDate;
  periodIndex: number;
  /** the last period paid for (ahead of periodIndex after a manual renewal) */
  paidThroughIndex: number;
  periodStart?: LocalDate;
  periodEnd?: LocalDate;
  customerId?: string;
  paymentMethodId?: string;
  dunning?: {
    failures: number;
    nextAttemptOn?: LocalDate;
    lastFailure?: string;
    /** the last attempt needs the customer (authentication) on this PaymentIntent; its success renews */
    awaitingCustomer?: { paymentIntentId: string; idempotencyKey: string; quote: Quote };
  };
  /** cheque/transfer: the invoice to pay of the next period, waiting for ops (subscription/offline-renewal.ts) */
  offlineRenewal?: OfflineRenewal;
  /** a dispute on one of its payments was lost: the licence ends now (subscription/dispute.ts) */
  disputeLost?: DisputeLost;
  /** a change recorded for the period end (subscription/scheduled-change.ts): applied when the next period is paid */
  scheduledChange?: ScheduledChange;
  /**
   * a change or renew-now whose charge waits for the customer (3-D Secure) on this PaymentIntent: applied
   * on its success, dropped on its failure or at `expiresAtMs` (subscription/pending-charge.ts)
   */
  pendingCharge?: PendingCharge;
  /** how many such charges were dropped unpaid (their keys are not reused) */
  droppedCharges?: number;
}

export interface PendingCharge {
  kind: 'CHANGE' | 'RENEWAL';
  paymentIntentId: string;
  idempotencyKey: string;
  quote: Quote;
  /** the day the change was asked (its sale date and prorata) */
  saleDate: LocalDate;
  /** CHANGE: the terms applied once paid */
  terms?: LicenceTerms;
  /**
   * unix milliseconds: past it, the PaymentIntent is cancelled at Stripe and nothing is applied; absent for
   * a debit settling (`settling`)
   */
  expiresAtMs?: number;
  /** a SEPA debit submitted: applied when the bank settles it (days), dropped if it fails */
  settling?: boolean;
}

export interface OfflineRenewal {
  dueOn: LocalDate;
  /** the period it pays [periodStart, periodEnd) */
  periodStart: LocalDate;
  periodEnd: LocalDate;
  amountCents: number;
  quote: Quote;
  /** the day it was mailed; NOTICE: before the period end, RENEW_NOW: asked by "renew now" */
  issuedOn: LocalDate;
  origin: 'NOTICE' | 'RENEW_NOW';
  remindersSent: number;
  /** ops confirmed its receipt (cheque number, transfer reference) */
  confirmed?: { by: string; reference: string };
}

export interface SubscriptionWorkflowInput {
  state: SubscriptionState;
}

export type OpsDecision =
  | { decision: 'CONFIRM_PAYMENT'; by: string; reference: string }
  | { decision: 'APPROVE'; by: string }
  | { decision: 'REJECT'; by: string; reason: string }
  /** ops cancel a cheque/transfer purchase (e.g. the buyer gave up); the buyer is told */
  | { decision: 'CANCEL'; by: string; reason: string };

export interface ChargeReceipt {
  invoiceNumber: string | null;
  amountCents: number;
  state: SubscriptionState;
  /** the bank wants the customer to authenticate this PaymentIntent: nothing is applied until they do */
  actionRequired?: { paymentIntentId: string; expiresAtMs: number };
  /** a SEPA debit submitted: nothing is applied until the bank settles it, days later */
  processing?: { paymentIntentId: string };
  /** cheque/transfer: nothing charged; the invoice to pay, the period recorded when ops confirm its receipt */
  invoiceToPay?: OfflineRenewal;
}

export const getSubscriptionStateQuery = defineQuery<SubscriptionState>('getSubscriptionState');
/**
 * ONLINE purchase: waits until the PaymentIntent exists and is noted on the purchase, and answers its id
 * (the client secret is read from Stripe by that id, never kept in the workflow).
 */
export const paymentInstructionsUpdate = defineUpdate<{ paymentIntentId: string }>('paymentInstructions');
export const opsDecisionUpdate = defineUpdate<SubscriptionState, [OpsDecision]>('opsDecision');
export const setAutoRenewUpdate = defineUpdate<SubscriptionState, [boolean]>('setAutoRenew');
/** a charge may carry the fingerprint of its quote: refused with PRICE_CHANGED if the price moved */
export const renewNowUpdate = defineUpdate<ChargeReceipt, [ChargeOptions]>('renewNow');
/** what a change may touch: the billing period stays; extensions are only added (removal: at the period end) */
export type LicenceChange = Partial<Pick<LicenceTerms, 'edition' | 'mode' | 'connections'>> & {
  addExtensions?: string[];
};

export const changeLicenceUpdate = defineUpdate<ChargeReceipt, [LicenceChange, ChargeOptions]>(
  'changeLicence',
);
export const replayPaymentUpdate = defineUpdate<SubscriptionState, [string]>('replayPayment');
/** Records a change for the period end (replacing any earlier one); answers the state with it. */
export const scheduleChangeUpdate = defineUpdate<SubscriptionState, [PeriodEndChangeRequest]>(
  'scheduleChange',
);
/** Cancels the change recorded for the period end, until the renewal applies it. */
export const cancelScheduledChangeUpdate = defineUpdate<SubscriptionState>('cancelScheduledChange');

/**
 * The first state of a purchase's workflow (services never build workflow state by hand): an ONLINE
 * purchase waits for its card payment, the others for ops.
 */
export function purchaseState(input: {
  baseId: string;
  licenceId: string;
  terms: LicenceTerms;
  paymentMethod: PaymentMethodKind;
  autoRenew: boolean;
  purchase: { purchaseId: string; amountCents: number; email: string; holderName: string };
}): SubscriptionState {
  return {
    baseId: input.baseId,
    licenceId: input.licenceId,
    terms: input.terms,
    paymentMethod: input.paymentMethod,
    autoRenew: input.autoRenew,
    status: input.paymentMethod === 'ONLINE' ? 'AWAITING_PAYMENT' : 'AWAITING_OPS',
    purchase: input.purchase,
    periodIndex: 0,
    paidThroughIndex: 0,
  };
}

/**
 * The first state of a free licence already running for an opening period [periodStart, periodEnd) (a v15
 * licence's remaining time moved to A1): period -1, whose end anchors the periods after it.
 */
export function openingPeriodState(input: {
  baseId: string;
  licenceId: string;
  terms: LicenceTerms;
  periodStart: LocalDate;
  periodEnd: LocalDate;
}): SubscriptionState {
  return {
    baseId: input.baseId,
    licenceId: input.licenceId,
    terms: input.terms,
    paymentMethod: 'FREE',
    autoRenew: false,
    status: 'ACTIVE',
    anchorDate: input.periodEnd,
    periodIndex: -1,
    paidThroughIndex: -1,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
  };
}
