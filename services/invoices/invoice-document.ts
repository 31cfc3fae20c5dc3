/**
 * An `Invoice` row with its JSON columns read back through zod: the columns were written from typed values
 * by issue-paid-invoice.ts, but a row is data that outlives the code, so it is checked rather than cast.
 */
import { z } from 'zod';
import type { Invoice } from '../../generated/prisma/client';
import type { InvoiceBuyer, InvoiceDocument, InvoiceSeller } from '../../domain/invoice';
import type { QuoteLine } from '../../domain/quote';
import type { VatRule } from '../../domain/vat';
import type { ViesConsultation } from '../../domain/vies';

const sellerSchema: z.ZodType<InvoiceSeller> = z.object({
  name: z.string(),
  address: z.string(),
  siren: z.string(),
  vatNumber: z.string(),
  legalForm: z.string().optional(),
  shareCapital: z.string().optional(),
  rcsCity: z.string().optional(),
});

const buyerSchema: z.ZodType<InvoiceBuyer> = z.object({
  companyName: z.string(),
  name: z.string().optional(),
  address: z.string(),
  postalCode: z.string(),
  city: z.string(),
  country: z.string(),
  email: z.string().optional(),
  vatNumber: z.string().optional(),
  siren: z.string().optional(),
});

const cents = z.number().int();
const lineSchema: z.ZodType<QuoteLine> = z.object({
  description: z.string(),
  quantity: z.number().int(),
  unitPriceCents: cents,
  totalExclVatCents: cents,
  vatRateBasisPoints: z.number().int(),
  vatCents: cents,
});

const vatSchema: z.ZodType<VatRule> = z.object({
  kind: z.enum(['FRANCE', 'EU_REVERSE_CHARGE', 'EU_CONSUMER', 'OUTSIDE_EU']),
  rateBasisPoints: z.number().int(),
  legalMention: z.string().optional(),
});

const viesSchema: z.ZodType<ViesConsultation> = z.object({
  vatNumber: z.string(),
  valid: z.boolean(),
  requestIdentifier: z.string().nullable(),
  requestDate: z.string(),
});

/** The JSON columns an invoice and a credit note share, checked. */
export function parseParties(row: { seller: unknown; buyer: unknown; lines: unknown; vat: unknown }) {
  return {
    seller: sellerSchema.parse(row.seller),
    buyer: buyerSchema.parse(row.buyer),
    lines: z.array(lineSchema).parse(row.lines),
    vat: vatSchema.parse(row.vat),
  };
}

export function toInvoiceDocument(row: Invoice): InvoiceDocument {
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    baseId: row.baseId,
    accountId: row.accountId,
    issueDate: row.issueDate,
    saleDate: row.saleDate,
    dueDate: row.dueDate,
    currency: row.currency,
    ...parseParties(row),
    totals: {
      totalExclVatCents: row.totalExclVatCents,
      vatCents: row.vatCents,
      totalInclVatCents: row.totalInclVatCents,
    },
    paidAt: row.paidAt,
    viesConsultation: row.viesConsultation === null ? null : viesSchema.parse(row.viesConsultation),
  };
}

/** The URL the API serves an invoice's PDF at (api/routes/invoices.ts). */
export const invoicePdfPath = (number: string) => `/invoices/${number}.pdf`;
