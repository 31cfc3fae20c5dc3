import type { Db } from '../../infra/prisma';
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
} as const;

/**
 * A base's invoices, newest first. The caller has already checked access to the base (route `baseParam`).
 * Not paginated: a base gets a handful of invoices a year.
 */
export async function listBaseInvoices(db: Db, baseId: string) {
  const rows = await db.invoice.findMany({
    where: { baseId },
    orderBy: [{ year: 'desc' }, { seq: 'desc' }],
    select: invoiceSummarySelect,
  });
  return rows.map((row) => ({
    ...row,
    paidAt: row.paidAt.toISOString(),
    pdfUrl: invoicePdfPath(row.number),
  }));
}

export type InvoiceSummary = Awaited<ReturnType<typeof listBaseInvoices>>[number];
