import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import { createInstallation, revokeApiKey } from '../../services/installations/api-keys';
import { createOpsToken, listOpsTokens, revokeOpsToken } from '../../services/ops/ops-tokens';
import type { RouteKit } from '../route-kit';
import { accountId, baseId, machineName } from '../schemas';

const opsToken = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['OPS', 'ADMIN']),
  prefix: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export function opsRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/installations',
      summary: 'Issue a key for a machine of any base (lost key, base without owner account)',
      tag: 'ops',
      auth: 'ops',
      body: z.object({ baseId, machineName, accountId: accountId.optional() }),
      responses: {
        201: {
          description: 'key issued',
          schema: z.object({
            installationId: z.string(),
            baseId: z.string(),
            machineName: z.string(),
            apiKey: z.string(),
            keyId: z.string(),
          }),
        },
      },
      errors: ['ACCOUNT_NOT_FOUND'],
    },
    async ({ body, principal }) => {
      const created = await deps.prisma.$transaction(async (tx) => {
        if (body.accountId !== undefined && !(await tx.account.findUnique({ where: { id: body.accountId } })))
          throw new AppError('ACCOUNT_NOT_FOUND', `Account ${body.accountId} does not exist`);
        await tx.base.upsert({ where: { id: body.baseId }, create: { id: body.baseId }, update: {} });
        return createInstallation(tx, actorOf(principal), body);
      });
      return { status: 201, body: created };
    },
  );

  kit.route(
    router,
    {
      method: 'delete',
      path: '/ops/api-keys/:keyId',
      summary: 'Revoke an installation key (effective on the next request)',
      tag: 'ops',
      auth: 'ops',
      params: z.object({ keyId: z.uuid() }),
      responses: { 204: { description: 'revoked' } },
      errors: ['API_KEY_NOT_FOUND'],
    },
    async ({ params, principal }) => {
      await deps.prisma.$transaction((tx) => revokeApiKey(tx, actorOf(principal), params.keyId));
      return { status: 204 };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/tokens',
      summary: 'List ops tokens',
      tag: 'ops',
      auth: 'admin',
      responses: { 200: { description: 'tokens (prefix only)', schema: z.array(opsToken) } },
    },
    async () => ({ status: 200, body: await listOpsTokens(deps.prisma) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/tokens',
      summary: 'Issue an ops token (shown once)',
      tag: 'ops',
      auth: 'admin',
      body: z.object({ name: z.string().trim().min(1).max(100), role: z.enum(['OPS', 'ADMIN']) }),
      responses: {
        201: {
          description: 'the token',
          schema: z.object({
            id: z.string(),
            name: z.string(),
            role: z.enum(['OPS', 'ADMIN']),
            token: z.string(),
          }),
        },
      },
    },
    async ({ body, principal }) => ({
      status: 201,
      body: await deps.prisma.$transaction((tx) => createOpsToken(tx, actorOf(principal), body)),
    }),
  );

  kit.route(
    router,
    {
      method: 'delete',
      path: '/ops/tokens/:tokenId',
      summary: 'Revoke an ops token',
      tag: 'ops',
      auth: 'admin',
      params: z.object({ tokenId: z.uuid() }),
      responses: { 204: { description: 'revoked' } },
      errors: ['OPS_TOKEN_NOT_FOUND'],
    },
    async ({ params, principal }) => {
      await deps.prisma.$transaction((tx) => revokeOpsToken(tx, actorOf(principal), params.tokenId));
      return { status: 204 };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/audit',
      summary: 'Audit log of one entity, oldest first',
      tag: 'ops',
      auth: 'ops',
      query: z.object({
        entityType: z.enum([
          'ACCOUNT',
          'BASE',
          'INSTALLATION',
          'API_KEY',
          'OPS_TOKEN',
          'CHALLENGE',
          'CATALOG',
          'LICENCE',
          'PURCHASE',
          'LICENCE_MIGRATION',
          'CREDIT_ENTRY',
          'CREDIT_PURCHASE',
          'SUPPORT_CALL',
          'ACCOUNT_APP',
        ]),
        entityId: z.string().min(1).max(100),
      }),
      responses: {
        200: {
          description: 'entries',
          schema: z.array(
            z.object({
              at: z.string(),
              actorType: z.string(),
              actorId: z.string().nullable(),
              action: z.string(),
              data: z.unknown(),
            }),
          ),
        },
      },
    },
    async ({ query }) => {
      const rows = await deps.prisma.auditLog.findMany({ where: query, orderBy: { id: 'asc' }, take: 1000 });
      return {
        status: 200,
        body: rows.map((r) => ({
          at: r.at.toISOString(),
          actorType: r.actorType,
          actorId: r.actorId,
          action: r.action,
          data: r.data,
        })),
      };
    },
  );

  return router;
}
