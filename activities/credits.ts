/**
 * Side effects of the credit workflows (Stripe calls are in payments.ts): crediting a paid purchase with its
 * invoice or receipt in one transaction, closing purchases, the manual-credit queue reminders, support call
 * reports and monthly app fees. Every ledger write goes through postCreditEntry with a key derived from the
 * purchase, call or (account, app, month): a retried activity finds its earlier work.
 */
import { dayOf } from '../domain/licence';
import { appChargedIn, appFeeKey } from '../domain/credits';
import type { Quote } from '../domain/quote';
import type { Mailer } from '../infra/mailer';
import type { Db, PrismaClient } from '../infra/prisma';
import { systemActor } from '../services/actor';
import { audit } from '../services/audit';
import { postCreditEntry } from '../services/credits/post-credit-entry';
import { readBalance } from '../services/credits/read-ledger';
import type { BillingSettings, CreditSettings } from '../services/deps';
import { issuePaidInvoice } from '../services/invoices/issue-paid-invoice';
import { issueReceipt } from '../services/receipts/issue-receipt';
import { billingDetailsSchema, buyerOf } from '../domain/billing-party';
import { AppError } from '../domain/errors';
import { classifyFailures } from './failures';
import { consumptionInvoiceMail, unpaidAppFeesMail } from './consumption-mails';
import {
  accountsToInvoice,
  issueConsumptionInvoice,
  type ConsumptionInvoiceResult,
} from '../services/credits/issue-consumption-invoice';
import {
  accountsWithUnpaidFees,
  markAppFeePaid,
  recordRefusedAppFee,
  retryUnpaidAppFees,
} from '../services/credits/unpaid-app-fees';
import {
  accountCreditedMail,
  creditPurchaseMail,
  opsUnmatchedReminderMail,
  supportCallReportMail,
  type CreditPurchaseMailKind,
} from './credit-mails';

export interface CreditActivityDeps {
  prisma: PrismaClient;
  mailer: Mailer;
  billing: BillingSettings;
  credits: CreditSettings;
}

const actor = systemActor('creditPurchaseWorkflow');
const feesActor = systemActor('monthlyFeesWorkflow');

export type AppFeeOutcome = 'CHARGED' | 'ALREADY_CHARGED' | 'INSUFFICIENT_CREDIT' | 'NOT_DUE';

/**
 * The money a credit purchase brought in, in the one ledger of money received (`Payment`), once per purchase:
 * recorded when the card payment is confirmed, without an account while the purchase waits in the ops
 * queue; the account is filled in when the purchase is credited.
 */
async function recordCreditPurchasePayment(
  tx: Db,
  p: { id: string; baseId: string | null; amountCents: number },
  facts: { accountId?: number; paymentIntentId: string },
) {
  return tx.payment.upsert({
    where: { idempotencyKey: `credit-purchase-payment:${p.id}` },
    create: {
      idempotencyKey: `credit-purchase-payment:${p.id}`,
      baseId: p.baseId,
      accountId: facts.accountId,
      creditPurchaseId: p.id,
      method: 'ONLINE',
      provider: 'STRIPE',
      providerRef: facts.paymentIntentId,
      amountCents: p.amountCents,
      status: 'SUCCEEDED',
    },
    update: facts.accountId === undefined ? {} : { accountId: facts.accountId },
  });
}

export function createCreditActivities({ prisma, mailer, billing, credits }: CreditActivityDeps) {
  return {
    async noteCreditPaymentIntent(input: { purchaseId: string; paymentIntentId: string }): Promise<void> {
      await prisma.creditPurchase.update({
        where: { id: input.purchaseId },
        data: { stripePaymentIntentId: input.paymentIntentId },
      });
    },

    /** Paid online without a known account: the purchase enters the ops queue. */
    async markCreditPurchaseUnmatched(input: {
      purchaseId: string;
      paymentIntentId: string;
      amountCents: number;
    }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const updated = await tx.creditPurchase.updateMany({
          where: { id: input.purchaseId, status: 'AWAITING_PAYMENT' },
          data: { status: 'UNMATCHED', paidAt: new Date(), stripePaymentIntentId: input.paymentIntentId },
        });
        if (updated.count === 0) return; // a retry after the commit
        const p = await tx.creditPurchase.findUniqueOrThrow({ where: { id: input.purchaseId } });
        await recordCreditPurchasePayment(tx, p, { paymentIntentId: input.paymentIntentId });
        await audit(tx, actor, {
          action: 'credit_purchase.unmatched',
          entityType: 'CREDIT_PURCHASE',
          entityId: input.purchaseId,
          data: { paymentIntentId: input.paymentIntentId, amountCents: input.amountCents },
        });
      });
    },

    /**
     * Credits a paid purchase to an account, once: ledger entry, paid invoice (support pack, number taken in
     * this transaction) or receipt number (wallet), purchase COMPLETED. A retry returns the first result.
     */
    async creditPurchase(input: {
      purchaseId: string;
      accountId: number;
      paymentIntentId: string;
      amountCents: number;
      by: string;
    }): Promise<{ invoiceNumber: string | null; receiptNumber: string | null; balance: number }> {
      return classifyFailures(() =>
        prisma
          .$transaction(async (tx) => {
            await tx.$queryRaw`SELECT 1 FROM "CreditPurchase" WHERE "id" = ${input.purchaseId}::uuid FOR UPDATE`;
            const p = await tx.creditPurchase.findUniqueOrThrow({ where: { id: input.purchaseId } });
            const ledger = p.product === 'SUPPORT_PACK' ? 'SUPPORT_TIME' : 'WALLET';
            if (p.creditedAt) {
              const { balance } = await readBalance(tx, p.accountId!, ledger);
              return { invoiceNumber: p.invoiceNumber, receiptNumber: p.receiptNumber, balance };
            }
            const account = await tx.account.findUnique({ where: { id: input.accountId } });
            if (!account || account.status !== 'ACTIVE')
              throw new AppError('ACCOUNT_NOT_FOUND', `No confirmed account ${input.accountId}`);
            const now = new Date();
            const posted = await postCreditEntry(tx, actor, {
              accountId: input.accountId,
              ledger,
              idempotencyKey: `credit-purchase:${p.id}`,
              amount: p.creditAmount,
              type: p.product === 'SUPPORT_PACK' ? 'support-pack' : 'recharge',
              description:
                p.product === 'SUPPORT_PACK'
                  ? `Pack support ${p.packMinutes} min`
                  : `Recharge achat n° ${p.number}`,
              baseId: p.baseId ?? undefined,
              occurredAt: now,
              creditPurchaseId: p.id,
            });
            const payment = await recordCreditPurchasePayment(tx, p, {
              accountId: input.accountId,
              paymentIntentId: input.paymentIntentId,
            });
            let invoiceNumber: string | null = null;
            let receiptNumber: string | null = null;
            const today = dayOf(now.getTime());
            if (p.product === 'SUPPORT_PACK') {
              const quote = p.quote as unknown as Quote;
              const invoice = await issuePaidInvoice(tx, {
                paymentId: payment.id,
                accountId: input.accountId,
                baseId: p.baseId ?? undefined,
                issueDate: today,
                saleDate: dayOf((p.paidAt ?? now).getTime()),
                dueDate: today,
                seller: billing.seller,
                buyer: buyerOf(billingDetailsSchema.parse(p.billing)),
                lines: quote.lines,
                vat: quote.vat,
                totals: quote,
                paidAt: p.paidAt ?? now,
              });
              invoiceNumber = invoice.number;
            } else {
              // the receipt series of its own (a purchase number is shared with support packs: gaps)
              const receipt = await issueReceipt(tx, {
                creditPurchaseId: p.id,
                accountId: input.accountId,
                issueDate: today,
                seller: billing.seller,
                buyer: buyerOf(billingDetailsSchema.parse(p.billing)),
                amountCents: p.amountCents,
                creditAmount: p.creditAmount,
                paidAt: p.paidAt ?? now,
              });
              receiptNumber = receipt.number;
            }
            await tx.creditPurchase.update({
              where: { id: p.id },
              data: {
                status: 'COMPLETED',
                accountId: input.accountId,
                creditedAt: now,
                paidAt: p.paidAt ?? now,
                stripePaymentIntentId: input.paymentIntentId,
                invoiceNumber,
                receiptNumber,
                assignedBy: input.by === 'buyer' ? null : input.by,
              },
            });
            await audit(tx, actor, {
              action: input.by === 'buyer' ? 'credit_purchase.credited' : 'credit_purchase.assigned',
              entityType: 'CREDIT_PURCHASE',
              entityId: p.id,
              data: {
                accountId: input.accountId,
                by: input.by,
                invoiceNumber,
                receiptNumber,
                balance: posted.balance,
              },
            });
            return { invoiceNumber, receiptNumber, balance: posted.balance };
          })
          .then(async (credited) => {
            // a wallet recharge pays the monthly fees left unpaid (each month's key: never twice)
            const p = await prisma.creditPurchase.findUniqueOrThrow({ where: { id: input.purchaseId } });
            if (p.product !== 'WALLET_RECHARGE' || p.accountId === null) return credited;
            const retried = await retryUnpaidAppFees(prisma, feesActor, {
              accountId: p.accountId,
              at: new Date(),
            });
            if (retried.paid === 0) return credited;
            return { ...credited, balance: (await readBalance(prisma, p.accountId, 'WALLET')).balance };
          }),
      );
    },

    async closeCreditPurchase(input: {
      purchaseId: string;
      status: 'EXPIRED' | 'CANCELLED' | 'REFUNDED';
      reason: string;
      by?: string;
      refundId?: string;
    }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const updated = await tx.creditPurchase.updateMany({
          where: { id: input.purchaseId, status: { in: ['AWAITING_PAYMENT', 'UNMATCHED'] } },
          data: {
            status: input.status,
            closedReason: input.reason,
            closedBy: input.by,
            refundId: input.refundId,
          },
        });
        if (updated.count === 0) return;
        await audit(tx, actor, {
          action: `credit_purchase.${input.status.toLowerCase()}`,
          entityType: 'CREDIT_PURCHASE',
          entityId: input.purchaseId,
          data: { reason: input.reason, by: input.by, refundId: input.refundId },
        });
      });
    },

    async sendCreditPurchaseMail(input: {
      purchaseId: string;
      kind: CreditPurchaseMailKind;
      reason?: string;
    }): Promise<void> {
      const p = await prisma.creditPurchase.findUniqueOrThrow({ where: { id: input.purchaseId } });
      let balance;
      if (input.kind === 'COMPLETED' && p.accountId !== null) {
        const ledger = p.product === 'SUPPORT_PACK' ? 'SUPPORT_TIME' : 'WALLET';
        balance = { accountId: p.accountId, ...(await readBalance(prisma, p.accountId, ledger)) };
      }
      const mail = creditPurchaseMail(input.kind, p, {
        balance,
        reason: input.reason,
        contactEmail: credits.vendorContactEmail,
      });
      await mailer.send(mail);
      if (balance) {
        const account = await prisma.account.findUniqueOrThrow({ where: { id: balance.accountId } });
        if (account.email.toLowerCase() !== mail.to.toLowerCase())
          await mailer.send(accountCreditedMail(p, account.email, balance));
      }
    },

    async sendOpsUnmatchedReminder(input: { purchaseId: string; reminder: number }): Promise<void> {
      const p = await prisma.creditPurchase.findUniqueOrThrow({ where: { id: input.purchaseId } });
      if (p.status !== 'UNMATCHED') return;
      await mailer.send(opsUnmatchedReminderMail(p, credits.opsEmail, input.reminder));
    },

    async sendSupportCallReport(input: { supportCallId: string }): Promise<void> {
      const call = await prisma.supportCall.findUniqueOrThrow({ where: { id: input.supportCallId } });
      const account = await prisma.account.findUniqueOrThrow({ where: { id: call.accountId } });
      await mailer.send(supportCallReportMail(call, account.email));
    },

    /**
     * Charges one page of app fees for a month (subscriptions in id order after `afterId`), each once: key
     * app-fee:<account>:<app>:<month>, the key alone as fingerprint (a fee edited between two runs still
     * charges once). A wallet that can't pay is reported, not charged.
     */
    async chargeAppFeesPage(input: {
      month: string;
      /** ISO instant the movements are dated (the scheduled time of the run) */
      at: string;
      afterId?: string;
      limit: number;
    }): Promise<{
      outcomes: Record<AppFeeOutcome, number>;
      refused: { accountId: number; accountAppId: string }[];
      lastId?: string;
    }> {
      const apps = await prisma.accountApp.findMany({
        where: { sinceMonth: { lte: input.month }, ...(input.afterId ? { id: { gt: input.afterId } } : {}) },
        orderBy: { id: 'asc' },
        take: input.limit,
      });
      const outcomes: Record<AppFeeOutcome, number> = {
        CHARGED: 0,
        ALREADY_CHARGED: 0,
        INSUFFICIENT_CREDIT: 0,
        NOT_DUE: 0,
      };
      const refused: { accountId: number; accountAppId: string }[] = [];
      for (const app of apps) {
        let outcome: AppFeeOutcome = 'NOT_DUE';
        if (appChargedIn(app, input.month)) {
          const key = appFeeKey(app.accountId, app.id, input.month);
          try {
            const posted = await prisma.$transaction((tx) =>
              postCreditEntry(tx, feesActor, {
                accountId: app.accountId,
                ledger: 'WALLET',
                idempotencyKey: key,
                fingerprint: key,
                amount: -app.monthlyFeeCents,
                type: app.label,
                description: `${app.app} ${input.month}`,
                site: app.site ?? undefined,
                staff: app.staff ?? undefined,
                occurredAt: new Date(input.at),
              }),
            );
            outcome = posted.replayed ? 'ALREADY_CHARGED' : 'CHARGED';
            await markAppFeePaid(
              prisma,
              { accountAppId: app.id, month: input.month, creditEntryId: posted.entry.id },
              new Date(input.at),
            );
          } catch (error) {
            if (!(error instanceof AppError && error.code === 'INSUFFICIENT_CREDIT')) throw error;
            outcome = 'INSUFFICIENT_CREDIT';
            refused.push({ accountId: app.accountId, accountAppId: app.id });
            // recorded for ops, mailed to the account (notifyUnpaidAppFees), retried later
            await recordRefusedAppFee(
              prisma,
              {
                accountId: app.accountId,
                accountAppId: app.id,
                month: input.month,
                amountCents: app.monthlyFeeCents,
                label: app.label,
              },
              new Date(input.at),
            );
          }
        }
        outcomes[outcome] += 1;
      }
      return {
        outcomes,
        refused,
        lastId: apps.length === input.limit ? apps[apps.length - 1]?.id : undefined,
      };
    },

    /**
     * Retries the unpaid monthly fees of one page of accounts (id order after `afterAccountId`), dated `at`.
     */
    async retryUnpaidAppFeesPage(input: { at: string; afterAccountId?: number; limit: number }): Promise<{
      paid: number;
      stillUnpaid: number;
      lastAccountId?: number;
    }> {
      const accounts = await accountsWithUnpaidFees(prisma, {
        afterId: input.afterAccountId,
        limit: input.limit,
      });
      let paid = 0;
      let stillUnpaid = 0;
      for (const accountId of accounts) {
        const r = await retryUnpaidAppFees(prisma, feesActor, { accountId, at: new Date(input.at) });
        paid += r.paid;
        stillUnpaid += r.stillUnpaid;
      }
      return {
        paid,
        stillUnpaid,
        lastAccountId: accounts.length === input.limit ? accounts[accounts.length - 1] : undefined,
      };
    },

    /**
     * Mails "recharge your credits" to accounts with fees refused and not mailed yet (one mail per account
     * listing all its unpaid fees), at most `limit` accounts; returns how many were mailed (0: all done).
     * A crash between the mail and the update may send one mail twice, never none.
     */
    async notifyUnpaidAppFees(input: { limit: number }): Promise<{ mailed: number }> {
      const pending = await prisma.unpaidAppFee.findMany({
        where: { paidAt: null, notifiedAt: null },
        distinct: ['accountId'],
        select: { accountId: true },
        orderBy: { accountId: 'asc' },
        take: input.limit,
      });
      for (const { accountId } of pending) {
        const account = await prisma.account.findUniqueOrThrow({ where: { id: accountId } });
        const fees = await prisma.unpaidAppFee.findMany({
          where: { accountId, paidAt: null },
          orderBy: [{ month: 'asc' }, { refusedAt: 'asc' }],
        });
        const { balance, overdraftLimit } = await readBalance(prisma, accountId, 'WALLET');
        await mailer.send(
          unpaidAppFeesMail(account.email, {
            accountId,
            fees,
            balanceCents: balance,
            overdraftLimitCents: overdraftLimit,
          }),
        );
        await prisma.unpaidAppFee.updateMany({
          where: { id: { in: fees.map((f) => f.id) }, notifiedAt: null },
          data: { notifiedAt: new Date() },
        });
      }
      return { mailed: pending.length };
    },

    /**
     * Issues the consumption invoices of one page of accounts for a month (accounts in id order after
     * `afterAccountId` with uninvoiced charges dated before the month's end). Each account's invoice is
     * issued once; the mails go out in mailConsumptionInvoices, after the invoices are committed.
     */
    async issueConsumptionInvoicesPage(input: {
      month: string;
      afterAccountId?: number;
      limit: number;
    }): Promise<{
      issued: number;
      alreadyIssued: number;
      lastAccountId?: number;
    }> {
      const accounts = await accountsToInvoice(prisma, {
        month: input.month,
        afterId: input.afterAccountId,
        limit: input.limit,
      });
      let issued = 0;
      let alreadyIssued = 0;
      for (const accountId of accounts) {
        const result: ConsumptionInvoiceResult | undefined = await issueConsumptionInvoice(
          prisma,
          feesActor,
          {
            accountId,
            month: input.month,
            seller: billing.seller,
            now: new Date(),
          },
        );
        if (result?.created) issued += 1;
        else if (result) alreadyIssued += 1;
      }
      return {
        issued,
        alreadyIssued,
        lastAccountId: accounts.length === input.limit ? accounts[accounts.length - 1] : undefined,
      };
    },

    /** Mails the month's consumption invoices not mailed yet, at most `limit`; returns how many (0: done). */
    async mailConsumptionInvoices(input: { month: string; limit: number }): Promise<{ mailed: number }> {
      const pending = await prisma.consumptionInvoice.findMany({
        where: { month: input.month, mailedAt: null },
        orderBy: { accountId: 'asc' },
        take: input.limit,
      });
      for (const invoice of pending) {
        const account = await prisma.account.findUniqueOrThrow({ where: { id: invoice.accountId } });
        await mailer.send(consumptionInvoiceMail(account.email, invoice));
        await prisma.consumptionInvoice.update({
          where: { accountId_month: { accountId: invoice.accountId, month: invoice.month } },
          data: { mailedAt: new Date() },
        });
      }
      return { mailed: pending.length };
    },
  };
}

export type CreditActivities = ReturnType<typeof createCreditActivities>;
