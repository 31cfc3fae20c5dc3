/**
 * The payment method a base's licence renews with: the page where the customer saves a new card or SEPA
 * mandate (docs/payment-page.md, docs/sepa.md), what is saved, and its removal.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { ServiceDeps } from '../../services/deps';
import { actorOf } from '../../services/auth/principal';
import { cardChangeLink } from '../../services/payments/card-change-link';
import { removeSavedPaymentMethod, savedPaymentMethod } from '../../services/payments/saved-payment-method';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';

export function cardChangeRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();
  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/licence/card-change',
      summary:
        'The signed URL of the page where the customer saves a new card (SetupIntent); from then on the licence renews automatically with it (also a cheque, transfer, free or migrated licence)',
      tag: 'licences',
      auth: 'any',
      params: z.object({ baseId }),
      baseParam: 'baseId',
      responses: {
        200: {
          description: 'the URL the ERP opens in the browser',
          schema: z.object({ cardChangeUrl: z.string(), expiresAt: z.string() }),
        },
      },
      errors: ['NO_PAID_LICENCE'],
    },
    async ({ params }) => ({ status: 200, body: await cardChangeLink(deps, params.baseId) }),
  );

  const savedMethod = z
    .object({
      type: z.enum(['NONE', 'CARD', 'SEPA_DEBIT']),
      autoRenew: z.boolean(),
      label: z.string().optional().openapi({ description: 'a card: brand and last 4 digits' }),
      expires: z.string().optional().openapi({ description: 'a card: MM/YYYY' }),
      mandate: z
        .object({
          reference: z.string(),
          account: z.string().openapi({ description: 'the bank account, masked' }),
          holderName: z.string(),
          acceptedAt: z.string(),
        })
        .optional()
        .openapi({ description: 'a SEPA Direct Debit: the mandate in force' }),
    })
    .openapi('SavedPaymentMethod');
  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/licence/payment-method',
      summary: "The card or SEPA mandate the licence's renewals are charged to",
      tag: 'licences',
      auth: 'any',
      params: z.object({ baseId }),
      baseParam: 'baseId',
      responses: { 200: { description: 'the saved payment method', schema: savedMethod } },
      errors: ['NO_PAID_LICENCE'],
    },
    async ({ params }) => ({ status: 200, body: await savedPaymentMethod(deps, params.baseId) }),
  );
  kit.route(
    router,
    {
      method: 'delete',
      path: '/bases/:baseId/licence/payment-method',
      summary:
        'Removes the saved payment method: a SEPA mandate is revoked (never debited again), a card forgotten; auto-renew is off until another is saved on the payment method page',
      tag: 'licences',
      auth: 'any',
      params: z.object({ baseId }),
      baseParam: 'baseId',
      responses: { 200: { description: 'what is saved now (NONE)', schema: savedMethod } },
      errors: ['NO_PAID_LICENCE', 'NO_SAVED_PAYMENT_METHOD'],
    },
    async ({ params, principal }) => {
      const actor = actorOf(principal);
      return {
        status: 200,
        body: await removeSavedPaymentMethod(deps, params.baseId, `${actor.type}:${actor.id}`),
      };
    },
  );
  return router;
}
