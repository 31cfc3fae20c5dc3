import { Router } from 'express';
import { z } from 'zod';
import { actorOf } from '../../services/auth/principal';
import { getSupportTimeBalance } from '../../services/credits/read-ledger';
import type { ServiceDeps } from '../../services/deps';
import { recordSupportCall } from '../../services/support/record-support-call';
import type { RouteKit } from '../route-kit';
import { accountId, baseId } from '../schemas';
import { accountParams, ledgerEntriesRoute, requireAccountAccess } from './wallet';

const supportCall = z.object({
  id: z.string(),
  accountId: z.number().int(),
  baseId: z.string().nullable(),
  technician: z.string(),
  operation: z.string(),
  durationSeconds: z.number().int(),
  billable: z.boolean(),
  causedBySoftware: z.boolean(),
  cloudIncluded: z.boolean(),
  deductedSeconds: z.number().int(),
  balanceAfterSeconds: z.number().int(),
  calledAt: z.string(),
});
const supportCallAnswer = z.object({ created: z.boolean(), call: supportCall }).openapi('SupportCallAnswer');

export function supportRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'get',
      path: '/accounts/:accountId/support-time',
      summary: 'Support time left on the account (seconds)',
      tag: 'support',
      auth: 'any',
      params: accountParams,
      responses: {
        200: {
          description: 'the balance',
          schema: z.object({
            accountId: z.number().int(),
            balanceSeconds: z.number().int(),
            balance: z.string().openapi({ example: '1 h 05 min' }),
            overdraftLimitSeconds: z.number().int(),
          }),
        },
      },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND'],
    },
    async ({ params, principal }) => {
      requireAccountAccess(principal, params.accountId);
      return { status: 200, body: await getSupportTimeBalance(deps.prisma, params.accountId) };
    },
  );

  ledgerEntriesRoute(kit, router, deps, {
    ledger: 'SUPPORT_TIME',
    path: '/accounts/:accountId/support-time/entries',
    summary: 'Support time bought and used, newest first, by pages',
    tag: 'support',
  });

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/support-calls',
      summary:
        'Record a support call: its time is deducted (0 when caused by the software, not billable, or CLOUD) and a report is emailed',
      tag: 'support',
      auth: 'ops',
      body: z
        .object({
          idempotencyKey: z.string().min(8).max(100),
          accountId: accountId.openapi({ type: 'integer' }),
          baseId: baseId.optional(),
          technician: z.string().trim().min(1).max(100),
          operation: z.string().trim().min(3).max(2000),
          durationSeconds: z
            .number()
            .int()
            .positive()
            .max(24 * 3600)
            .optional(),
          durationMinutes: z
            .number()
            .int()
            .positive()
            .max(24 * 60)
            .optional(),
          billable: z.boolean().default(true),
          causedBySoftware: z.boolean().default(false),
          calledAt: z.iso.datetime({ offset: true }).optional(),
        })
        .refine((b) => (b.durationSeconds === undefined) !== (b.durationMinutes === undefined), {
          path: ['durationSeconds'],
          message: 'give the duration in seconds or in minutes (one of them)',
        }),
      responses: {
        201: { description: 'recorded; the report is being emailed', schema: supportCallAnswer },
        200: { description: 'the same request again: the first answer', schema: supportCallAnswer },
      },
      errors: ['ACCOUNT_NOT_FOUND', 'BASE_NOT_FOUND', 'INSUFFICIENT_CREDIT', 'IDEMPOTENCY_KEY_REUSED'],
    },
    async ({ body, principal }) => {
      const { durationMinutes, durationSeconds, ...rest } = body;
      const result = await recordSupportCall(deps, actorOf(principal), {
        ...rest,
        durationSeconds: durationSeconds ?? durationMinutes! * 60,
      });
      return { status: result.created ? 201 : 200, body: result };
    },
  );

  return router;
}
