/**
 * The payment page (`/pay/<token>`, docs/payment-page.md): the URL a purchase answers beside its client
 * secret, which the ERP opens in the browser. The signed token is the only credential (auth `none`).
 * The two pages answer HTML, also for a bad link (a browser shows it); the script's calls answer JSON.
 */
import path from 'node:path';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import { websiteOffer } from '../../services/credits/buy-credits-on-website';
import type { ServiceDeps } from '../../services/deps';
import {
  confirmPagePayment,
  getPaymentInvoicePdf,
  getPaymentOrder,
  getPaymentOutcome,
  getPaymentPage,
  type PaymentPageDeps,
} from '../../services/payments/payment-page';
import {
  paymentPageCsp,
  renderConfirmationPage,
  renderLinkError,
  renderPaymentPage,
} from '../payment-page/render';
import { renderPurchasePage } from '../payment-page/purchase-page';
import type { RouteKit } from '../route-kit';

export const PAYMENT_PAGE_ASSETS = path.join(__dirname, '..', 'payment-page');

const tokenParams = z.object({
  token: z
    .string()
    .min(20)
    .max(500)
    .regex(/^[\w-]+\.[\w-]+$/, 'a payment link token')
    .openapi({ description: 'the signed token of the payment URL' }),
});
const setupIntentId = z
  .string()
  .max(255)
  .regex(/^seti_\w+$/, 'a Stripe SetupIntent id');
const setupQuery = z.object({ setupIntent: setupIntentId.optional() });
/** `/achat?minutes=30` (the manual's links), `/achat?produit=credits`; anything else: the default choice */
const purchasePageQuery = z.object({
  produit: z.enum(['support', 'credits']).optional(),
  minutes: z.coerce.number().int().positive().max(10_000).optional(),
});
const mandateSchema = z
  .object({
    reference: z.string(),
    account: z.string().openapi({ description: 'the bank account, masked', example: 'FR•• •••• •••• 2606' }),
    holderName: z.string(),
  })
  .openapi({ description: 'the SEPA mandate accepted on the page' });
const linkErrors = ['PAYMENT_LINK_INVALID', 'PAYMENT_LINK_EXPIRED', 'PURCHASE_NOT_FOUND'] as const;

function documentHtmlPage(registry: OpenAPIRegistry, path: string, summary: string): void {
  const page = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
  registry.registerPath({
    method: 'get',
    path,
    summary,
    tags: ['payment page'],
    security: [],
    request: { params: tokenParams },
    responses: {
      200: page('the page'),
      400: page('PAYMENT_LINK_INVALID: the link is malformed or altered'),
      404: page('PURCHASE_NOT_FOUND: the link names no purchase'),
      410: page('PAYMENT_LINK_EXPIRED'),
    },
  });
}

interface HtmlAnswer {
  status: number;
  html: string;
}

function send(res: Response, answer: HtmlAnswer): void {
  res.status(answer.status).type('text/html; charset=utf-8').send(answer.html);
}

/** An HTML answer, or the link's problem as an HTML page with its status. */
async function htmlPage(render: () => Promise<string>): Promise<HtmlAnswer> {
  try {
    return { status: 200, html: await render() };
  } catch (error) {
    if (!(error instanceof AppError) || !(linkErrors as readonly string[]).includes(error.code)) throw error;
    const message =
      error.code === 'PAYMENT_LINK_EXPIRED'
        ? 'Ce lien de paiement a expiré.'
        : error.code === 'PURCHASE_NOT_FOUND'
          ? 'Cette commande est introuvable.'
          : 'Ce lien de paiement n’est pas valide.';
    return { status: error.status, html: renderLinkError(message) };
  }
}

export function paymentPageRoutes(kit: RouteKit, registry: OpenAPIRegistry, deps: ServiceDeps): Router {
  const router = Router();
  const settings = deps.paymentPage;
  if (!settings) return router;
  const pageDeps: PaymentPageDeps = {
    prisma: deps.prisma,
    stripe: deps.stripe,
    temporal: deps.temporal,
    paymentPage: settings,
    sellerName: deps.billing.seller.name,
  };
  const csp = paymentPageCsp(settings.stripeJsUrl);
  router.use('/pay', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer'); // the token is in the URL
    next();
  });
  // the page's two static files only (render.ts lives beside them)
  for (const file of ['payment-page.js', 'payment-page.css']) {
    router.get(`/pay/assets/${file}`, (_req, res) => res.sendFile(path.join(PAYMENT_PAGE_ASSETS, file)));
  }

  // the two pages are for browsers: every answer is HTML, a bad link too, so they are declared by hand
  // (the route kit's errors are JSON)
  documentHtmlPage(
    registry,
    '/pay/{token}',
    'The payment page of an order (HTML, French): the order with its VAT, and the card form',
  );
  documentHtmlPage(
    registry,
    '/pay/{token}/done',
    'The confirmation page: waits for the recorded outcome, then links the paid invoice (HTML)',
  );
  router.get('/pay/:token', async (req, res) => {
    const token = req.params.token;
    send(res, await htmlPage(async () => renderPaymentPage(await getPaymentPage(pageDeps, token), token)));
  });
  router.get('/pay/:token/done', async (req, res) => {
    const token = req.params.token;
    // a card change comes back naming the SetupIntent its page created
    const setup = setupQuery.safeParse(req.query);
    const setupIntent = setup.success ? setup.data.setupIntent : undefined;
    send(
      res,
      await htmlPage(async () =>
        renderConfirmationPage(await getPaymentOrder(pageDeps, token), token, setupIntent),
      ),
    );
  });

  kit.route(
    router,
    {
      method: 'post',
      path: '/pay/:token/confirm',
      summary:
        'Pays the order with a card or a SEPA bank account the page created with Stripe.js; requires_action: complete 3-D Secure in the page; processing: a SEPA debit submitted, settled by the bank days later',
      tag: 'payment page',
      auth: 'none',
      params: tokenParams,
      body: z.object({
        paymentMethodId: z
          .string()
          .regex(/^(pm|card|src)_\w+$/, 'a Stripe PaymentMethod id')
          .openapi({ example: 'pm_1Pq...' }),
        setupIntentId: setupIntentId
          .optional()
          .openapi({ description: 'a card change: the SetupIntent its page created (required then)' }),
        mandateAccepted: z.boolean().optional().openapi({
          description:
            'a SEPA bank account: the customer accepted the mandate the page showed (required then; kept with their IP address and browser)',
        }),
      }),
      responses: {
        200: {
          description: "Stripe's answer; a SEPA debit: the mandate kept",
          schema: z.object({
            status: z.enum(['succeeded', 'processing', 'requires_action']),
            mandate: mandateSchema.optional(),
          }),
        },
      },
      errors: [
        ...linkErrors,
        'PURCHASE_NOT_AWAITING_PAYMENT',
        'PAYMENT_DECLINED',
        'SEPA_MANDATE_NOT_ACCEPTED',
        'PAYMENT_METHOD_NOT_OFFERED',
      ],
    },
    async ({ params, body, req }) => ({
      status: 200,
      body: await confirmPagePayment(pageDeps, params.token, body, {
        ipAddress: req.ip ?? req.socket.remoteAddress ?? 'unknown',
        userAgent: String(req.headers['user-agent'] ?? 'unknown').slice(0, 500),
      }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/pay/:token/status',
      summary:
        "What the order's workflow recorded (the confirmation page polls it); a card change: its SetupIntent read back, the card then saved on the licence",
      tag: 'payment page',
      auth: 'none',
      params: tokenParams,
      query: setupQuery,
      responses: {
        200: {
          description: 'the outcome',
          schema: z.object({
            state: z.enum(['AWAITING_PAYMENT', 'PROCESSING', 'PAID', 'CLOSED']),
            status: z.string(),
            licence: z.object({ id: z.string(), status: z.string() }).optional(),
            invoiceNumber: z.string().optional(),
            receiptNumber: z.string().optional(),
            invoiceUrl: z.string().optional(),
            mandate: mandateSchema.optional(),
          }),
        },
      },
      errors: [...linkErrors, 'NO_PAID_LICENCE'],
    },
    async ({ params, query }) => ({
      status: 200,
      body: await getPaymentOutcome(pageDeps, params.token, query.setupIntent),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/pay/:token/invoice',
      summary: "The order's paid invoice (PDF), once issued",
      tag: 'payment page',
      auth: 'none',
      params: tokenParams,
      responses: {
        200: {
          description: 'the paid invoice',
          schema: z.string().openapi({ type: 'string', format: 'binary' }),
          contentType: 'application/pdf',
        },
      },
      errors: [...linkErrors, 'INVOICE_NOT_FOUND'],
    },
    async ({ params }) => {
      const { number, pdf } = await getPaymentInvoicePdf(pageDeps, params.token);
      return {
        status: 200,
        body: pdf,
        contentType: 'application/pdf',
        headers: { 'Content-Disposition': `attachment; filename="facture-${number}.pdf"` },
      };
    },
  );

  // the public purchase page (support packs, wallet recharges) for buyers whose ERP won't open
  registry.registerPath({
    method: 'get',
    path: '/achat',
    summary:
      "Public purchase page of support packs and wallet recharges (HTML, French), for when the ERP won't open",
    tags: ['payment page'],
    security: [],
    request: { query: purchasePageQuery },
    responses: { 200: { description: 'the page', content: { 'text/html': { schema: z.string() } } } },
  });
  router.get('/achat', async (req, res) => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    );
    const query = purchasePageQuery.safeParse(req.query);
    const chosen = query.success ? query.data : {};
    const page = renderPurchasePage(await websiteOffer(deps), {
      ...(chosen.minutes ? { minutes: chosen.minutes } : {}),
      recharge: chosen.produit === 'credits',
    });
    res.status(200).type('text/html; charset=utf-8').send(page);
  });

  return router;
}
