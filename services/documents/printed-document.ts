/**
 * What a legal document (invoice, credit note) prints and what its Factur-X XML says, built once from the
 * stored document so that the PDF's text and the embedded CII XML carry the same figures.
 */
import type { InvoiceBuyer, InvoiceSeller } from '../../domain/invoice';
import type { QuoteLine, Totals } from '../../domain/quote';
import type { VatRule } from '../../domain/vat';

export interface PrintedDocument {
  /** UNTDID 1001: 380 commercial invoice, 381 credit note */
  typeCode: '380' | '381';
  /** "FACTURE", "AVOIR" */
  title: string;
  number: string;
  issueDate: string;
  /** the day the service was delivered (BT-72); absent on a credit note */
  saleDate?: string;
  /** the delivery date the XML states when none is printed (a credit note: the corrected sale's) */
  deliveryDate?: string;
  dueDate?: string;
  currency: string;
  seller: InvoiceSeller;
  buyer: InvoiceBuyer;
  baseId: string | null;
  accountId?: number | null;
  lines: QuoteLine[];
  vat: VatRule;
  totals: Totals;
  /** the red stamp beside the totals: "PAYÉE le …", "REMBOURSÉ le …" */
  stamp?: { label: string; at: Date };
  /** the amount already settled (paid invoice, refunded credit note); the XML's prepaid amount */
  settledCents: number;
  /** the invoice a credit note corrects (BT-25, BT-26) */
  precedingInvoice?: { number: string; issueDate: string };
  /** extra lines printed under the header, e.g. the reason of a credit note */
  notes: string[];
  /** the settlement sentence printed with the mentions */
  settlement: string;
}
