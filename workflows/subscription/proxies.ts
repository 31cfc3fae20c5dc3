/** The activities a subscriptionWorkflow calls, with their timeouts and retries. */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { PaymentActivities } from '../../activities/payments';
import type { LicenceChangeActivities } from '../../activities/licence-changes';
import type { OfflineRenewalActivities } from '../../activities/offline-renewals';
import type { SubscriptionActivities } from '../../activities/subscriptions';

export const subscriptions = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
export const licenceChanges = proxyActivities<LicenceChangeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
export const offlineRenewals = proxyActivities<OfflineRenewalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
export const payments = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});

/**
 * The steps between the order and the payment instructions (Stripe customer, PaymentIntent, noting it) and
 * the activation once paid run as local activities, in the worker's workflow task: the ERP (or the customer)
 * waits for their answer, and three server round trips each way were most of that wait (docs/benchmarks.md).
 * They are short and keyed, so a retry after a crash sends the same requests.
 */
export const localPayments = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});
export const localSubscriptions = proxyLocalActivities<SubscriptionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
