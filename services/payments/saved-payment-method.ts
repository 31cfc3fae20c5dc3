/**
 * The payment method a base's licence renews with, for the ERP (`GET|DELETE /bases/{baseId}/licence/payment-method`,
 * docs/sepa.md): a card (brand, last 4, expiry) or a SEPA mandate (reference, masked account, since when),
 * and its removal — a SEPA mandate revoked, a card forgotten — through the licence's workflow, so that a
 * renewal in flight finishes first and nothing is charged with it afterwards.
 */
import { AppError } from '../../domain/errors';
import { maskedIban } from '../../domain/sepa-mandate';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { removePaymentMethodUpdate } from '../../workflows/subscription';
import type { ServiceDeps } from '../deps';
import { subscriptionState } from '../subscriptions/licence-messages';
import { toAppError } from '../subscriptions/workflow-errors';
import { activeMandateOf } from './sepa-mandates';

export type SavedPaymentMethodView =
  | { type: 'NONE'; autoRenew: boolean }
  | { type: 'CARD'; autoRenew: boolean; label: string; expires?: string }
  | {
      type: 'SEPA_DEBIT';
      autoRenew: boolean;
      mandate: { reference: string; account: string; holderName: string; acceptedAt: string };
    };

const noLicence = () => new AppError('NO_PAID_LICENCE', 'This base has no paid licence running');

export async function savedPaymentMethod(deps: ServiceDeps, baseId: string): Promise<SavedPaymentMethodView> {
  const state = await subscriptionState(deps, baseId);
  if (state.status !== 'ACTIVE' && state.status !== 'PAST_DUE') throw noLicence();
  const autoRenew = state.autoRenew;
  const mandate = await activeMandateOf(deps.prisma, state.licenceId);
  if (mandate && mandate.paymentMethodId === state.paymentMethodId) {
    return {
      type: 'SEPA_DEBIT',
      autoRenew,
      mandate: {
        reference: mandate.reference,
        account: maskedIban(mandate.country, mandate.ibanLast4),
        holderName: mandate.holderName,
        acceptedAt: mandate.acceptedAt.toISOString(),
      },
    };
  }
  if (!state.paymentMethodId) return { type: 'NONE', autoRenew };
  const card = (await deps.stripe.paymentMethods.retrieve(state.paymentMethodId)).card;
  return {
    type: 'CARD',
    autoRenew,
    label: card ? `${card.brand} •••• ${card.last4}` : 'carte enregistrée',
    ...(card ? { expires: `${String(card.exp_month).padStart(2, '0')}/${card.exp_year}` } : {}),
  };
}

/** Removes the saved method (NO_SAVED_PAYMENT_METHOD when there is none): auto-renew is off afterwards. */
export async function removeSavedPaymentMethod(
  deps: ServiceDeps,
  baseId: string,
  by: string,
): Promise<SavedPaymentMethodView> {
  try {
    await deps.temporal.workflow
      .getHandle(subscriptionWorkflowId(baseId))
      .executeUpdate(removePaymentMethodUpdate, { args: [{ by }] });
  } catch (error) {
    throw toAppError(error, noLicence());
  }
  return savedPaymentMethod(deps, baseId);
}
