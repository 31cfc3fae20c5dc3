/** A stored credit note as its Factur-X PDF (type 381, naming the invoice it corrects). */
import { creditNoteKindLabel, type CreditNoteDocument } from '../../domain/credit-note';
import { formatDateFr, formatEurosFr, formatParisDateFr } from '../../domain/invoice';
import type { PrintedDocument } from '../documents/printed-document';
import { renderDocumentPdf } from '../documents/render-document-pdf';

export function printedCreditNote(note: CreditNoteDocument): PrintedDocument {
  const total = formatEurosFr(note.totals.totalInclVatCents);
  return {
    typeCode: '381',
    title: 'AVOIR',
    number: note.number,
    issueDate: note.issueDate,
    deliveryDate: note.invoice.saleDate,
    currency: note.currency,
    seller: note.seller,
    buyer: note.buyer,
    baseId: note.baseId,
    accountId: note.accountId,
    lines: note.lines,
    vat: note.vat,
    totals: note.totals,
    ...(note.refundedAt ? { stamp: { label: 'REMBOURSÉ', at: note.refundedAt } } : {}),
    settledCents: note.refundedAt ? note.totals.totalInclVatCents : 0,
    precedingInvoice: { number: note.invoice.number, issueDate: note.invoice.issueDate },
    notes: [
      `Avoir sur la facture N° ${note.invoice.number} du ${formatDateFr(note.invoice.issueDate)}`,
      `Motif : ${creditNoteKindLabel(note.kind)} — ${note.reason}`,
    ],
    settlement: note.refundedAt
      ? `Montant remboursé le ${formatParisDateFr(note.refundedAt)} (${total}).`
      : `Montant de ${total} porté au crédit du client, à valoir sur ses prochaines factures.`,
  };
}

export function renderCreditNotePdf(note: CreditNoteDocument): Promise<Buffer> {
  return renderDocumentPdf(printedCreditNote(note));
}
