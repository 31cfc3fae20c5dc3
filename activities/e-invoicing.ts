/**
 * Side effects of the approved-platform outbox (eInvoiceOutboxWorkflow): list the queued documents, send
 * one through the platform adapter, poll the statuses of those sent.
 */
import type { PrismaClient } from '../infra/prisma';
import {
  listQueuedEInvoices,
  pollEInvoiceStatuses,
  sendEInvoice,
  type PollResult,
  type SendResult,
} from '../services/e-invoicing/outbox';
import type { PlatformAdapter } from '../services/e-invoicing/platform-adapter';

export interface EInvoiceActivityDeps {
  prisma: PrismaClient;
  platform: PlatformAdapter;
  clock?: () => Date;
}

export function createEInvoiceActivities({
  prisma,
  platform,
  clock = () => new Date(),
}: EInvoiceActivityDeps) {
  return {
    async listQueuedEInvoices(input: { limit: number }): Promise<string[]> {
      return listQueuedEInvoices(prisma, input.limit);
    },
    /** Throws on a platform failure (noted on the row): Temporal retries it. */
    async sendEInvoice(input: { id: string }): Promise<SendResult> {
      return sendEInvoice({ prisma, platform }, input.id, clock());
    },
    async pollEInvoiceStatuses(input: { limit: number }): Promise<PollResult> {
      return pollEInvoiceStatuses({ prisma, platform }, input.limit, clock());
    },
  };
}

export type EInvoiceActivities = ReturnType<typeof createEInvoiceActivities>;
