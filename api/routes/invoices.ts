import { Router } from 'express';
import { z } from 'zod';
import { CREDIT_NOTE_KINDS } from '../../domain/credit-note';
import { actorOf, type Principal } from '../../services/auth/principal';
import { getCreditNotePdf, listCreditNotes } from '../../services/credit-notes/get-credit-note';
import { issueCreditNote } from '../../services/credit-notes/issue-credit-note';
import { getInvoicePdf } from '../../services/invoices/get-invoice';
import { listInvoices } from '../../services/invoices/list-invoices';
import { getReceiptPdf } from '../../services/receipts/get-receipt';
import type { ErrorCode } from '../../domain/errors';
import type { ServiceDeps } from '../../services/deps';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';

/**
 * The file name is one path segment validated here. `/invoices/:number.pdf` would match too (path-to-regexp
 * v8, Express 5, reads `.pdf` as literal text), but a malformed name would then fall through to the generic
 * 404 instead of a 400 saying what is wrong.
 */
const invoiceFile = z
  .string()
  .regex(/^\d{4}-\d{6}\.pdf$/, 'an invoice file name: YYYY-NNNNNN.pdf')
  .openapi({ example: '2026-000042.pdf' });

/** An invoice in a listing, a base's or an account's. */
export const invoiceSummary = z.object({
  number: z.string().openapi({ example: '2026-000042' }),
  status: z.enum(['PAID', 'CANCELLED']),
  issueDate: z.string(),
  saleDate: z.string(),
  dueDate: z.string(),
  currency: z.string(),
  totalExclVatCents: z.number().int(),
  vatCents: z.number().int(),
  totalInclVatCents: z.number().int(),
  paidAt: z.string(),
  baseId: z.string().nullable(),
  consumptionMonth: z
    .string()
    .nullable()
    .openapi({ description: 'the month a wallet consumption invoice is for' }),
  pdfUrl: z.string().openapi({ example: '/invoices/2026-000042.pdf' }),
});

const creditNoteFile = z
  .string()
  .regex(/^AV-\d{4}-\d{6}\.pdf$/, 'a credit note file name: AV-YYYY-NNNNNN.pdf')
  .openapi({ example: 'AV-2026-000007.pdf' });

const receiptFile = z
  .string()
  .regex(/^RC-\d{4}-\d{6}\.pdf$/, 'a receipt file name: RC-YYYY-NNNNNN.pdf')
  .openapi({ example: 'RC-2026-000003.pdf' });

/**
 * One document as PDF by its file name (`<number>.pdf`): the lookup answers 404 for a missing document and
 * for another owner's alike; the PDF is served inline under a French file name.
 */
function pdfRoute(
  kit: RouteKit,
  router: Router,
  spec: {
    path: string;
    summary: string;
    file: z.ZodString;
    description: string;
    notFound: ErrorCode;
    filenamePrefix: string;
    find: (principal: Principal, number: string) => Promise<{ number: string; pdf: Buffer }>;
  },
): void {
  kit.route(
    router,
    {
      method: 'get',
      path: spec.path,
      summary: spec.summary,
      tag: 'invoices',
      auth: 'any',
      params: z.object({ file: spec.file }),
      responses: {
        200: {
          description: spec.description,
          schema: z.string().openapi({ type: 'string', format: 'binary' }),
          contentType: 'application/pdf',
        },
      },
      errors: [spec.notFound],
    },
    async ({ params, principal }) => {
      const { number, pdf } = await spec.find(principal, params.file.slice(0, -'.pdf'.length));
      return {
        status: 200,
        body: pdf,
        contentType: 'application/pdf',
        headers: { 'Content-Disposition': `inline; filename="${spec.filenamePrefix}-${number}.pdf"` },
      };
    },
  );
}

/** A credit note in a listing (a base's, an account's). */
export const creditNoteSummary = z.object({
  number: z.string().openapi({ example: 'AV-2026-000007' }),
  kind: z.enum(CREDIT_NOTE_KINDS),
  reason: z.string(),
  invoiceNumber: z.string(),
  issueDate: z.string(),
  currency: z.string(),
  totalExclVatCents: z.number().int(),
  vatCents: z.number().int(),
  totalInclVatCents: z.number().int(),
  refundedAt: z.string().nullable(),
  pdfUrl: z.string().openapi({ example: '/credit-notes/AV-2026-000007.pdf' }),
});

/** One page of invoices: the shape of every invoice listing. */
export const invoicePageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(24),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
export const invoiceList = z
  .object({
    total: z.number().int(),
    items: z.array(invoiceSummary),
    /** the owner's credit notes, all of them (a handful a year) */
    creditNotes: z.array(creditNoteSummary),
  })
  .openapi('InvoiceList');

export function invoiceRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  pdfRoute(kit, router, {
    path: '/invoices/:file',
    summary:
      "An invoice as PDF. Another base's invoice answers 404 like a missing one (numbers can't be probed)",
    file: invoiceFile,
    description: 'the invoice (PDF, French)',
    notFound: 'INVOICE_NOT_FOUND',
    filenamePrefix: 'facture',
    find: (principal, number) => getInvoicePdf(deps.prisma, principal, number),
  });

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/invoices',
      summary: "A base's invoices, newest first, with their PDF URLs",
      tag: 'invoices',
      auth: 'any',
      params: z.object({ baseId }),
      baseParam: 'baseId',
      query: invoicePageQuery,
      responses: { 200: { description: 'one page of invoices', schema: invoiceList } },
    },
    async ({ params, query }) => ({
      status: 200,
      body: await listInvoices(deps.prisma, { baseId: params.baseId }, query),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/credit-notes',
      summary: "A base's credit notes, newest first, with the invoice each corrects and their PDF URLs",
      tag: 'invoices',
      auth: 'any',
      params: z.object({ baseId }),
      baseParam: 'baseId',
      responses: { 200: { description: 'the credit notes', schema: z.array(creditNoteSummary) } },
    },
    async ({ params }) => ({
      status: 200,
      body: await listCreditNotes(deps.prisma, { baseId: params.baseId }),
    }),
  );

  pdfRoute(kit, router, {
    path: '/credit-notes/:file',
    summary: "A credit note as PDF (Factur-X). Another base's answers 404 like a missing one",
    file: creditNoteFile,
    description: 'the credit note (PDF, French)',
    notFound: 'CREDIT_NOTE_NOT_FOUND',
    filenamePrefix: 'avoir',
    find: (principal, number) => getCreditNotePdf(deps.prisma, principal, number),
  });

  pdfRoute(kit, router, {
    path: '/receipts/:file',
    summary: "A wallet recharge's receipt as PDF (no VAT: multi-purpose voucher), to its account",
    file: receiptFile,
    description: 'the receipt (PDF, French)',
    notFound: 'RECEIPT_NOT_FOUND',
    filenamePrefix: 'recu',
    find: (principal, number) => getReceiptPdf(deps.prisma, principal, number),
  });

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/invoices/:number/credit-notes',
      summary:
        'A goodwill credit note on an invoice (VAT included, at the invoice VAT rule), kept on account; idempotent on the key',
      tag: 'ops',
      auth: 'ops',
      params: z.object({ number: z.string().regex(/^\d{4}-\d{6}$/, 'an invoice number: YYYY-NNNNNN') }),
      body: z.object({
        amountInclVatCents: z.number().int().positive().max(100_000_000),
        reason: z.string().trim().min(3).max(500),
        idempotencyKey: z.string().min(8).max(200),
      }),
      responses: { 201: { description: 'the credit note issued', schema: creditNoteSummary } },
      errors: ['INVOICE_NOT_FOUND', 'CREDIT_EXCEEDS_INVOICE', 'IDEMPOTENCY_KEY_REUSED'],
    },
    async ({ params, body, principal }) => {
      const note = await deps.prisma.$transaction((tx) =>
        issueCreditNote(tx, actorOf(principal), {
          invoiceNumber: params.number,
          kind: 'GOODWILL',
          reason: body.reason,
          amountInclVatCents: body.amountInclVatCents,
          idempotencyKey: `goodwill:${body.idempotencyKey}`,
          now: new Date(),
        }),
      );
      return {
        status: 201,
        body: {
          number: note.number,
          kind: note.kind,
          reason: note.reason,
          invoiceNumber: note.invoice.number,
          issueDate: note.issueDate,
          currency: note.currency,
          ...note.totals,
          refundedAt: note.refundedAt?.toISOString() ?? null,
          pdfUrl: `/credit-notes/${note.number}.pdf`,
        },
      };
    },
  );
  return router;
}
