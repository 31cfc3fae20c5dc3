import { Router } from 'express';
import { z } from 'zod';
import { getBase } from '../../services/bases/get-base';
import type { ServiceDeps } from '../../services/deps';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';

export function baseRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();
  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId',
      summary: 'A base: its owner account and machines (keys by prefix only)',
      tag: 'bases',
      auth: 'any',
      params: z.object({ baseId }),
      baseParam: 'baseId',
      responses: {
        200: {
          description: 'the base',
          schema: z.object({
            baseId: z.string(),
            accountId: z.number().nullable(),
            claimedAt: z.string(),
            installations: z.array(
              z.object({
                installationId: z.string(),
                machineName: z.string(),
                accountId: z.number().nullable(),
                createdAt: z.string(),
                apiKeys: z.array(
                  z.object({
                    keyId: z.string(),
                    prefix: z.string(),
                    createdAt: z.string(),
                    revokedAt: z.string().nullable(),
                  }),
                ),
              }),
            ),
          }),
        },
      },
      errors: ['BASE_NOT_FOUND'],
    },
    async ({ params }) => ({ status: 200, body: await getBase(deps.prisma, params.baseId) }),
  );
  return router;
}
