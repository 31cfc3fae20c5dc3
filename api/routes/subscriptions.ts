import { Router } from 'express';
import { z } from 'zod';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import { billingDetailsSchema } from '../../domain/billing-party';
import { getLicenceHistory, getLicenceScreen } from '../../services/licences/get-licence';
import {
  changeLicence,
  decidePurchase,
  renewNow,
  setAutoRenew,
} from '../../services/subscriptions/licence-messages';
import { confirmRenewalPayment, listPurchases } from '../../services/ops/manual-queues';
import { previewChange, previewRenewal } from '../../services/subscriptions/preview-charges';
import { purchaseLicence } from '../../services/subscriptions/purchase-licence';
import { withPaymentUrl } from '../../services/payments/payment-link';
import type { RouteKit } from '../route-kit';
import { baseId, extensionCode } from '../schemas';

const edition = z.enum(['STANDARD', 'ENTERPRISE']);
const mode = z.enum(['LOCAL', 'CLOUD']);
const period = z.enum(['MONTHLY', 'QUARTERLY', 'ANNUAL']);
const baseParams = z.object({ baseId });

const purchaseBody = z
  .object({
    idempotencyKey: z
      .string()
      .min(8)
      .max(100)
      .openapi({ description: 'chosen by the client; a retry with the same key gets the same purchase' }),
    edition,
    mode,
    connections: z.number().int().min(1).max(1000),
    period,
    paymentMethod: z.enum(['ONLINE', 'CHEQUE', 'TRANSFER', 'FREE']),
    autoRenew: z.boolean().optional().openapi({ description: 'card payments only; default true' }),
    billing: billingDetailsSchema,
    terms: z.object({ version: z.string().min(1), accepted: z.boolean() }),
    free: z
      .object({
        category: z.enum(['ASSOCIATION', 'SCHOOL', 'TRAINING_CENTRE', 'PARTNER', 'FOUNDER']),
        justification: z.string().trim().min(10).max(2000),
      })
      .optional(),
    promoCode: z.string().trim().min(1).max(40).optional().openapi({
      description:
        'the "Code promo": its discount is a line of the quote and the invoice, and of the renewals for its duration',
    }),
    extensions: z.array(extensionCode).max(20).optional().openapi({
      description:
        'extensions bought with the licence (GET /catalog: `extensions`): a line each on the quote and the invoice, renewed with it',
    }),
  })
  .refine((b) => b.paymentMethod !== 'FREE' || b.free, {
    path: ['free'],
    message: 'a free licence needs an eligibility category and justification',
  });

const purchaseAnswer = z.object({
  created: z.boolean(),
  purchaseId: z.string(),
  licenceId: z.string().nullable(),
  baseId: z.string(),
  status: z.string(),
  paymentMethod: z.string(),
  quote: z.unknown(),
  termsVersion: z.string(),
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

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const extensions = z
  .array(z.string())
  .openapi({ description: 'extension codes the licence carries, sorted' });
/** a change recorded for the period end (docs/licence-changes.md) */
const scheduledChange = z
  .object({
    terms: z.object({
      edition,
      mode,
      connections: z.number().int(),
      period,
      extensions,
    }),
    requestedOn: localDate,
  })
  .nullable()
  .openapi({
    description: 'applied by the next renewal (null: none); DELETE .../scheduled-change cancels it',
  });
/** a cheque/transfer renewal's invoice to pay (docs/offline-renewals.md) */
const invoiceToPay = z.object({
  amountCents: z.number().int().openapi({ description: 'VAT included' }),
  dueOn: localDate.openapi({
    description: 'unpaid by then, the licence ends as after a last failed payment',
  }),
  periodStart: localDate,
  periodEnd: localDate.openapi({ description: 'the day after the last day it pays' }),
  issuedOn: localDate,
  remindersSent: z.number().int(),
  paid: z.boolean().openapi({ description: 'ops confirmed its receipt: the period is being recorded' }),
});
/** services/subscriptions/subscription-view.ts: no Stripe ids, no internal indexes */
export const subscriptionView = z.object({
  baseId: z.string(),
  licenceId: z.string(),
  status: z.enum([
    'AWAITING_PAYMENT',
    'AWAITING_OPS',
    'ACTIVE',
    'PAST_DUE',
    'ENDED',
    'SUSPENDED',
    'CANCELLED',
    'REJECTED',
  ]),
  edition,
  mode,
  connections: z.number().int(),
  period,
  extensions,
  scheduledChange,
  paymentMethod: z.enum(['ONLINE', 'CHEQUE', 'TRANSFER', 'FREE']),
  autoRenew: z.boolean(),
  periodStart: localDate.nullable(),
  periodEnd: localDate.nullable(),
  paidUntil: localDate.nullable(),
  dunning: z
    .object({
      failures: z.number().int(),
      nextAttemptOn: localDate.nullable(),
      lastFailure: z.string().nullable(),
      customerActionRequired: z.boolean(),
    })
    .nullable(),
  invoiceToPay: invoiceToPay.nullable().openapi({
    description: 'cheque/transfer: the invoice to pay of the next period, once mailed (null: none out)',
  }),
});
const licenceFields = {
  licenceId: z.string(),
  version: z.string().openapi({ example: 'A1' }),
  edition,
  mode,
  connections: z.number().int(),
  period: period.nullable(),
  extensions,
  scheduledChange,
  status: z.string().openapi({ example: 'ACTIVE' }),
  periodStart: z.string().nullable().openapi({ example: '2026-03-15' }),
  paidThrough: z.string().nullable().openapi({ description: 'last day covered', example: '2027-03-14' }),
  renewalDate: z
    .string()
    .nullable()
    .openapi({ description: 'when auto-renew charges next (null: it does not)' }),
  autoRenew: z.boolean(),
  paymentMethod: z.string().nullable(),
  holder: z.object({ name: z.string().nullable(), accountId: z.number().int().nullable() }).nullable(),
  createdAt: z.string(),
};
const licenceView = z.object(licenceFields).openapi('Licence');
const licenceScreen = z
  .object({
    baseId: z.string(),
    ...licenceFields,
    licenceId: z.string().nullable().openapi({ description: 'null: the free STANDARD LOCAL' }),
    status: z.string().openapi({ example: 'ACTIVE', description: 'FREE for the free STANDARD LOCAL' }),
    createdAt: z.string().nullable(),
    update: z.object({ version: z.string(), latestVersion: z.string(), upToDate: z.boolean() }),
    pendingPurchase: z
      .object({ purchaseId: z.string(), status: z.string(), paymentMethod: z.string() })
      .nullable(),
    invoiceToPay: z
      .object({
        amountCents: z.number().int(),
        dueOn: localDate,
        periodStart: localDate,
        periodEnd: localDate.openapi({ description: 'the day after the last day it pays' }),
        remindersSent: z.number().int(),
      })
      .nullable()
      .openapi({ description: 'cheque/transfer: the invoice to pay of the renewal, while it is out' }),
  })
  .openapi('LicenceScreen');

const licenceChange = z
  .object({
    connections: z.number().int().min(1).max(1000).optional(),
    edition: edition.optional(),
    mode: mode.optional(),
    addExtensions: z.array(extensionCode).min(1).max(20).optional(),
  })
  .refine(
    (c) =>
      c.connections !== undefined ||
      c.edition !== undefined ||
      c.mode !== undefined ||
      c.addExtensions !== undefined,
    'nothing to change',
  );
const priceFingerprint = z.string().min(1).max(100).optional().openapi({
  description:
    "the quote's priceFingerprint (the .../quote route): the charge is refused with PRICE_CHANGED if the price moved",
});
const chargePreview = z
  .object({
    kind: z.enum(['RENEWAL', 'CHANGE']),
    quote: z.unknown(),
    amountCents: z.number().int().openapi({ description: 'what the charge would take, VAT included' }),
    period: z
      .object({ start: localDate, end: localDate })
      .openapi({ description: 'days covered, inclusive' }),
    proration: z
      .object({ changeDate: localDate, remainingDays: z.number().int(), daysInPeriod: z.number().int() })
      .optional(),
    priceFingerprint: z.string(),
  })
  .openapi('ChargePreview');

const receipt = z.object({
  status: z
    .enum(['PAID', 'ACTION_REQUIRED', 'INVOICE_TO_PAY', 'PROCESSING'])
    .describe(
      'PAID: charged and applied; ACTION_REQUIRED: nothing applied until the customer pays at payment.paymentUrl; ' +
        'INVOICE_TO_PAY (renew now, cheque/transfer): nothing charged, the period recorded when ops confirm the payment of invoiceToPay; ' +
        'PROCESSING (SEPA Direct Debit): the debit submitted, applied when the bank settles it (days), nothing if it fails',
    ),
  invoiceNumber: z.string().nullable(),
  amountCents: z.number(),
  subscription: subscriptionView,
  payment: z
    .object({
      paymentIntentId: z.string(),
      paymentUrl: z.string().optional().describe('the signed payment page the ERP opens in the browser'),
      expiresAt: z
        .string()
        .optional()
        .describe('ACTION_REQUIRED: past it, the charge is cancelled and nothing applied'),
    })
    .optional()
    .describe(
      'ACTION_REQUIRED: the charge the bank wants the customer to authenticate (3-D Secure); PROCESSING: the SEPA debit',
    ),
  invoiceToPay: invoiceToPay
    .extend({
      reference: z
        .string()
        .openapi({ description: 'the payment reference: on the cheque or in the transfer' }),
      payee: z.object({
        iban: z.string(),
        bic: z.string(),
        chequePayee: z.string(),
        chequeAddress: z.string(),
      }),
    })
    .optional()
    .describe('INVOICE_TO_PAY: what to pay, by when, where (the invoice mailed; asked again, the same one)'),
});
/** 200 applied; 202 waiting for the customer's authentication on the payment page */
const receiptResponses = {
  200: { description: 'charged and applied', schema: receipt },
  202: {
    description:
      'the bank wants the customer to authenticate the charge (3-D Secure): status ACTION_REQUIRED, the ERP ' +
      'opens payment.paymentUrl; applied once paid, dropped if unpaid by payment.expiresAt. SEPA Direct Debit: ' +
      'status PROCESSING, applied when the bank settles the debit (days), dropped if it fails',
    schema: receipt,
  },
};
const receiptStatus = (r: { status: 'PAID' | 'ACTION_REQUIRED' | 'INVOICE_TO_PAY' | 'PROCESSING' }) =>
  r.status === 'PAID' ? 200 : 202;
/** renew now: a cheque or transfer payer is answered the invoice to pay */
const renewalResponses = {
  ...receiptResponses,
  202: {
    description:
      receiptResponses[202].description +
      '. Cheque/transfer: status INVOICE_TO_PAY, nothing charged: invoiceToPay (amount, due date, payee, reference) ' +
      'is mailed once; renewed when ops confirm its receipt',
    schema: receipt,
  },
};

export function subscriptionRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/subscriptions',
      summary: 'Buy a licence (card, cheque, transfer, or free licence for eligible organisations)',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      body: purchaseBody,
      responses: {
        201: {
          description: 'purchase recorded; for a card payment, what the client needs to pay',
          schema: purchaseAnswer,
        },
        200: { description: 'the same request again: the same purchase', schema: purchaseAnswer },
      },
      errors: [
        'FREE_LICENCE_NEEDS_NO_PURCHASE',
        'TERMS_NOT_ACCEPTED',
        'VAT_NUMBER_INVALID',
        'VIES_UNAVAILABLE',
        'IDEMPOTENCY_KEY_REUSED',
        'LICENCE_ALREADY_ACTIVE',
        'PROMO_CODE_UNKNOWN',
        'PROMO_CODE_INACTIVE',
        'PROMO_CODE_NOT_YET_VALID',
        'PROMO_CODE_EXPIRED',
        'PROMO_CODE_NOT_ELIGIBLE',
        'PROMO_CODE_EXHAUSTED',
        'PROMO_CODE_ALREADY_USED',
        'UNKNOWN_EXTENSION',
      ],
    },
    async ({ params, body, principal }) => {
      const result = await purchaseLicence(deps, {
        actor: actorOf(principal),
        baseId: params.baseId,
        request: body,
      });
      const payment = withPaymentUrl(deps.paymentPage, 'LICENCE', result.purchaseId, result.payment);
      return { status: result.created ? 201 : 200, body: { ...result, payment } };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/licence',
      summary: 'Licence status screen of the base (restorable from the base ID alone)',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      // checked by every ERP at start-up: a hot read (the key is resolved from the cache, see principal-cache.ts)
      authCache: true,
      responses: { 200: { description: 'the licence', schema: licenceScreen } },
    },
    async ({ params }) => ({ status: 200, body: await getLicenceScreen(deps.prisma, params.baseId) }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/licence/history',
      summary: 'Every licence the base had, newest first',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      responses: { 200: { description: 'licences', schema: z.array(licenceView) } },
    },
    async ({ params }) => ({ status: 200, body: await getLicenceHistory(deps.prisma, params.baseId) }),
  );

  kit.route(
    router,
    {
      method: 'put',
      path: '/bases/:baseId/licence/auto-renew',
      summary:
        'Stop or resume auto-renewal (effective at once; a stopped licence ends at the end of its period)',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      body: z.object({ autoRenew: z.boolean() }),
      responses: {
        200: { description: 'the subscription', schema: subscriptionView },
      },
      errors: ['NO_PAID_LICENCE', 'CHANGE_REFUSED', 'PAYMENT_METHOD_REQUIRED'],
    },
    async ({ params, body }) => ({
      status: 200,
      body: await setAutoRenew(deps, params.baseId, body.autoRenew),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/licence/renewals/quote',
      summary:
        'The price of renewing now, charging nothing: the quote (lines, VAT), the period and its priceFingerprint',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      responses: { 200: { description: 'the price of the next period', schema: chargePreview } },
      errors: ['NO_PAID_LICENCE', 'CHANGE_REFUSED'],
    },
    async ({ params }) => ({ status: 200, body: await previewRenewal(deps, params.baseId) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/licence/renewals',
      summary:
        'Renew now: the next period is charged to the saved card at once; a cheque or transfer payer gets its invoice to pay',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      body: z.object({ priceFingerprint }),
      responses: renewalResponses,
      errors: [
        'NO_PAID_LICENCE',
        'CHANGE_REFUSED',
        'PAYMENT_DECLINED',
        'PAYMENT_METHOD_REQUIRED',
        'PAYMENT_ACTION_PENDING',
        'PRICE_CHANGED',
      ],
    },
    async ({ params, body }) => {
      const renewed = await renewNow(deps, params.baseId, body);
      return { status: receiptStatus(renewed), body: renewed };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/licence/changes/quote',
      summary:
        'The price of a change, charging nothing: the prorated quote (lines, VAT), the days charged and its priceFingerprint',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      body: licenceChange,
      responses: { 200: { description: 'the price of the change today', schema: chargePreview } },
      errors: ['NO_PAID_LICENCE', 'CHANGE_REFUSED'],
    },
    async ({ params, body }) => ({ status: 200, body: await previewChange(deps, params.baseId, body) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/licence/changes',
      summary:
        'Add connections or extensions, or upgrade edition/mode: the rest of the period is charged prorata at once ' +
        '(fewer connections, a lower edition or mode, another period, an extension removed: POST .../scheduled-change)',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      body: licenceChange.extend({ priceFingerprint }),
      responses: receiptResponses,
      errors: [
        'NO_PAID_LICENCE',
        'CHANGE_REFUSED',
        'PAYMENT_DECLINED',
        'PAYMENT_ACTION_PENDING',
        'PRICE_CHANGED',
      ],
    },
    async ({ params, body }) => {
      const { priceFingerprint: fingerprint, ...change } = body;
      const changed = await changeLicence(deps, params.baseId, change, { priceFingerprint: fingerprint });
      return { status: receiptStatus(changed), body: changed };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/purchases',
      summary: 'Purchases waiting for ops (cheques and transfers to confirm, free licences to approve)',
      tag: 'ops',
      auth: 'ops',
      query: z.object({
        status: z
          .enum(['AWAITING_OPS', 'AWAITING_PAYMENT', 'COMPLETED', 'REJECTED', 'CANCELLED'])
          .default('AWAITING_OPS'),
      }),
      responses: {
        200: {
          description: 'purchases, oldest first',
          schema: z.array(
            z.object({
              purchaseId: z.string(),
              baseId: z.string(),
              paymentMethod: z.string(),
              edition,
              mode,
              connections: z.number().int(),
              period,
              totalInclVatCents: z.number().int(),
              freeCategory: z.string().nullable(),
              freeJustification: z.string().nullable(),
              createdAt: z.string(),
            }),
          ),
        },
      },
    },
    async ({ query }) => ({ status: 200, body: await listPurchases(deps, query.status) }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/purchases/:purchaseId/decision',
      summary:
        'Confirm receipt of a cheque/transfer, approve a free licence, or reject (with a reason, emailed)',
      tag: 'ops',
      auth: 'ops',
      params: z.object({ purchaseId: z.uuid() }),
      body: z.discriminatedUnion('decision', [
        z.object({ decision: z.literal('CONFIRM_PAYMENT'), reference: z.string().trim().min(1).max(200) }),
        z.object({ decision: z.literal('APPROVE') }),
        z.object({ decision: z.literal('REJECT'), reason: z.string().trim().min(3).max(1000) }),
      ]),
      responses: {
        200: { description: 'the subscription after the decision', schema: subscriptionView },
      },
      errors: ['PURCHASE_NOT_FOUND', 'PURCHASE_NOT_AWAITING_OPS'],
    },
    async ({ params, body, principal }) => {
      const by = principal.kind === 'ops' ? principal.name : principal.installationId;
      return { status: 200, body: await decidePurchase(deps, params.purchaseId, { ...body, by }) };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/bases/:baseId/renewal-payment',
      summary:
        "The cheque or transfer paying a renewal's invoice to pay was received: the next period is recorded (paid invoice, email)",
      tag: 'ops',
      auth: 'ops',
      params: z.object({ baseId }),
      body: z.object({
        reference: z.string().trim().min(1).max(200),
        reason: z.string().trim().min(3).max(1000).optional(),
      }),
      responses: { 200: { description: 'the subscription, renewed', schema: subscriptionView } },
      errors: ['NO_PAID_LICENCE', 'PURCHASE_NOT_AWAITING_OPS'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await confirmRenewalPayment(deps, { ...params, ...body, actor: actorOf(principal) }),
    }),
  );

  return router;
}
