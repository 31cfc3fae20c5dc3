/**
 * The payment page for a licence itself, beside its purchase (docs/payment-page.md):
 *
 * - `RENEWAL` links (in the PAYMENT_ACTION_REQUIRED mail, in a renew-now or change answer): an off-session
 *   charge the bank wants the customer to authenticate. The page confirms that same PaymentIntent; its
 *   webhook renews or applies the change, through the licence's workflow, exactly once (the workflow keys
 *   the charge). The order
 *   shown is read from the licence and from the PaymentIntent (its metadata names the period and the VAT).
 * - `CARD` links (ERP, expiry and dunning mails): the card-change page. Each visit creates a SetupIntent
 *   for the licence's Stripe customer (created here for a licence that never paid by card); once Stripe
 *   says it succeeded (read back on return — localstripe sends no setup_intent webhooks — or from Stripe's
 *   `setup_intent.succeeded` webhook), the card goes to the workflow (`savePaymentMethodUpdate`): the next
 *   renewal charges it, and the licence renews by card automatically.
 */
import crypto from 'node:crypto';
import type Stripe from 'stripe';
import { AppError } from '../../domain/errors';
import { stripePaymentMethodTypes } from '../../domain/payment-methods';
import { addDays, isLocalDate } from '../../domain/periods';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { savePaymentMethodUpdate } from '../../workflows/subscription';
import { billingDetailsSchema } from '../../domain/billing-party';
import { toAppError } from '../subscriptions/workflow-errors';
import type { PaymentLink } from './payment-link';
import type { OrderState, PaymentOrder, PaymentPageDeps } from './payment-page';

const notFound = () => new AppError('PURCHASE_NOT_FOUND', 'This payment link names no purchase');
const USABLE = new Set(['ACTIVE', 'PAST_DUE']);

async function licenceOf(deps: PaymentPageDeps, licenceId: string) {
  const licence = await deps.prisma.licence.findUnique({ where: { id: licenceId } });
  if (!licence) throw notFound();
  const billing = billingDetailsSchema.partial().parse(licence.billing ?? {});
  return {
    licence,
    buyer: { companyName: billing.companyName ?? licence.holderName, email: billing.email ?? '' },
    what: `licence Gestan ${licence.edition} ${licence.mode} (${licence.connections} connexion${licence.connections > 1 ? 's' : ''}), base ${licence.baseId}`,
  };
}

/** A licence charge waiting for the customer (3-D Secure), paid once its payment is recorded. */
export async function licenceChargeOrder(deps: PaymentPageDeps, link: PaymentLink): Promise<PaymentOrder> {
  const { licence, buyer, what } = await licenceOf(deps, link.orderId);
  let intent: Stripe.PaymentIntent;
  try {
    intent = await deps.stripe.paymentIntents.retrieve(link.paymentIntentId);
  } catch {
    throw notFound();
  }
  if (intent.metadata?.licenceId !== licence.id) throw notFound();
  const payment = await deps.prisma.payment.findFirst({
    where: { licenceId: licence.id, providerRef: intent.id, status: 'SUCCEEDED' },
    include: { invoice: { select: { number: true } } },
  });
  const waiting = ['requires_action', 'requires_payment_method', 'requires_confirmation'].includes(
    intent.status,
  );
  // succeeded or processing but not yet recorded: the webhook is on its way, the page waits for it
  const state: OrderState = payment
    ? 'PAID'
    : (waiting && USABLE.has(licence.status)) ||
        intent.status === 'succeeded' ||
        intent.status === 'processing'
      ? 'AWAITING_PAYMENT'
      : 'CLOSED';
  const m = intent.metadata;
  const vatCents = Number(m.vatCents ?? 0);
  const exclVat = Number(m.totalExclVatCents ?? intent.amount - vatCents);
  const period =
    m.periodStart && m.periodEnd && isLocalDate(m.periodEnd)
      ? ` du ${m.periodStart} au ${addDays(m.periodEnd, -1)}`
      : '';
  // a change of the licence (connections, edition, extensions) charged prorata, or its renewal
  const change = m.kind === 'change';
  return {
    kind: link.kind,
    orderId: licence.id,
    title: change ? `Modification de votre ${what}` : `Renouvellement de votre ${what}`,
    lines: [
      {
        description: change
          ? 'Modification de la licence, au prorata de la période'
          : `Renouvellement${period}`,
        quantity: 1,
        unitPriceCents: exclVat,
        totalExclVatCents: exclVat,
        vatRateBasisPoints: exclVat > 0 ? Math.round((vatCents * 10_000) / exclVat) : 0,
        vatCents,
      },
    ],
    totalExclVatCents: exclVat,
    vatCents,
    totalInclVatCents: intent.amount,
    currency: intent.currency.toUpperCase(),
    buyer,
    state,
    status: payment ? 'PAID' : intent.status.toUpperCase(),
    licence: { id: licence.id, status: licence.status },
    ...(payment?.invoice ? { invoiceNumber: payment.invoice.number } : {}),
  };
}

/** The card-change page's order: nothing to pay, open while the licence runs. */
export async function licenceCardOrder(deps: PaymentPageDeps, link: PaymentLink): Promise<PaymentOrder> {
  const { licence, buyer, what } = await licenceOf(deps, link.orderId);
  return {
    kind: link.kind,
    orderId: licence.id,
    title: `Carte bancaire de votre ${what}`,
    lines: [],
    totalExclVatCents: 0,
    vatCents: 0,
    totalInclVatCents: 0,
    currency: 'EUR',
    buyer,
    state: USABLE.has(licence.status) ? 'AWAITING_PAYMENT' : 'CLOSED',
    status: licence.status,
    licence: { id: licence.id, status: licence.status },
  };
}

/** A SetupIntent for this visit of the card-change page; the licence's Stripe customer first, if none. */
export async function openCardChange(
  deps: PaymentPageDeps,
  licenceId: string,
): Promise<{ id: string; clientSecret: string }> {
  const { licence, buyer } = await licenceOf(deps, licenceId);
  let customerId = licence.stripeCustomerId;
  if (!customerId) {
    const customer = await deps.stripe.customers.create(
      { email: buyer.email, name: buyer.companyName, metadata: { baseId: licence.baseId, licenceId } },
      { idempotencyKey: `customer:card-change:${licenceId}` },
    );
    // never overwrite: a customer already there is the one a card was saved on
    await deps.prisma.licence.updateMany({
      where: { id: licenceId, stripeCustomerId: null },
      data: { stripeCustomerId: customer.id },
    });
    customerId =
      (await deps.prisma.licence.findUniqueOrThrow({ where: { id: licenceId } })).stripeCustomerId ??
      customer.id;
  }
  const setup = await deps.stripe.setupIntents.create(
    {
      customer: customerId,
      usage: 'off_session',
      // a card or a SEPA mandate (domain/payment-methods.ts), whatever the Stripe dashboard enables
      allowed_payment_method_types: stripePaymentMethodTypes(),
      metadata: { licenceId, workflowId: subscriptionWorkflowId(licence.baseId) },
    },
    { idempotencyKey: `card-change:${licenceId}:${crypto.randomUUID()}` },
  );
  return { id: setup.id, clientSecret: setup.client_secret! };
}

/**
 * Where a card change stands: the SetupIntent read back from Stripe (it must be this licence's). With
 * `apply`, a succeeded one is handed to the licence's workflow (idempotent: the same card twice is a no-op).
 */
export async function cardChangeState(
  deps: PaymentPageDeps,
  licenceId: string,
  setupIntentId: string,
  options: { apply?: boolean } = {},
): Promise<{ state: OrderState; setupIntent: Stripe.SetupIntent; licence: { id: string; status: string } }> {
  const { licence } = await licenceOf(deps, licenceId);
  let setupIntent: Stripe.SetupIntent;
  try {
    setupIntent = await deps.stripe.setupIntents.retrieve(setupIntentId);
  } catch {
    throw notFound();
  }
  if (setupIntent.metadata?.licenceId !== licenceId) throw notFound();
  const view = { id: licence.id, status: licence.status };
  if (setupIntent.status !== 'succeeded')
    return {
      state: setupIntent.status === 'canceled' ? 'CLOSED' : 'AWAITING_PAYMENT',
      setupIntent,
      licence: view,
    };
  if (options.apply) await saveCard(deps, licence.baseId, setupIntent);
  return { state: 'PAID', setupIntent, licence: view };
}

/** A succeeded SetupIntent's card, to the licence's workflow. */
export async function saveCard(
  deps: Pick<PaymentPageDeps, 'temporal'>,
  baseId: string,
  setupIntent: Pick<Stripe.SetupIntent, 'id' | 'payment_method' | 'customer'>,
) {
  const idOf = (v: string | { id: string } | null | undefined) => (typeof v === 'string' ? v : v?.id);
  const paymentMethodId = idOf(setupIntent.payment_method);
  const customerId = idOf(setupIntent.customer);
  if (!paymentMethodId || !customerId) throw notFound();
  try {
    await deps.temporal.workflow
      .getHandle(subscriptionWorkflowId(baseId))
      .executeUpdate(savePaymentMethodUpdate, {
        args: [{ customerId, paymentMethodId, setupIntentId: setupIntent.id }],
      });
  } catch (error) {
    throw toAppError(error, new AppError('NO_PAID_LICENCE', 'This base has no paid licence running'));
  }
}
