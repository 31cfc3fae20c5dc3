import { Router } from 'express';
import { z } from 'zod';
import { getInvoicePdf } from '../../services/invoices/get-invoice';
import { listInvoices } from '../../services/invoices/list-invoices';
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

/** One page of invoices: the shape of every invoice listing. */
export const invoicePageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(24),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
export const invoiceList = z
  .object({ total: z.number().int(), items: z.array(invoiceSummary) })
  .openapi('InvoiceList');

export function invoiceRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'get',
      path: '/invoices/:file',
      summary:
        "An invoice as PDF. Another base's invoice answers 404 like a missing one (numbers can't be probed)",
      tag: 'invoices',
      auth: 'any',
      params: z.object({ file: invoiceFile }),
      responses: {
        200: {
          description: 'the invoice (PDF, French)',
          schema: z.string().openapi({ type: 'string', format: 'binary' }),
          contentType: 'application/pdf',
        },
      },
      errors: ['INVOICE_NOT_FOUND'],
    },
    async ({ params, principal }) => {
      const { number, pdf } = await getInvoicePdf(
        deps.prisma,
        principal,
        params.file.slice(0, -'.pdf'.length),
      );
      return {
        status: 200,
        body: pdf,
        contentType: 'application/pdf',
        headers: { 'Content-Disposition': `inline; filename="facture-${number}.pdf"` },
      };
    },
  );

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
  return router;
}
