/**
 * The saved payment method of a subscription (`savePaymentMethodUpdate`): a card or a SEPA mandate the
 * customer saved on the payment method page (a confirmed SetupIntent). It is the one the next renewal,
 * dunning retry and change charge; a licence paid by cheque, transfer, free or migrated switches to
 * automatic renewal this way; saved during dunning, the failed renewal is retried with it at once.
 * `removePaymentMethodUpdate` takes it away (a SEPA mandate revoked): nothing
 * is charged again, auto-renew is off until another method is saved.
 */
import { defineUpdate, setHandler } from '@temporalio/workflow';
import type { SubscriptionState } from './messages';
import { refuse } from '../refuse';
import { subscriptions } from './proxies';
import type { Subscription } from './state';

export interface SavedPaymentMethod {
  customerId: string;
  paymentMethodId: string;
  /** the confirmed SetupIntent that saved it */
  setupIntentId: string;
}

export const savePaymentMethodUpdate = defineUpdate<SubscriptionState, [SavedPaymentMethod]>(
  'savePaymentMethod',
);

export const removePaymentMethodUpdate = defineUpdate<SubscriptionState, [{ by: string }]>(
  'removePaymentMethod',
);

export function setPaymentMethodHandler(sub: Subscription): void {
  const { s } = sub;
  setHandler(
    savePaymentMethodUpdate,
    async (method) => {
      const already =
        s.paymentMethodId === method.paymentMethodId &&
        s.customerId === method.customerId &&
        s.paymentMethod === 'ONLINE' &&
        s.autoRenew;
      if (already) return s; // the page and the webhook both report the same SetupIntent
      await subscriptions.savePaymentMethod({ licenceId: s.licenceId, ...method });
      s.customerId = method.customerId;
      s.paymentMethodId = method.paymentMethodId;
      s.paymentMethod = 'ONLINE';
      s.autoRenew = true;
      // saved during dunning: the failed renewal is tried again now with it, not at the next retry date
      if (s.status === 'PAST_DUE' && s.dunning) sub.replayRequested = true;
      return s;
    },
    { validator: (_method: SavedPaymentMethod) => sub.requireUsable() },
  );
  setHandler(
    removePaymentMethodUpdate,
    // after a charge in flight: the method it uses is removed once its answer is in
    ({ by }) =>
      sub.withMoneyLock(async () => {
        const paymentMethodId = s.paymentMethodId;
        if (paymentMethodId === undefined) return s; // removed meanwhile by a concurrent call
        await subscriptions.removePaymentMethod({ licenceId: s.licenceId, paymentMethodId, by });
        s.paymentMethodId = undefined;
        s.autoRenew = false;
        return s;
      }),
    {
      validator: (_by: { by: string }) => {
        sub.requireUsable();
        if (s.paymentMethodId === undefined)
          throw refuse('NO_SAVED_PAYMENT_METHOD', 'The licence has no saved card or SEPA mandate');
      },
    },
  );
}
