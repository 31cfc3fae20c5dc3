/**
 * A Stripe webhook delivery: verify its signature, drop a delivery seen before, and hand a PaymentIntent's
 * outcome to the workflow named in its `metadata.workflowId` (paymentResultSignal). Disputes and early
 * fraud warnings are recorded for ops (services/disputes/record-dispute-event.ts); a lost dispute on a
 * licence payment is signalled to the base's subscriptionWorkflow (disputeLostSignal).
 *
 * Order: signal first, then record the event id. A crash between the two leaves no record, so Stripe's
 * redelivery signals again — harmless, the workflow ignores a result it is not waiting for. The other order
 * could record the event and lose the signal for good. A failed signal (Temporal unreachable) throws
 * before anything is recorded: the route answers 500 and Stripe retries.
 */
import type Stripe from 'stripe';
import { AppError } from '../../domain/errors';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { paymentResultSignal, type PaymentResult } from '../../workflows/payment-messages';
import { disputeLostSignal } from '../../workflows/subscription/dispute-messages';
import { removePaymentMethodUpdate } from '../../workflows/subscription';
import type { ServiceDeps } from '../deps';
import { isDisputeEvent, recordDisputeEvent } from '../disputes/record-dispute-event';
import { saveCard } from './licence-payment-page';

export type StripeEventDeps = Pick<ServiceDeps, 'stripe' | 'stripeWebhookSecret' | 'temporal' | 'prisma'>;

export interface StripeDelivery {
  /** the request body exactly as received: the signature covers these bytes */
  payload: Buffer | string;
  /** the Stripe-Signature header */
  signature: string | undefined;
}

/**
 * what was done: signalled the workflow, it no longer exists, no workflow named, not our event, or a
 * dispute / early fraud warning recorded (a lost one on a licence payment also signals: 'signalled')
 */
export type StripeEventAction = 'signalled' | 'workflow-not-found' | 'no-workflow' | 'ignored' | 'recorded';

export type StripeEventOutcome =
  | { eventId: string; type: string; duplicate: true }
  | {
      eventId: string;
      type: string;
      duplicate: false;
      outcome: StripeEventAction;
      workflowId?: string;
    };

function verify(deps: StripeEventDeps, delivery: StripeDelivery): Stripe.Event {
  if (!delivery.signature) {
    throw new AppError('WEBHOOK_SIGNATURE_INVALID', 'The Stripe-Signature header is missing');
  }
  try {
    return deps.stripe.webhooks.constructEvent(
      delivery.payload,
      delivery.signature,
      deps.stripeWebhookSecret,
    );
  } catch (error) {
    // bad signature, stale timestamp (replay) or a body that is not the signed JSON
    throw new AppError('WEBHOOK_SIGNATURE_INVALID', 'The webhook signature does not match its payload', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}

/** The signal for a PaymentIntent outcome and the workflow it goes to; undefined for any other event. */
function paymentResultOf(event: Stripe.Event): { result: PaymentResult; workflowId?: string } | undefined {
  if (event.type !== 'payment_intent.succeeded' && event.type !== 'payment_intent.payment_failed')
    return undefined;
  const intent = event.data.object;
  const method = intent.payment_method;
  const error = intent.last_payment_error;
  const failureCode = error?.decline_code ?? error?.code;
  const result: PaymentResult = {
    paymentIntentId: intent.id,
    status: event.type === 'payment_intent.succeeded' ? 'succeeded' : 'failed',
    // what was taken on success; the attempted amount on a failure (nothing was received)
    amountCents: intent.amount_received || intent.amount,
    ...(method ? { paymentMethodId: typeof method === 'string' ? method : method.id } : {}),
    ...(failureCode ? { failureCode } : {}),
    ...(error?.message ? { failureMessage: error.message } : {}),
  };
  return { result, workflowId: intent.metadata?.workflowId || undefined };
}

function isWorkflowGone(error: unknown): boolean {
  // NOT_FOUND (gRPC 5): no such workflow, or it has already closed
  const e = error as { name?: string; code?: number; cause?: { code?: number } };
  return e?.name === 'WorkflowNotFoundError' || e?.code === 5 || e?.cause?.code === 5;
}

/**
 * A card saved on the card-change page, as Stripe reports it (`setup_intent.succeeded`; localstripe sends
 * none, the page reads the SetupIntent back on return): the card goes to the licence's workflow, which
 * ignores a card it already has.
 */
async function savedCardOf(deps: StripeEventDeps, event: Stripe.Event): Promise<StripeEventAction> {
  const setup = event.data.object as Stripe.SetupIntent;
  const licenceId = setup.metadata?.licenceId;
  const licence = licenceId
    ? await deps.prisma.licence.findUnique({ where: { id: licenceId }, select: { baseId: true } })
    : null;
  if (!licence) return 'no-workflow';
  try {
    await saveCard(deps, licence.baseId, setup);
    return 'signalled';
  } catch (error) {
    // the licence ended meanwhile: nothing to save the card for
    if (error instanceof AppError && error.code === 'NO_PAID_LICENCE') return 'workflow-not-found';
    throw error;
  }
}

/**
 * A mandate gone inactive at Stripe (`mandate.updated`: the customer revoked it at their bank, or the bank
 * refused it): the licence's method is removed through its workflow, as when the customer removes it in the
 * ERP; nothing is debited under it again. A mandate already revoked or replaced is left as it is.
 */
async function mandateUpdated(deps: StripeEventDeps, event: Stripe.Event): Promise<StripeEventAction> {
  const mandate = event.data.object as Stripe.Mandate;
  if (mandate.status !== 'inactive') return 'ignored';
  const row = await deps.prisma.sepaMandate.findUnique({ where: { id: mandate.id } });
  if (!row?.licenceId || row.status !== 'ACTIVE') return 'ignored';
  const licence = await deps.prisma.licence.findUnique({
    where: { id: row.licenceId },
    select: { baseId: true, stripePaymentMethodId: true },
  });
  if (!licence || licence.stripePaymentMethodId !== row.paymentMethodId) return 'ignored';
  try {
    await deps.temporal.workflow
      .getHandle(subscriptionWorkflowId(licence.baseId))
      .executeUpdate(removePaymentMethodUpdate, { args: [{ by: 'BANK' }] });
    return 'signalled';
  } catch (error) {
    // the licence ended, or its method was removed meanwhile: nothing left to revoke
    const type = (error as { cause?: { type?: string } }).cause?.type;
    if (type === 'NO_PAID_LICENCE' || type === 'NO_SAVED_PAYMENT_METHOD' || isWorkflowGone(error))
      return 'workflow-not-found';
    throw error;
  }
}

export async function handleStripeEvent(
  deps: StripeEventDeps,
  delivery: StripeDelivery,
): Promise<StripeEventOutcome> {
  const event = verify(deps, delivery);
  const seen = await deps.prisma.stripeEvent.findUnique({ where: { id: event.id } });
  if (seen) return { eventId: event.id, type: event.type, duplicate: true };

  const payment = paymentResultOf(event);
  let workflowId = payment?.workflowId;
  let outcome: StripeEventAction = payment ? 'no-workflow' : 'ignored';
  if (event.type === 'setup_intent.succeeded') outcome = await savedCardOf(deps, event);
  if (event.type === 'mandate.updated') outcome = await mandateUpdated(deps, event);
  let send: ((handle: ReturnType<typeof deps.temporal.workflow.getHandle>) => Promise<void>) | undefined;
  if (payment && workflowId) send = (handle) => handle.signal(paymentResultSignal, payment.result);
  if (isDisputeEvent(event.type)) {
    // recorded first (its own transaction, idempotent); a lost licence payment then ends the licence
    const dispute = await recordDisputeEvent(deps, event);
    outcome = 'recorded';
    if (dispute.licenceBaseId) {
      workflowId = subscriptionWorkflowId(dispute.licenceBaseId);
      send = (handle) => handle.signal(disputeLostSignal, { disputeId: dispute.disputeId });
    }
  }
  if (send && workflowId) {
    try {
      await send(deps.temporal.workflow.getHandle(workflowId));
      outcome = 'signalled';
    } catch (error) {
      // Stripe would redeliver for days to a workflow that is gone: acknowledge it (the route logs it)
      if (!isWorkflowGone(error)) throw error;
      outcome = 'workflow-not-found';
    }
  }

  // skipDuplicates: a concurrent delivery of the same event may have recorded it meanwhile
  await deps.prisma.stripeEvent.createMany({
    data: [{ id: event.id, type: event.type }],
    skipDuplicates: true,
  });
  return { eventId: event.id, type: event.type, duplicate: false, outcome, workflowId };
}
