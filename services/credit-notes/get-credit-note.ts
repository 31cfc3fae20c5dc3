import type { CreditNoteDocument } from '../../domain/credit-note';
import { AppError } from '../../domain/errors';
import type { Db } from '../../infra/prisma';
import { canAccessAccount, canAccessBase, type Principal } from '../auth/principal';
import { correctedInvoiceSelect, creditNotePdfPath, toCreditNoteDocument } from './credit-note-document';
import { renderCreditNotePdf } from './render-credit-note-pdf';

/** One credit note by number, for a caller who may see its base or account; others get 404 as for a missing one. */
export async function getCreditNote(
  db: Db,
  principal: Principal,
  number: string,
): Promise<CreditNoteDocument> {
  const row = await db.creditNote.findUnique({
    where: { number },
    include: { invoice: { select: correctedInvoiceSelect } },
  });
  const visible =
    row !== null &&
    ((row.baseId !== null && (await canAccessBase(db, principal, row.baseId))) ||
      (row.accountId !== null && canAccessAccount(principal, row.accountId)));
  if (!row || !visible) throw new AppError('CREDIT_NOTE_NOT_FOUND', `No credit note ${number}`);
  return toCreditNoteDocument(row);
}

export async function getCreditNotePdf(db: Db, principal: Principal, number: string) {
  const note = await getCreditNote(db, principal, number);
  return { number: note.number, pdf: await renderCreditNotePdf(note) };
}

/** The columns of a credit note in a listing. */
const creditNoteSummarySelect = {
  number: true,
  kind: true,
  reason: true,
  issueDate: true,
  currency: true,
  totalExclVatCents: true,
  vatCents: true,
  totalInclVatCents: true,
  refundedAt: true,
  invoice: { select: { number: true } },
} as const;

/** Credit notes of a base or of an account, newest first (a handful a year: not paginated). */
export async function listCreditNotes(db: Db, where: { baseId: string } | { accountId: number }) {
  const rows = await db.creditNote.findMany({
    where,
    orderBy: [{ year: 'desc' }, { seq: 'desc' }],
    select: creditNoteSummarySelect,
  });
  return rows.map(({ invoice, refundedAt, ...row }) => ({
    ...row,
    invoiceNumber: invoice.number,
    refundedAt: refundedAt?.toISOString() ?? null,
    pdfUrl: creditNotePdfPath(row.number),
  }));
}
