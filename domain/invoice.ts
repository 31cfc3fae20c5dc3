/**
 * Invoices (SPEC §7): numbers, parties, the amounts check and the French wording the PDF prints.
 *
 * Numbers are `YYYY-NNNNNN`, one uninterrupted sequence per calendar year of the issue date. The number is
 * allocated in the transaction that records the payment (services/invoices/issue-paid-invoice.ts), so an
 * invoice only exists once it is final, and a rolled-back payment leaves no hole.
 *
 * Factur-X: an invoice keeps everything the CII XML (EN 16931) needs as structured data — seller and buyer
 * with SIREN / VAT numbers and country, issue, sale (delivery) and due dates, currency, each line's quantity,
 * unit price excl. VAT, VAT rate and amount, the VAT category (`vat.kind`: standard "S", reverse charge
 * "AE", outside the EU "G") with its exemption wording, totals and the payment date. The PDF/A-3 with its
 * embedded XML is rendered from it (services/documents/factur-x.ts).
 */
import type { QuoteLine, Totals } from './quote';
import { applyRateBasisPoints, formatEuros } from './money';
import type { VatRule } from './vat';
import type { ViesConsultation } from './vies';

export interface InvoiceSeller {
  name: string;
  address: string;
  siren: string;
  vatNumber: string;
  /** legal form and share capital, e.g. "SAS" and "10 000 €" (French commercial code, art. R123-238) */
  legalForm?: string;
  shareCapital?: string;
  /** the trade register's city: "RCS Paris 123 456 789" */
  rcsCity?: string;
}

export interface InvoiceBuyer {
  companyName: string;
  /** the person the invoice is addressed to */
  name?: string;
  address: string;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-3 */
  country: string;
  email?: string;
  vatNumber?: string;
  siren?: string;
}

/** An invoice as stored and rendered (the Prisma row with its JSON columns typed). */
export interface InvoiceDocument {
  id: string;
  number: string;
  status: 'PAID' | 'CANCELLED';
  /** the base invoiced; null for an account's purchase without a base (support packs bought online) */
  baseId: string | null;
  /** the customer account invoiced, when there is one */
  accountId?: number | null;
  issueDate: string;
  saleDate: string;
  dueDate: string;
  currency: string;
  seller: InvoiceSeller;
  buyer: InvoiceBuyer;
  lines: QuoteLine[];
  vat: VatRule;
  totals: Totals;
  paidAt: Date;
  /** the VIES consultation a reverse charge rests on (printed on the invoice) */
  viesConsultation?: ViesConsultation | null;
}

export const INVOICE_NUMBER_PATTERN = /^(\d{4})-(\d{6})$/;
const MAX_SEQ = 999_999;

/** 2026, 42 → "2026-000042". Throws past 999 999 invoices a year: the format would lose its fixed width. */
export function formatInvoiceNumber(year: number, seq: number): string {
  if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`bad invoice year ${year}`);
  if (!Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) throw new RangeError(`bad invoice sequence ${seq}`);
  return `${year}-${String(seq).padStart(6, '0')}`;
}

export function parseInvoiceNumber(number: string): { year: number; seq: number } | undefined {
  const match = INVOICE_NUMBER_PATTERN.exec(number);
  if (!match) return undefined;
  const seq = Number(match[2]);
  return seq === 0 ? undefined : { year: Number(match[1]), seq };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD (2026-02-30 is not). */
export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * What is wrong with an invoice's amounts, empty when nothing: each line must be quantity × unit price with
 * its VAT rounded as money.ts says, and the totals must be the sums of the lines. A mismatch is a bug in
 * the caller; an invoice is never corrected after issue, so it is caught before a number is spent.
 */
export function invoiceAmountProblems(lines: readonly QuoteLine[], totals: Totals): string[] {
  const problems: string[] = [];
  if (lines.length === 0) problems.push('an invoice needs at least one line');
  lines.forEach((line, i) => {
    // a discount (promo-code.ts) is quantity -1 at a positive unit price: EN 16931 forbids a negative price
    const discount = line.quantity === -1 && line.unitPriceCents > 0;
    if (!discount && (!Number.isSafeInteger(line.quantity) || line.quantity <= 0))
      problems.push(`line ${i}: quantity must be a positive integer`);
    if (line.quantity * line.unitPriceCents !== line.totalExclVatCents)
      problems.push(`line ${i}: quantity × unit price ≠ total excl. VAT`);
    const vat = applyRateBasisPoints(Math.abs(line.totalExclVatCents), line.vatRateBasisPoints);
    if ((line.totalExclVatCents < 0 ? -vat : vat) !== line.vatCents)
      problems.push(`line ${i}: VAT amount does not match its rate`);
  });
  const exclVat = lines.reduce((sum, line) => sum + line.totalExclVatCents, 0);
  const vat = lines.reduce((sum, line) => sum + line.vatCents, 0);
  if (totals.totalExclVatCents !== exclVat) problems.push('total excl. VAT ≠ sum of the lines');
  if (totals.vatCents !== vat) problems.push('total VAT ≠ sum of the lines');
  if (totals.totalInclVatCents !== totals.totalExclVatCents + totals.vatCents)
    problems.push('total incl. VAT ≠ total excl. VAT + VAT');
  return problems;
}

/** 10200 → "102,00 €": French decimal comma, the amount as money.ts formats it. */
export function formatEurosFr(cents: number): string {
  return `${formatEuros(cents).replace('.', ',')} €`;
}

/** 2000 → "20 %", 550 → "5,5 %". */
export function formatRate(basisPoints: number): string {
  return `${String(basisPoints / 100).replace('.', ',')} %`;
}

/** A moment as the French calendar day it fell on: "15/03/2026" (Europe/Paris, summer time included). */
export function formatParisDateFr(moment: Date): string {
  return new Intl.DateTimeFormat('fr-FR', {
    timeZone: 'Europe/Paris',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(moment);
}

/** "2026-03-15" → "15/03/2026". */
export function formatDateFr(isoDate: string): string {
  const [y, m, d] = isoDate.split('-');
  return `${d}/${m}/${y}`;
}

/**
 * Late-payment wording of the Code de commerce (art. L441-10) owed between businesses. Every buyer here is
 * an organisation (accounts and purchases require a company name), and printing it to anyone else is harmless.
 */
export const LATE_PAYMENT_PENALTY_MENTION =
  "Taux des pénalités de retard : 3 fois le taux d'intérêt légal (art. L441-10 du Code de commerce)";
export const RECOVERY_FEE_MENTION = 'Indemnité forfaitaire pour frais de recouvrement : 40 € (art. D441-5)';
export const NO_EARLY_PAYMENT_DISCOUNT_MENTION = 'Escompte pour paiement anticipé : néant';

export function isBusinessBuyer(buyer: InvoiceBuyer): boolean {
  return buyer.companyName.trim() !== '';
}
