/**
 * What the HTTP answers say about a subscription: the licence's terms, status and dates, and what is
 * pending (a purchase, a failed renewal). Never the workflow's internals (Stripe ids, period indexes).
 */
import { renewalPaymentUrl, type EmailLinkSettings } from '../payments/payment-link';
import { normaliseExtensions } from '../../domain/extensions';
import type { LicenceTerms, OfflinePayee, PaymentMethodKind } from '../../domain/licence';
import { nthPeriod, type LocalDate } from '../../domain/periods';
import type {
  ChargeReceipt,
  OfflineRenewal,
  SubscriptionState,
  SubscriptionStatus,
} from '../../workflows/subscription';

export interface SubscriptionView {
  baseId: string;
  licenceId: string;
  status: SubscriptionStatus;
  edition: LicenceTerms['edition'];
  mode: LicenceTerms['mode'];
  connections: number;
  period: LicenceTerms['period'];
  extensions: string[];
  /** a change recorded for the period end: the terms from the next period on */
  scheduledChange: { terms: Required<LicenceTerms>; requestedOn: LocalDate } | null;
  paymentMethod: PaymentMethodKind;
  autoRenew: boolean;
  /** the current period, once active: first day and the day after the last */
  periodStart: LocalDate | null;
  periodEnd: LocalDate | null;
  /** the end of the last period paid for (after the current one when renewed ahead) */
  paidUntil: LocalDate | null;
  /** a failed renewal being retried; `customerActionRequired`: the bank wants the customer to confirm */
  dunning: {
    failures: number;
    nextAttemptOn: LocalDate | null;
    lastFailure: string | null;
    customerActionRequired: boolean;
  } | null;
  /** cheque/transfer: the invoice to pay of the next period, once mailed (offline-renewals.md) */
  invoiceToPay: InvoiceToPayView | null;
}

export interface InvoiceToPayView {
  amountCents: number;
  dueOn: LocalDate;
  /** the period it pays: first day and the day after the last */
  periodStart: LocalDate;
  periodEnd: LocalDate;
  issuedOn: LocalDate;
  remindersSent: number;
  /** ops confirmed its receipt: the period is being recorded */
  paid: boolean;
}

/** Renew now by a cheque or transfer payer: what to pay, by when, where, with which reference. */
export interface InvoiceToPayAnswer extends InvoiceToPayView {
  /** to write on the cheque's back or in the transfer */
  reference: string;
  payee: OfflinePayee;
}

export interface ChargeReceiptView {
  /**
   * PAID: charged and applied; ACTION_REQUIRED: applied once the customer pays at `payment.paymentUrl`;
   * INVOICE_TO_PAY (cheque/transfer): nothing charged, applied once ops confirm the payment of `invoiceToPay`;
   * PROCESSING (SEPA): the debit submitted, applied when the bank settles it
   */
  status: 'PAID' | 'ACTION_REQUIRED' | 'INVOICE_TO_PAY' | 'PROCESSING';
  invoiceNumber: string | null;
  amountCents: number;
  subscription: SubscriptionView;
  payment?: { paymentIntentId: string; paymentUrl?: string; expiresAt?: string };
  invoiceToPay?: InvoiceToPayAnswer;
}

function invoiceToPayView(r: OfflineRenewal): InvoiceToPayView {
  return {
    amountCents: r.amountCents,
    dueOn: r.dueOn,
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
    issuedOn: r.issuedOn,
    remindersSent: r.remindersSent,
    paid: r.confirmed !== undefined,
  };
}

export function toSubscriptionView(s: SubscriptionState): SubscriptionView {
  const paidUntil =
    s.anchorDate && s.paidThroughIndex >= 0
      ? nthPeriod(s.anchorDate, s.terms.period, s.paidThroughIndex).end
      : (s.periodEnd ?? null);
  return {
    baseId: s.baseId,
    licenceId: s.licenceId,
    status: s.status,
    edition: s.terms.edition,
    mode: s.terms.mode,
    connections: s.terms.connections,
    period: s.terms.period,
    extensions: normaliseExtensions(s.terms.extensions),
    scheduledChange: s.scheduledChange
      ? {
          terms: {
            ...s.scheduledChange.terms,
            extensions: normaliseExtensions(s.scheduledChange.terms.extensions),
          },
          requestedOn: s.scheduledChange.requestedOn,
        }
      : null,
    paymentMethod: s.paymentMethod,
    autoRenew: s.autoRenew,
    periodStart: s.periodStart ?? null,
    periodEnd: s.periodEnd ?? null,
    paidUntil: s.status === 'ACTIVE' || s.status === 'PAST_DUE' ? paidUntil : null,
    dunning: s.dunning
      ? {
          failures: s.dunning.failures,
          nextAttemptOn: s.dunning.nextAttemptOn ?? null,
          lastFailure: s.dunning.lastFailure ?? null,
          customerActionRequired: s.dunning.awaitingCustomer !== undefined,
        }
      : null,
    invoiceToPay: s.offlineRenewal ? invoiceToPayView(s.offlineRenewal) : null,
  };
}

/**
 * A charge waiting for the customer (3-D Secure) answers the signed URL of its payment page (a `RENEWAL`
 * link: the licence's charge), when the page is configured.
 */
export function toChargeReceiptView(
  r: ChargeReceipt,
  links?: EmailLinkSettings,
  payee?: OfflinePayee,
): ChargeReceiptView {
  const pending = r.actionRequired;
  if (r.invoiceToPay && payee) {
    return {
      status: 'INVOICE_TO_PAY',
      invoiceNumber: null,
      amountCents: r.amountCents,
      subscription: toSubscriptionView(r.state),
      invoiceToPay: { ...invoiceToPayView(r.invoiceToPay), reference: r.state.licenceId, payee },
    };
  }
  if (r.processing) {
    return {
      status: 'PROCESSING',
      invoiceNumber: null,
      amountCents: r.amountCents,
      subscription: toSubscriptionView(r.state),
      payment: { paymentIntentId: r.processing.paymentIntentId },
    };
  }
  return {
    status: pending ? 'ACTION_REQUIRED' : 'PAID',
    invoiceNumber: r.invoiceNumber,
    amountCents: r.amountCents,
    subscription: toSubscriptionView(r.state),
    ...(pending
      ? {
          payment: {
            paymentIntentId: pending.paymentIntentId,
            ...(links
              ? { paymentUrl: renewalPaymentUrl(links, r.state.licenceId, pending.paymentIntentId) }
              : {}),
            expiresAt: new Date(pending.expiresAtMs).toISOString(),
          },
        }
      : {}),
  };
}
