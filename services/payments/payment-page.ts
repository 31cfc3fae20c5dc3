/**
 * The payment page's use-cases (`/pay/<token>`, docs/payment-page.md): what the order is, paying it,
 * what came of it, and its paid invoice. The link (services/payments/payment-link.ts) is the only
 * credential; it names the order and its PaymentIntent, and every answer is read from the database and
 * from Stripe when asked — the client secret is fetched from Stripe by PaymentIntent id, never stored.
 *
 * The outcome shown is the one recorded by the order's workflow (through Stripe's webhook), not what the
 * browser saw: the confirmation page polls it until the payment is recorded and the invoice issued.
 */
import type Stripe from 'stripe';
import { AppError } from '../../domain/errors';
import type { Quote, QuoteLine } from '../../domain/quote';
import type { ServiceDeps } from '../deps';
import { renderInvoicePdf } from '../invoices/render-invoice-pdf';
import { toInvoiceDocument } from '../invoices/invoice-document';
import { verifyPaymentLink, type PaymentLink, type PaymentPageSettings } from './payment-link';
import { maskedIban, sepaMandateText } from '../../domain/sepa-mandate';
import { mandateData, recordMandate, requireAcceptedMandate, type MandateAcceptance } from './sepa-mandates';
import {
  cardChangeState,
  licenceChargeOrder,
  licenceCardOrder,
  openCardChange,
} from './licence-payment-page';

export type PaymentPageDeps = Pick<ServiceDeps, 'prisma' | 'stripe' | 'temporal'> & {
  paymentPage: PaymentPageSettings;
  /** the seller the SEPA mandate authorises */
  sellerName: string;
};

/**
 * Where the order stands, as recorded: waiting for the payment, a SEPA debit submitted and not yet settled
 * by the bank (PROCESSING: the licence is activated at settlement, docs/sepa.md), paid (invoice issued), or
 * closed unpaid.
 */
export type OrderState = 'AWAITING_PAYMENT' | 'PROCESSING' | 'PAID' | 'CLOSED';

export interface PaymentOrder {
  kind: PaymentLink['kind'];
  orderId: string;
  /** what the customer buys, in French */
  title: string;
  lines: QuoteLine[];
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
  currency: string;
  /** printed when no VAT is charged (reverse charge, outside the EU, wallet credits) */
  vatMention?: string;
  /** licence purchases: the licence terms the customer accepted in the ERP */
  terms?: { version: string; acceptedAt: string };
  buyer: { companyName: string; email: string };
  state: OrderState;
  /** the order's own status (Purchase / CreditPurchase) */
  status: string;
  licence?: { id: string; status: string };
  invoiceNumber?: string;
  receiptNumber?: string;
  /** a SEPA debit: the mandate accepted for it */
  mandate?: MandateView;
}

export interface MandateView {
  reference: string;
  /** the account, masked (country and last 4 digits) */
  account: string;
  holderName: string;
}

/** The pages a SEPA mandate may be given on: a licence's purchase and its payment method change. */
const SEPA_KINDS: ReadonlySet<PaymentLink['kind']> = new Set(['LICENCE', 'CARD']);

/** Wallet credits are a multi-purpose voucher: no VAT when bought (it is due when they are spent). */
const WALLET_VAT_MENTION = 'Bon polyvalent : TVA exigible lors de l’utilisation des crédits';

async function orderOf(deps: PaymentPageDeps, link: PaymentLink): Promise<PaymentOrder> {
  const notFound = () => new AppError('PURCHASE_NOT_FOUND', 'This payment link names no purchase');
  if (link.kind === 'RENEWAL') return licenceChargeOrder(deps, link);
  if (link.kind === 'CARD') return licenceCardOrder(deps, link);
  if (link.kind === 'LICENCE') {
    const p = await deps.prisma.purchase.findUnique({ where: { id: link.orderId } });
    if (!p || p.paymentMethod !== 'ONLINE') throw notFound();
    const quote = p.quote as unknown as Quote;
    const billing = p.billing as { companyName: string; email: string };
    const [licence, invoice, mandate] = await Promise.all([
      p.licenceId
        ? deps.prisma.licence.findUnique({ where: { id: p.licenceId }, select: { id: true, status: true } })
        : null,
      deps.prisma.invoice.findFirst({ where: { purchaseId: p.id }, select: { number: true } }),
      deps.prisma.sepaMandate.findFirst({ where: { purchaseId: p.id }, orderBy: { createdAt: 'desc' } }),
    ]);
    let state: OrderState =
      p.status === 'COMPLETED' ? 'PAID' : p.status === 'AWAITING_PAYMENT' ? 'AWAITING_PAYMENT' : 'CLOSED';
    // a SEPA debit submitted: the bank settles it days later (a failed one leaves the order to pay again)
    if (state === 'AWAITING_PAYMENT' && mandate) {
      const intent = await deps.stripe.paymentIntents.retrieve(link.paymentIntentId);
      if (intent.status === 'processing') state = 'PROCESSING';
    }
    return {
      kind: link.kind,
      orderId: p.id,
      title: `Licence Gestan ${p.edition} ${p.mode}, base ${p.baseId}`,
      lines: quote.lines,
      totalExclVatCents: quote.totalExclVatCents,
      vatCents: quote.vatCents,
      totalInclVatCents: quote.totalInclVatCents,
      currency: quote.currency,
      ...(quote.vat.legalMention ? { vatMention: quote.vat.legalMention } : {}),
      terms: { version: p.termsVersion, acceptedAt: p.termsAcceptedAt.toISOString() },
      buyer: { companyName: billing.companyName, email: billing.email },
      state,
      status: p.status,
      ...(licence ? { licence } : {}),
      ...(invoice ? { invoiceNumber: invoice.number } : {}),
      ...(mandate ? { mandate: mandateView(mandate) } : {}),
    };
  }
  const c = await deps.prisma.creditPurchase.findUnique({ where: { id: link.orderId } });
  if (!c) throw notFound();
  const billing = c.billing as { companyName: string; email: string };
  const quote = c.quote as unknown as Quote | null;
  // UNMATCHED: paid on the website, waiting for ops to find the account; paid all the same
  const state: OrderState =
    c.status === 'COMPLETED' || c.status === 'UNMATCHED'
      ? 'PAID'
      : c.status === 'AWAITING_PAYMENT'
        ? 'AWAITING_PAYMENT'
        : 'CLOSED';
  const wallet = c.product === 'WALLET_RECHARGE';
  return {
    kind: link.kind,
    orderId: c.id,
    title: wallet
      ? `Recharge du portefeuille de crédits (achat n° ${c.number})`
      : `Pack support ${c.packMinutes} min (achat n° ${c.number})`,
    lines: quote?.lines ?? [
      {
        description: `Crédits portefeuille (${(c.creditAmount / 100).toFixed(2)} crédits)`,
        quantity: 1,
        unitPriceCents: c.amountCents,
        totalExclVatCents: c.amountCents,
        vatRateBasisPoints: 0,
        vatCents: 0,
      },
    ],
    totalExclVatCents: quote?.totalExclVatCents ?? c.amountCents,
    vatCents: quote?.vatCents ?? 0,
    totalInclVatCents: quote?.totalInclVatCents ?? c.amountCents,
    currency: quote?.currency ?? 'EUR',
    ...(quote?.vat.legalMention
      ? { vatMention: quote.vat.legalMention }
      : wallet
        ? { vatMention: WALLET_VAT_MENTION }
        : {}),
    buyer: { companyName: billing.companyName, email: billing.email },
    state,
    status: c.status,
    ...(c.invoiceNumber ? { invoiceNumber: c.invoiceNumber } : {}),
    ...(c.receiptNumber ? { receiptNumber: c.receiptNumber } : {}),
  };
}

function mandateView(m: {
  reference: string;
  country: string;
  ibanLast4: string;
  holderName: string;
}): MandateView {
  return { reference: m.reference, account: maskedIban(m.country, m.ibanLast4), holderName: m.holderName };
}

export interface PaymentPageView {
  order: PaymentOrder;
  /** Stripe's view of the PaymentIntent, for Stripe.js (only while the order awaits payment) */
  intent?: {
    id: string;
    status: Stripe.PaymentIntent.Status;
    clientSecret: string;
    amount: number;
    currency: string;
  };
  /** CARD links: the SetupIntent created for this visit of the card-change page */
  setup?: { id: string; clientSecret: string };
  /** RENEWAL links: the card saved on the licence, which the customer may confirm the charge with */
  savedCard?: { paymentMethodId: string; label: string };
  publishableKey?: string;
  stripeJsUrl: string;
  /** licence purchases and payment method changes: SEPA Direct Debit offered beside the card, with this mandate */
  sepa?: { mandateText: string };
}

/** The order a valid link names (the confirmation page's content). */
export async function getPaymentOrder(deps: PaymentPageDeps, token: string): Promise<PaymentOrder> {
  return orderOf(deps, verifyPaymentLink(deps.paymentPage, token));
}

/** Everything the page shows and needs, for a valid link. */
export async function getPaymentPage(deps: PaymentPageDeps, token: string): Promise<PaymentPageView> {
  const link = verifyPaymentLink(deps.paymentPage, token);
  const order = await orderOf(deps, link);
  const view: PaymentPageView = {
    order,
    publishableKey: deps.paymentPage.publishableKey,
    stripeJsUrl: deps.paymentPage.stripeJsUrl,
  };
  if (order.state !== 'AWAITING_PAYMENT') return view;
  const sepa = SEPA_KINDS.has(link.kind) ? { sepa: { mandateText: sepaMandateText(deps.sellerName) } } : {};
  if (link.kind === 'CARD') return { ...view, ...sepa, setup: await openCardChange(deps, link.orderId) };
  const intent = await deps.stripe.paymentIntents.retrieve(link.paymentIntentId);
  if (!intent.client_secret) return view;
  const savedCard = link.kind === 'RENEWAL' ? await savedCardOf(deps, intent) : undefined;
  return {
    ...view,
    ...sepa,
    ...(savedCard ? { savedCard } : {}),
    intent: {
      id: intent.id,
      status: intent.status,
      clientSecret: intent.client_secret,
      amount: intent.amount,
      currency: intent.currency,
    },
  };
}

/** The card an off-session charge was attempted with (the licence's saved card), as the page names it. */
async function savedCardOf(
  deps: PaymentPageDeps,
  intent: Stripe.PaymentIntent,
): Promise<PaymentPageView['savedCard']> {
  const method = intent.payment_method ?? intent.last_payment_error?.payment_method;
  const id = typeof method === 'string' ? method : method?.id;
  if (!id) return undefined;
  const card = (await deps.stripe.paymentMethods.retrieve(id)).card;
  return {
    paymentMethodId: id,
    label: card ? `${card.brand ?? 'carte'} •••• ${card.last4}` : 'carte enregistrée',
  };
}

export type ConfirmOutcome =
  | { status: 'succeeded' | 'processing'; mandate?: MandateView }
  /** 3-D Secure: the page hands the client secret to Stripe.js, which shows the bank's challenge */
  | { status: 'requires_action' };

export interface PageConfirmation {
  /** the card or bank account the page created with Stripe.js */
  paymentMethodId: string;
  /** a card change: the SetupIntent its page created */
  setupIntentId?: string;
  /** a SEPA debit: the customer accepted the mandate shown */
  mandateAccepted?: boolean;
}

/**
 * Confirms the order's PaymentIntent with the card or bank account the page created in the browser
 * (Stripe.js; the card number and IBAN never reach us). A SEPA debit needs the mandate accepted: the
 * confirmation carries the acceptance (the customer's IP address and browser) and the mandate is kept
 * (`sepa-mandates.ts`). A refused card is PAYMENT_DECLINED with Stripe's message, and the customer may
 * try another card; an order no longer awaiting payment is PURCHASE_NOT_AWAITING_PAYMENT. Idempotent per
 * (PaymentIntent, card): a repeated click answers the first result.
 */
export async function confirmPagePayment(
  deps: PaymentPageDeps,
  token: string,
  confirmation: PageConfirmation,
  client: MandateAcceptance,
): Promise<ConfirmOutcome> {
  const { paymentMethodId, setupIntentId } = confirmation;
  const link = verifyPaymentLink(deps.paymentPage, token);
  const order = await orderOf(deps, link);
  if (order.state !== 'AWAITING_PAYMENT') {
    throw new AppError('PURCHASE_NOT_AWAITING_PAYMENT', 'This purchase no longer awaits a payment', {
      status: order.status,
    });
  }
  if (link.kind === 'CARD' && !setupIntentId)
    throw new AppError('VALIDATION_FAILED', 'A card change names the SetupIntent of its page', {
      field: 'setupIntentId',
    });
  const method = await stripeCall(() => deps.stripe.paymentMethods.retrieve(paymentMethodId));
  const sepa = method.type === 'sepa_debit';
  if (sepa) {
    if (!SEPA_KINDS.has(link.kind))
      throw new AppError(
        'PAYMENT_METHOD_NOT_OFFERED',
        'SEPA Direct Debit is offered for licences only: pay this order by card',
        { method: 'SEPA_DEBIT' },
      );
    requireAcceptedMandate(confirmation.mandateAccepted);
  }
  const mandate = sepa ? { mandate_data: mandateData(client) } : {};
  const intent: Stripe.PaymentIntent | Stripe.SetupIntent = await stripeCall(async () =>
    link.kind === 'CARD'
      ? deps.stripe.setupIntents.confirm(
          (await cardChangeState(deps, link.orderId, setupIntentId!)).setupIntent.id,
          { payment_method: paymentMethodId, ...mandate },
          { idempotencyKey: `page-setup:${setupIntentId}:${paymentMethodId}` },
        )
      : deps.stripe.paymentIntents.confirm(
          link.paymentIntentId,
          { payment_method: paymentMethodId, ...mandate },
          { idempotencyKey: `page-confirm:${link.paymentIntentId}:${paymentMethodId}` },
        ),
  );
  if (intent.status === 'requires_action') return { status: 'requires_action' };
  if (intent.status === 'succeeded' || intent.status === 'processing') {
    const status = intent.status === 'succeeded' ? 'succeeded' : 'processing';
    if (!sepa) return { status };
    const kept = await recordMandate(deps, {
      intent,
      paymentMethod: method,
      licenceId: order.licence?.id,
      ...(link.kind === 'LICENCE' ? { purchaseId: order.orderId } : {}),
      sellerName: deps.sellerName,
      acceptance: client,
    });
    return { status, mandate: mandateView(kept) };
  }
  const last = 'last_payment_error' in intent ? intent.last_payment_error : intent.last_setup_error;
  throw new AppError('PAYMENT_DECLINED', last?.message ?? 'The card was declined', {
    code: last?.code,
    declineCode: last?.decline_code,
  });
}

/** A Stripe call of the page, its refusals as the page's errors. */
async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const e = error as { type?: string; message?: string; code?: string; decline_code?: string };
    if (e.type === 'StripeCardError') {
      throw new AppError('PAYMENT_DECLINED', e.message ?? 'The card was declined', {
        code: e.code,
        declineCode: e.decline_code,
      });
    }
    if (e.type === 'StripeInvalidRequestError') {
      // e.g. the PaymentIntent was cancelled at its deadline meanwhile, or an unknown card id
      throw new AppError('PURCHASE_NOT_AWAITING_PAYMENT', e.message ?? 'The payment can no longer be made', {
        code: e.code,
      });
    }
    throw error;
  }
}

export interface PaymentOutcome {
  state: OrderState;
  status: string;
  licence?: { id: string; status: string };
  invoiceNumber?: string;
  receiptNumber?: string;
  /** the paid invoice's download link (relative to the page) once issued */
  invoiceUrl?: string;
  mandate?: MandateView;
}

/**
 * What the order's workflow recorded: the confirmation page polls this. A card change names its
 * SetupIntent: once Stripe says it succeeded, the card is handed to the licence's workflow here (a
 * SetupIntent's webhook does the same when Stripe sends one).
 */
export async function getPaymentOutcome(
  deps: PaymentPageDeps,
  token: string,
  setupIntentId?: string,
): Promise<PaymentOutcome> {
  const link = verifyPaymentLink(deps.paymentPage, token);
  if (link.kind === 'CARD' && setupIntentId) {
    const { state, licence, setupIntent } = await cardChangeState(deps, link.orderId, setupIntentId, {
      apply: true,
    });
    const pm = setupIntent.payment_method;
    const mandate = pm
      ? await deps.prisma.sepaMandate.findUnique({
          where: { paymentMethodId: typeof pm === 'string' ? pm : pm.id },
        })
      : null;
    return {
      state,
      status: state === 'PAID' ? (mandate ? 'MANDATE_SAVED' : 'CARD_SAVED') : state,
      licence,
      ...(mandate ? { mandate: mandateView(mandate) } : {}),
    };
  }
  const order = await orderOf(deps, link);
  return {
    state: order.state,
    status: order.status,
    ...(order.licence ? { licence: order.licence } : {}),
    ...(order.invoiceNumber
      ? { invoiceNumber: order.invoiceNumber, invoiceUrl: `/pay/${token}/invoice` }
      : {}),
    ...(order.receiptNumber ? { receiptNumber: order.receiptNumber } : {}),
    ...(order.mandate ? { mandate: order.mandate } : {}),
  };
}

/** The order's paid invoice as PDF; INVOICE_NOT_FOUND until it is issued. */
export async function getPaymentInvoicePdf(
  deps: PaymentPageDeps,
  token: string,
): Promise<{ number: string; pdf: Buffer }> {
  const order = await orderOf(deps, verifyPaymentLink(deps.paymentPage, token));
  const row = order.invoiceNumber
    ? await deps.prisma.invoice.findUnique({ where: { number: order.invoiceNumber } })
    : null;
  if (!row) throw new AppError('INVOICE_NOT_FOUND', 'The invoice is not issued yet');
  return { number: row.number, pdf: await renderInvoicePdf(toInvoiceDocument(row)) };
}
