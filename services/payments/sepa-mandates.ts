/**
 * SEPA Direct Debit mandates (docs/sepa.md). The payment page shows the mandate text; the customer accepts it
 * with the IBAN (taken by Stripe.js in the browser, never by us); our server confirms the PaymentIntent (a
 * licence purchase) or SetupIntent (a change of payment method) with the acceptance as Stripe wants it
 * (`mandate_data`: online, the customer's IP address and browser), then keeps the mandate: Stripe's id and
 * reference, the text shown verbatim, when and from where it was accepted.
 *
 * A mandate is SUBMITTED until its payment method becomes the licence's (the purchase settled, or the change
 * saved by the licence's workflow: `activateMandate`, in that same transaction), then ACTIVE; the one it
 * replaces (or a card) is REPLACED; a mandate withdrawn is REVOKED and never debited again.
 */
import type Stripe from 'stripe';
import { AppError } from '../../domain/errors';
import { SEPA_MANDATE_TEXT_VERSION, sepaMandateText } from '../../domain/sepa-mandate';
import type { PrismaClient } from '../../infra/prisma';

type Db = Pick<PrismaClient, 'sepaMandate'>;

export interface MandateAcceptance {
  ipAddress: string;
  userAgent: string;
}

/** The acceptance as Stripe's confirmation takes it. */
export function mandateData(acceptance: MandateAcceptance) {
  return {
    customer_acceptance: {
      type: 'online' as const,
      online: { ip_address: acceptance.ipAddress, user_agent: acceptance.userAgent },
    },
  };
}

/** Refuses a SEPA confirmation without the mandate accepted (the page's checkbox, or the Payment Element). */
export function requireAcceptedMandate(accepted: boolean | undefined): void {
  if (accepted !== true)
    throw new AppError(
      'SEPA_MANDATE_NOT_ACCEPTED',
      'A SEPA Direct Debit needs the mandate accepted (mandateAccepted: true)',
      { field: 'mandateAccepted' },
    );
}

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === 'string' ? v : v?.id);

/** The Stripe mandate a confirmed PaymentIntent (its charge) or SetupIntent carries. */
async function mandateIdOf(
  stripe: Stripe,
  intent: Stripe.PaymentIntent | Stripe.SetupIntent,
): Promise<string | undefined> {
  if (intent.object === 'setup_intent') return idOf(intent.mandate);
  const chargeId = idOf(intent.latest_charge);
  if (!chargeId) return undefined;
  const charge = await stripe.charges.retrieve(chargeId);
  return charge.payment_method_details?.sepa_debit?.mandate ?? undefined;
}

/**
 * Keeps the mandate of a SEPA confirmation (idempotent on Stripe's mandate id: a repeated click keeps the
 * first acceptance). Answers its reference, which the page and the mails show.
 */
export async function recordMandate(
  deps: { prisma: Db; stripe: Stripe },
  input: {
    intent: Stripe.PaymentIntent | Stripe.SetupIntent;
    paymentMethod: Stripe.PaymentMethod;
    licenceId?: string;
    purchaseId?: string;
    sellerName: string;
    acceptance: MandateAcceptance;
  },
): Promise<{ id: string; reference: string; country: string; ibanLast4: string; holderName: string }> {
  const mandateId = await mandateIdOf(deps.stripe, input.intent);
  if (!mandateId) throw new Error(`Stripe answered no mandate for ${input.intent.id}`);
  const mandate = await deps.stripe.mandates.retrieve(mandateId);
  const reference = mandate.payment_method_details.sepa_debit?.reference ?? mandateId;
  const pm = input.paymentMethod;
  const sepa = pm.sepa_debit;
  const customerId = idOf(pm.customer) ?? idOf(input.intent.customer);
  const row = await deps.prisma.sepaMandate.upsert({
    where: { id: mandateId },
    update: {},
    create: {
      id: mandateId,
      reference,
      paymentMethodId: pm.id,
      customerId: customerId ?? '',
      licenceId: input.licenceId ?? null,
      purchaseId: input.purchaseId ?? null,
      holderName: pm.billing_details?.name ?? '',
      email: pm.billing_details?.email ?? '',
      ibanLast4: sepa?.last4 ?? '',
      bankCode: sepa?.bank_code ?? null,
      country: sepa?.country ?? '',
      mandateText: sepaMandateText(input.sellerName),
      textVersion: SEPA_MANDATE_TEXT_VERSION,
      acceptedAt: new Date(),
      ipAddress: input.acceptance.ipAddress,
      userAgent: input.acceptance.userAgent,
    },
  });
  return row;
}

/**
 * In the transaction that makes `paymentMethodId` the licence's method (activation, a saved change): its
 * mandate, if it is one, becomes ACTIVE and the licence's other active mandate REPLACED. A card saved
 * replaces the active mandate too.
 */
export async function activateMandate(
  tx: Db,
  licenceId: string,
  paymentMethodId: string | undefined,
  at: Date,
): Promise<void> {
  await tx.sepaMandate.updateMany({
    where: { licenceId, status: 'ACTIVE', ...(paymentMethodId ? { NOT: { paymentMethodId } } : {}) },
    data: { status: 'REPLACED', replacedAt: at },
  });
  if (!paymentMethodId) return;
  await tx.sepaMandate.updateMany({
    where: { paymentMethodId, status: 'SUBMITTED' },
    data: { status: 'ACTIVE', licenceId },
  });
}

/** The licence's mandate in force, if its method is a SEPA debit. */
export async function activeMandateOf(db: Db, licenceId: string) {
  return db.sepaMandate.findFirst({ where: { licenceId, status: 'ACTIVE' } });
}
