/**
 * Refunds of credit purchases (ops): ask one (debit entry, credit note, Stripe refund, once each: the
 * refund's workflow), and read a purchase's refunds with what it can still pay back.
 */
import { Router } from 'express';
import { z } from 'zod';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import { requestCreditPurchaseRefund } from '../../services/payments/refund-credit-purchase';
import { creditPurchaseRefunds } from '../../services/payments/refunds';
import type { RouteKit } from '../route-kit';

const purchaseParams = z.object({ purchaseId: z.uuid() });

const refundView = z
  .object({
    refundId: z.string(),
    kind: z.enum(['REFUND', 'DISPUTE']),
    status: z.enum(['PENDING', 'SUCCEEDED', 'FAILED']),
    paymentId: z.string(),
    creditPurchaseId: z.string().nullable(),
    amountCents: z.number().int(),
    currency: z.string(),
    debitedCredit: z
      .number()
      .int()
      .openapi({ description: 'taken back from the ledger: seconds (support pack) or cents (wallet)' }),
    creditNoteNumber: z.string().nullable().openapi({ description: 'null for a wallet recharge (receipt)' }),
    creditNotePdfUrl: z.string().nullable(),
    provider: z.string(),
    providerRefundId: z.string().nullable(),
    reason: z.string(),
    requestedBy: z.string(),
    createdAt: z.string(),
    refundedAt: z.string().nullable(),
  })
  .openapi('Refund');

export function refundRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/credit-purchases/:purchaseId/refunds',
      summary:
        'Refund a support pack or wallet recharge, fully or in part: debit entry, credit note and Stripe refund, once each; never credit already used',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: z.object({
        amountCents: z
          .number()
          .int()
          .positive()
          .max(100_000_000)
          .openapi({ description: 'paid back, VAT included' }),
        reason: z
          .string()
          .trim()
          .min(3)
          .max(500)
          .openapi({ description: 'why (on the credit note and in the audit log)' }),
        idempotencyKey: z
          .string()
          .min(8)
          .max(100)
          .openapi({ description: 'chosen by the caller: a retry with the same key is the same refund' }),
      }),
      responses: {
        201: { description: 'refunded', schema: refundView },
        200: { description: 'the same key again: the refund already made', schema: refundView },
      },
      errors: [
        'PURCHASE_NOT_FOUND',
        'PURCHASE_NOT_REFUNDABLE',
        'REFUND_EXCEEDS_UNUSED',
        'IDEMPOTENCY_KEY_REUSED',
      ],
    },
    async ({ params, body, principal }) => {
      const { created, refund } = await requestCreditPurchaseRefund(deps, {
        creditPurchaseId: params.purchaseId,
        ...body,
        actor: actorOf(principal),
      });
      return { status: created ? 201 : 200, body: refund };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/credit-purchases/:purchaseId/refunds',
      summary: "A credit purchase's refunds, oldest first, and what it can still pay back now",
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      responses: {
        200: {
          description: 'the purchase and its refunds',
          schema: z.object({
            purchaseId: z.string(),
            number: z.number().int(),
            product: z.enum(['SUPPORT_PACK', 'WALLET_RECHARGE']),
            status: z.string(),
            accountId: z.number().int().nullable(),
            amountCents: z.number().int(),
            creditAmount: z.number().int(),
            invoiceNumber: z.string().nullable(),
            receiptNumber: z.string().nullable(),
            refundableCents: z.number().int(),
            refunds: z.array(refundView),
          }),
        },
      },
      errors: ['PURCHASE_NOT_FOUND'],
    },
    async ({ params }) => ({
      status: 200,
      body: await creditPurchaseRefunds(deps.prisma, params.purchaseId),
    }),
  );
  return router;
}
