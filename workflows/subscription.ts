/**
 * subscriptionWorkflow: one per base (id `subscription:<baseId>`), the whole life of its paid licence.
 *
 * 1. Purchase: ONLINE waits for the card payment (webhook → `paymentResultSignal`) until a deadline;
 *    CHEQUE/TRANSFER waits for ops to confirm receipt (reminder, then cancellation at a deadline);
 *    FREE waits for ops approval or rejection. Then the licence is activated (payment, paid invoice, email).
 * 2. Each period: a reminder before the end; at the end, with auto-renew, the saved card is charged
 *    off-session and the licence extended (invoice, email); without it the licence ends and the base falls
 *    back to STANDARD LOCAL. A failed renewal payment starts dunning: retries on a schedule with an email
 *    each time, the licence usable meanwhile (PAST_DUE); after the last failure LOCAL licences end and CLOUD
 *    ones are suspended. Ops can replay a failed payment at any time.
 * 3. Messages at any time: stop/resume auto-renew, renew now, add connections / upgrade (prorated, charged
 *    at once), ops decisions and payment replay; `getSubscriptionStateQuery` returns the state.
 *
 * Every charge carries an idempotency key built from the licence, the period and the attempt, so a
 * retried activity never charges twice. The workflow continues-as-new at each period.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PaymentActivities } from '../activities/payments';
import type { SubscriptionActivities } from '../activities/subscriptions';
import type { PaymentMethodKind, LicenceTerms, SubscriptionSettings } from '../domain/licence';
import { afterLastFailure, nextRetryOn } from '../domain/dunning';
import { dayOf, startOfDayMs } from '../domain/licence';
import { addDays, nthPeriod, type LocalDate } from '../domain/periods';
import type { Quote } from '../domain/quote';
import { collectPayment, collectedOf, Settlements, type Collected } from './collect-payment';
import { paymentResultSignal, type PaymentResult } from './payment-messages';
import { settleAtDeadline } from './payment-deadline';
import { markWaiting } from './search-attributes';

export type SubscriptionStatus =
  | 'AWAITING_PAYMENT'
  | 'AWAITING_OPS'
  | 'ACTIVE'
  | 'PAST_DUE'
  | 'ENDED'
  | 'SUSPENDED'
  | 'CANCELLED'
  | 'REJECTED';

export interface SubscriptionState {
  baseId: string;
  licenceId: string;
  terms: LicenceTerms;
  paymentMethod: PaymentMethodKind;
  autoRenew: boolean;
  status: SubscriptionStatus;
  /** while buying */
  purchase?: {
    purchaseId: string;
    amountCents: number;
    email: string;
    holderName: string;
    paymentIntentId?: string;
    lastFailure?: string;
  };
  /**
   * once active: periods are nthPeriod(anchorDate, period, index); index -1 is an opening period given by
   * periodStart/periodEnd (a licence migrated from v15), whose end is the anchor
   */
  anchorDate?: LocalDate;
  periodIndex: number;
  /** the last period paid for (ahead of periodIndex after a manual renewal) */
  paidThroughIndex: number;
  periodStart?: LocalDate;
  periodEnd?: LocalDate;
  customerId?: string;
  paymentMethodId?: string;
  dunning?: {
    failures: number;
    nextAttemptOn?: LocalDate;
    lastFailure?: string;
    /** the last attempt needs the customer (authentication) on this PaymentIntent; its success renews */
    awaitingCustomer?: { paymentIntentId: string; idempotencyKey: string; quote: Quote };
  };
}

export interface SubscriptionWorkflowInput {
  state: SubscriptionState;
}

export type OpsDecision =
  | { decision: 'CONFIRM_PAYMENT'; by: string; reference: string }
  | { decision: 'APPROVE'; by: string }
  | { decision: 'REJECT'; by: string; reason: string }
  /** ops cancel a cheque/transfer purchase (e.g. the buyer gave up); the buyer is told */
  | { decision: 'CANCEL'; by: string; reason: string };

export interface ChargeReceipt {
  invoiceNumber: string | null;
  amountCents: number;
  state: SubscriptionState;
}

export const getSubscriptionStateQuery = defineQuery<SubscriptionState>('getSubscriptionState');
/** ONLINE purchase: waits until the PaymentIntent exists and returns what the client needs to pay. */
export const paymentInstructionsUpdate = defineUpdate<{ paymentIntentId: string; clientSecret: string }>(
  'paymentInstructions',
);
export const opsDecisionUpdate = defineUpdate<SubscriptionState, [OpsDecision]>('opsDecision');
export const setAutoRenewUpdate = defineUpdate<SubscriptionState, [boolean]>('setAutoRenew');
export const renewNowUpdate = defineUpdate<ChargeReceipt>('renewNow');
export const changeLicenceUpdate = defineUpdate<
  ChargeReceipt,
  [Partial<Pick<LicenceTerms, 'edition' | 'mode' | 'connections'>>]
>('changeLicence');
export const replayPaymentUpdate = defineUpdate<SubscriptionState, [string]>('replayPayment');

const subscriptions = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const payments = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});

/**
 * The steps between the order and the payment instructions (Stripe customer, PaymentIntent, noting it) and
 * the activation once paid run as local activities, in the worker's workflow task: the ERP (or the customer)
 * waits for their answer, and three server round trips each way were most of that wait (docs/benchmarks.md).
 * They are short and keyed, so a retry after a crash sends the same requests.
 */
const localPayments = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});
const localSubscriptions = proxyLocalActivities<SubscriptionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const DAY_MS = 86_400_000;

function refuse(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? [] : [details],
  });
}

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<SubscriptionState> {
  const s: SubscriptionState = { ...input.state };
  // policy (dunning schedule, reminders, deadlines) is read when it is applied, never carried in the input
  const policy = (): Promise<SubscriptionSettings> => localSubscriptions.readSubscriptionPolicy();
  const workflowId = workflowInfo().workflowId;
  const today = (): LocalDate => dayOf(Date.now());
  const usable = () => s.status === 'ACTIVE' || s.status === 'PAST_DUE';

  let clientSecret: string | undefined;
  let paid: PaymentResult | undefined;
  let decision: OpsDecision | undefined;
  let replayRequested = false;
  let moneyBusy = false; // one charge at a time: renewal, manual renewal, change
  const settlements = new Settlements(); // the webhook's results, for charges waiting on them

  const withMoneyLock = async <T>(work: () => Promise<T>): Promise<T> => {
    await condition(() => !moneyBusy);
    moneyBusy = true;
    try {
      return await work();
    } finally {
      moneyBusy = false;
    }
  };

  const setPeriod = () => {
    // index -1: an opening period that is not one of the anchored ones (a v15 licence's remaining time
    // moved to A1, started directly ACTIVE): its dates come with the input; period 0 starts at its end
    if (s.periodIndex < 0) return;
    const range = nthPeriod(s.anchorDate!, s.terms.period, s.periodIndex);
    s.periodStart = range.start;
    s.periodEnd = range.end;
  };

  // ---- messages -------------------------------------------------------------------------------------

  setHandler(getSubscriptionStateQuery, () => s);

  setHandler(paymentResultSignal, (result) => {
    settlements.deliver(result);
    if (s.status !== 'AWAITING_PAYMENT' || result.paymentIntentId !== s.purchase?.paymentIntentId) return;
    if (result.status === 'succeeded') paid = result;
    else s.purchase.lastFailure = result.failureCode ?? result.failureMessage ?? 'failed';
  });

  setHandler(paymentInstructionsUpdate, async () => {
    await condition(() => clientSecret !== undefined || s.status !== 'AWAITING_PAYMENT');
    if (!clientSecret || !s.purchase?.paymentIntentId)
      throw refuse('PAYMENT_NOT_NEEDED', 'This purchase is no longer waiting for a card payment');
    return { paymentIntentId: s.purchase.paymentIntentId, clientSecret };
  });

  setHandler(
    opsDecisionUpdate,
    async (d) => {
      decision = d;
      await condition(() => s.status !== 'AWAITING_OPS');
      return s;
    },
    {
      validator: (d: OpsDecision) => {
        if (s.status !== 'AWAITING_OPS' || decision)
          throw refuse('PURCHASE_NOT_AWAITING_OPS', 'This purchase is not waiting for an ops decision');
        const expected = s.paymentMethod === 'FREE' ? 'APPROVE' : 'CONFIRM_PAYMENT';
        if (d.decision === 'CANCEL' && s.paymentMethod === 'FREE')
          throw refuse(
            'PURCHASE_NOT_AWAITING_OPS',
            'A free licence request is decided with APPROVE or REJECT',
          );
        if (d.decision !== 'REJECT' && d.decision !== 'CANCEL' && d.decision !== expected) {
          throw refuse(
            'PURCHASE_NOT_AWAITING_OPS',
            `A ${s.paymentMethod} purchase is decided with ${expected}, CANCEL or REJECT`,
          );
        }
      },
    },
  );

  setHandler(
    setAutoRenewUpdate,
    async (autoRenew) => {
      if (autoRenew && !s.paymentMethodId && s.status === 'ACTIVE') {
        throw refuse('CHANGE_REFUSED', 'Auto-renewal needs a card saved by an online payment', {
          reason: 'NO_SAVED_CARD',
        });
      }
      s.autoRenew = autoRenew;
      await subscriptions.saveAutoRenew({ licenceId: s.licenceId, autoRenew });
      return s;
    },
    {
      validator: (autoRenew: boolean) => {
        requireUsable();
        if (autoRenew && !s.paymentMethodId) requireSavedCard('Auto-renewal');
      },
    },
  );

  setHandler(
    renewNowUpdate,
    () =>
      withMoneyLock(async () => {
        requireUsable();
        if (s.paidThroughIndex > s.periodIndex)
          throw refuse('CHANGE_REFUSED', 'The next period is already paid', { reason: 'ALREADY_RENEWED' });
        const receipt = await chargeRenewal(`manual:${s.periodIndex + 1}`);
        if (!receipt)
          throw refuse('PAYMENT_DECLINED', 'The card was declined', {
            reason: s.dunning?.lastFailure,
            ...(s.dunning?.awaitingCustomer
              ? { paymentIntentId: s.dunning.awaitingCustomer.paymentIntentId }
              : {}),
          });
        return receipt;
      }),
    {
      validator: () => {
        requireUsable();
        if (!s.customerId || !s.paymentMethodId) requireSavedCard('A manual renewal');
      },
    },
  );

  setHandler(
    changeLicenceUpdate,
    (change) =>
      withMoneyLock(async () => {
        requireUsable();
        if (!s.customerId || !s.paymentMethodId) {
          throw refuse('CHANGE_REFUSED', 'A change is charged at once to a card saved by an online payment', {
            reason: 'NO_SAVED_CARD',
          });
        }
        const next: LicenceTerms = { ...s.terms, ...change };
        const day = today();
        const priced = await subscriptions.quoteChange({
          licenceId: s.licenceId,
          current: s.terms,
          next,
          periodStart: s.periodStart!,
          periodEnd: s.periodEnd!,
          changeDate: day,
          renewedAhead: s.paidThroughIndex > s.periodIndex,
        });
        if (!priced.ok)
          throw refuse('CHANGE_REFUSED', `This change can't be made now (${priced.reason})`, {
            reason: priced.reason,
          });
        const idempotencyKey = `change:${s.licenceId}:${day}:${next.edition}:${next.mode}:${next.connections}`;
        const charged = await collectPayment(payments, settlements, {
          customerId: s.customerId,
          paymentMethodId: s.paymentMethodId,
          amountCents: priced.quote.totalInclVatCents,
          currency: 'eur',
          idempotencyKey,
          metadata: { workflowId, licenceId: s.licenceId, kind: 'change' },
        });
        if (!charged.paid) throw refusedCharge(charged);
        const { invoiceNumber } = await subscriptions.applyChange({
          licenceId: s.licenceId,
          idempotencyKey,
          paymentIntentId: charged.reference,
          provider: charged.provider,
          terms: next,
          quote: priced.quote,
          saleDate: day,
        });
        s.terms = next;
        return { invoiceNumber, amountCents: priced.quote.totalInclVatCents, state: s };
      }),
    {
      validator: (_change: Partial<Pick<LicenceTerms, 'edition' | 'mode' | 'connections'>>) =>
        requireUsable(),
    },
  );

  setHandler(
    replayPaymentUpdate,
    async (_by: string) => {
      replayRequested = true;
      const failuresBefore = s.dunning?.failures;
      await condition(
        () => !replayRequested && (s.status !== 'PAST_DUE' || s.dunning?.failures !== failuresBefore),
      );
      return s;
    },
    {
      validator: (_by: string) => {
        if (s.status !== 'PAST_DUE') throw refuse('NO_PAID_LICENCE', 'There is no failed payment to replay');
      },
    },
  );

  function requireUsable(): void {
    if (!usable()) throw refuse('NO_PAID_LICENCE', 'This base has no paid licence running');
  }

  // in validators only: a refused update leaves no trace in the history, so running histories replay as before
  function requireSavedCard(what: string): never {
    throw refuse('PAYMENT_METHOD_REQUIRED', `${what} needs a card saved by an online payment`, {
      reason: 'NO_SAVED_CARD',
    });
  }

  /** A charge the payment layer did not settle, as the refusal an update answers with. */
  function refusedCharge(charged: Extract<Collected, { paid: false }>): ApplicationFailure {
    return refuse('PAYMENT_DECLINED', 'The card was declined', {
      declineCode: charged.code,
      ...(charged.needsCustomer ? { paymentIntentId: charged.needsCustomer.paymentIntentId } : {}),
    });
  }

  /**
   * Charges the period after the last paid one with the saved method (payment layer: a pending payment
   * is waited for) and records it (payment, invoice, period). Returns undefined when it is not paid: a
   * decline is recorded as a failed payment; a payment needing the customer is noted in `s.dunning`
   * (its success, by webhook, renews). Throws on anything else.
   */
  async function chargeRenewal(attemptKey: string): Promise<ChargeReceipt | undefined> {
    const nextIndex = s.paidThroughIndex + 1;
    const next = nthPeriod(s.anchorDate!, s.terms.period, nextIndex);
    const idempotencyKey = `renewal:${s.licenceId}:${next.start}:${attemptKey}`;
    const priced = await subscriptions.quoteRenewal({
      licenceId: s.licenceId,
      terms: s.terms,
      periodStart: next.start,
      periodEnd: next.end,
    });
    const charged = await collectPayment(payments, settlements, {
      customerId: s.customerId,
      paymentMethodId: s.paymentMethodId,
      amountCents: priced.totalInclVatCents,
      currency: 'eur',
      idempotencyKey,
      metadata: { workflowId, licenceId: s.licenceId, kind: 'renewal' },
    });
    if (!charged.paid) {
      // a payment waiting for the customer is not a decline: no failed payment; its success renews
      if (!charged.needsCustomer) {
        await subscriptions.recordFailedPayment({
          licenceId: s.licenceId,
          idempotencyKey,
          amountCents: priced.totalInclVatCents,
          failureCode: charged.code,
        });
      }
      s.dunning = {
        failures: (s.dunning?.failures ?? 0) + 1,
        lastFailure: charged.code,
        ...(charged.needsCustomer
          ? { awaitingCustomer: { ...charged.needsCustomer, idempotencyKey, quote: priced } }
          : {}),
      };
      return undefined;
    }
    return recordRenewal(charged, idempotencyKey, priced);
  }

  /** The next period paid: payment, invoice, period; the licence ACTIVE again; the RENEWED email. */
  async function recordRenewal(
    charged: Extract<Collected, { paid: true }>,
    idempotencyKey: string,
    priced: Quote,
  ): Promise<ChargeReceipt> {
    const nextIndex = s.paidThroughIndex + 1;
    const next = nthPeriod(s.anchorDate!, s.terms.period, nextIndex);
    const { invoiceNumber } = await subscriptions.recordRenewal({
      licenceId: s.licenceId,
      idempotencyKey,
      paymentIntentId: charged.reference,
      provider: charged.provider,
      quote: priced,
      periodStart: next.start,
      periodEnd: next.end,
      saleDate: today(),
    });
    s.paidThroughIndex = nextIndex;
    s.dunning = undefined;
    if (s.status === 'PAST_DUE') s.status = 'ACTIVE';
    await subscriptions.sendLicenceMail({
      licenceId: s.licenceId,
      kind: 'RENEWED',
      invoiceNumber,
      periodEnd: next.end,
    });
    return { invoiceNumber, amountCents: priced.totalInclVatCents, state: s };
  }

  // ---- purchase -------------------------------------------------------------------------------------

  async function activate(payment?: {
    provider: string;
    reference: string;
    amountCents: number;
  }): Promise<void> {
    s.anchorDate = today();
    s.periodIndex = 0;
    s.paidThroughIndex = 0;
    setPeriod();
    // local activities, as the ordering steps: the activation is what the customer waits for once paid
    const subs = localSubscriptions;
    const { invoiceNumber } = await subs.activateLicence({
      licenceId: s.licenceId,
      purchaseId: s.purchase!.purchaseId,
      anchorDate: s.anchorDate,
      periodStart: s.periodStart!,
      periodEnd: s.periodEnd!,
      customerId: s.customerId,
      paymentMethodId: s.paymentMethodId,
      payment: payment && {
        idempotencyKey: `purchase:${s.purchase!.purchaseId}`,
        method: s.paymentMethod,
        ...payment,
      },
    });
    s.status = 'ACTIVE';
    s.purchase = undefined;
    await subs.sendLicenceMail({
      licenceId: s.licenceId,
      kind: 'ACTIVATED',
      invoiceNumber,
      periodEnd: s.periodEnd,
    });
  }

  async function closePurchase(status: 'CANCELLED' | 'REJECTED', reason: string, by?: string): Promise<void> {
    s.status = status;
    await subscriptions.closePurchase({
      licenceId: s.licenceId,
      purchaseId: s.purchase!.purchaseId,
      status,
      reason,
      decidedBy: by,
    });
    await subscriptions.sendLicenceMail({
      licenceId: s.licenceId,
      kind: status === 'REJECTED' ? 'PURCHASE_REJECTED' : 'PURCHASE_CANCELLED',
      reason,
    });
  }

  async function buyOnline(): Promise<void> {
    const p = s.purchase!;
    if (p.amountCents === 0) {
      // a zero-price catalogue entry: nothing to collect (Stripe refuses 0-cent PaymentIntents)
      return activate({ provider: 'NONE', reference: `none:purchase:${p.purchaseId}`, amountCents: 0 });
    }
    const ordering = localPayments;
    s.customerId = await ordering.ensureStripeCustomer({
      licenceId: s.licenceId,
      baseId: s.baseId,
      email: p.email,
      name: p.holderName,
      idempotencyKey: `customer:${s.licenceId}`,
    });
    const intent = await ordering.createPaymentIntent({
      purchaseId: p.purchaseId,
      baseId: s.baseId,
      amountCents: p.amountCents,
      currency: 'eur',
      customerId: s.customerId,
      workflowId,
      idempotencyKey: `purchase:${p.purchaseId}:intent`,
      description: `Licence ${s.terms.edition} ${s.terms.mode} — base ${s.baseId}`,
    });
    p.paymentIntentId = intent.paymentIntentId;
    clientSecret = intent.clientSecret;
    await localSubscriptions.notePaymentIntent({
      purchaseId: p.purchaseId,
      paymentIntentId: intent.paymentIntentId,
    });
    markWaiting('PAYMENT');
    const { onlinePaymentTimeoutHours } = await policy();
    const arrived = await condition(() => paid !== undefined, onlinePaymentTimeoutHours * 3_600_000);
    if (!arrived) {
      // cancelled at Stripe, unless the customer paid at the last moment
      paid = await settleAtDeadline(payments, {
        paymentIntentId: intent.paymentIntentId,
        idempotencyKey: `purchase:${p.purchaseId}:deadline`,
        delivered: () => paid,
      });
    }
    markWaiting(undefined);
    if (!paid) return closePurchase('CANCELLED', 'The card payment was not completed in time');
    s.paymentMethodId = paid.paymentMethodId;
    await activate({ provider: 'STRIPE', reference: paid.paymentIntentId, amountCents: paid.amountCents });
  }

  async function buyWithOpsDecision(): Promise<void> {
    const started = Date.now();
    const { offlinePaymentDeadlineDays, offlinePaymentReminderDays } = await policy();
    const deadline = started + offlinePaymentDeadlineDays * DAY_MS;
    const reminderAt = started + offlinePaymentReminderDays * DAY_MS;
    markWaiting('OPS');
    if (
      s.paymentMethod !== 'FREE' &&
      !(await condition(() => decision !== undefined, reminderAt - Date.now()))
    ) {
      await subscriptions.sendLicenceMail({ licenceId: s.licenceId, kind: 'PAYMENT_REMINDER' });
    }
    const decided = await condition(() => decision !== undefined, Math.max(deadline - Date.now(), 1));
    markWaiting(undefined);
    if (!decided) {
      return closePurchase(
        'CANCELLED',
        s.paymentMethod === 'FREE' ? 'No decision was made in time' : 'The payment was not received in time',
      );
    }
    const d = decision!;
    if (d.decision === 'REJECT') return closePurchase('REJECTED', d.reason, d.by);
    if (d.decision === 'CANCEL') return closePurchase('CANCELLED', d.reason, d.by);
    if (d.decision === 'APPROVE') return activate();
    return activate({
      provider: s.paymentMethod,
      reference: d.reference,
      amountCents: s.purchase!.amountCents,
    });
  }

  // ---- life -----------------------------------------------------------------------------------------

  if (s.status === 'AWAITING_PAYMENT') await buyOnline();
  else if (s.status === 'AWAITING_OPS') await buyWithOpsDecision();
  if (!usable()) {
    await condition(allHandlersFinished);
    return s;
  }

  setPeriod();
  const endMs = () => startOfDayMs(s.periodEnd!);

  // reminder before the end of the period (not when the next period is already paid)
  const reminderMs = startOfDayMs(addDays(s.periodEnd!, -(await policy()).renewalReminderDays));
  if (s.status === 'ACTIVE' && Date.now() < reminderMs) {
    await condition(() => s.paidThroughIndex > s.periodIndex, reminderMs - Date.now());
    if (s.paidThroughIndex === s.periodIndex) {
      await subscriptions.sendLicenceMail({
        licenceId: s.licenceId,
        kind: s.autoRenew ? 'RENEWAL_REMINDER' : 'END_REMINDER',
        periodEnd: s.periodEnd,
      });
    }
  }
  if (Date.now() < endMs()) await condition(() => false, endMs() - Date.now());
  await condition(() => !moneyBusy);

  if (s.paidThroughIndex === s.periodIndex && s.autoRenew && s.status === 'ACTIVE') {
    // renewal, then dunning on failure
    let attempt = 0;
    for (;;) {
      const receipt = await withMoneyLock(() => chargeRenewal(String(attempt)));
      if (receipt || s.paidThroughIndex > s.periodIndex) break;
      const failures = s.dunning!.failures;
      if (!s.autoRenew) break;
      // the schedule in force now: a changed DUNNING_RETRY_DAYS reaches this subscription at this failure
      const retryOn = nextRetryOn(await policy(), s.periodEnd!, failures);
      if (!retryOn) break;
      s.dunning!.nextAttemptOn = retryOn;
      s.status = 'PAST_DUE';
      await subscriptions.markPastDue({
        licenceId: s.licenceId,
        failures,
        nextAttemptOn: retryOn,
        reason: s.dunning!.lastFailure ?? '',
      });
      const awaiting = s.dunning!.awaitingCustomer;
      // the hook of the payment page: the email names the PaymentIntent the customer confirms
      await subscriptions.sendLicenceMail({
        licenceId: s.licenceId,
        kind: awaiting ? 'PAYMENT_ACTION_REQUIRED' : 'PAYMENT_FAILED',
        nextAttemptOn: retryOn,
        reason: s.dunning!.lastFailure,
        ...(awaiting ? { paymentIntentId: awaiting.paymentIntentId } : {}),
      });
      markWaiting('PAYMENT');
      await condition(
        () =>
          replayRequested ||
          !s.autoRenew ||
          s.paidThroughIndex > s.periodIndex ||
          settlements.succeeded(awaiting?.paymentIntentId) !== undefined,
        Math.max(startOfDayMs(retryOn) - Date.now(), 1),
      );
      markWaiting(undefined);
      const confirmed = settlements.succeeded(awaiting?.paymentIntentId);
      if (awaiting && confirmed && s.paidThroughIndex === s.periodIndex) {
        // the customer authenticated the payment: that PaymentIntent pays the period
        await withMoneyLock(() =>
          recordRenewal(collectedOf(confirmed), awaiting.idempotencyKey, awaiting.quote),
        );
        break;
      }
      if (s.paidThroughIndex > s.periodIndex) break; // paid meanwhile by a manual renewal
      if (!s.autoRenew) break;
      replayRequested = false;
      attempt += 1;
    }
  }

  if (s.paidThroughIndex > s.periodIndex) {
    // the next period is paid: carry on in a fresh run so the history stays small
    await condition(allHandlersFinished);
    return continueAsNew<typeof subscriptionWorkflow>({
      state: { ...s, status: 'ACTIVE', periodIndex: s.periodIndex + 1, dunning: undefined },
    });
  }

  // no renewal: the licence ends (CLOUD after failed payments: suspended); the base falls back to STANDARD LOCAL
  const finalStatus = s.dunning ? afterLastFailure(s.terms.mode) : 'ENDED';
  s.status = finalStatus;
  await subscriptions.endLicence({
    licenceId: s.licenceId,
    status: finalStatus,
    reason: s.dunning ? 'PAYMENT_FAILED' : 'NOT_RENEWED',
  });
  await subscriptions.sendLicenceMail({
    licenceId: s.licenceId,
    kind: finalStatus === 'SUSPENDED' ? 'SUSPENDED' : 'ENDED',
    periodEnd: s.periodEnd,
  });
  replayRequested = false;
  await condition(allHandlersFinished);
  return s;
}
