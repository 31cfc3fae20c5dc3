import crypto from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { isFreeLicence, type BillingPeriod, type Edition, type Mode } from '../../domain/catalog';
import { AppError } from '../../domain/errors';
import type { PaymentMethodKind } from '../../domain/licence';
import { withDiscount } from '../../domain/promo-code';
import { vatNumberRefused } from '../../domain/vat';
import { VIES_RETRY_AFTER_SECONDS, type ViesConsultation } from '../../domain/vies';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentInstructionsUpdate, subscriptionWorkflow, purchaseState } from '../../workflows/subscription';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { getCatalog } from '../catalog/get-catalog';
import { applicablePromo, redeemPromoCode } from '../promo-codes/apply-promo-code';
import type { ServiceDeps } from '../deps';
import type { BillingDetails } from '../../domain/billing-party';
import { cardPaymentOf, type CardPayment } from '../payments/card-payment';
import { lockBasePurchases } from './purchase-lock';
import { toAppError } from './workflow-errors';
import { normaliseExtensions } from '../../domain/extensions';
import { licenceListPrice } from '../promo-codes/quote-licence';

export interface PurchaseRequest {
  idempotencyKey: string;
  edition: Edition;
  mode: Mode;
  connections: number;
  period: BillingPeriod;
  paymentMethod: PaymentMethodKind;
  autoRenew?: boolean;
  billing: BillingDetails;
  terms: { version: string; accepted: boolean };
  free?: { category: string; justification: string };
  /** the purchase screen's "Code promo" (docs/promo-codes.md) */
  promoCode?: string;
  /** extensions bought with the licence (docs/licence-changes.md) */
  extensions?: string[];
}

/** What identifies a request, to tell a retry (same answer) from a reuse of the key (refused). */
function fingerprint(r: PurchaseRequest): string {
  const { idempotencyKey: _key, ...rest } = r;
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(rest, Object.keys(rest).sort()))
    .digest('hex');
}

async function purchaseView(deps: ServiceDeps, purchaseId: string, known?: { paymentIntentId: string }) {
  const p = await deps.prisma.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
  let payment: CardPayment | undefined;
  if (known) payment = await cardPaymentOf(deps.stripe, known.paymentIntentId);
  else if (p.paymentMethod === 'ONLINE' && p.status === 'AWAITING_PAYMENT' && p.totalInclVatCents > 0) {
    try {
      const { paymentIntentId } = await deps.temporal.workflow
        .getHandle(p.workflowId)
        .executeUpdate(paymentInstructionsUpdate);
      payment = await cardPaymentOf(deps.stripe, paymentIntentId);
    } catch (error) {
      throw toAppError(
        error,
        new AppError('PURCHASE_NOT_FOUND', 'This purchase is no longer waiting for payment'),
      );
    }
  }
  return {
    purchaseId: p.id,
    licenceId: p.licenceId,
    baseId: p.baseId,
    status: p.status,
    paymentMethod: p.paymentMethod,
    quote: p.quote,
    termsVersion: p.termsVersion,
    payment,
  };
}

/**
 * Buys a licence for a base. Idempotent on the client's key: a retry gets the same purchase (and, for a
 * card payment, the same PaymentIntent), a different request with the same key is refused. The purchase
 * and the PENDING licence are recorded, then the base's subscriptionWorkflow carries it (card payment,
 * ops confirmation of a cheque/transfer, or ops approval of a free licence).
 */
export async function purchaseLicence(
  deps: ServiceDeps,
  options: { actor: Actor; baseId: string; request: PurchaseRequest },
) {
  const { request, baseId } = options;
  if (isFreeLicence(request.edition, request.mode)) {
    throw new AppError(
      'FREE_LICENCE_NEEDS_NO_PURCHASE',
      'STANDARD LOCAL is free for life: there is nothing to buy',
    );
  }
  if (!request.terms.accepted || request.terms.version !== deps.billing.termsVersion) {
    throw new AppError(
      'TERMS_NOT_ACCEPTED',
      `The licence terms version ${deps.billing.termsVersion} must be accepted`,
      {
        currentVersion: deps.billing.termsVersion,
      },
    );
  }
  const { country, vatNumber } = request.billing;
  if (vatNumberRefused({ country, vatNumber }))
    throw new AppError('VAT_NUMBER_INVALID', `${vatNumber} is not a VAT number of ${country}`);

  const existing = await deps.prisma.purchase.findUnique({
    where: { baseId_clientKey: { baseId, clientKey: request.idempotencyKey } },
  });
  if (existing) return replay(deps, existing.id, fingerprint(request));

  const catalog = await getCatalog(deps.prisma);
  const choice = { edition: request.edition, mode: request.mode, period: request.period };
  const now = new Date();
  // a code that does not apply is refused before anything is recorded, never ignored
  const discount = request.promoCode
    ? await applicablePromo(deps.prisma, { code: request.promoCode, choice, now, baseId })
    : undefined;
  const extensions = normaliseExtensions(request.extensions);
  const listPrice = licenceListPrice(
    catalog,
    { ...choice, connections: request.connections, country, vatNumber },
    extensions,
  );
  const priced = discount ? withDiscount(listPrice, discount) : listPrice;
  const viesConsultation =
    priced.vat.kind === 'EU_REVERSE_CHARGE' && vatNumber
      ? await viesConsultationFor(deps, vatNumber)
      : undefined;
  const workflowId = subscriptionWorkflowId(baseId);
  const autoRenew = request.paymentMethod === 'ONLINE' ? (request.autoRenew ?? true) : false;

  const { purchaseId, created } = await deps.prisma.$transaction(async (tx) => {
    // one purchase at a time per base: serialise the check and the insert
    await lockBasePurchases(tx, baseId);
    const again = await tx.purchase.findUnique({
      where: { baseId_clientKey: { baseId, clientKey: request.idempotencyKey } },
    });
    // a concurrent request with the same key recorded it first: this one is a retry
    if (again) return { purchaseId: again.id, created: false };
    const running = await tx.licence.findFirst({
      where: { baseId, version: 'A1', status: { in: ['PENDING', 'ACTIVE', 'PAST_DUE'] } },
    });
    if (running) {
      throw new AppError(
        'LICENCE_ALREADY_ACTIVE',
        running.status === 'PENDING'
          ? 'A purchase is already waiting for payment or a decision for this base'
          : 'This base already has a paid licence: renew it, add connections or upgrade it instead',
        { licenceId: running.id, status: running.status },
      );
    }
    const base = await tx.base.findUnique({ where: { id: baseId } });
    const licence = await tx.licence.create({
      data: {
        baseId,
        edition: request.edition,
        mode: request.mode,
        connections: request.connections,
        period: request.period,
        extensions,
        status: 'PENDING',
        autoRenew,
        paymentMethod: request.paymentMethod,
        holderName: request.billing.companyName,
        holderAccountId: base?.accountId ?? null,
        billing: request.billing,
        workflowId,
      },
    });
    const purchase = await tx.purchase.create({
      data: {
        baseId,
        clientKey: request.idempotencyKey,
        licenceId: licence.id,
        edition: request.edition,
        mode: request.mode,
        connections: request.connections,
        period: request.period,
        paymentMethod: request.paymentMethod,
        status: request.paymentMethod === 'ONLINE' ? 'AWAITING_PAYMENT' : 'AWAITING_OPS',
        billing: { ...request.billing, fingerprint: fingerprint(request) },
        quote: JSON.parse(JSON.stringify(priced)) as object,
        viesConsultation: viesConsultation ? { ...viesConsultation } : undefined,
        totalInclVatCents: priced.totalInclVatCents,
        termsVersion: request.terms.version,
        termsAcceptedAt: new Date(),
        freeCategory: request.free?.category,
        freeJustification: request.free?.justification,
        workflowId,
      },
    });
    if (request.promoCode) {
      await redeemPromoCode(tx, {
        code: request.promoCode,
        choice,
        now,
        baseId,
        purchaseId: purchase.id,
        licenceId: licence.id,
      });
    }
    await audit(tx, options.actor, {
      action: 'purchase.created',
      entityType: 'PURCHASE',
      entityId: purchase.id,
      data: {
        baseId,
        licenceId: licence.id,
        paymentMethod: request.paymentMethod,
        totalInclVatCents: priced.totalInclVatCents,
        termsVersion: request.terms.version,
        ...(discount ? { promoCode: discount.code } : {}),
      },
    });
    return { purchaseId: purchase.id, created: true };
  });
  if (!created) return replay(deps, purchaseId, fingerprint(request));

  const instructions = await startSubscription(deps, purchaseId);
  return { created: true, ...(await purchaseView(deps, purchaseId, instructions)) };
}

/**
 * A reverse charge rests on VIES: the number must be valid there, and the consultation is kept with the
 * purchase (then its invoice). VIES unavailable (after the check's own retries): the sale is refused for now
 * with a 503 and Retry-After, nothing recorded; the buyer's retry with the same key consults VIES again.
 */
async function viesConsultationFor(deps: ServiceDeps, vatNumber: string): Promise<ViesConsultation> {
  const verdict = await deps.vies(vatNumber);
  if (verdict.status === 'UNAVAILABLE')
    throw new AppError('VIES_UNAVAILABLE', 'VIES cannot check this VAT number right now; retry later', {
      retryAfterSeconds: VIES_RETRY_AFTER_SECONDS,
    });
  if (verdict.status === 'INVALID')
    throw new AppError('VAT_NUMBER_INVALID', `VIES does not know ${vatNumber} as a valid VAT number`, {
      vies: verdict.consultation,
    });
  return verdict.consultation;
}

/**
 * Starts the base's workflow for a recorded purchase (a retry joins the running one). A card purchase is
 * started together with its `paymentInstructions` update, in one call (update-with-start): the answer is the
 * PaymentIntent to confirm (its id; the client secret is read from Stripe for the answer).
 */
async function startSubscription(
  deps: ServiceDeps,
  purchaseId: string,
): Promise<{ paymentIntentId: string } | undefined> {
  const p = await deps.prisma.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
  if (p.status !== 'AWAITING_PAYMENT' && p.status !== 'AWAITING_OPS') return;
  const billing = p.billing as unknown as BillingDetails;
  const licence = await deps.prisma.licence.findUniqueOrThrow({ where: { id: p.licenceId! } });
  const state = purchaseState({
    baseId: p.baseId,
    licenceId: p.licenceId!,
    terms: {
      edition: p.edition,
      mode: p.mode,
      connections: p.connections,
      period: p.period,
      ...(licence.extensions.length ? { extensions: licence.extensions } : {}),
    },
    paymentMethod: p.paymentMethod,
    autoRenew: licence.autoRenew,
    purchase: {
      purchaseId: p.id,
      amountCents: p.totalInclVatCents,
      email: billing.email,
      holderName: billing.companyName,
    },
  });
  const start = {
    workflowId: p.workflowId,
    taskQueue: deps.taskQueue,
    args: [{ state }] as [Parameters<typeof subscriptionWorkflow>[0]],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  };
  // nothing to pay by card (ops decision, or a zero amount the workflow settles at once): a plain start
  if (state.status !== 'AWAITING_PAYMENT' || p.totalInclVatCents === 0) {
    await deps.temporal.workflow.start(subscriptionWorkflow, start);
    return undefined;
  }
  try {
    return await deps.temporal.workflow.executeUpdateWithStart(paymentInstructionsUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation(subscriptionWorkflow, start),
    });
  } catch (error) {
    throw toAppError(
      error,
      new AppError('PURCHASE_NOT_FOUND', 'This purchase is no longer waiting for payment'),
    );
  }
}

async function replay(deps: ServiceDeps, purchaseId: string, print: string) {
  const p = await deps.prisma.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
  if ((p.billing as { fingerprint?: string }).fingerprint !== print) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for a different purchase');
  }
  // a crash may have happened between recording and starting
  const instructions = await startSubscription(deps, purchaseId);
  return { created: false, ...(await purchaseView(deps, purchaseId, instructions)) };
}
