import { Router } from 'express';
import { z } from 'zod';
import { catalogSchema, type Catalog } from '../../domain/catalog';
import { AppError } from '../../domain/errors';
import { quoteRequestSchema } from '../../domain/quote';
import { actorOf } from '../../services/auth/principal';
import { getCatalog, saveCatalog } from '../../services/catalog/get-catalog';
import type { ServiceDeps } from '../../services/deps';
import { readLicenceTerms } from '../../services/licences/licence-terms';
import { quoteLicence } from '../../services/promo-codes/quote-licence';
import type { RouteKit } from '../route-kit';
import { extensionCode } from '../schemas';

const quoteAnswer = z.object({
  currency: z.string(),
  lines: z.array(
    z.object({
      description: z.string(),
      quantity: z.number(),
      unitPriceCents: z.number(),
      totalExclVatCents: z.number(),
      vatRateBasisPoints: z.number(),
      vatCents: z.number(),
    }),
  ),
  totalExclVatCents: z.number(),
  vatCents: z.number(),
  totalInclVatCents: z.number(),
  vat: z.object({ kind: z.string(), rateBasisPoints: z.number(), legalMention: z.string().optional() }),
});

export function catalogRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();
  kit.route(
    router,
    {
      method: 'get',
      path: '/catalog',
      summary: 'Prices in force (cents excl. VAT, per connection per month)',
      tag: 'catalog',
      auth: 'none',
      responses: { 200: { description: 'the catalogue', schema: catalogSchema } },
    },
    async () => ({ status: 200, body: await getCatalog(deps.prisma) }),
  );
  kit.route(
    router,
    {
      method: 'post',
      path: '/quotes',
      summary:
        'Price a licence: lines, totals excl. VAT, VAT and incl. VAT, with the VAT rule and its legal mention',
      tag: 'catalog',
      auth: 'none',
      body: z.object({
        edition: z.enum(['STANDARD', 'ENTERPRISE']),
        mode: z.enum(['LOCAL', 'CLOUD']),
        connections: z.number().int().min(1).max(1000),
        period: z.enum(['MONTHLY', 'QUARTERLY', 'ANNUAL']),
        country: z.string(),
        vatNumber: z.string().optional(),
        promoCode: z.string().trim().min(1).max(40).optional().openapi({
          description:
            'the "Code promo": its discount is a line of the quote; a code that does not apply is refused',
        }),
        extensions: z.array(extensionCode).max(20).optional().openapi({
          description: 'extensions bought with the licence: a line each (GET /catalog: `extensions`)',
        }),
      }),
      responses: { 200: { description: 'the quote', schema: quoteAnswer } },
      errors: [
        'VAT_NUMBER_INVALID',
        'PROMO_CODE_UNKNOWN',
        'PROMO_CODE_INACTIVE',
        'PROMO_CODE_NOT_YET_VALID',
        'PROMO_CODE_EXPIRED',
        'PROMO_CODE_NOT_ELIGIBLE',
        'PROMO_CODE_EXHAUSTED',
        'UNKNOWN_EXTENSION',
      ],
    },
    async ({ body }) => {
      const parsed = quoteRequestSchema.safeParse(body);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => ({
          path: ['body', ...i.path.map(String)].join('.'),
          message: i.message,
        }));
        if (fields.some((f) => f.path === 'body.vatNumber'))
          throw new AppError('VAT_NUMBER_INVALID', 'The VAT number does not match the country', { fields });
        throw new AppError('VALIDATION_FAILED', 'The request is invalid', { fields });
      }
      return {
        status: 200,
        body: await quoteLicence(deps.prisma, parsed.data, body.promoCode, body.extensions),
      };
    },
  );
  const terms = readLicenceTerms(deps.billing.termsVersion);
  kit.route(
    router,
    {
      method: 'get',
      path: '/licence-terms',
      summary:
        'The licence terms in force ("Afficher la licence"): their version, to send back as `terms.version` when ' +
        'buying, and their text (plain text, French)',
      tag: 'catalog',
      auth: 'none',
      responses: {
        200: {
          description: 'the terms in force',
          schema: z
            .object({ version: z.string().openapi({ example: '2026-01' }), text: z.string() })
            .openapi('LicenceTerms'),
        },
      },
    },
    async () => ({ status: 200, body: terms }),
  );
  kit.route(
    router,
    {
      method: 'put',
      path: '/ops/catalog',
      summary: 'Replace the catalogue (a new version; prices new purchases and renewals from now on)',
      tag: 'ops',
      auth: 'admin',
      body: catalogSchema,
      responses: { 200: { description: 'saved', schema: z.object({ version: z.number() }) } },
    },
    async ({ body, principal }) => ({
      status: 200,
      body: await saveCatalog(deps.prisma, actorOf(principal), body as Catalog),
    }),
  );
  return router;
}
