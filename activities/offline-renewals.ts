/**
 * The ops queue of renewals to pay (cheque and transfer, workflows/subscription/offline-renewal.ts): the
 * workflow writes what it knows of its invoice to pay (issued, reminders sent, closed) and the queue is read
 * from that row. Each write sets values, never increments, so a retried activity writes the same row.
 */
import type { LocalDate } from '../domain/periods';
import type { PrismaClient } from '../infra/prisma';

export interface OfflineRenewalActivityDeps {
  prisma: PrismaClient;
}

export interface InvoiceToPayNote {
  licenceId: string;
  baseId: string;
  paymentMethod: 'CHEQUE' | 'TRANSFER';
  periodStart: LocalDate;
  periodEnd: LocalDate;
  amountCents: number;
  dueOn: LocalDate;
  origin: 'NOTICE' | 'RENEW_NOW';
  remindersSent: number;
  status: 'OPEN' | 'PAID' | 'UNPAID' | 'CANCELLED';
}

export function createOfflineRenewalActivities({ prisma }: OfflineRenewalActivityDeps) {
  return {
    /** The invoice to pay of one period of a licence, as the workflow has it now (one row per period). */
    async noteInvoiceToPay(input: InvoiceToPayNote): Promise<void> {
      const closedAt = input.status === 'OPEN' ? null : new Date();
      await prisma.invoiceToPay.upsert({
        where: { licenceId_periodStart: { licenceId: input.licenceId, periodStart: input.periodStart } },
        create: { ...input, closedAt },
        update: {
          remindersSent: input.remindersSent,
          status: input.status,
          ...(closedAt ? { closedAt } : {}),
        },
      });
    },
  };
}

export type OfflineRenewalActivities = ReturnType<typeof createOfflineRenewalActivities>;
