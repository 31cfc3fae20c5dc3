/** Stop/resume auto-renew, renew now, change the licence, ops decisions and replays: all go to the base's workflow. */
import { AppError } from '../../domain/errors';
import type { LicenceTerms } from '../../domain/licence';
import type { PeriodEndChangeRequest } from '../../domain/scheduled-change';
import type { ChargeOptions } from '../../domain/price-fingerprint';
import { subscriptionWorkflowId } from '../../workflows/ids';
import {
  cancelScheduledChangeUpdate,
  changeLicenceUpdate,
  getSubscriptionStateQuery,
  opsDecisionUpdate,
  renewNowUpdate,
  replayPaymentUpdate,
  scheduleChangeUpdate,
  setAutoRenewUpdate,
  type OpsDecision,
} from '../../workflows/subscription';
import type { ServiceDeps } from '../deps';
import { toChargeReceiptView, toSubscriptionView } from './subscription-view';
import { toAppError } from './workflow-errors';

const noLicence = () => new AppError('NO_PAID_LICENCE', 'This base has no paid licence running');

async function viaWorkflow<T>(work: () => Promise<T>, missing: AppError): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toAppError(error, missing);
  }
}

const handle = (deps: ServiceDeps, baseId: string) =>
  deps.temporal.workflow.getHandle(subscriptionWorkflowId(baseId));

/** Auto-renew can't be resumed once a licence has ended: the way back is a new purchase, and the answer says so. */
const endedLicence = (baseId: string) =>
  new AppError(
    'NO_PAID_LICENCE',
    'This base has no paid licence running (it ended, or was never bought): auto-renew applies to a running ' +
      'licence; buy a new licence instead',
    { hint: 'NEW_PURCHASE', route: `POST /bases/${baseId}/subscriptions` },
  );

export const setAutoRenew = async (deps: ServiceDeps, baseId: string, autoRenew: boolean) =>
  toSubscriptionView(
    await viaWorkflow(
      () => handle(deps, baseId).executeUpdate(setAutoRenewUpdate, { args: [autoRenew] }),
      endedLicence(baseId),
    ).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'NO_PAID_LICENCE') throw endedLicence(baseId);
      throw error;
    }),
  );

/**
 * `options.priceFingerprint`: the quote's (preview-charges.ts); the charge is refused if the price moved.
 * A charge the bank wants the customer to authenticate answers ACTION_REQUIRED with its payment URL; a
 * cheque or transfer payer gets INVOICE_TO_PAY: the invoice to pay and where to pay it, nothing charged.
 */
export const renewNow = async (deps: ServiceDeps, baseId: string, options: ChargeOptions = {}) =>
  toChargeReceiptView(
    await viaWorkflow(
      () => handle(deps, baseId).executeUpdate(renewNowUpdate, { args: [options] }),
      noLicence(),
    ),
    deps.paymentPage,
    deps.billing.payee,
  );

export const changeLicence = (
  deps: ServiceDeps,
  baseId: string,
  change: Partial<Pick<LicenceTerms, 'edition' | 'mode' | 'connections'>> & { addExtensions?: string[] },
  options: ChargeOptions = {},
) =>
  viaWorkflow(
    () => handle(deps, baseId).executeUpdate(changeLicenceUpdate, { args: [change, options] }),
    noLicence(),
  ).then((r) => toChargeReceiptView(r, deps.paymentPage));

/** A change for the period end, recorded now (replacing an earlier one), applied by the next renewal. */
export const scheduleChange = async (deps: ServiceDeps, baseId: string, change: PeriodEndChangeRequest) =>
  toSubscriptionView(
    await viaWorkflow(
      () => handle(deps, baseId).executeUpdate(scheduleChangeUpdate, { args: [change] }),
      noLicence(),
    ),
  );

export const cancelScheduledChange = async (deps: ServiceDeps, baseId: string) =>
  toSubscriptionView(
    await viaWorkflow(() => handle(deps, baseId).executeUpdate(cancelScheduledChangeUpdate), noLicence()),
  );

export const replayPayment = async (deps: ServiceDeps, baseId: string, by: string) =>
  toSubscriptionView(
    await viaWorkflow(
      () => handle(deps, baseId).executeUpdate(replayPaymentUpdate, { args: [by] }),
      noLicence(),
    ),
  );

export const subscriptionState = (deps: ServiceDeps, baseId: string) =>
  viaWorkflow(() => handle(deps, baseId).query(getSubscriptionStateQuery), noLicence());

/** Ops confirm a cheque/transfer, approve a free licence, or reject a purchase. */
export async function decidePurchase(deps: ServiceDeps, purchaseId: string, decision: OpsDecision) {
  const purchase = await deps.prisma.purchase.findUnique({ where: { id: purchaseId } });
  if (!purchase) throw new AppError('PURCHASE_NOT_FOUND', `Purchase ${purchaseId} does not exist`);
  const notWaiting = new AppError(
    'PURCHASE_NOT_AWAITING_OPS',
    `This purchase is ${purchase.status}, not waiting for an ops decision`,
  );
  if (purchase.status !== 'AWAITING_OPS') throw notWaiting;
  return toSubscriptionView(
    await viaWorkflow(
      () =>
        deps.temporal.workflow
          .getHandle(purchase.workflowId)
          .executeUpdate(opsDecisionUpdate, { args: [decision] }),
      notWaiting,
    ),
  );
}

/** Ops confirm the cheque/transfer paying a renewal's invoice to pay (subscription/offline-renewal.ts). */
export async function decideRenewal(deps: ServiceDeps, baseId: string, decision: OpsDecision) {
  // the update also decides a purchase: only a run past its purchase, with an invoice to pay, gets it
  const state = await subscriptionState(deps, baseId);
  if (['ENDED', 'SUSPENDED', 'CANCELLED', 'REJECTED'].includes(state.status)) throw noLicence();
  if (!state.offlineRenewal)
    throw new AppError('PURCHASE_NOT_AWAITING_OPS', 'This licence has no renewal waiting for its payment');
  return toSubscriptionView(
    await viaWorkflow(
      () => handle(deps, baseId).executeUpdate(opsDecisionUpdate, { args: [decision] }),
      noLicence(),
    ),
  );
}
