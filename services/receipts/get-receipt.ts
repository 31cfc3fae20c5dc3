import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';
import { canAccessAccount, type Principal } from '../auth/principal';
import { parseParties } from '../invoices/invoice-document';
import { renderReceiptPdf } from './render-receipt-pdf';

/** A receipt's PDF, for a caller who may see its account; anyone else gets 404 as for a missing number. */
export async function getReceiptPdf(db: Db, principal: Principal, number: string) {
  const row = await db.receipt.findUnique({ where: { number } });
  if (!row || !canAccessAccount(principal, row.accountId))
    throw new AppError('RECEIPT_NOT_FOUND', `No receipt ${number}`);
  const { seller, buyer } = parseParties({ ...row, lines: [], vat: { kind: 'FRANCE', rateBasisPoints: 0 } });
  return { number: row.number, pdf: await renderReceiptPdf({ ...row, seller, buyer }) };
}

export const receiptPdfPath = (number: string) => `/receipts/${number}.pdf`;
