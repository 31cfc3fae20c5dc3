import { Router } from 'express';
import { z } from 'zod';
import { EDITIONS, MODES, PERIODS } from '../../domain/catalog';
import { PROMO_DURATIONS, PROMO_KINDS, promoCodeDefinitionSchema } from '../../domain/promo-code';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import {
  createPromoCode,
  deactivatePromoCode,
  listPromoCodes,
} from '../../services/promo-codes/manage-promo-codes';
import type { RouteKit } from '../route-kit';

/** services/promo-codes/manage-promo-codes.ts promoCodeView */
const promoCodeView = z
  .object({
    code: z.string(),
    kind: z.enum(PROMO_KINDS),
    percentBasisPoints: z.number().int().nullable(),
    amountOffCents: z.number().int().nullable(),
    duration: z.enum(PROMO_DURATIONS),
    durationPeriods: z.number().int().nullable(),
    validFrom: z.string().nullable(),
    validUntil: z.string().nullable(),
    maxRedemptions: z.number().int().nullable(),
    redemptionCount: z.number().int(),
    editions: z.array(z.enum(EDITIONS)),
    modes: z.array(z.enum(MODES)),
    periods: z.array(z.enum(PERIODS)),
    active: z.boolean(),
    createdBy: z.string(),
    createdAt: z.string(),
    deactivatedAt: z.string().nullable(),
  })
  .openapi('PromoCode');

export function promoCodeRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/promo-codes',
      summary:
        'Create a promo code: percentage or amount off, for the first period, N periods or every period; ' +
        'validity dates, maximum redemptions (each base once), eligible editions, modes and periods (empty: all)',
      tag: 'ops',
      auth: 'ops',
      body: promoCodeDefinitionSchema,
      responses: { 201: { description: 'created', schema: promoCodeView } },
      errors: ['PROMO_CODE_EXISTS'],
    },
    async ({ body, principal }) => ({
      status: 201,
      body: await createPromoCode(deps.prisma, actorOf(principal), body),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/promo-codes',
      summary: 'Promo codes, newest first, with their redemption counts',
      tag: 'ops',
      auth: 'ops',
      query: z.object({ active: z.enum(['true', 'false']).optional() }),
      responses: { 200: { description: 'promo codes', schema: z.array(promoCodeView) } },
    },
    async ({ query }) => ({
      status: 200,
      body: await listPromoCodes(deps.prisma, {
        active: query.active === undefined ? undefined : query.active === 'true',
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/promo-codes/:code/deactivation',
      summary: 'Deactivate a promo code: refused from now on; discounts already redeemed keep their duration',
      tag: 'ops',
      auth: 'ops',
      params: z.object({ code: z.string().min(1).max(40) }),
      responses: { 200: { description: 'the code, inactive', schema: promoCodeView } },
      errors: ['PROMO_CODE_NOT_FOUND'],
    },
    async ({ params, principal }) => ({
      status: 200,
      body: await deactivatePromoCode(deps.prisma, actorOf(principal), params.code),
    }),
  );

  return router;
}
