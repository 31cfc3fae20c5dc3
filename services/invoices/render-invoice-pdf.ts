/** A stored invoice as its Factur-X PDF: what it prints and what its XML says, from one view. */
import { formatEurosFr, formatParisDateFr, type InvoiceDocument } from '../../domain/invoice';
import type { ViesConsultation } from '../../domain/vies';
import type { PrintedDocument } from '../documents/printed-document';
import { renderDocumentPdf } from '../documents/render-document-pdf';

export function printedInvoice(invoice: InvoiceDocument): PrintedDocument {
  return {
    typeCode: '380',
    title: 'FACTURE',
    number: invoice.number,
    issueDate: invoice.issueDate,
    saleDate: invoice.saleDate,
    dueDate: invoice.dueDate,
    currency: invoice.currency,
    seller: invoice.seller,
    buyer: invoice.buyer,
    baseId: invoice.baseId,
    accountId: invoice.accountId,
    lines: invoice.lines,
    vat: invoice.vat,
    totals: invoice.totals,
    stamp: { label: invoice.status === 'PAID' ? 'PAYÉE' : 'ANNULÉE', at: invoice.paidAt },
    settledCents: invoice.totals.totalInclVatCents,
    notes: invoice.viesConsultation?.valid ? [viesMention(invoice.viesConsultation)] : [],
    settlement: `Facture acquittée le ${formatParisDateFr(invoice.paidAt)} (${formatEurosFr(invoice.totals.totalInclVatCents)}).`,
  };
}

/** The proof a reverse charge rests on, printed: the number VIES answered valid, when, and its reference. */
export function viesMention(consultation: ViesConsultation): string {
  const when = new Date(consultation.requestDate);
  const day = Number.isNaN(when.getTime()) ? consultation.requestDate.slice(0, 10) : formatParisDateFr(when);
  const reference = consultation.requestIdentifier
    ? `, consultation n° ${consultation.requestIdentifier}`
    : '';
  return `N° TVA ${consultation.vatNumber} vérifié auprès de VIES le ${day}${reference}.`;
}

export function renderInvoicePdf(invoice: InvoiceDocument): Promise<Buffer> {
  return renderDocumentPdf(printedInvoice(invoice));
}
