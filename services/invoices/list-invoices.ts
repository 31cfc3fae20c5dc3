import type { Db } from '../../infra/prisma';
import { listCreditNotes } from '../credit-notes/get-credit-note';
import { invoicePdfPath } from './invoice-document';

/** The columns of an invoice in a listing (its PDF URL is derived from the number). */
export const invoiceSummarySelect = {
  number: true,
  status: true,
  issueDate: true,
  saleDate: true,
  dueDate: true,
  currency: true,
  totalExclVatCents: true,
  vatCents: true,
  totalInclVatCents: true,
  paidAt: true,
  baseId: true,
} as const;

export interface InvoicePage {
  limit: number;
  offset: number;
}

/**
 * The invoices of a base or of an account, newest first, one page (`limit`/`offset`) and the total: one
 * shape for both listings, with the owner's credit notes. The caller has checked access (route `baseParam`, or the account's link).
 */
export async function listInvoices(
  db: Db,
  owner: { baseId: string } | { accountId: number },
  page: InvoicePage,
) {
  const where = 'baseId' in owner ? { baseId: owner.baseId } : { accountId: owner.accountId };
  const [total, rows] = await Promise.all([
    db.invoice.count({ where }),
    db.invoice.findMany({
      where,
      orderBy: [{ year: 'desc' }, { seq: 'desc' }],
      skip: page.offset,
      take: page.limit,
      select: invoiceSummarySelect,
    }),
  ]);
  const consumption = await db.consumptionInvoice.findMany({
    where: { invoiceNumber: { in: rows.map((r) => r.number) } },
    select: { invoiceNumber: true, month: true },
  });
  const monthOf = new Map(consumption.map((c) => [c.invoiceNumber, c.month]));
  return {
    total,
    /** the owner's credit notes, all of them (a handful a year) */
    creditNotes: await listCreditNotes(db, owner),
    items: rows.map((row) => ({
      ...row,
      paidAt: row.paidAt.toISOString(),
      /** the month consumed, for a wallet consumption invoice */
      consumptionMonth: monthOf.get(row.number) ?? null,
      pdfUrl: invoicePdfPath(row.number),
    })),
  };
}
