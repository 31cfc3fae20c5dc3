/** The ERP asks for the page changing the saved card of a base's licence (docs/payment-page.md). */
import { Router } from 'express';
import { z } from 'zod';
import type { ServiceDeps } from '../../services/deps';
import { cardChangeLink } from '../../services/payments/card-change-link';
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
  return router;
}
