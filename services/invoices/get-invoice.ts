import type { InvoiceDocument } from '../../domain/invoice';
import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';
import { canAccessAccount, canAccessBase, type Principal } from '../auth/principal';
import { toInvoiceDocument } from './invoice-document';
import { renderInvoicePdf } from './render-invoice-pdf';

/**
 * One invoice by number, for a caller who may see its base. Another base's invoice answers exactly like a
 * missing one (404, same message), so a key cannot learn which numbers exist elsewhere — numbers are
 * sequential and trivially guessed.
 */
export async function getInvoice(db: Db, principal: Principal, number: string): Promise<InvoiceDocument> {
  const row = await db.invoice.findUnique({ where: { number } });
  const visible =
    row !== null &&
    ((row.baseId !== null && (await canAccessBase(db, principal, row.baseId))) ||
      (row.accountId !== null && canAccessAccount(principal, row.accountId)));
  if (!row || !visible) {
    throw new AppError('INVOICE_NOT_FOUND', `No invoice ${number}`);
  }
  return toInvoiceDocument(row);
}

/** The invoice's PDF, rendered on demand from the stored invoice (the row is the record, not the file). */
export async function getInvoicePdf(
  db: Db,
  principal: Principal,
  number: string,
): Promise<{ number: string; pdf: Buffer }> {
  const invoice = await getInvoice(db, principal, number);
  return { number: invoice.number, pdf: await renderInvoicePdf(invoice) };
}
