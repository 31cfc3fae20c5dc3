/**
 * What the Stripe webhook tells a waiting workflow. PaymentIntents carry `metadata.workflowId`; the
 * webhook route signals that workflow with `paymentResultSignal` (a duplicate delivery is dropped by the
 * route, and the workflow ignores a result for a payment it is not waiting for).
 */
import { defineSignal } from '@temporalio/workflow';

export interface PaymentResult {
  paymentIntentId: string;
  status: 'succeeded' | 'failed';
  amountCents: number;
  /** the card saved for off-session renewals, when Stripe reports one */
  paymentMethodId?: string;
  failureCode?: string;
  failureMessage?: string;
}

export const paymentResultSignal = defineSignal<[PaymentResult]>('paymentResult');
