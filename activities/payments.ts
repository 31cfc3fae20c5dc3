/**
 * Payments through Stripe: the customer, the PaymentIntent a customer confirms on-session (first
 * purchase; its card is saved for renewals), and the payment layer (`collectPayment`) that charges the
 * saved method off-session (renewals, dunning retries, prorated changes) and answers with a PaymentOutcome.
 *
 * Idempotency keys are built by the caller (the workflow) from business keys and the attempt, e.g.
 * `renewal:<licenceId>:<periodStart>:<attempt>`, and reach Stripe unchanged: an activity retried by
 * Temporal sends the same key, so Stripe answers with the first result instead of charging again.
 */
import { ApplicationFailure } from '@temporalio/common';
import type Stripe from 'stripe';
import { stripePaymentMethodTypes, type PaymentOutcome } from '../domain/payment-methods';
import type { PrismaClient } from '../infra/prisma';
import {
  classifyStripeErrors,
  requireIdempotencyKey,
  STRIPE_UNEXPECTED_STATUS,
  type DeclineDetails,
} from './stripe-failures';

export interface PaymentActivityDeps {
  stripe: Stripe;
  prisma: PrismaClient;
}

export interface EnsureStripeCustomerInput {
  /** when given, the licence's customer is reused, or the new one is remembered on it */
  licenceId?: string;
  /** the base buying, when there is one (a support pack bought on the website has none) */
  baseId?: string;
  email: string;
  name: string;
  idempotencyKey: string;
}

export interface CreatePaymentIntentInput {
  purchaseId: string;
  baseId?: string;
  amountCents: number;
  /** ISO 4217, any case */
  currency: string;
  customerId: string;
  /** the workflow the webhook signals with the result (paymentResultSignal) */
  workflowId: string;
  idempotencyKey: string;
  description: string;
  /** save the card for off-session charges (licence renewals); default true */
  saveCard?: boolean;
}

export interface RefundPaymentInput {
  paymentIntentId: string;
  /** omitted: the whole amount */
  amountCents?: number;
  idempotencyKey: string;
  metadata: Record<string, string>;
}

export interface CollectPaymentInput {
  /** the saved customer and payment method; absent: declined with NO_SAVED_CARD (unless the amount is 0) */
  customerId?: string;
  paymentMethodId?: string;
  amountCents: number;
  currency: string;
  idempotencyKey: string;
  metadata: Record<string, string>;
}

export function createPaymentActivities({ stripe, prisma }: PaymentActivityDeps) {
  return {
    /** The Stripe customer id for a licence holder; created once per idempotency key. */
    async ensureStripeCustomer(input: EnsureStripeCustomerInput): Promise<string> {
      requireIdempotencyKey(input.idempotencyKey);
      if (input.licenceId) {
        const licence = await prisma.licence.findUnique({
          where: { id: input.licenceId },
          select: { stripeCustomerId: true },
        });
        if (licence?.stripeCustomerId) return licence.stripeCustomerId;
      }
      const customer = await classifyStripeErrors(() =>
        stripe.customers.create(
          {
            email: input.email,
            name: input.name,
            metadata: {
              ...(input.baseId ? { baseId: input.baseId } : {}),
              ...(input.licenceId ? { licenceId: input.licenceId } : {}),
            },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      if (input.licenceId) {
        // never overwrite: a customer already there is the one the card was saved on
        await prisma.licence.updateMany({
          where: { id: input.licenceId, stripeCustomerId: null },
          data: { stripeCustomerId: customer.id },
        });
      }
      return customer.id;
    },

    /**
     * A PaymentIntent the customer confirms in the browser. The card is saved for off-session use
     * (renewals); `metadata.workflowId` routes the webhook's result to the waiting workflow. Only its id is
     * answered: the client secret is read from Stripe by id where it is handed over (the ERP's answer, the
     * payment page), so no workflow history carries it.
     */
    async createPaymentIntent(input: CreatePaymentIntentInput): Promise<{ paymentIntentId: string }> {
      requireIdempotencyKey(input.idempotencyKey);
      const intent = await classifyStripeErrors(() =>
        stripe.paymentIntents.create(
          {
            amount: input.amountCents,
            currency: input.currency.toLowerCase(),
            customer: input.customerId,
            description: input.description,
            // only the methods we settle (domain/payment-methods.ts), whatever the Stripe dashboard enables
            allowed_payment_method_types: stripePaymentMethodTypes(),
            ...(input.saveCard === false ? {} : { setup_future_usage: 'off_session' as const }),
            metadata: {
              workflowId: input.workflowId,
              purchaseId: input.purchaseId,
              ...(input.baseId ? { baseId: input.baseId } : {}),
            },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return { paymentIntentId: intent.id };
    },

    /**
     * The payment layer: charges the saved payment method without the customer and answers with one
     * PaymentOutcome (domain/payment-methods.ts) — succeeded, declined (codes kept), pending (the webhook
     * tells the end) or needs the customer (authentication). A zero amount is settled here, without Stripe
     * (it refuses 0-cent PaymentIntents). Outages and our own invalid requests are thrown, for Temporal to
     * retry under the same idempotency key or for a developer to fix.
     */
    async collectPayment(input: CollectPaymentInput): Promise<PaymentOutcome> {
      requireIdempotencyKey(input.idempotencyKey);
      if (input.amountCents === 0)
        return {
          outcome: 'SUCCEEDED',
          provider: 'NONE',
          reference: `none:${input.idempotencyKey}`,
          amountCents: 0,
        };
      if (!input.customerId || !input.paymentMethodId)
        return { outcome: 'DECLINED', code: 'NO_SAVED_CARD', message: 'No saved payment method' };
      let intent: Stripe.PaymentIntent;
      try {
        intent = await classifyStripeErrors(() =>
          stripe.paymentIntents.create(
            {
              amount: input.amountCents,
              currency: input.currency.toLowerCase(),
              customer: input.customerId,
              payment_method: input.paymentMethodId,
              allowed_payment_method_types: stripePaymentMethodTypes(),
              off_session: true,
              confirm: true,
              metadata: input.metadata,
            },
            { idempotencyKey: input.idempotencyKey },
          ),
        );
      } catch (error) {
        const declined = declineOf(error);
        if (!declined) throw error;
        // an off-session charge the bank wants authenticated: the customer confirms this same PaymentIntent
        if (declined.code === 'authentication_required' && declined.paymentIntentId)
          return {
            outcome: 'NEEDS_CUSTOMER',
            paymentIntentId: declined.paymentIntentId,
            action: 'AUTHENTICATE',
          };
        return {
          ...declined,
          outcome: 'DECLINED',
          // the reason the dunning emails and ledger keep: the issuer's decline code when there is one
          code: declined.declineCode ?? declined.code ?? 'card_declined',
        };
      }
      return outcomeOf(intent);
    },

    /** Where a PaymentIntent stands now (a pending settlement whose webhook is late). */
    async readPaymentOutcome(input: { paymentIntentId: string }): Promise<PaymentOutcome> {
      const intent = await classifyStripeErrors(() => stripe.paymentIntents.retrieve(input.paymentIntentId));
      return outcomeOf(intent);
    },

    /** Gives money back on a succeeded PaymentIntent (all of it unless an amount is given). */
    async refundPayment(input: RefundPaymentInput): Promise<{ refundId: string; status: string }> {
      requireIdempotencyKey(input.idempotencyKey);
      const refund = await classifyStripeErrors(() =>
        stripe.refunds.create(
          {
            payment_intent: input.paymentIntentId,
            ...(input.amountCents !== undefined ? { amount: input.amountCents } : {}),
            metadata: input.metadata,
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return { refundId: refund.id, status: refund.status ?? 'pending' };
    },

    /**
     * Closes the PaymentIntent of a purchase whose payment deadline passed: cancelled at Stripe, so that a
     * customer coming back later can't pay for a purchase we closed. If the customer paid at the last moment
     * (or the payment is still processing), nothing is cancelled: the answer says so and the workflow waits
     * for the payment's webhook instead of closing the purchase.
     */
    async closeUnpaidPaymentIntent(input: {
      paymentIntentId: string;
      idempotencyKey: string;
    }): Promise<ClosedIntent> {
      requireIdempotencyKey(input.idempotencyKey);
      const read = async () => {
        const intent = await classifyStripeErrors(() =>
          stripe.paymentIntents.retrieve(input.paymentIntentId),
        );
        const outcome = lateOutcomeOf(intent.status);
        return outcome && { ...closedIntentOf(intent), outcome };
      };
      const before = await read();
      if (before) return before;
      try {
        const cancelled = await stripe.paymentIntents.cancel(
          input.paymentIntentId,
          {},
          { idempotencyKey: input.idempotencyKey },
        );
        return { ...closedIntentOf(cancelled), outcome: 'CANCELLED' };
      } catch (error) {
        // paid between the read and the cancellation: Stripe refuses to cancel it
        if ((error as { code?: string }).code === 'payment_intent_unexpected_state') {
          const after = await read();
          if (after) return after;
        }
        return classifyStripeErrors(() => {
          throw error;
        });
      }
    },

    /** Cancels a PaymentIntent nobody paid (a purchase cancelled before payment). */
    async cancelPaymentIntent(input: { paymentIntentId: string; idempotencyKey: string }): Promise<void> {
      requireIdempotencyKey(input.idempotencyKey);
      await classifyStripeErrors(() =>
        stripe.paymentIntents.cancel(input.paymentIntentId, {}, { idempotencyKey: input.idempotencyKey }),
      );
    },
  };
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;

/** What became of a PaymentIntent closed at its deadline. */
export type UnpaidIntentOutcome = 'CANCELLED' | 'PAID' | 'PROCESSING';

export interface ClosedIntent {
  outcome: UnpaidIntentOutcome;
  /** Stripe's status of the PaymentIntent */
  status: string;
  /** what was received (PAID) */
  amountCents: number;
  /** the card used (PAID), saved for renewals */
  paymentMethodId?: string;
}

function closedIntentOf(intent: Stripe.PaymentIntent): Omit<ClosedIntent, 'outcome'> {
  const method = intent.payment_method;
  return {
    status: intent.status,
    amountCents: intent.amount_received ?? 0,
    ...(method ? { paymentMethodId: typeof method === 'string' ? method : method.id } : {}),
  };
}

/** A status meaning the money came (or is coming) after all; undefined: nobody paid, it can be cancelled. */
function lateOutcomeOf(status: Stripe.PaymentIntent.Status): UnpaidIntentOutcome | undefined {
  if (status === 'succeeded') return 'PAID';
  if (status === 'processing' || status === 'requires_capture') return 'PROCESSING';
  if (status === 'canceled') return 'CANCELLED';
  return undefined;
}

/** A refusal classified by classifyStripeErrors (PAYMENT_DECLINED), by its type string (Jest realms). */
function declineOf(error: unknown): (DeclineDetails & { message?: string }) | undefined {
  const e = error as { type?: string; message?: string; details?: unknown[] };
  if (e?.type !== 'PAYMENT_DECLINED') return undefined;
  const details = (e.details?.[0] ?? {}) as DeclineDetails;
  return {
    ...(details.declineCode ? { declineCode: details.declineCode } : {}),
    ...(details.code ? { code: details.code } : {}),
    ...(details.paymentIntentId ? { paymentIntentId: details.paymentIntentId } : {}),
    ...(e.message ? { message: e.message } : {}),
  };
}

/** A PaymentIntent's status as the payment layer's answer. */
function outcomeOf(intent: Stripe.PaymentIntent): PaymentOutcome {
  switch (intent.status) {
    case 'succeeded':
      return {
        outcome: 'SUCCEEDED',
        provider: 'STRIPE',
        reference: intent.id,
        amountCents: intent.amount_received || intent.amount,
      };
    case 'processing':
      return { outcome: 'PENDING', paymentIntentId: intent.id };
    case 'requires_action':
      return { outcome: 'NEEDS_CUSTOMER', paymentIntentId: intent.id, action: 'AUTHENTICATE' };
    case 'requires_payment_method':
    case 'canceled': {
      // Stripe usually answers a refusal with a card error (402); these statuses say the same on a 200
      const last = intent.last_payment_error;
      return {
        outcome: 'DECLINED',
        code: last?.decline_code || last?.code || intent.status,
        ...(last?.decline_code ? { declineCode: last.decline_code } : {}),
        message: last?.message ?? `The payment was not made (${intent.status})`,
        paymentIntentId: intent.id,
      };
    }
    default:
      throw ApplicationFailure.create({
        type: STRIPE_UNEXPECTED_STATUS,
        nonRetryable: true,
        message: `PaymentIntent ${intent.id} is ${intent.status} after an off-session charge`,
        details: [{ paymentIntentId: intent.id, status: intent.status }],
      });
  }
}
