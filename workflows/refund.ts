/**
 * refundWorkflow: one refund of a credit purchase (id `refund:<creditPurchaseId>:<clientKey>`, ids.ts), in
 * this order, each step once:
 *
 * 1. the Refund row and the debit entry taking the unused credit back, under the ledger's lock
 *    (`recordRefundDebit`; refused, nothing written, past what is left unused: REFUND_EXCEEDS_UNUSED);
 * 2. the credit note (kind REFUND) on the purchase's invoice (`issueRefundCreditNote`; none for a wallet
 *    recharge, which has a receipt);
 * 3. the Stripe refund (`refundPayment`), its idempotency key built from the Refund row's id;
 * 4. Stripe's answer on the Refund row (`recordProviderRefund`: its refund id, unique).
 *
 * Money goes back last: a crash before it leaves a recorded refund the replayed workflow completes, never
 * money paid back without its debit entry and credit note. Every write carries a key (idempotency-keys.ts).
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { PaymentActivities } from '../activities/payments';
import type { RefundActivities, RefundActor } from '../activities/refunds';
import { refundKeys } from './idempotency-keys';

export interface RefundInput {
  creditPurchaseId: string;
  amountCents: number;
  reason: string;
  actor: RefundActor;
}

export interface RefundResult {
  refundId: string;
  debitedCredit: number;
  creditNoteNumber: string | null;
  providerRefundId: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
}

const refunds = proxyActivities<RefundActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const payments = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});

export async function refundWorkflow(input: RefundInput): Promise<RefundResult> {
  const workflowKey = workflowInfo().workflowId;
  const recorded = await refunds.recordRefundDebit({
    workflowKey,
    creditPurchaseId: input.creditPurchaseId,
    amountCents: input.amountCents,
    reason: input.reason,
    actor: input.actor,
    debitKey: refundKeys.debit(workflowKey),
  });
  const creditNoteNumber = await refunds.issueRefundCreditNote({
    refundId: recorded.refundId,
    actor: input.actor,
    idempotencyKey: refundKeys.creditNote(workflowKey),
  });
  const provider = await payments.refundPayment({
    paymentIntentId: recorded.paymentIntentId,
    amountCents: input.amountCents,
    idempotencyKey: refundKeys.provider(recorded.refundId),
    metadata: {
      refundId: recorded.refundId,
      creditPurchaseId: input.creditPurchaseId,
      workflowId: workflowKey,
    },
  });
  const status = await refunds.recordProviderRefund({
    refundId: recorded.refundId,
    providerRefundId: provider.refundId,
    providerStatus: provider.status,
  });
  return {
    refundId: recorded.refundId,
    debitedCredit: recorded.debitedCredit,
    creditNoteNumber,
    providerRefundId: provider.refundId,
    status,
  };
}
