/**
 * The card-change URL of a base's running licence, for the ERP (`POST /bases/{baseId}/licence/card-change`):
 * the customer opens it, saves a new card (SetupIntent), and that card pays the next renewals
 * (services/payments/licence-payment-page.ts). Nothing is written here: the link is signed, not stored.
 */
import { AppError } from '../../domain/errors';
import type { ServiceDeps } from '../deps';
import { subscriptionState } from '../subscriptions/licence-messages';
import { cardChangeUrl } from './payment-link';

export async function cardChangeLink(
  deps: ServiceDeps,
  baseId: string,
): Promise<{ cardChangeUrl: string; expiresAt: string }> {
  if (!deps.paymentPage) throw new AppError('NOT_READY', 'The payment page is not configured');
  const state = await subscriptionState(deps, baseId);
  if (state.status !== 'ACTIVE' && state.status !== 'PAST_DUE')
    throw new AppError('NO_PAID_LICENCE', 'This base has no paid licence running');
  const now = new Date();
  return {
    cardChangeUrl: cardChangeUrl(deps.paymentPage, state.licenceId),
    expiresAt: new Date(now.getTime() + deps.paymentPage.linkTtlSeconds * 1000).toISOString(),
  };
}
