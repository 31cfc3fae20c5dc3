/**
 * Ops tools: failed payments (list, replay one, bulk replay with a dry run), the manual-payment,
 * renewals-to-pay and free-licence queues, and workflows waiting too long. Every action is audited with who, when and why.
 */
import { Router } from 'express';
import { z } from 'zod';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import {
  listFailedPayments,
  replayFailedPayment,
  replayFailedPayments,
} from '../../services/ops/failed-payments';
import {
  approveFreeLicence,
  cancelManualPayment,
  confirmManualPayment,
  listFreeLicenceRequests,
  listManualPayments,
  listRenewalsToPay,
  rejectFreeLicence,
} from '../../services/ops/manual-queues';
import { listStuckWorkflows } from '../../services/ops/stuck-workflows';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';

const reason = z.string().trim().min(3).max(1000).openapi({ description: 'why (kept in the audit log)' });
const purchaseParams = z.object({ purchaseId: z.uuid() });

const failedPayment = z.object({
  id: z.string().openapi({ description: 'the failed payment (renewal) or the purchase' }),
  kind: z.enum(['RENEWAL', 'LICENCE_PURCHASE', 'CREDIT_PURCHASE']),
  baseId: z.string().nullable(),
  accountId: z.number().int().nullable(),
  holderName: z.string().nullable(),
  amountCents: z.number().int(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string(),
  nextRetryOn: z.string().nullable(),
  status: z.string(),
  replayable: z.boolean(),
});
const replayOutcome = z.enum(['PAID', 'DECLINED', 'ALREADY_PAID']);
const replayResult = z.object({
  paymentId: z.string(),
  baseId: z.string(),
  outcome: replayOutcome.openapi({
    description: 'ALREADY_PAID: the period was paid meanwhile; nothing was charged (not an error)',
  }),
  message: z.string(),
  declineCode: z.string().optional(),
  status: z.string(),
});
const bulkFilter = z.object({
  baseId: baseId.optional(),
  failureCode: z.string().min(1).max(100).optional(),
  minAttempts: z.number().int().min(1).max(100).optional(),
});
const queuedPurchase = z.object({
  purchaseId: z.string(),
  baseId: z.string(),
  accountId: z.number().int().nullable(),
  holderName: z.string().nullable(),
  email: z.string().nullable(),
  paymentMethod: z.string(),
  edition: z.string(),
  mode: z.string(),
  connections: z.number().int(),
  period: z.string(),
  totalInclVatCents: z.number().int(),
  freeCategory: z.string().nullable(),
  freeJustification: z.string().nullable(),
  createdAt: z.string(),
  deadlineOn: z.string().nullable(),
});
const renewalToPay = z.object({
  baseId: z.string(),
  licenceId: z.string(),
  holderName: z.string(),
  email: z.string().nullable(),
  paymentMethod: z.enum(['CHEQUE', 'TRANSFER']),
  amountCents: z.number().int().openapi({ description: 'VAT included' }),
  periodStart: z.string(),
  periodEnd: z.string().openapi({ description: 'the day after the last day it pays' }),
  dueOn: z.string(),
  remindersSent: z.number().int(),
  origin: z.enum(['NOTICE', 'RENEW_NOW']).openapi({
    description: 'NOTICE: mailed before the period end; RENEW_NOW: the customer asked to renew now',
  }),
  issuedAt: z.string().openapi({ description: 'when the invoice to pay was mailed' }),
});
const decided = z.object({
  purchaseId: z.string(),
  baseId: z.string(),
  status: z.string(),
  licenceStatus: z.string(),
});
const decisionErrors = ['PURCHASE_NOT_FOUND', 'PURCHASE_NOT_AWAITING_OPS'] as const;

export function opsQueueRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/payments/failed',
      summary:
        'Failed payments: renewals declined and still unpaid (dunning), and card purchases never paid, oldest first',
      tag: 'ops',
      auth: 'ops',
      query: z.object({
        kind: z.enum(['RENEWAL', 'LICENCE_PURCHASE', 'CREDIT_PURCHASE']).optional(),
        baseId: baseId.optional(),
        failureCode: z.string().min(1).max(100).optional(),
        minAttempts: z.coerce.number().int().min(1).max(100).optional(),
        replayable: z
          .enum(['true', 'false'])
          .optional()
          .openapi({ description: 'true: only what ops can replay now' }),
        sinceDays: z.coerce.number().int().min(1).max(3650).default(30).openapi({
          description: 'purchases: how far back',
        }),
      }),
      responses: { 200: { description: 'failed payments', schema: z.array(failedPayment) } },
    },
    async ({ query }) => ({
      status: 200,
      body: await listFailedPayments(deps, {
        ...query,
        replayableOnly: query.replayable === 'true',
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/payments/:paymentId/replay',
      summary:
        "Retry a failed renewal now, through its base's workflow (a period already paid is never charged again: ALREADY_PAID)",
      tag: 'ops',
      auth: 'ops',
      params: z.object({ paymentId: z.uuid() }),
      body: z.object({ reason }),
      responses: { 200: { description: 'what came of it', schema: replayResult } },
      errors: ['PAYMENT_NOT_FOUND', 'PAYMENT_NOT_REPLAYABLE'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await replayFailedPayment(deps, {
        paymentId: params.paymentId,
        actor: actorOf(principal),
        reason: body.reason,
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/payments/replays',
      summary:
        'Replay every replayable failed renewal matching a filter, one after the other; dryRun lists them without acting',
      tag: 'ops',
      auth: 'ops',
      body: z.object({
        filter: bulkFilter.default({}),
        dryRun: z.boolean().default(false),
        limit: z.number().int().min(1).max(500).default(100),
        reason,
      }),
      responses: {
        200: {
          description: 'one line per payment (outcome WOULD_REPLAY in a dry run, ERROR with its code)',
          schema: z.object({
            dryRun: z.boolean(),
            matched: z.number().int(),
            items: z.array(
              z.object({
                paymentId: z.string(),
                baseId: z.string().nullable(),
                amountCents: z.number().int(),
                attempts: z.number().int(),
                lastError: z.string().nullable(),
                outcome: z.enum(['PAID', 'DECLINED', 'ALREADY_PAID', 'WOULD_REPLAY', 'ERROR']),
                message: z.string().optional(),
                declineCode: z.string().optional(),
                error: z.object({ code: z.string(), message: z.string() }).optional(),
              }),
            ),
          }),
        },
      },
    },
    async ({ body, principal }) => ({
      status: 200,
      body: await replayFailedPayments(deps, { ...body, actor: actorOf(principal) }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/manual-payments',
      summary: 'Cheque and transfer purchases waiting for their payment to be confirmed, oldest first',
      tag: 'ops',
      auth: 'ops',
      responses: { 200: { description: 'the queue', schema: z.array(queuedPurchase) } },
    },
    async () => ({ status: 200, body: await listManualPayments(deps) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/manual-payments/:purchaseId/confirm',
      summary: 'The cheque or transfer was received: the licence is activated (paid invoice, email)',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: z.object({
        reference: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .openapi({ description: 'cheque number or transfer reference' }),
        reason: reason.optional(),
      }),
      responses: { 200: { description: 'confirmed', schema: decided } },
      errors: [...decisionErrors],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await confirmManualPayment(deps, { ...params, ...body, actor: actorOf(principal) }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/manual-payments/:purchaseId/cancel',
      summary: 'Cancel a cheque/transfer purchase waiting for its payment (the buyer is emailed)',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: z.object({ reason }),
      responses: { 200: { description: 'cancelled', schema: decided } },
      errors: [...decisionErrors],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await cancelManualPayment(deps, { ...params, ...body, actor: actorOf(principal) }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/renewals-to-pay',
      summary:
        'Cheque and transfer renewals whose invoice to pay is out, nearest due date first ' +
        '(confirm one with POST /ops/bases/{baseId}/renewal-payment)',
      tag: 'ops',
      auth: 'ops',
      responses: { 200: { description: 'the queue', schema: z.array(renewalToPay) } },
    },
    async () => ({ status: 200, body: await listRenewalsToPay(deps) }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/free-licences',
      summary: 'Free licence requests waiting for a decision, oldest first',
      tag: 'ops',
      auth: 'ops',
      responses: { 200: { description: 'the queue', schema: z.array(queuedPurchase) } },
    },
    async () => ({ status: 200, body: await listFreeLicenceRequests(deps) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/free-licences/:purchaseId/approve',
      summary: 'Approve a free licence request: the licence is activated (email)',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: z.object({ reason: reason.optional() }),
      responses: { 200: { description: 'approved', schema: decided } },
      errors: [...decisionErrors],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await approveFreeLicence(deps, { ...params, ...body, actor: actorOf(principal) }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/free-licences/:purchaseId/reject',
      summary: 'Reject a free licence request (the reason is emailed to the requester)',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: z.object({ reason }),
      responses: { 200: { description: 'rejected', schema: decided } },
      errors: [...decisionErrors],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await rejectFreeLicence(deps, { ...params, ...body, actor: actorOf(principal) }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/workflows/stuck',
      summary:
        'Workflows waiting longer than a threshold on a human (OPS) or a payment (PAYMENT), from Temporal visibility',
      tag: 'ops',
      auth: 'ops',
      query: z.object({
        olderThanHours: z.coerce
          .number()
          .min(0)
          .max(24 * 365)
          .default(24),
        waitingOn: z.enum(['OPS', 'PAYMENT']).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
      }),
      responses: {
        200: {
          description: 'longest waiting first, with a link to the Temporal UI',
          schema: z.array(
            z.object({
              workflowId: z.string(),
              runId: z.string(),
              type: z.string(),
              waitingOn: z.enum(['OPS', 'PAYMENT']),
              waitingSince: z.string(),
              waitingHours: z.number(),
              startedAt: z.string(),
              link: z.string().nullable(),
            }),
          ),
        },
      },
    },
    async ({ query }) => ({ status: 200, body: await listStuckWorkflows(deps, query) }),
  );

  return router;
}
