/** Ops: the approved-platform outbox, what was sent and what the platform answered (docs/e-invoicing.md). */
import { Router } from 'express';
import { z } from 'zod';
import { E_INVOICE_STATUSES, type EInvoiceStatus } from '../../domain/e-invoicing';
import type { ServiceDeps } from '../../services/deps';
import { listEInvoices } from '../../services/e-invoicing/outbox';
import type { RouteKit } from '../route-kit';

const status = z.enum(E_INVOICE_STATUSES as [EInvoiceStatus, ...EInvoiceStatus[]]);
const eInvoice = z.object({
  documentKind: z.enum(['INVOICE', 'CREDIT_NOTE']),
  documentNumber: z.string(),
  flow: z
    .enum(['E_INVOICE', 'E_REPORTING'])
    .openapi({ description: 'e-invoiced (French B2B buyer) or e-reported (any other sale)' }),
  pdfPath: z.string().openapi({ description: 'the Factur-X document sent' }),
  status,
  final: z
    .boolean()
    .openapi({ description: 'REJECTED, REFUSED or PAID: nothing more comes from the platform' }),
  attempts: z.number().int(),
  platformId: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  statusAt: z.string().nullable(),
});

export function opsEInvoiceRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();
  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/e-invoices',
      summary: 'The e-invoicing outbox, newest first: each invoice and credit note, its platform status',
      tag: 'ops',
      auth: 'ops',
      query: z.object({
        status: status.optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      responses: { 200: { description: 'outbox rows', schema: z.object({ items: z.array(eInvoice) }) } },
    },
    async ({ query }) => ({ status: 200, body: { items: await listEInvoices(deps.prisma, query) } }),
  );
  return router;
}
