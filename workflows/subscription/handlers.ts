/**
 * The message handlers of a subscriptionWorkflow. Validators refuse what the state does not allow (a refused
 * update leaves no trace in the history); handlers hand decisions to the main loop or run one charge at a
 * time under the state's money lock.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { paymentInstructions } from '../customer-payment';
import type { ChargeOptions } from '../../domain/price-fingerprint';
import { paymentResultSignal } from '../payment-messages';
import { refuse } from '../refuse';
import { subscriptions } from './proxies';
import { changeLicence } from './change';
import { onDisputeLost } from './dispute';
import { disputeLostSignal } from './dispute-messages';
import {
  changeLicenceUpdate,
  getSubscriptionStateQuery,
  opsDecisionUpdate,
  paymentInstructionsUpdate,
  renewNowUpdate,
  replayPaymentUpdate,
  setAutoRenewUpdate,
  type LicenceChange,
  type OpsDecision,
} from './messages';
import {
  confirmRenewalPayment,
  paysByInvoice,
  renewNowByInvoice,
  validateRenewalDecision,
  validateRenewNowByInvoice,
} from './offline-renewal';
import { requireNoPendingCharge } from './pending-charge';
import { renewNow } from './renewal';
import type { Subscription } from './state';

export function setHandlers(sub: Subscription): void {
  const { s } = sub;

  setHandler(getSubscriptionStateQuery, () => s);

  setHandler(paymentResultSignal, (result) => sub.onPaymentResult(result));

  setHandler(disputeLostSignal, (lost) => onDisputeLost(sub, lost));

  setHandler(paymentInstructionsUpdate, () =>
    paymentInstructions(
      () => s.status === 'AWAITING_PAYMENT',
      () => s.purchase,
      () => refuse('PAYMENT_NOT_NEEDED', 'This purchase is no longer waiting for a card payment'),
    ),
  );

  setHandler(
    opsDecisionUpdate,
    async (d) => {
      if (s.offlineRenewal) return confirmRenewalPayment(sub, d);
      sub.decision = d;
      await condition(() => s.status !== 'AWAITING_OPS');
      return s;
    },
    {
      validator: (d: OpsDecision) => {
        if (s.offlineRenewal) return validateRenewalDecision(sub, d);
        if (s.status !== 'AWAITING_OPS' || sub.decision)
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
        sub.requireUsable();
        if (autoRenew && !s.paymentMethodId) sub.requireSavedCard('Auto-renewal');
      },
    },
  );

  setHandler(
    renewNowUpdate,
    // cheque/transfer: nothing to charge, the invoice to pay (offline-renewal.ts); it takes no money lock
    (options) =>
      paysByInvoice(sub) ? renewNowByInvoice(sub, options) : sub.withMoneyLock(() => renewNow(sub, options)),
    {
      validator: (options: ChargeOptions) => {
        sub.requireUsable();
        if (paysByInvoice(sub)) return validateRenewNowByInvoice(sub, options);
        if (!s.customerId || !s.paymentMethodId) sub.requireSavedCard('A manual renewal');
        requireNoPendingCharge(sub);
      },
    },
  );

  setHandler(
    changeLicenceUpdate,
    (change, options) => sub.withMoneyLock(() => changeLicence(sub, change, options)),
    {
      validator: (_change: LicenceChange, _options: ChargeOptions) => {
        sub.requireUsable();
        requireNoPendingCharge(sub);
      },
    },
  );

  setHandler(
    replayPaymentUpdate,
    async (_by: string) => {
      sub.replayRequested = true;
      const failuresBefore = s.dunning?.failures;
      await condition(
        () => !sub.replayRequested && (s.status !== 'PAST_DUE' || s.dunning?.failures !== failuresBefore),
      );
      return s;
    },
    {
      validator: (_by: string) => {
        if (s.status !== 'PAST_DUE') throw refuse('NO_PAID_LICENCE', 'There is no failed payment to replay');
      },
    },
  );
}
