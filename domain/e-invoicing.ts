/**
 * The approved-platform rules (e-invoicing.md): which flow a document takes, and what its lifecycle
 * statuses mean for the outbox.
 */
import type { VatRule } from './vat';

export type EInvoiceDocumentKind = 'INVOICE' | 'CREDIT_NOTE';
export type EInvoiceFlow = 'E_INVOICE' | 'E_REPORTING';
export type EInvoiceStatus = 'QUEUED' | 'SENT' | 'DEPOSITED' | 'REJECTED' | 'REFUSED' | 'PAID';
/** what a platform answers about a document it took */
export type PlatformStatus = Exclude<EInvoiceStatus, 'QUEUED'>;

export const E_INVOICE_STATUSES: readonly EInvoiceStatus[] = [
  'QUEUED',
  'SENT',
  'DEPOSITED',
  'REJECTED',
  'REFUSED',
  'PAID',
];

/**
 * A B2B sale to a buyer registered for French VAT is e-invoiced (the document goes to the buyer's platform);
 * every other sale — EU or non-EU business, consumer — is e-reported (transaction data to the administration).
 */
export function eInvoiceFlowOf(buyer: { country: string; vatNumber?: string }, vat: VatRule): EInvoiceFlow {
  const frenchBusiness =
    vat.kind === 'FRANCE' && buyer.country === 'FRA' && /^FR/i.test(buyer.vatNumber ?? '');
  return frenchBusiness ? 'E_INVOICE' : 'E_REPORTING';
}

/** Statuses after which nothing more comes from the platform: the outbox stops polling. */
export const isFinalEInvoiceStatus = (status: EInvoiceStatus): boolean =>
  status === 'REJECTED' || status === 'REFUSED' || status === 'PAID';

/** Where the document's Factur-X PDF is served (the row is the record: the PDF is rendered from it). */
export const eInvoicePdfPath = (kind: EInvoiceDocumentKind, number: string): string =>
  kind === 'INVOICE' ? `/invoices/${number}.pdf` : `/credit-notes/${number}.pdf`;

/** Statuses are polled for this long after sending; a document still DEPOSITED then is left as it is. */
export const STATUS_POLL_DAYS = 60;
