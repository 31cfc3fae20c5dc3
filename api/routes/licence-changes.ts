import { Router } from 'express';
import { z } from 'zod';
import type { ServiceDeps } from '../../services/deps';
import { cancelScheduledChange, scheduleChange } from '../../services/subscriptions/licence-messages';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';
import { extensionCode } from '../schemas';
import { subscriptionView } from './subscriptions';

const baseParams = z.object({ baseId });

/** Changes at the period end: recorded now, applied by the next renewal, cancellable until then. */
export function licenceChangeRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/licence/scheduled-change',
      summary:
        'Schedule a change for the period end (fewer connections, a lower edition or mode, another period, ' +
        'extensions removed): applied by the next renewal at the new price; replaces an earlier one',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      body: z
        .object({
          connections: z.number().int().min(1).max(1000).optional(),
          edition: z.enum(['STANDARD', 'ENTERPRISE']).optional(),
          mode: z.enum(['LOCAL', 'CLOUD']).optional(),
          period: z.enum(['MONTHLY', 'QUARTERLY', 'ANNUAL']).optional(),
          removeExtensions: z.array(extensionCode).min(1).max(20).optional(),
        })
        .refine((c) => Object.keys(c).length > 0, 'nothing to change'),
      responses: {
        200: { description: 'the subscription with its scheduled change', schema: subscriptionView },
      },
      errors: ['NO_PAID_LICENCE', 'CHANGE_REFUSED', 'PAYMENT_ACTION_PENDING'],
    },
    async ({ params, body }) => ({ status: 200, body: await scheduleChange(deps, params.baseId, body) }),
  );

  kit.route(
    router,
    {
      method: 'delete',
      path: '/bases/:baseId/licence/scheduled-change',
      summary: 'Cancel the change scheduled for the period end (until the renewal applies it)',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      responses: { 200: { description: 'the subscription, nothing scheduled', schema: subscriptionView } },
      errors: ['NO_PAID_LICENCE', 'NO_SCHEDULED_CHANGE'],
    },
    async ({ params }) => ({ status: 200, body: await cancelScheduledChange(deps, params.baseId) }),
  );

  return router;
}
