/**
 * The saved payment method of a subscription (`savePaymentMethodUpdate`): a card the customer saved on the
 * card-change page (a confirmed SetupIntent). It is the one the next renewal, dunning retry and change
 * charge; a licence paid by cheque, transfer, free or migrated switches to automatic card renewal this way.
 */
import { defineUpdate, setHandler } from '@temporalio/workflow';
import type { SubscriptionState } from './messages';
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
      return s;
    },
    { validator: (_method: SavedPaymentMethod) => sub.requireUsable() },
  );
}
