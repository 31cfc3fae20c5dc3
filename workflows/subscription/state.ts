/**
 * One run of a subscriptionWorkflow: its state, what its message handlers hand to the main loop (the card
 * payment's result, the ops decision, a replay request), the one-charge-at-a-time lock,
 * and the checks and transitions every part shares (as Temporal's `safe-message-handlers` sample keeps its
 * cluster in one class). The parts (purchase, renewal, dunning, handlers) take it as their first argument.
 */
import { condition, workflowInfo } from '@temporalio/workflow';
import type { SubscriptionSettings } from '../../domain/licence';
import { dayOf } from '../../domain/licence';
import { nthPeriod, type LocalDate } from '../../domain/periods';
import { Settlements } from '../collect-payment';
import { failureOf } from '../customer-payment';
import type { PaymentResult } from '../payment-messages';
import { refuse } from '../refuse';
import { localSubscriptions } from './proxies';
import type { OpsDecision, SubscriptionState } from './messages';

export class Subscription {
  readonly s: SubscriptionState;
  readonly workflowId = workflowInfo().workflowId;
  /** the webhook's results, for charges waiting on them */
  readonly settlements = new Settlements();
  /** ONLINE purchase: the webhook's success */
  paid: PaymentResult | undefined;
  /** CHEQUE / TRANSFER / FREE purchase: what ops decided */
  decision: OpsDecision | undefined;
  /** ops asked for a failed payment to be tried again now */
  replayRequested = false;
  /** cheque/transfer: the run waits for its next period's invoice to pay (offline-renewal.ts); renew now may issue it */
  invoiceToPayOpen = false;
  /** cheque/transfer: an invoice to pay being issued (priced, noted, mailed): one at a time */
  issuingInvoiceToPay = false;
  /** one charge at a time: renewal, manual renewal, change (and one waiting for the customer) */
  private moneyBusy = false;

  constructor(initial: SubscriptionState) {
    this.s = { ...initial };
  }

  /** policy (dunning schedule, reminders, deadlines) is read when it is applied, never carried in the input */
  policy(): Promise<SubscriptionSettings> {
    return localSubscriptions.readSubscriptionPolicy();
  }

  today(): LocalDate {
    return dayOf(Date.now());
  }

  usable(): boolean {
    return this.s.status === 'ACTIVE' || this.s.status === 'PAST_DUE';
  }

  /** the next period is already paid (a manual renewal, or the renewal of this run) */
  renewedAhead(): boolean {
    return this.s.paidThroughIndex > this.s.periodIndex;
  }

  async withMoneyLock<T>(work: () => Promise<T>): Promise<T> {
    await this.moneyIdle();
    this.moneyBusy = true;
    try {
      return await work();
    } finally {
      this.moneyBusy = false;
    }
  }

  /** no charge running, and none waiting for the customer (pending-charge.ts) */
  moneyIdle(): Promise<void> {
    return condition(() => !this.moneyBusy && !this.s.pendingCharge);
  }

  setPeriod(): void {
    const s = this.s;
    // index -1: an opening period that is not one of the anchored ones (a v15 licence's remaining time
    // moved to A1, started directly ACTIVE): its dates come with the input; period 0 starts at its end
    if (s.periodIndex < 0) return;
    const range = nthPeriod(s.anchorDate!, s.terms.period, s.periodIndex);
    s.periodStart = range.start;
    s.periodEnd = range.end;
  }

  requireUsable(): void {
    if (!this.usable()) throw refuse('NO_PAID_LICENCE', 'This base has no paid licence running');
  }

  // in validators only: a refused update leaves no trace in the history, so running histories replay as before
  requireSavedCard(what: string): never {
    throw refuse('PAYMENT_METHOD_REQUIRED', `${what} needs a card saved by an online payment`, {
      reason: 'NO_SAVED_CARD',
    });
  }

  /** The webhook's result: fed to waiting charges, and to the purchase when it is its PaymentIntent. */
  onPaymentResult(result: PaymentResult): void {
    const s = this.s;
    this.settlements.deliver(result);
    if (s.status !== 'AWAITING_PAYMENT' || result.paymentIntentId !== s.purchase?.paymentIntentId) return;
    if (result.status === 'succeeded') this.paid = result;
    else s.purchase.lastFailure = failureOf(result);
  }

  /** The next period is paid: the licence ACTIVE again, no dunning. */
  periodPaid(nextIndex: number): void {
    this.s.paidThroughIndex = nextIndex;
    this.s.dunning = undefined;
    if (this.s.status === 'PAST_DUE') this.s.status = 'ACTIVE';
  }

  /** The state the next run starts from, once the next period is paid. */
  nextRun(): SubscriptionState {
    return { ...this.s, status: 'ACTIVE', periodIndex: this.s.periodIndex + 1, dunning: undefined };
  }
}
