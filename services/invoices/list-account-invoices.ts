import type { Db } from '../../infra/prisma';
import { invoicePdfPath } from './invoice-document';
import { invoiceSummarySelect } from './list-invoices';
import { listCreditNotes } from '../credit-notes/get-credit-note';

/**
 * An account's own invoices (support packs bought without a base, monthly wallet consumption), newest
 * first, paginated by `limit`/`offset` (a dozen a year), with the account's credit notes. The caller has
 * checked access to the account.
 */
export async function listAccountInvoices(
  db: Db,
  input: { accountId: number; limit: number; offset: number },
) {
  const where = { accountId: input.accountId };
  const [total, rows] = await Promise.all([
    db.invoice.count({ where }),
    db.invoice.findMany({
      where,
      orderBy: [{ year: 'desc' }, { seq: 'desc' }],
      skip: input.offset,
      take: input.limit,
      select: { ...invoiceSummarySelect, baseId: true },
    }),
  ]);
  const consumption = await db.consumptionInvoice.findMany({
    where: { accountId: input.accountId, invoiceNumber: { in: rows.map((r) => r.number) } },
    select: { invoiceNumber: true, month: true },
  });
  const monthOf = new Map(consumption.map((c) => [c.invoiceNumber, c.month]));
  return {
    /** the account's credit notes (all of them: a handful a year) */
    creditNotes: await listCreditNotes(db, { accountId: input.accountId }),
    total,
    items: rows.map((row) => ({
      ...row,
      paidAt: row.paidAt.toISOString(),
      /** the month consumed, for a wallet consumption invoice */
      consumptionMonth: monthOf.get(row.number) ?? null,
      pdfUrl: invoicePdfPath(row.number),
    })),
  };
}
