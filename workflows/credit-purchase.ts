/**
 * creditPurchaseWorkflow: one per credit purchase (id `credit-purchase:<purchaseId>`), a support-time pack
 * or a wallet recharge paid by card.
 *
 * 1-2. The customer's payment (`customer-payment.ts`, shared with the licence purchase): Stripe customer
 *    and PaymentIntent (keys from the purchase id), its id answered by `creditPaymentInstructionsUpdate`,
 *    the webhook's result as `paymentResultSignal` (a duplicate is ignored). No payment in time: the
 *    purchase expires (cancelled at Stripe). The buyer (or ops) may cancel it before paying.
 * 3. Paid, with a known account: the ledger is credited once (key `credit-purchase:<purchaseId>`), the paid
 *    invoice (support pack) or the recharge receipt (wallet) is issued in the same transaction, and mailed.
 * 4. Paid without a known account (bought on the website when the ERP won't open): the purchase waits in
 *    the ops queue (UNMATCHED); the buyer is told; ops are reminded every `unmatchedReminderHours` until
 *    they assign it to an account (`assignCreditPurchaseUpdate`: credited once, buyer and account mailed)
 *    or refund it (`refundCreditPurchaseUpdate`: Stripe refund with an idempotency key, buyer mailed).
 *
 * Two ops clicking "assign" at once: the first update's handler claims the purchase synchronously, so the
 * second one's validator refuses it (PURCHASE_NOT_UNMATCHED) — the credit is written once.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CreditActivities } from '../activities/credits';
import type { PaymentActivities } from '../activities/payments';
import { collectCustomerPayment, failureOf, paymentInstructions } from './customer-payment';
import { creditPurchaseKeys } from './idempotency-keys';
import { paymentResultSignal, type PaymentResult } from './payment-messages';
import { refuse } from './refuse';
import { markWaiting } from './search-attributes';

export type CreditPurchaseStatus =
  'AWAITING_PAYMENT' | 'UNMATCHED' | 'COMPLETED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';

export interface CreditPurchaseSettings {
  paymentTimeoutHours: number;
  unmatchedReminderHours: number;
}

export interface CreditPurchaseState {
  purchaseId: string;
  status: CreditPurchaseStatus;
  accountId?: number;
  amountCents: number;
  email: string;
  companyName: string;
  description: string;
  baseId?: string;
  paymentIntentId?: string;
  lastFailure?: string;
  invoiceNumber?: string | null;
  receiptNumber?: string | null;
  opsReminders: number;
}

export interface CreditPurchaseInput {
  state: CreditPurchaseState;
  settings: CreditPurchaseSettings;
}

export const getCreditPurchaseStateQuery = defineQuery<CreditPurchaseState>('getCreditPurchaseState');
/** Waits until the PaymentIntent exists and is noted, and answers its id (the page reads its secret from Stripe). */
export const creditPaymentInstructionsUpdate = defineUpdate<{ paymentIntentId: string }>(
  'creditPaymentInstructions',
);
/** Ops attach an unmatched paid purchase to an account: credited once. */
export const assignCreditPurchaseUpdate = defineUpdate<
  CreditPurchaseState,
  [{ accountId: number; by: string }]
>('assignCreditPurchase');
/** Ops refund an unmatched paid purchase. */
export const refundCreditPurchaseUpdate = defineUpdate<CreditPurchaseState, [{ by: string; reason: string }]>(
  'refundCreditPurchase',
);
/** The buyer or ops cancel a purchase not paid yet. */
export const cancelCreditPurchaseUpdate = defineUpdate<CreditPurchaseState, [{ by: string; reason: string }]>(
  'cancelCreditPurchase',
);

const credits = proxyActivities<CreditActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const payments = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});

const HOUR_MS = 3_600_000;

type OpsAction =
  { kind: 'ASSIGN'; accountId: number; by: string } | { kind: 'REFUND'; by: string; reason: string };

export async function creditPurchaseWorkflow(input: CreditPurchaseInput): Promise<CreditPurchaseState> {
  const { settings } = input;
  const s: CreditPurchaseState = { ...input.state };
  const workflowId = workflowInfo().workflowId;

  let paid: PaymentResult | undefined;
  let cancel: { by: string; reason: string } | undefined;
  let action: OpsAction | undefined;
  let actionError: ApplicationFailure | undefined;

  setHandler(getCreditPurchaseStateQuery, () => s);

  setHandler(paymentResultSignal, (result) => {
    if (s.status !== 'AWAITING_PAYMENT' || result.paymentIntentId !== s.paymentIntentId || paid) return;
    if (result.status === 'succeeded') paid = result;
    else s.lastFailure = failureOf(result);
  });

  setHandler(creditPaymentInstructionsUpdate, () =>
    paymentInstructions(
      () => s.status === 'AWAITING_PAYMENT',
      () => s,
      () =>
        refuse('PURCHASE_NOT_AWAITING_PAYMENT', 'This purchase is no longer waiting for a card payment', {
          status: s.status,
        }),
    ),
  );

  const requireUnmatched = () => {
    if (s.status !== 'UNMATCHED' || action) {
      throw refuse(
        'PURCHASE_NOT_UNMATCHED',
        action ? 'Another ops decision on this purchase is being applied' : `This purchase is ${s.status}`,
        { status: s.status, accountId: action?.kind === 'ASSIGN' ? action.accountId : s.accountId },
      );
    }
  };

  /** Claims the purchase for one ops action (synchronously: a concurrent second click is refused) and waits. */
  const runOpsAction = async (claimed: OpsAction): Promise<CreditPurchaseState> => {
    action = claimed;
    await condition(() => s.status !== 'UNMATCHED' || actionError !== undefined);
    if (actionError) {
      const error = actionError;
      actionError = undefined;
      action = undefined;
      throw error;
    }
    return s;
  };

  setHandler(assignCreditPurchaseUpdate, (a) => runOpsAction({ kind: 'ASSIGN', ...a }), {
    validator: (_a: { accountId: number; by: string }) => requireUnmatched(),
  });
  setHandler(refundCreditPurchaseUpdate, (r) => runOpsAction({ kind: 'REFUND', ...r }), {
    validator: (_r: { by: string; reason: string }) => requireUnmatched(),
  });

  setHandler(
    cancelCreditPurchaseUpdate,
    async (c) => {
      cancel = c;
      await condition(() => s.status !== 'AWAITING_PAYMENT');
      return s;
    },
    {
      validator: (_c: { by: string; reason: string }) => {
        if (s.status !== 'AWAITING_PAYMENT' || paid || cancel)
          throw refuse('PURCHASE_NOT_AWAITING_PAYMENT', `This purchase is ${paid ? 'paid' : s.status}`, {
            status: paid ? 'PAID' : s.status,
          });
      },
    },
  );

  async function close(
    status: 'EXPIRED' | 'CANCELLED' | 'REFUNDED',
    reason: string,
    by?: string,
    refundId?: string,
  ) {
    await credits.closeCreditPurchase({ purchaseId: s.purchaseId, status, reason, by, refundId });
    s.status = status;
    await credits.sendCreditPurchaseMail({ purchaseId: s.purchaseId, kind: status, reason });
  }

  /** Ledger credited, invoice or receipt issued (one transaction, idempotent), buyer and account mailed. */
  async function credit(accountId: number, by: string): Promise<void> {
    const result = await credits.creditPurchase({
      purchaseId: s.purchaseId,
      accountId,
      paymentIntentId: paid!.paymentIntentId,
      amountCents: paid!.amountCents,
      by,
    });
    s.accountId = accountId;
    s.invoiceNumber = result.invoiceNumber;
    s.receiptNumber = result.receiptNumber;
    s.status = 'COMPLETED';
    await credits.sendCreditPurchaseMail({ purchaseId: s.purchaseId, kind: 'COMPLETED' });
  }

  // ---- payment ---------------------------------------------------------------------------------------
  const end = await collectCustomerPayment(
    { ordering: payments, payments },
    {
      order: s,
      payer: { name: s.companyName, baseId: s.baseId },
      description: s.description,
      saveCard: false,
      keys: creditPurchaseKeys.payment(s.purchaseId),
      noteIntent: (noted) => credits.noteCreditPaymentIntent(noted),
      deadlineHours: () => Promise.resolve(settings.paymentTimeoutHours),
      paid: () => paid,
      cancelRequested: () => cancel !== undefined,
    },
  );
  if (end.outcome !== 'PAID') {
    if (end.outcome === 'EXPIRED')
      await close('EXPIRED', 'Le paiement par carte n’a pas été effectué à temps');
    else await close('CANCELLED', cancel!.reason, cancel!.by);
    await condition(allHandlersFinished);
    return s;
  }
  paid = end.payment;

  if (s.accountId !== undefined) {
    await credit(s.accountId, 'buyer');
    await condition(allHandlersFinished);
    return s;
  }

  // ---- manual-credit fallback: paid, no known account ----------------------------------------------
  await credits.markCreditPurchaseUnmatched({
    purchaseId: s.purchaseId,
    paymentIntentId: paid.paymentIntentId,
    amountCents: paid.amountCents,
  });
  s.status = 'UNMATCHED';
  await credits.sendCreditPurchaseMail({ purchaseId: s.purchaseId, kind: 'UNMATCHED' });
  markWaiting('OPS');
  while (s.status === 'UNMATCHED') {
    const decided = await condition(() => action !== undefined, settings.unmatchedReminderHours * HOUR_MS);
    if (!decided) {
      s.opsReminders += 1;
      await credits.sendOpsUnmatchedReminder({ purchaseId: s.purchaseId, reminder: s.opsReminders });
      continue;
    }
    const a = action!;
    try {
      if (a.kind === 'ASSIGN') {
        await credit(a.accountId, a.by);
      } else {
        const refund = await payments.refundPayment({
          paymentIntentId: paid.paymentIntentId,
          idempotencyKey: creditPurchaseKeys.refund(s.purchaseId),
          metadata: { purchaseId: s.purchaseId, workflowId },
        });
        await close('REFUNDED', a.reason, a.by, refund.refundId);
      }
    } catch (error) {
      // a business refusal (e.g. the account is gone) goes back to the ops who asked; the purchase waits on
      if (
        error instanceof ActivityFailure &&
        error.cause instanceof ApplicationFailure &&
        error.cause.nonRetryable
      ) {
        actionError = refuse(error.cause.type ?? 'INTERNAL', error.cause.message, error.cause.details?.[0]);
        await condition(() => action === undefined);
        continue;
      }
      throw error;
    }
  }
  markWaiting(undefined);
  await condition(allHandlersFinished);
  return s;
}
