/**
 * A lost card dispute on one of the subscription's payments (services/disputes/record-dispute-event.ts
 * signals it once the money's reversal is recorded). Redelivered signals are harmless: the first one counts.
 */
import { defineSignal } from '@temporalio/workflow';

export interface DisputeLost {
  /** our Dispute row */
  disputeId: string;
  paymentIntentId?: string;
}

export const disputeLostSignal = defineSignal<[DisputeLost]>('disputeLost');
