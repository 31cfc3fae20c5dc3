/**
 * Credit notes (avoirs): an issued invoice is never edited or deleted; it is corrected by a credit note that
 * names it, in a continuous chronological series of its own per calendar year: `AV-YYYY-NNNNNN`.
 *
 * A credit note repeats the invoice's parties and VAT rule (same VAT treatment as the sale it corrects), and
 * all the credit notes of an invoice together never exceed what it invoiced.
 */
import { buildLine, buildTotals, type QuoteLine, type Totals } from './quote';
import { exclVatParts } from './consumption-invoice';
import type { InvoiceBuyer, InvoiceSeller } from './invoice';
import type { VatRule } from './vat';

export const CREDIT_NOTE_KINDS = ['GOODWILL', 'REFUND', 'CANCELLATION', 'DISPUTE'] as const;
export type CreditNoteKind = (typeof CREDIT_NOTE_KINDS)[number];

/** A credit note as stored and rendered. */
export interface CreditNoteDocument {
  id: string;
  number: string;
  kind: CreditNoteKind;
  reason: string;
  /** the invoice corrected, with the day its sale was made */
  invoice: { number: string; issueDate: string; saleDate: string };
  baseId: string | null;
  accountId: number | null;
  issueDate: string;
  currency: string;
  seller: InvoiceSeller;
  buyer: InvoiceBuyer;
  lines: QuoteLine[];
  vat: VatRule;
  totals: Totals;
  refundedAt: Date | null;
}

export const CREDIT_NOTE_NUMBER_PATTERN = /^AV-(\d{4})-(\d{6})$/;

/** 2026, 7 → "AV-2026-000007". */
export function formatCreditNoteNumber(year: number, seq: number): string {
  if (!Number.isInteger(year) || year < 1000 || year > 9999)
    throw new RangeError(`bad credit note year ${year}`);
  if (!Number.isInteger(seq) || seq < 1 || seq > 999_999)
    throw new RangeError(`bad credit note sequence ${seq}`);
  return `AV-${year}-${String(seq).padStart(6, '0')}`;
}

const KIND_LABELS: Readonly<Record<CreditNoteKind, string>> = {
  GOODWILL: 'Geste commercial',
  REFUND: 'Remboursement',
  CANCELLATION: 'Annulation',
  DISPUTE: 'Contestation de paiement perdue',
};

export function creditNoteKindLabel(kind: CreditNoteKind): string {
  return KIND_LABELS[kind];
}

/**
 * The lines crediting a VAT-included amount of an invoice at its VAT rule: one line, plus a one-cent
 * rounding line where no amount excl. VAT gives exactly that total (see exclVatParts).
 */
export function creditLines(
  inclVatCents: number,
  vat: VatRule,
  invoiceNumber: string,
  kind: CreditNoteKind,
): { lines: QuoteLine[]; totals: Totals } {
  if (!Number.isSafeInteger(inclVatCents) || inclVatCents <= 0)
    throw new RangeError(`a credit note credits a positive amount, got ${inclVatCents}`);
  const description = `${creditNoteKindLabel(kind)} sur la facture ${invoiceNumber}`;
  const [main, ...rest] = exclVatParts(inclVatCents, vat.rateBasisPoints);
  const lines = [
    buildLine({ description, quantity: 1, unitPriceCents: main! }, vat),
    ...rest.map((part) =>
      buildLine(
        { description: `${description} — ajustement d'arrondi`, quantity: 1, unitPriceCents: part },
        vat,
      ),
    ),
  ];
  return { lines, totals: buildTotals(lines) };
}

/** What may still be credited on an invoice: its total less the credit notes already issued. */
export function creditableCents(invoiceTotalInclVatCents: number, creditedInclVatCents: number): number {
  return Math.max(0, invoiceTotalInclVatCents - creditedInclVatCents);
}
