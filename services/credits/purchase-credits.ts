/**
 * Buying support time (a 15/30/60 min pack, invoiced with VAT) or wallet credits (any amount from the
 * catalogue's minimum, receipt without VAT) by card. Two ways in:
 * - from the ERP, for a known account (`POST /accounts/{id}/credit-purchases`): credited as soon as paid;
 * - from the website when the ERP won't open (`POST /credit-purchases`, no key): only the buyer's details are
 *   known, so once paid the purchase waits in the ops manual-credit queue until ops attach it to an account.
 *
 * Buyers not subject to French VAT are refused before any payment (VAT_CONTACT_REQUIRED, with the vendor's
 * contact), as the manual says. Idempotent on the client's key: a retry gets the same purchase and
 * PaymentIntent, a different request with the same key is refused.
 */
import crypto from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { needsVatContact, priceCreditProduct, type CreditProductRequest } from '../../domain/credits';
import { AppError } from '../../domain/errors';
import { vatNumberRefused, vatRule } from '../../domain/vat';
import type { CreditPurchase } from '../../generated/prisma/client';
import { creditPurchaseWorkflowId } from '../../workflows/ids';
import {
  creditPaymentInstructionsUpdate,
  creditPurchaseWorkflow,
  type CreditPurchaseState,
} from '../../workflows/credit-purchase';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { getCatalog } from '../catalog/get-catalog';
import { DEFAULT_CREDIT_SETTINGS, type ServiceDeps } from '../deps';
import { billingDetailsOf, type BillingDetails } from '../../domain/billing-party';
import { cardPaymentOf } from '../payments/card-payment';
import { toAppError } from '../subscriptions/workflow-errors';
import { fingerprintOf } from './post-credit-entry';
import { requireActiveAccount } from './read-ledger';

export interface CreditPurchaseRequest {
  idempotencyKey: string;
  product: CreditProductRequest;
  /** who is invoiced; from the ERP it defaults to the account's details */
  billing?: BillingDetails;
  /** website only: the account number the buyer says is theirs (ops check it before crediting) */
  claimedAccountId?: number;
}

export type CreditPurchaseChannel =
  { kind: 'ACCOUNT'; accountId: number; baseId?: string } | { kind: 'WEBSITE' };

async function billingFor(deps: ServiceDeps, channel: CreditPurchaseChannel, given?: BillingDetails) {
  if (given) return given;
  if (channel.kind === 'WEBSITE') throw new Error('the website route requires billing details');
  return billingDetailsOf(await requireActiveAccount(deps.prisma, channel.accountId));
}

export function creditPurchaseView(p: CreditPurchase) {
  return {
    purchaseId: p.id,
    number: p.number,
    product: p.product,
    packMinutes: p.packMinutes,
    creditAmount: p.creditAmount,
    amountCents: p.amountCents,
    quote: p.quote,
    status: p.status,
    accountId: p.accountId,
    invoiceNumber: p.invoiceNumber,
    receiptNumber: p.receiptNumber,
    createdAt: p.createdAt.toISOString(),
    paidAt: p.paidAt?.toISOString() ?? null,
  };
}

async function viewWithPayment(deps: ServiceDeps, purchaseId: string) {
  const p = await deps.prisma.creditPurchase.findUniqueOrThrow({ where: { id: purchaseId } });
  let paymentIntentId: string | undefined;
  if (p.status === 'AWAITING_PAYMENT') {
    try {
      ({ paymentIntentId } = await deps.temporal.workflow
        .getHandle(p.workflowId)
        .executeUpdate(creditPaymentInstructionsUpdate));
    } catch (error) {
      const e = toAppError(error, new AppError('PURCHASE_NOT_FOUND', 'This purchase is no longer running'));
      // paid or closed meanwhile: the stored view says what became of it
      if (!(e instanceof AppError && e.code === 'PURCHASE_NOT_AWAITING_PAYMENT')) throw e;
    }
  }
  const payment = paymentIntentId ? await cardPaymentOf(deps.stripe, paymentIntentId) : undefined;
  const fresh = await deps.prisma.creditPurchase.findUniqueOrThrow({ where: { id: purchaseId } });
  return { ...creditPurchaseView(fresh), payment };
}

async function startWorkflow(deps: ServiceDeps, p: CreditPurchase): Promise<void> {
  if (p.status !== 'AWAITING_PAYMENT') return;
  const settings = deps.credits ?? DEFAULT_CREDIT_SETTINGS;
  const billing = p.billing as unknown as BillingDetails;
  const state: CreditPurchaseState = {
    purchaseId: p.id,
    status: 'AWAITING_PAYMENT',
    ...(p.accountId !== null ? { accountId: p.accountId } : {}),
    ...(p.baseId !== null ? { baseId: p.baseId } : {}),
    amountCents: p.amountCents,
    email: billing.email,
    companyName: billing.companyName,
    description:
      p.product === 'SUPPORT_PACK'
        ? `Crédit-temps support ${p.packMinutes} min — achat n° ${p.number}`
        : `Recharge de crédits — achat n° ${p.number}`,
    opsReminders: 0,
  };
  await deps.temporal.workflow.start(creditPurchaseWorkflow, {
    workflowId: p.workflowId,
    taskQueue: deps.taskQueue,
    args: [
      {
        state,
        settings: {
          paymentTimeoutHours: settings.paymentTimeoutHours,
          unmatchedReminderHours: settings.unmatchedReminderHours,
        },
      },
    ],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  });
}

export async function purchaseCredits(
  deps: ServiceDeps,
  options: { actor: Actor; channel: CreditPurchaseChannel; request: CreditPurchaseRequest },
) {
  const { channel, request } = options;
  const settings = deps.credits ?? DEFAULT_CREDIT_SETTINGS;
  const billing = await billingFor(deps, channel, request.billing);
  const { country, vatNumber } = billing;
  if (vatNumberRefused({ country, vatNumber }))
    throw new AppError('VAT_NUMBER_INVALID', `${vatNumber} is not a VAT number of ${country}`);
  if (needsVatContact({ country, vatNumber })) {
    throw new AppError(
      'VAT_CONTACT_REQUIRED',
      'Buyers not subject to French VAT (20 %) must contact us before buying support time or credits online',
      {
        vat: vatRule({ country, vatNumber }).kind,
        contact: { email: settings.vendorContactEmail },
      },
    );
  }
  const priced = priceCreditProduct(await getCatalog(deps.prisma), request.product, { country, vatNumber });
  if (!priced.ok) {
    throw new AppError(
      'CREDIT_PRODUCT_INVALID',
      priced.reason === 'UNKNOWN_PACK'
        ? 'There is no support pack of that duration'
        : 'The recharge is below the minimum amount',
      priced.reason === 'UNKNOWN_PACK' ? { packs: priced.packs } : { minimumCents: priced.minimumCents },
    );
  }

  const clientKey =
    channel.kind === 'ACCOUNT'
      ? `account:${channel.accountId}:${request.idempotencyKey}`
      : `web:${billing.email.toLowerCase()}:${request.idempotencyKey}`;
  const { idempotencyKey: _key, ...asked } = request;
  const fingerprint = fingerprintOf({ ...asked, billing, channel });

  const existing = await deps.prisma.creditPurchase.findUnique({ where: { clientKey } });
  if (existing) return replay(deps, existing, fingerprint);

  let created: CreditPurchase;
  try {
    created = await deps.prisma.$transaction(async (tx) => {
      const id = crypto.randomUUID();
      const row = await tx.creditPurchase.create({
        data: {
          id,
          clientKey,
          fingerprint,
          product: priced.kind,
          packMinutes: priced.packMinutes,
          creditAmount: priced.creditAmount,
          amountCents: priced.amountCents,
          quote: priced.quote ? (JSON.parse(JSON.stringify(priced.quote)) as object) : undefined,
          billing: JSON.parse(JSON.stringify(billing)) as object,
          accountId: channel.kind === 'ACCOUNT' ? channel.accountId : null,
          claimedAccountId: request.claimedAccountId,
          baseId: channel.kind === 'ACCOUNT' ? channel.baseId : undefined,
          status: 'AWAITING_PAYMENT',
          workflowId: creditPurchaseWorkflowId(id),
        },
      });
      await audit(tx, options.actor, {
        action: 'credit_purchase.created',
        entityType: 'CREDIT_PURCHASE',
        entityId: row.id,
        data: {
          product: row.product,
          amountCents: row.amountCents,
          accountId: row.accountId,
          channel: channel.kind,
        },
      });
      return row;
    });
  } catch (error) {
    // the same key raced in from a concurrent retry: answer like a retry
    const again = await deps.prisma.creditPurchase.findUnique({ where: { clientKey } });
    if (again) return replay(deps, again, fingerprint);
    throw error;
  }
  await startWorkflow(deps, created);
  return { created: true, ...(await viewWithPayment(deps, created.id)) };
}

async function replay(deps: ServiceDeps, p: CreditPurchase, fingerprint: string) {
  if (p.fingerprint !== fingerprint)
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for a different purchase');
  await startWorkflow(deps, p); // a crash may have happened between recording and starting
  return { created: false, ...(await viewWithPayment(deps, p.id)) };
}

export async function getCreditPurchase(deps: ServiceDeps, purchaseId: string) {
  const p = await deps.prisma.creditPurchase.findUnique({ where: { id: purchaseId } });
  if (!p) throw new AppError('PURCHASE_NOT_FOUND', `No credit purchase ${purchaseId}`);
  return viewWithPayment(deps, p.id);
}
