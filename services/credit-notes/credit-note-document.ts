/** A `CreditNote` row read back through the same zod schemas as invoices (JSON columns are data, not types). */
import { z } from 'zod';
import type { CreditNote, Invoice } from '../../generated/prisma/client';
import type { CreditNoteDocument } from '../../domain/credit-note';
import { parseParties } from '../invoices/invoice-document';

export function toCreditNoteDocument(
  row: CreditNote & { invoice: Pick<Invoice, 'number' | 'issueDate' | 'saleDate'> },
): CreditNoteDocument {
  const parties = parseParties(row);
  return {
    id: row.id,
    number: row.number,
    kind: row.kind,
    reason: z.string().parse(row.reason),
    invoice: {
      number: row.invoice.number,
      issueDate: row.invoice.issueDate,
      saleDate: row.invoice.saleDate,
    },
    baseId: row.baseId,
    accountId: row.accountId,
    issueDate: row.issueDate,
    currency: row.currency,
    ...parties,
    totals: {
      totalExclVatCents: row.totalExclVatCents,
      vatCents: row.vatCents,
      totalInclVatCents: row.totalInclVatCents,
    },
    refundedAt: row.refundedAt,
  };
}

/** The URL the API serves a credit note's PDF at (api/routes/invoices.ts). */
/** The invoice columns a credit note document carries. */
export const correctedInvoiceSelect = { number: true, issueDate: true, saleDate: true } as const;

export const creditNotePdfPath = (number: string) => `/credit-notes/${number}.pdf`;
