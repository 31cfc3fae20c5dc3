/**
 * Side effects of subscriptionWorkflow on our side (Stripe calls are in payments.ts): pricing with the
 * catalogue in force, and every licence change written with its payment, invoice and audit entry in one
 * transaction. Payments are keyed by the workflow's idempotency key, so a retried activity finds its
 * earlier work instead of doing it again.
 */
import { dayOf, type LicenceTerms, type SubscriptionSettings } from '../domain/licence';
import type { LocalDate } from '../domain/periods';
import { normaliseExtensions } from '../domain/extensions';
import type { Quote } from '../domain/quote';
import { Prisma, type Licence } from '../generated/prisma/client';
import type { ViesConsultation } from '../domain/vies';
import type { Mailer } from '../infra/mailer';
import type { Db, PrismaClient } from '../infra/prisma';
import { systemActor } from '../services/actor';
import { audit } from '../services/audit';
import type { BillingSettings } from '../services/deps';
import { issuePaidInvoice } from '../services/invoices/issue-paid-invoice';
import { billingDetailsSchema, buyerOf, type BillingDetails } from '../domain/billing-party';
import { releasePromoRedemption } from '../services/promo-codes/apply-promo-code';
import { trimSessionsIn } from '../services/sessions/trim-sessions';
import { activateMandate } from '../services/payments/sepa-mandates';
import {
  priceChange,
  priceRenewal,
  type ChangePrice,
  type ChangePriceInput,
} from '../services/subscriptions/price-charges';
import type Stripe from 'stripe';
import { type EmailLinkSettings } from '../services/payments/payment-link';
import { licenceMail, type LicenceMailKind } from './licence-mails';
import { classifyStripeErrors } from './stripe-failures';

export interface SubscriptionActivityDeps {
  prisma: PrismaClient;
  mailer: Mailer;
  billing: BillingSettings;
  /** signs the links of the licence mails (3-D Secure of a renewal, card change); none: mails without links */
  emailLinks?: EmailLinkSettings;
  /** reads the saved card's expiry for the renewal reminder; none: not checked */
  stripe?: Stripe;
}

export interface PaymentRecord {
  idempotencyKey: string;
  method: 'ONLINE' | 'CHEQUE' | 'TRANSFER' | 'FREE';
  provider: string;
  reference: string;
  amountCents: number;
}

const actor = systemActor('subscriptionWorkflow');

/** The licence row's columns for its terms. */
const termsColumns = (t: LicenceTerms) => ({
  edition: t.edition,
  mode: t.mode,
  connections: t.connections,
  period: t.period,
  extensions: normaliseExtensions(t.extensions),
});
const termsOfRow = (l: Licence) => ({
  edition: l.edition,
  mode: l.mode,
  connections: l.connections,
  period: l.period,
  extensions: l.extensions,
});

export function createSubscriptionActivities({
  prisma,
  mailer,
  billing,
  emailLinks,
  stripe,
}: SubscriptionActivityDeps) {
  /** `MM/YYYY` when the licence's saved card expires before `day` (the renewal); undefined otherwise */
  async function cardExpiringBefore(
    licenceId: string,
    day: LocalDate | undefined,
  ): Promise<string | undefined> {
    if (!stripe || !day) return undefined;
    const licence = await prisma.licence.findUnique({
      where: { id: licenceId },
      select: { stripePaymentMethodId: true },
    });
    if (!licence?.stripePaymentMethodId) return undefined;
    const method = await classifyStripeErrors(() =>
      stripe.paymentMethods.retrieve(licence.stripePaymentMethodId!),
    );
    const card = method.card;
    if (!card) return undefined;
    // a card is valid through the last day of its expiry month
    const firstDayAfter = `${card.exp_month === 12 ? card.exp_year + 1 : card.exp_year}-${String((card.exp_month % 12) + 1).padStart(2, '0')}-01`;
    return firstDayAfter <= day ? `${String(card.exp_month).padStart(2, '0')}/${card.exp_year}` : undefined;
  }

  async function licenceWithBilling(db: Db, licenceId: string) {
    const licence = await db.licence.findUniqueOrThrow({ where: { id: licenceId } });
    return { licence, billing: billingDetailsSchema.parse(licence.billing) };
  }

  /** Records a successful payment and its paid invoice; returns the existing invoice on a retry. */
  async function recordPaidInvoice(
    tx: Db,
    options: {
      licenceId: string;
      baseId: string;
      purchaseId?: string;
      payment: PaymentRecord;
      quote: Quote;
      buyer: BillingDetails;
      saleDate: LocalDate;
      /** the purchase's VIES consultation, when it reverse-charges */
      viesConsultation?: ViesConsultation;
    },
  ): Promise<string | null> {
    const existing = await tx.payment.findUnique({
      where: { idempotencyKey: options.payment.idempotencyKey },
      include: { invoice: true },
    });
    if (existing) return existing.invoice?.number ?? null;
    const payment = await tx.payment.create({
      data: {
        idempotencyKey: options.payment.idempotencyKey,
        baseId: options.baseId,
        licenceId: options.licenceId,
        purchaseId: options.purchaseId,
        method: options.payment.method,
        provider: options.payment.provider,
        providerRef: options.payment.reference,
        amountCents: options.payment.amountCents,
        status: 'SUCCEEDED',
      },
    });
    if (options.quote.totalInclVatCents === 0) return null; // nothing sold for money: no invoice
    const invoice = await issuePaidInvoice(tx, {
      baseId: options.baseId,
      licenceId: options.licenceId,
      purchaseId: options.purchaseId,
      paymentId: payment.id,
      // issued (and numbered) today; the sale date is when the service period starts
      issueDate: dayOf(Date.now()),
      saleDate: options.saleDate,
      dueDate: dayOf(Date.now()),
      seller: billing.seller,
      buyer: buyerOf(options.buyer),
      lines: options.quote.lines,
      vat: options.quote.vat,
      totals: options.quote,
      paidAt: new Date(),
      viesConsultation: options.viesConsultation,
    });
    return invoice.number;
  }

  /** A successful off-session card charge on a licence: its payment and paid invoice (idempotent by key). */
  async function recordCardCharge(
    tx: Db,
    charge: {
      licenceId: string;
      idempotencyKey: string;
      /** the PaymentIntent, or `none:<key>` for a zero amount settled without Stripe */
      paymentIntentId: string;
      provider?: 'STRIPE' | 'NONE' | 'CHEQUE' | 'TRANSFER';
      /** a cheque/transfer renewal confirmed by ops: the reference is theirs (cheque number, transfer id) */
      method?: PaymentRecord['method'];
      quote: Quote;
      saleDate: LocalDate;
    },
  ) {
    const { licence, billing: buyer } = await licenceWithBilling(tx, charge.licenceId);
    const invoiceNumber = await recordPaidInvoice(tx, {
      licenceId: licence.id,
      baseId: licence.baseId,
      payment: {
        idempotencyKey: charge.idempotencyKey,
        method: charge.method ?? 'ONLINE',
        provider: charge.provider ?? 'STRIPE',
        reference: charge.paymentIntentId,
        amountCents: charge.quote.totalInclVatCents,
      },
      quote: charge.quote,
      buyer,
      saleDate: charge.saleDate,
    });
    return { licence, invoiceNumber };
  }

  return {
    /**
     * The subscription policy in force (dunning schedule, reminders, payment deadlines), read by the workflow
     * when it applies it: a changed setting reaches running subscriptions at their next decision.
     */
    async readSubscriptionPolicy(): Promise<SubscriptionSettings> {
      return {
        renewalReminderDays: billing.renewalReminderDays,
        dunningRetryDays: [...billing.dunningRetryDays],
        offlinePaymentReminderDays: billing.offlinePaymentReminderDays,
        offlinePaymentDeadlineDays: billing.offlinePaymentDeadlineDays,
        onlinePaymentTimeoutHours: billing.onlinePaymentTimeoutHours,
        offlineRenewalNoticeDays: billing.offlineRenewalNoticeDays,
        offlineRenewalGraceDays: billing.offlineRenewalGraceDays,
        offlineRenewalReminderDays: [...billing.offlineRenewalReminderDays],
      };
    },

    /** The price of the next period (services/subscriptions/price-charges.ts: the quote routes price alike). */
    async quoteRenewal(input: {
      licenceId: string;
      terms: LicenceTerms;
      periodStart: LocalDate;
      periodEnd: LocalDate;
    }): Promise<Quote> {
      return priceRenewal(prisma, input);
    },

    /** The prorated price of adding connections or upgrading, as an invoice quote; or why it can't be done. */
    async quoteChange(input: ChangePriceInput): Promise<ChangePrice> {
      return priceChange(prisma, input);
    },

    async notePaymentIntent(input: { purchaseId: string; paymentIntentId: string }): Promise<void> {
      await prisma.purchase.update({
        where: { id: input.purchaseId },
        data: { stripePaymentIntentId: input.paymentIntentId },
      });
    },

    /** Payment received (or free licence approved): licence ACTIVE for its first period, paid invoice. */
    async activateLicence(input: {
      licenceId: string;
      purchaseId: string;
      anchorDate: LocalDate;
      periodStart: LocalDate;
      periodEnd: LocalDate;
      customerId?: string;
      paymentMethodId?: string;
      payment?: PaymentRecord;
    }): Promise<{ invoiceNumber: string | null }> {
      return prisma.$transaction(async (tx) => {
        const { licence, billing: buyer } = await licenceWithBilling(tx, input.licenceId);
        const purchase = await tx.purchase.findUniqueOrThrow({ where: { id: input.purchaseId } });
        const invoiceNumber = input.payment
          ? await recordPaidInvoice(tx, {
              licenceId: licence.id,
              baseId: licence.baseId,
              purchaseId: purchase.id,
              payment: input.payment,
              quote: purchase.quote as unknown as Quote,
              buyer,
              saleDate: input.periodStart,
              viesConsultation: (purchase.viesConsultation ?? undefined) as ViesConsultation | undefined,
            })
          : null;
        if (licence.status === 'PENDING') {
          await tx.licence.update({
            where: { id: licence.id },
            data: {
              status: 'ACTIVE',
              anchorDate: input.anchorDate,
              periodStart: input.periodStart,
              periodEnd: input.periodEnd,
              stripeCustomerId: input.customerId,
              stripePaymentMethodId: input.paymentMethodId,
            },
          });
          await tx.purchase.update({ where: { id: purchase.id }, data: { status: 'COMPLETED' } });
          // paid by SEPA Direct Debit: its mandate is the one the renewals debit
          await activateMandate(tx, licence.id, input.paymentMethodId, new Date());
          await audit(tx, actor, {
            action: 'licence.activated',
            entityType: 'LICENCE',
            entityId: licence.id,
            data: { invoiceNumber, periodEnd: input.periodEnd },
          });
        }
        return { invoiceNumber };
      });
    },

    /** The next period paid: payment, invoice, licence period moved on. */
    async recordRenewal(input: {
      licenceId: string;
      idempotencyKey: string;
      paymentIntentId: string;
      provider?: 'STRIPE' | 'NONE' | 'CHEQUE' | 'TRANSFER';
      method?: PaymentRecord['method'];
      quote: Quote;
      periodStart: LocalDate;
      periodEnd: LocalDate;
      saleDate: LocalDate;
      /** a change scheduled for the period end, applied with this period (anchorDate: a new billing period) */
      terms?: LicenceTerms;
      anchorDate?: LocalDate;
    }): Promise<{ invoiceNumber: string }> {
      return prisma.$transaction(async (tx) => {
        const { licence, invoiceNumber } = await recordCardCharge(tx, input);
        await tx.licence.update({
          where: { id: licence.id },
          data: {
            status: 'ACTIVE',
            periodStart: input.periodStart,
            periodEnd: input.periodEnd,
            ...(input.terms
              ? {
                  ...termsColumns(input.terms),
                  ...(input.anchorDate ? { anchorDate: input.anchorDate } : {}),
                  scheduledChange: Prisma.DbNull,
                }
              : {}),
          },
        });
        if (input.terms) {
          await audit(tx, actor, {
            action: 'licence.scheduled_change_applied',
            entityType: 'LICENCE',
            entityId: licence.id,
            data: { before: termsOfRow(licence), after: input.terms, invoiceNumber },
          });
          // fewer connections from this period on: the oldest extra sessions are closed
          await trimSessionsIn(tx, licence.baseId, actor, 'Licence modifiée à l’échéance');
        }
        await audit(tx, actor, {
          action: 'licence.renewed',
          entityType: 'LICENCE',
          entityId: licence.id,
          data: { invoiceNumber, periodEnd: input.periodEnd },
        });
        return { invoiceNumber: invoiceNumber! };
      });
    },

    /** Connections added or edition/mode upgraded, paid prorata. */
    async applyChange(input: {
      licenceId: string;
      idempotencyKey: string;
      paymentIntentId: string;
      provider?: 'STRIPE' | 'NONE';
      terms: LicenceTerms;
      quote: Quote;
      saleDate: LocalDate;
    }): Promise<{ invoiceNumber: string }> {
      return prisma.$transaction(async (tx) => {
        const { licence, invoiceNumber } = await recordCardCharge(tx, input);
        const before = termsOfRow(licence);
        await tx.licence.update({ where: { id: licence.id }, data: termsColumns(input.terms) });
        await audit(tx, actor, {
          action: 'licence.changed',
          entityType: 'LICENCE',
          entityId: licence.id,
          data: { before, after: input.terms, invoiceNumber },
        });
        // fewer connections than open sessions: the oldest extra sessions are closed
        await trimSessionsIn(tx, licence.baseId, actor, 'Licence modifiée');
        return { invoiceNumber: invoiceNumber! };
      });
    },

    /** A declined charge, kept in the payment ledger (once per attempt). */
    async recordFailedPayment(input: {
      licenceId: string;
      idempotencyKey: string;
      amountCents: number;
      failureCode: string;
    }): Promise<void> {
      const licence = await prisma.licence.findUniqueOrThrow({ where: { id: input.licenceId } });
      await prisma.payment.upsert({
        where: { idempotencyKey: input.idempotencyKey },
        create: {
          idempotencyKey: input.idempotencyKey,
          baseId: licence.baseId,
          licenceId: licence.id,
          method: 'ONLINE',
          provider: 'STRIPE',
          amountCents: input.amountCents,
          status: 'FAILED',
          failureCode: input.failureCode,
        },
        update: {},
      });
    },

    async markPastDue(input: {
      licenceId: string;
      failures: number;
      nextAttemptOn: LocalDate;
      reason: string;
    }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.licence.update({ where: { id: input.licenceId }, data: { status: 'PAST_DUE' } });
        await audit(tx, actor, {
          action: 'licence.payment_failed',
          entityType: 'LICENCE',
          entityId: input.licenceId,
          data: input,
        });
      });
    },

    async endLicence(input: {
      licenceId: string;
      status: 'ENDED' | 'SUSPENDED';
      reason: string;
    }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const before = await tx.licence.findUniqueOrThrow({ where: { id: input.licenceId } });
        const ended = await tx.licence.update({
          where: { id: input.licenceId },
          // extensions go with the paid licence (after the last dunning failure too)
          data: { status: input.status, autoRenew: false, extensions: [] },
        });
        // back to the free edition's connections (or none when suspended): extra sessions are closed
        await trimSessionsIn(
          tx,
          ended.baseId,
          actor,
          input.status === 'SUSPENDED' ? 'Licence suspendue' : 'Licence terminée',
        );
        await audit(tx, actor, {
          action: `licence.${input.status.toLowerCase()}`,
          entityType: 'LICENCE',
          entityId: input.licenceId,
          data: { reason: input.reason, extensionsRemoved: before.extensions },
        });
      });
    },

    async closePurchase(input: {
      licenceId: string;
      purchaseId: string;
      status: 'CANCELLED' | 'REJECTED';
      reason: string;
      decidedBy?: string;
    }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.purchase.update({
          where: { id: input.purchaseId },
          data: { status: input.status, decisionReason: input.reason, decidedBy: input.decidedBy },
        });
        await tx.licence.update({ where: { id: input.licenceId }, data: { status: 'CANCELLED' } });
        await releasePromoRedemption(tx, input.purchaseId);
        await audit(tx, actor, {
          action: `purchase.${input.status.toLowerCase()}`,
          entityType: 'PURCHASE',
          entityId: input.purchaseId,
          data: { reason: input.reason, by: input.decidedBy },
        });
      });
    },

    /**
     * A card saved on the card-change page (SetupIntent) becomes the licence's payment method: paid by card
     * from now on, renewed automatically.
     */
    async savePaymentMethod(input: {
      licenceId: string;
      customerId: string;
      paymentMethodId: string;
      setupIntentId: string;
    }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.licence.update({
          where: { id: input.licenceId },
          data: {
            stripeCustomerId: input.customerId,
            stripePaymentMethodId: input.paymentMethodId,
            paymentMethod: 'ONLINE',
            autoRenew: true,
          },
        });
        // a SEPA mandate saved becomes the one debited; the one before it (or a card's place) is replaced
        await activateMandate(tx, input.licenceId, input.paymentMethodId, new Date());
        await audit(tx, actor, {
          action: 'licence.payment_method_changed',
          entityType: 'LICENCE',
          entityId: input.licenceId,
          data: { setupIntentId: input.setupIntentId, paymentMethodId: input.paymentMethodId },
        });
      });
    },

    /**
     * The saved payment method removed (a SEPA mandate revoked, a card forgotten): never charged again, and
     * auto-renew off until another is saved. The database first, then Stripe (the PaymentMethod detached:
     * its mandate goes inactive); a retry finds the rows already changed and detaches again harmlessly.
     */
    async removePaymentMethod(input: {
      licenceId: string;
      paymentMethodId: string;
      by: string;
    }): Promise<{ mandateReference?: string }> {
      const mandate = await prisma.$transaction(async (tx) => {
        await tx.licence.update({
          where: { id: input.licenceId },
          data: { stripePaymentMethodId: null, autoRenew: false },
        });
        const row = await tx.sepaMandate.findUnique({ where: { paymentMethodId: input.paymentMethodId } });
        if (row && row.status !== 'REVOKED') {
          await tx.sepaMandate.update({
            where: { id: row.id },
            data: { status: 'REVOKED', revokedAt: new Date(), revokedBy: input.by },
          });
        }
        await audit(tx, actor, {
          action: row ? 'licence.sepa_mandate_revoked' : 'licence.payment_method_removed',
          entityType: 'LICENCE',
          entityId: input.licenceId,
          data: {
            paymentMethodId: input.paymentMethodId,
            by: input.by,
            ...(row ? { mandate: row.reference } : {}),
          },
        });
        return row;
      });
      try {
        await stripe?.paymentMethods.detach(input.paymentMethodId);
      } catch (error) {
        // already detached (a retry, or the customer's bank revoked it first): nothing left to do
        if ((error as { type?: string }).type !== 'StripeInvalidRequestError') throw error;
      }
      return mandate ? { mandateReference: mandate.reference } : {};
    },

    async saveAutoRenew(input: { licenceId: string; autoRenew: boolean }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.licence.update({ where: { id: input.licenceId }, data: { autoRenew: input.autoRenew } });
        await audit(tx, actor, {
          action: input.autoRenew ? 'licence.auto_renew_resumed' : 'licence.auto_renew_stopped',
          entityType: 'LICENCE',
          entityId: input.licenceId,
        });
      });
    },

    async sendLicenceMail(input: {
      licenceId: string;
      kind: LicenceMailKind;
      invoiceNumber?: string | null;
      periodEnd?: LocalDate;
      nextAttemptOn?: LocalDate;
      reason?: string;
      paymentIntentId?: string;
      amountCents?: number;
      dueOn?: LocalDate;
    }): Promise<void> {
      const cardExpiresBeforeRenewal =
        input.kind === 'RENEWAL_REMINDER'
          ? await cardExpiringBefore(input.licenceId, input.periodEnd)
          : undefined;
      await mailer.send(
        await licenceMail(
          prisma,
          input.licenceId,
          // the payee is read when the mail is written: changed bank details reach the next invoice to pay
          {
            ...input,
            payee: billing.payee,
            ...(cardExpiresBeforeRenewal ? { cardExpiresBeforeRenewal } : {}),
          },
          emailLinks,
        ),
      );
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof createSubscriptionActivities>;
