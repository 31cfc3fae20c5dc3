/**
 * The database side of refundWorkflow (the Stripe refund is `refundPayment` in payments.ts): the Refund row
 * with its debit entry, the credit note, and the provider's answer. Each step is one transaction keyed by
 * the workflow's keys, so a retried activity or a replayed workflow finds its earlier work.
 */
import { AppError } from '../domain/errors';
import { REFUND_ENTRY_TYPE } from '../domain/refund';
import type { PrismaClient } from '../infra/prisma';
import type { Actor } from '../services/actor';
import { audit } from '../services/audit';
import { issueCreditNote } from '../services/credit-notes/issue-credit-note';
import { lockBalance, postCreditEntry } from '../services/credits/post-credit-entry';
import {
  decideCreditPurchaseRefund,
  ledgerOf,
  loadRefundablePurchase,
  refusal,
} from '../services/payments/refunds';
import { classifyFailures } from './failures';

/** who asked the refund (recorded on the Refund row, the credit note and the audit log) */
export type RefundActor = Actor;

export interface RefundActivityDeps {
  prisma: PrismaClient;
}

export interface RecordRefundInput {
  workflowKey: string;
  creditPurchaseId: string;
  amountCents: number;
  reason: string;
  actor: Actor;
  /** the debit entry's idempotency key */
  debitKey: string;
}

export interface RecordedRefund {
  refundId: string;
  paymentIntentId: string;
  debitedCredit: number;
  /** the invoice a credit note corrects; null for a wallet recharge (a receipt, no VAT) */
  invoiceNumber: string | null;
}

const providerStatusOf = (status: string) =>
  status === 'succeeded' ? 'SUCCEEDED' : status === 'failed' || status === 'canceled' ? 'FAILED' : 'PENDING';

export function createRefundActivities({ prisma }: RefundActivityDeps) {
  return {
    /**
     * Step 1: the Refund row and the debit entry, in one transaction under the purchase's row lock and the
     * ledger's lock, so the decision (domain/refund.ts) sees the balance and every earlier refund. Refused
     * (nothing written) past what is left unused: REFUND_EXCEEDS_UNUSED, non-retryable.
     */
    async recordRefundDebit(input: RecordRefundInput): Promise<RecordedRefund> {
      return classifyFailures(() =>
        prisma.$transaction(async (tx) => {
          await tx.$queryRaw`SELECT 1 FROM "CreditPurchase" WHERE "id" = ${input.creditPurchaseId}::uuid FOR UPDATE`;
          const { purchase, payment } = await loadRefundablePurchase(tx, input.creditPurchaseId);
          const done = await tx.refund.findUnique({ where: { workflowKey: input.workflowKey } });
          if (done)
            return {
              refundId: done.id,
              paymentIntentId: payment.providerRef,
              debitedCredit: done.debitedCredit,
              invoiceNumber: purchase.invoiceNumber,
            };
          const ledger = ledgerOf(purchase);
          const { balance } = await lockBalance(tx, purchase.accountId, ledger);
          const decision = await decideCreditPurchaseRefund(tx, purchase, balance, input.amountCents);
          if (!decision.ok) throw refusal(decision, input.amountCents);
          const refund = await tx.refund.create({
            data: {
              workflowKey: input.workflowKey,
              kind: 'REFUND',
              paymentId: payment.id,
              creditPurchaseId: purchase.id,
              accountId: purchase.accountId,
              baseId: purchase.baseId,
              amountCents: decision.amountCents,
              currency: payment.currency,
              debitedCredit: decision.debitCredit,
              provider: payment.provider,
              reason: input.reason,
              requestedBy: `${input.actor.type}:${input.actor.id}`,
            },
          });
          const posted = await postCreditEntry(tx, input.actor, {
            accountId: purchase.accountId,
            ledger,
            idempotencyKey: input.debitKey,
            amount: -decision.debitCredit,
            type: REFUND_ENTRY_TYPE,
            description: `Remboursement achat n° ${purchase.number}`,
            baseId: purchase.baseId ?? undefined,
            occurredAt: new Date(),
            creditPurchaseId: purchase.id,
          });
          await tx.refund.update({ where: { id: refund.id }, data: { creditEntryId: posted.entry.id } });
          await audit(tx, input.actor, {
            action: 'refund.recorded',
            entityType: 'REFUND',
            entityId: refund.id,
            data: {
              creditPurchaseId: purchase.id,
              amountCents: decision.amountCents,
              debitedCredit: decision.debitCredit,
              reason: input.reason,
            },
          });
          return {
            refundId: refund.id,
            paymentIntentId: payment.providerRef,
            debitedCredit: decision.debitCredit,
            invoiceNumber: purchase.invoiceNumber,
          };
        }),
      );
    },

    /**
     * Step 2: the credit note (kind REFUND, or DISPUTE for a lost dispute's row) correcting the purchase's invoice for the amount paid back, noted
     * on the Refund row in the same transaction. A wallet recharge has a receipt, not an invoice: no note.
     */
    async issueRefundCreditNote(input: {
      refundId: string;
      actor: Actor;
      idempotencyKey: string;
    }): Promise<string | null> {
      return classifyFailures(() =>
        prisma.$transaction(async (tx) => {
          const refund = await tx.refund.findUniqueOrThrow({ where: { id: input.refundId } });
          if (refund.creditNoteNumber) return refund.creditNoteNumber;
          const purchase = refund.creditPurchaseId
            ? await tx.creditPurchase.findUniqueOrThrow({ where: { id: refund.creditPurchaseId } })
            : null;
          if (!purchase?.invoiceNumber) return null;
          const now = new Date();
          const note = await issueCreditNote(tx, input.actor, {
            invoiceNumber: purchase.invoiceNumber,
            // a refund's note, or a lost dispute's: the row says which
            kind: refund.kind,
            reason: refund.reason,
            amountInclVatCents: refund.amountCents,
            idempotencyKey: input.idempotencyKey,
            refundedAt: now,
            now,
          });
          await tx.refund.update({ where: { id: refund.id }, data: { creditNoteNumber: note.number } });
          return note.number;
        }),
      );
    },

    /** Step 4: the provider's answer on the Refund row (its refund id is unique: one row per refund). */
    async recordProviderRefund(input: {
      refundId: string;
      providerRefundId: string;
      providerStatus: string;
    }): Promise<'PENDING' | 'SUCCEEDED' | 'FAILED'> {
      const status = providerStatusOf(input.providerStatus);
      return classifyFailures(() =>
        prisma.$transaction(async (tx) => {
          const refund = await tx.refund.findUniqueOrThrow({ where: { id: input.refundId } });
          if (refund.providerRefundId !== null && refund.providerRefundId !== input.providerRefundId)
            throw new AppError(
              'IDEMPOTENCY_KEY_REUSED',
              `Refund ${refund.id} already has provider refund ${refund.providerRefundId}`,
            );
          if (refund.providerRefundId === input.providerRefundId && refund.status === status) return status;
          await tx.refund.update({
            where: { id: refund.id },
            data: {
              providerRefundId: input.providerRefundId,
              providerStatus: input.providerStatus,
              status,
              refundedAt: status === 'SUCCEEDED' ? new Date() : null,
            },
          });
          await audit(
            tx,
            { type: 'SYSTEM', id: 'refundWorkflow' },
            {
              action: `refund.${status.toLowerCase()}`,
              entityType: 'REFUND',
              entityId: refund.id,
              data: { providerRefundId: input.providerRefundId, providerStatus: input.providerStatus },
            },
          );
          return status;
        }),
      );
    },
  };
}

export type RefundActivities = ReturnType<typeof createRefundActivities>;
