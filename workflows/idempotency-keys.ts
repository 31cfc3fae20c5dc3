/**
 * Every idempotency key a workflow sends to the payment provider or writes to a ledger, built from business
 * keys in one place (as `ids.ts` builds the workflow ids). A retried activity, or a workflow replayed after
 * a crash, sends the same key, so nothing is charged, credited or refunded twice. Changing a format changes
 * the commands a running workflow sends: re-record the histories (docs/workflow-versioning.md).
 */
import type { LicenceTerms } from '../domain/licence';
import type { LocalDate } from '../domain/periods';

/** The keys of a payment the customer makes in the payment page (`customer-payment.ts`). */
export interface CustomerPaymentKeys {
  /** the Stripe customer */
  customer: string;
  /** the PaymentIntent */
  intent: string;
  /** its cancellation at the deadline (`settleAtDeadline` numbers its checks) */
  deadline: string;
  /** its cancellation asked before paying */
  cancel: string;
}

const customerPaymentKeys = (customer: string, purchase: string): CustomerPaymentKeys => ({
  customer,
  intent: `${purchase}:intent`,
  deadline: `${purchase}:deadline`,
  cancel: `${purchase}:cancel`,
});

/** subscriptionWorkflow: the licence purchase, its renewals and changes. */
export const subscriptionKeys = {
  /** the purchase by card: the licence's Stripe customer, the purchase's PaymentIntent */
  purchase: (licenceId: string, purchaseId: string) =>
    customerPaymentKeys(`customer:${licenceId}`, `purchase:${purchaseId}`),
  /** the purchase's payment recorded at activation */
  purchasePayment: (purchaseId: string) => `purchase:${purchaseId}`,
  /** the reference of a zero-price purchase settled without a provider */
  freePurchaseReference: (purchaseId: string) => `none:purchase:${purchaseId}`,
  /** one attempt at paying the period starting on `periodStart`: `attempt` is the dunning attempt or `manual:<index>` */
  renewal: (licenceId: string, periodStart: LocalDate, attempt: string) =>
    `renewal:${licenceId}:${periodStart}:${attempt}`,
  /** an attempt's PaymentIntent left waiting for the customer (3-D Secure), cancelled before the next one */
  closeAwaitingCharge: (attemptKey: string) => `${attemptKey}:close`,
  /** the attempt part of a manual renewal of the period after `periodIndex` */
  manualRenewalAttempt: (periodIndex: number) => `manual:${periodIndex + 1}`,
  /**
   * a change or renew-now asked again after its charge waiting for the customer was dropped (`dropped`: how
   * many were): a new PaymentIntent, not the cancelled one Stripe would answer for the same key
   */
  afterDropped: (key: string, dropped: number | undefined) => (dropped ? `${key}:retry${dropped}` : key),
  /** a change of edition, mode, connections or extensions on a day, charged at once */
  change: (
    licenceId: string,
    day: LocalDate,
    next: Pick<LicenceTerms, 'edition' | 'mode' | 'connections' | 'extensions'>,
  ) =>
    `change:${licenceId}:${day}:${next.edition}:${next.mode}:${next.connections}` +
    (next.extensions?.length ? `:${next.extensions.join('+')}` : ''),
} as const;

/** creditPurchaseWorkflow: a support pack or wallet recharge paid by card. */
export const creditPurchaseKeys = {
  payment: (purchaseId: string) =>
    customerPaymentKeys(`credit-customer:${purchaseId}`, `credit-purchase:${purchaseId}`),
  refund: (purchaseId: string) => `credit-purchase:${purchaseId}:refund`,
} as const;

/** refundWorkflow: money paid back on a payment, each step once. */
export const refundKeys = {
  /** the debit entry taking the unused credit back from the ledger */
  debit: (workflowKey: string) => `${workflowKey}:debit`,
  /** the credit note (avoir) of the refund */
  creditNote: (workflowKey: string) => `${workflowKey}:credit-note`,
  /** the provider's refund, keyed from our Refund row */
  provider: (refundId: string) => `refund:${refundId}:provider`,
} as const;
