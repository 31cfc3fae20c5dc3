import { Router } from 'express';
import { z } from 'zod';
import { MONTH_PATTERN } from '../../domain/credits';
import { runConsumptionInvoices } from '../../services/credits/run-consumption-invoices';
import { listUnpaidAppFees } from '../../services/credits/unpaid-app-fees';
import { actorOf } from '../../services/auth/principal';
import {
  assignCreditPurchase,
  cancelCreditPurchase,
  listUnmatchedPurchases,
  refundCreditPurchase,
} from '../../services/credits/decide-credit-purchase';
import { buyCreditsOnWebsite } from '../../services/credits/buy-credits-on-website';
import { getCreditPurchase, purchaseCredits } from '../../services/credits/purchase-credits';
import type { ServiceDeps } from '../../services/deps';
import { billingDetailsSchema } from '../../domain/billing-party';
import { withPaymentUrl } from '../../services/payments/payment-link';
import type { RouteKit } from '../route-kit';
import { accountId } from '../schemas';
import { accountParams, requireAccountAccess } from './wallet';

const product = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('SUPPORT_PACK'),
    minutes: z.number().int().positive().openapi({ example: 30 }),
  }),
  z.object({
    kind: z.literal('WALLET_RECHARGE'),
    amountCents: z.number().int().positive().max(100_000_000).openapi({ example: 30000 }),
  }),
]);

const idempotencyKey = z
  .string()
  .min(8)
  .max(100)
  .openapi({ description: 'chosen by the client; a retry with the same key gets the same purchase' });

const purchaseView = z.object({
  purchaseId: z.string(),
  number: z.number().int(),
  product: z.enum(['SUPPORT_PACK', 'WALLET_RECHARGE']),
  packMinutes: z.number().int().nullable(),
  creditAmount: z.number().int().openapi({ description: 'seconds (support pack) or cents (wallet)' }),
  amountCents: z.number().int().openapi({ description: 'charged to the card (incl. VAT for packs)' }),
  quote: z.unknown(),
  status: z.enum(['AWAITING_PAYMENT', 'UNMATCHED', 'COMPLETED', 'EXPIRED', 'CANCELLED', 'REFUNDED']),
  accountId: z.number().int().nullable(),
  invoiceNumber: z.string().nullable(),
  receiptNumber: z.string().nullable(),
  createdAt: z.string(),
  paidAt: z.string().nullable(),
});
const purchaseAnswer = purchaseView.extend({
  created: z.boolean(),
  payment: z
    .object({
      provider: z.literal('STRIPE'),
      paymentIntentId: z.string(),
      clientSecret: z.string().openapi({ description: 'for a page of your own running Stripe.js' }),
      paymentUrl: z.string().optional().openapi({
        description:
          'the payment page to open in the browser (signed link, expires after PAYMENT_LINK_TTL_HOURS)',
      }),
    })
    .optional(),
});
const purchaseErrors = [
  'VAT_CONTACT_REQUIRED',
  'VAT_NUMBER_INVALID',
  'CREDIT_PRODUCT_INVALID',
  'IDEMPOTENCY_KEY_REUSED',
] as const;
const purchaseParams = z.object({ purchaseId: z.uuid() });
const reason = z.object({ reason: z.string().trim().min(3).max(1000) });

export function creditRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/accounts/:accountId/credit-purchases',
      summary: 'Buy support time (15/30/60 min pack) or wallet credits by card, from the ERP',
      tag: 'credits',
      auth: 'any',
      params: accountParams,
      body: z.object({
        idempotencyKey,
        product,
        billing: billingDetailsSchema.optional().openapi({ description: "default: the account's details" }),
      }),
      responses: {
        201: { description: 'purchase recorded; what the client needs to pay', schema: purchaseAnswer },
        200: { description: 'the same request again: the same purchase', schema: purchaseAnswer },
      },
      errors: ['FORBIDDEN', 'ACCOUNT_NOT_FOUND', ...purchaseErrors],
    },
    async ({ params, body, principal }) => {
      requireAccountAccess(principal, params.accountId);
      const result = await purchaseCredits(deps, {
        actor: actorOf(principal),
        channel: {
          kind: 'ACCOUNT',
          accountId: params.accountId,
          ...(principal.kind === 'installation' ? { baseId: principal.baseId } : {}),
        },
        request: body,
      });
      const payment = withPaymentUrl(deps.paymentPage, 'CREDIT', result.purchaseId, result.payment);
      return { status: result.created ? 201 : 200, body: { ...result, payment } };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/credit-purchases',
      summary:
        "Buy support time or credits on the website (the ERP won't open): credited at once when the account ID and the billing email name the same account, else once paid ops credit the right account",
      tag: 'credits',
      auth: 'none',
      body: z.object({
        idempotencyKey,
        product,
        billing: billingDetailsSchema,
        claimedAccountId: accountId.optional().openapi({
          type: 'integer',
          description:
            'your customer account number if you know it: with the email of the account (billing.email) the purchase is credited at once, else our staff check it',
        }),
      }),
      responses: {
        201: { description: 'purchase recorded; what the page needs to pay', schema: purchaseAnswer },
        200: { description: 'the same request again: the same purchase', schema: purchaseAnswer },
      },
      errors: [...purchaseErrors],
    },
    async ({ body, principal }) => {
      const result = await buyCreditsOnWebsite(deps, {
        actor: principal ? actorOf(principal) : { type: 'SYSTEM', id: 'website' },
        request: body,
      });
      const payment = withPaymentUrl(deps.paymentPage, 'CREDIT', result.purchaseId, result.payment);
      return { status: result.created ? 201 : 200, body: { ...result, payment } };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/credit-purchases/:purchaseId',
      summary: 'Where a credit purchase stands (its id, given at purchase, is the only way to it)',
      tag: 'credits',
      auth: 'none',
      params: purchaseParams,
      responses: { 200: { description: 'the purchase', schema: purchaseAnswer.omit({ created: true }) } },
      errors: ['PURCHASE_NOT_FOUND'],
    },
    async ({ params }) => ({ status: 200, body: await getCreditPurchase(deps, params.purchaseId) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/credit-purchases/:purchaseId/cancellation',
      summary: 'Cancel a credit purchase not paid yet',
      tag: 'credits',
      auth: 'none',
      params: purchaseParams,
      responses: { 200: { description: 'cancelled', schema: purchaseView } },
      errors: ['PURCHASE_NOT_FOUND', 'PURCHASE_NOT_AWAITING_PAYMENT'],
    },
    async ({ params, principal }) => ({
      status: 200,
      body: await cancelCreditPurchase(deps, {
        purchaseId: params.purchaseId,
        by: principal?.kind === 'ops' ? principal.name : 'buyer',
        reason: 'annulé à la demande',
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/purchases/unmatched',
      summary:
        'Manual-credit queue: paid credit purchases waiting to be attached to an account, oldest first',
      tag: 'ops',
      auth: 'ops',
      responses: {
        200: {
          description: 'the queue',
          schema: z.array(
            purchaseView.extend({ claimedAccountId: z.number().int().nullable(), buyer: z.unknown() }),
          ),
        },
      },
    },
    async () => ({ status: 200, body: await listUnmatchedPurchases(deps) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/purchases/:purchaseId/assign',
      summary:
        'Attach a paid purchase from the manual-credit queue to an account: credited once, buyer emailed',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: z.object({ accountId: accountId.openapi({ type: 'integer' }) }),
      responses: { 200: { description: 'credited', schema: purchaseView } },
      errors: ['PURCHASE_NOT_FOUND', 'ACCOUNT_NOT_FOUND', 'PURCHASE_NOT_UNMATCHED'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await assignCreditPurchase(deps, {
        purchaseId: params.purchaseId,
        accountId: body.accountId,
        by: principal.kind === 'ops' ? principal.name : 'ops',
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/purchases/:purchaseId/refund',
      summary: 'Refund a paid purchase from the manual-credit queue (buyer emailed)',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: reason,
      responses: { 200: { description: 'refunded', schema: purchaseView } },
      errors: ['PURCHASE_NOT_FOUND', 'PURCHASE_NOT_UNMATCHED'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await refundCreditPurchase(deps, {
        purchaseId: params.purchaseId,
        by: principal.kind === 'ops' ? principal.name : 'ops',
        reason: body.reason,
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/purchases/:purchaseId/cancel',
      summary: 'Cancel a credit purchase not paid yet',
      tag: 'ops',
      auth: 'ops',
      params: purchaseParams,
      body: reason,
      responses: { 200: { description: 'cancelled', schema: purchaseView } },
      errors: ['PURCHASE_NOT_FOUND', 'PURCHASE_NOT_AWAITING_PAYMENT'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await cancelCreditPurchase(deps, {
        purchaseId: params.purchaseId,
        by: principal.kind === 'ops' ? principal.name : 'ops',
        reason: body.reason,
      }),
    }),
  );

  // ---- monthly wallet run: consumption invoices by hand, unpaid app fees
  const month = z.string().regex(MONTH_PATTERN, 'a month, YYYY-MM').openapi({ example: '2026-02' });

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/consumption-invoices',
      summary:
        "Issue a past month's wallet consumption invoices now (the monthly run does it on the 1st): one per account and month, a second run issues nothing",
      tag: 'ops',
      auth: 'ops',
      body: z.object({ month }),
      responses: {
        200: {
          description: 'the run: invoices issued now, already issued before, mailed',
          schema: z.object({
            month: z.string(),
            issued: z.number().int(),
            alreadyIssued: z.number().int(),
            mailed: z.number().int(),
          }),
        },
      },
      errors: ['MONTH_NOT_OVER'],
    },
    async ({ body, principal }) => ({
      status: 200,
      body: await runConsumptionInvoices(deps, {
        month: body.month,
        actor: actorOf(principal),
        now: new Date(),
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/app-fees/unpaid',
      summary:
        'Monthly app fees the wallet could not pay, still unpaid (retried at each monthly run and after each recharge)',
      tag: 'ops',
      auth: 'ops',
      query: z.object({
        month: month.optional().openapi({ description: "the fees' month; all when absent" }),
      }),
      responses: {
        200: {
          description: 'unpaid fees, oldest month first',
          schema: z.array(
            z.object({
              id: z.string(),
              accountId: z.number().int(),
              companyName: z.string().nullable(),
              email: z.string().nullable(),
              accountAppId: z.string(),
              label: z.string(),
              month: z.string(),
              amountCents: z.number().int(),
              walletBalanceCents: z.number().int(),
              refusedAt: z.string(),
              lastTriedAt: z.string(),
              attempts: z.number().int(),
              notifiedAt: z.string().nullable(),
            }),
          ),
        },
      },
    },
    async ({ query }) => ({
      status: 200,
      body: await listUnpaidAppFees(deps.prisma, { month: query.month }),
    }),
  );

  return router;
}
