/**
 * The end of a period: with auto-renew, the saved method is charged; a failed renewal payment starts dunning
 * (retries on the schedule in force, an email each time, the licence usable meanwhile: PAST_DUE; ops may
 * replay at any time; a payment needing the customer renews on its confirmation's webhook). Without a
 * renewal the licence ends (after failed payments, domain/dunning.ts decides: LOCAL ends, CLOUD suspended).
 */
import { condition } from '@temporalio/workflow';
import { afterLastFailure, nextRetryOn } from '../../domain/dunning';
import { startOfDayMs } from '../../domain/licence';
import { collectedOf } from '../collect-payment';
import { markWaiting } from '../search-attributes';
import { disputeLost } from './dispute';
import { closeUnpaidCharge } from './pending-charge';
import { subscriptions } from './proxies';
import { chargeRenewal, recordRenewal } from './renewal';
import type { Subscription } from './state';

/** Renews at the period's end when auto-renew is on, dunning until paid, stopped or out of retries. */
export async function renewOrDun(sub: Subscription): Promise<void> {
  const { s } = sub;
  if (!(s.paidThroughIndex === s.periodIndex && s.autoRenew && s.status === 'ACTIVE') || disputeLost(sub))
    return;
  let attempt = 0;
  for (;;) {
    const receipt = await sub.withMoneyLock(() => chargeRenewal(sub, String(attempt)));
    if (receipt || sub.renewedAhead()) break;
    const failures = s.dunning!.failures;
    if (!s.autoRenew) break;
    // the schedule in force now: a changed DUNNING_RETRY_DAYS reaches this subscription at this failure
    const retryOn = nextRetryOn(await sub.policy(), s.periodEnd!, failures);
    if (!retryOn) {
      // the last attempt: its PaymentIntent can't be confirmed after the licence ends
      const last = s.dunning!.awaitingCustomer;
      if (last) await closeAwaitingCharge(sub, last);
      break;
    }
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
        sub.replayRequested ||
        !s.autoRenew ||
        disputeLost(sub) ||
        sub.renewedAhead() ||
        sub.settlements.succeeded(awaiting?.paymentIntentId) !== undefined,
      Math.max(startOfDayMs(retryOn) - Date.now(), 1),
    );
    markWaiting(undefined);
    const confirmed = sub.settlements.succeeded(awaiting?.paymentIntentId);
    if (awaiting && confirmed && s.paidThroughIndex === s.periodIndex) {
      // the customer authenticated the payment: that PaymentIntent pays the period
      await sub.withMoneyLock(() =>
        recordRenewal(sub, collectedOf(confirmed), awaiting.idempotencyKey, awaiting.quote),
      );
      break;
    }
    if (awaiting && !confirmed && (await closeAwaitingCharge(sub, awaiting))) break;
    if (sub.renewedAhead() || disputeLost(sub)) break; // paid meanwhile by a manual renewal; or a lost dispute
    if (!s.autoRenew) break;
    sub.replayRequested = false;
    attempt += 1;
  }
}

/**
 * Before another attempt (or the end), the PaymentIntent the customer was asked to confirm is cancelled at
 * Stripe, so that an old emailed link can't take money for a period paid otherwise. Confirmed at the last
 * moment: it pays the period (true).
 */
async function closeAwaitingCharge(
  sub: Subscription,
  awaiting: NonNullable<NonNullable<Subscription['s']['dunning']>['awaitingCustomer']>,
): Promise<boolean> {
  const paid = await closeUnpaidCharge(awaiting.paymentIntentId, awaiting.idempotencyKey);
  if (!paid || sub.s.paidThroughIndex !== sub.s.periodIndex) return false;
  await sub.withMoneyLock(() => recordRenewal(sub, paid, awaiting.idempotencyKey, awaiting.quote));
  return true;
}

/** No renewal: the licence ends (CLOUD after failed payments: suspended); the base falls back to STANDARD LOCAL. */
export async function endLicence(sub: Subscription): Promise<void> {
  const { s } = sub;
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
  sub.replayRequested = false;
}
