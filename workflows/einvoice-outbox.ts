/**
 * eInvoiceOutboxWorkflow: one short run per minute, started by the `e-invoice-outbox` Temporal Schedule
 * (services/e-invoicing/outbox-schedule.ts, created at worker start-up; overlapping runs are skipped). It
 * sends the queued invoices and credit notes through the platform adapter, one activity per document with
 * retries, then asks the platform for the statuses of those sent (e-invoicing.md).
 *
 * A document whose retries run out stays QUEUED (its attempts and last error on the row) and the next run
 * sends it again; the platform's idempotency key (the row id) keeps it received once.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { EInvoiceActivities } from '../activities/e-invoicing';
import type { EInvoiceStatus } from '../domain/e-invoicing';

const PAGE = 50;

const outbox = proxyActivities<EInvoiceActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '20 seconds',
    maximumAttempts: 5,
  },
});

export interface EInvoiceOutboxResult {
  sent: { documentNumber: string; status: EInvoiceStatus }[];
  /** documents whose attempts all failed in this run (still QUEUED) */
  failed: number;
  statuses: { polled: number; changed: number; failed: number };
}

export async function eInvoiceOutboxWorkflow(): Promise<EInvoiceOutboxResult> {
  const result: EInvoiceOutboxResult = {
    sent: [],
    failed: 0,
    statuses: { polled: 0, changed: 0, failed: 0 },
  };
  const queued = await outbox.listQueuedEInvoices({ limit: PAGE });
  for (const id of queued) {
    try {
      const sent = await outbox.sendEInvoice({ id });
      if (sent.sent) result.sent.push({ documentNumber: sent.documentNumber, status: sent.status });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      result.failed += 1;
    }
  }
  result.statuses = await outbox.pollEInvoiceStatuses({ limit: PAGE });
  return result;
}
