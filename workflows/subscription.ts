/**
 * subscriptionWorkflow: one per base (id `subscription:<baseId>`), the whole life of its paid licence.
 *
 * 1. Purchase (subscription/purchase.ts): ONLINE waits for the card payment until a deadline;
 *    CHEQUE/TRANSFER waits for ops to confirm receipt; FREE waits for ops approval or rejection. Then the
 *    licence is activated (payment, paid invoice, email).
 * 2. Each period (subscription/renewal.ts, subscription/dunning.ts): a reminder before the end; at the end,
 *    with auto-renew, the saved method is charged off-session and the licence extended (invoice, email);
 *    without it the licence ends and the base falls back to STANDARD LOCAL. A failed renewal payment starts
 *    dunning: retries on a schedule with an email each time, the licence usable meanwhile (PAST_DUE); after
 *    the last failure LOCAL licences end and CLOUD ones are suspended. Ops can replay a failed payment.
 * 3. Messages at any time (subscription/messages.ts, subscription/handlers.ts): stop/resume auto-renew,
 *    renew now, add connections / upgrade / extensions (prorated, charged at once, subscription/change.ts),
 *    changes at the period end (recorded now, applied by the renewal, subscription/scheduled-change.ts),
 *    ops decisions and payment replay; `getSubscriptionStateQuery` returns the state.
 * 4. A lost card dispute (`disputeLostSignal`, subscription/dispute.ts) ends or suspends the licence at once,
 *    wherever the run waits.
 *
 * The state and its shared transitions are one `Subscription` (subscription/state.ts). Every charge carries
 * an idempotency key built from the licence, the period and the attempt (idempotency-keys.ts), so a
 * retried activity never charges twice. The workflow continues-as-new at each period.
 */
import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import { disputeLost, endAfterLostDispute } from './subscription/dispute';
import { endLicence, renewOrDun } from './subscription/dunning';
import { setHandlers } from './subscription/handlers';
import { setScheduledChangeHandlers } from './subscription/scheduled-change';
import type { SubscriptionState, SubscriptionWorkflowInput } from './subscription/messages';
import { setPaymentMethodHandler } from './subscription/payment-method';
import { resumePendingCharge } from './subscription/pending-charge';
import { purchase } from './subscription/purchase';
import { awaitPeriodEnd } from './subscription/renewal';
import { Subscription } from './subscription/state';

export * from './subscription/messages';
export * from './subscription/dispute-messages';
export {
  removePaymentMethodUpdate,
  savePaymentMethodUpdate,
  type SavedPaymentMethod,
} from './subscription/payment-method';

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<SubscriptionState> {
  const sub = new Subscription(input.state);
  setHandlers(sub);
  setPaymentMethodHandler(sub);
  setScheduledChangeHandlers(sub);
  resumePendingCharge(sub);

  await purchase(sub);
  if (!sub.usable()) {
    await condition(allHandlersFinished);
    return sub.s;
  }

  sub.setPeriod();
  await awaitPeriodEnd(sub);
  await renewOrDun(sub);

  if (disputeLost(sub)) {
    // a lost dispute took the money back: the licence ends now (subscription/dispute.ts)
    await endAfterLostDispute(sub);
    await condition(allHandlersFinished);
    return sub.s;
  }

  if (sub.renewedAhead()) {
    // the next period is paid: carry on in a fresh run so the history stays small
    await condition(allHandlersFinished);
    await sub.moneyIdle(); // a change waiting for the customer is settled in this run
    return continueAsNew<typeof subscriptionWorkflow>({ state: sub.nextRun() });
  }

  await endLicence(sub);
  await condition(allHandlersFinished);
  return sub.s;
}
