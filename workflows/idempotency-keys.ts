/**
 * Every idempotency key a workflow sends to the payment provider or writes to a ledger, built from business
 * keys in one place (as `ids.ts` builds the workflow ids). A retried activity, or a workflow replayed after
 * a crash, sends the same key, so nothing is charged, credited or refunded twice. Changing a format changes
 * the commands a running workflow sends: re-record the histories (docs/workflow-versioning.md).
 */
import type { LicenceTerms } from '../domain/licence';
import type { LocalDate } from '../domain/periods';

/** subscriptionWorkflow: the licence purchase, its renewals and changes. */
export const subscriptionKeys = {
  /** the Stripe customer of a licence */
  customer: (licenceId: string) => `customer:${licenceId}`,
  /** the purchase's PaymentIntent */
  purchaseIntent: (purchaseId: string) => `purchase:${purchaseId}:intent`,
  /** the purchase's PaymentIntent cancelled at its deadline */
  purchaseDeadline: (purchaseId: string) => `purchase:${purchaseId}:deadline`,
  /** the purchase's payment recorded at activation */
  purchasePayment: (purchaseId: string) => `purchase:${purchaseId}`,
  /** the reference of a zero-price purchase settled without a provider */
  freePurchaseReference: (purchaseId: string) => `none:purchase:${purchaseId}`,
  /** one attempt at paying the period starting on `periodStart`: `attempt` is the dunning attempt or `manual:<index>` */
  renewal: (licenceId: string, periodStart: LocalDate, attempt: string) =>
    `renewal:${licenceId}:${periodStart}:${attempt}`,
  /** the attempt part of a manual renewal of the period after `periodIndex` */
  manualRenewalAttempt: (periodIndex: number) => `manual:${periodIndex + 1}`,
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
  customer: (purchaseId: string) => `credit-customer:${purchaseId}`,
  intent: (purchaseId: string) => `credit-purchase:${purchaseId}:intent`,
  deadline: (purchaseId: string) => `credit-purchase:${purchaseId}:deadline`,
  cancel: (purchaseId: string) => `credit-purchase:${purchaseId}:cancel`,
  refund: (purchaseId: string) => `credit-purchase:${purchaseId}:refund`,
} as const;
