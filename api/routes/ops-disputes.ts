/** Ops: the queue of card disputes and early fraud warnings (docs/disputes.md). */
import { Router } from 'express';
import { z } from 'zod';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import { acknowledgeWarning, getDispute, listDisputes } from '../../services/ops/disputes';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';

const outcome = z.enum(['OPEN', 'WON', 'LOST', 'CLOSED']);
const dispute = z.object({
  id: z.string(),
  kind: z.enum(['DISPUTE', 'EARLY_FRAUD_WARNING']),
  stripeId: z.string(),
  paymentIntentId: z.string().nullable(),
  paymentId: z.string().nullable(),
  baseId: z.string().nullable(),
  licenceId: z.string().nullable(),
  creditPurchaseId: z.string().nullable(),
  accountId: z.number().int().nullable(),
  amountCents: z.number().int(),
  currency: z.string(),
  reason: z.string().nullable(),
  stripeStatus: z
    .string()
    .openapi({ description: "Stripe's status (needs_response, under_review, lost...)" }),
  outcome,
  evidenceDueBy: z.string().nullable().openapi({ description: 'when Stripe must have the evidence' }),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  reversal: z
    .object({
      reversedAt: z.string(),
      amountCents: z.number().int(),
      creditNoteNumber: z.string().nullable(),
      licenceAction: z.string().nullable(),
      creditDebited: z.number().int().nullable(),
    })
    .nullable()
    .openapi({ description: 'a lost dispute: the money taken back in our records, once, and what followed' }),
  acknowledgedBy: z.string().nullable(),
});
const params = z.object({ disputeId: z.uuid() });

export function opsDisputeRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/disputes',
      summary:
        'Card disputes and early fraud warnings: the open ones by evidence deadline (the queue), or those of one outcome',
      tag: 'ops',
      auth: 'ops',
      query: z.object({ outcome: outcome.optional(), baseId: baseId.optional() }),
      responses: { 200: { description: 'disputes', schema: z.array(dispute) } },
    },
    async ({ query }) => ({ status: 200, body: await listDisputes(deps, query) }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/disputes/:disputeId',
      summary: 'One dispute or early fraud warning',
      tag: 'ops',
      auth: 'ops',
      params,
      responses: { 200: { description: 'the dispute', schema: dispute } },
      errors: ['DISPUTE_NOT_FOUND'],
    },
    async ({ params: p }) => ({ status: 200, body: await getDispute(deps, p.disputeId) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/disputes/:disputeId/acknowledge',
      summary: 'An early fraud warning was dealt with (refunded or judged safe): it leaves the queue',
      tag: 'ops',
      auth: 'ops',
      params,
      body: z.object({
        reason: z.string().trim().min(3).max(1000).openapi({ description: 'why (kept in the audit log)' }),
      }),
      responses: { 200: { description: 'acknowledged', schema: dispute } },
      errors: ['DISPUTE_NOT_FOUND', 'DISPUTE_NOT_ACKNOWLEDGEABLE'],
    },
    async ({ params: p, body, principal }) => ({
      status: 200,
      body: await acknowledgeWarning(deps, {
        id: p.disputeId,
        actor: actorOf(principal),
        reason: body.reason,
      }),
    }),
  );

  return router;
}
