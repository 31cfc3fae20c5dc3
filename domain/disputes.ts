/**
 * Card disputes (chargebacks) and early fraud warnings: how Stripe's statuses map to ours, which of two
 * events about one dispute wins (they arrive late, twice and out of order), and what a lost dispute does
 * (docs/disputes.md). Pure.
 */
import { afterLastFailure } from './dunning';
import type { Mode } from './catalog';

export type DisputeOutcome = 'OPEN' | 'WON' | 'LOST' | 'CLOSED';

/**
 * Stripe's dispute status as our outcome. `warning_*` are inquiries (no money taken yet); `warning_closed`
 * ends one without a chargeback. `charge_refunded`: the charge was refunded meanwhile, nothing more to lose.
 * `prevented`: Stripe resolved it before it became a dispute. Anything unknown stays OPEN for ops to look at.
 */
export function disputeOutcomeOf(stripeStatus: string): DisputeOutcome {
  switch (stripeStatus) {
    case 'won':
      return 'WON';
    case 'lost':
      return 'LOST';
    case 'warning_closed':
    case 'charge_refunded':
    case 'prevented':
      return 'CLOSED';
    default:
      return 'OPEN';
  }
}

export const isFinal = (outcome: DisputeOutcome): boolean => outcome !== 'OPEN';

/**
 * Whether an event about a dispute we know changes what we recorded: a final outcome never goes back (a
 * `created` delivered after the `closed` changes nothing); otherwise the newer event wins (`created` of the
 * event, seconds; equal times: the later delivery, Stripe's events of one second carry the newer state).
 */
export function eventApplies(
  recorded: { outcome: DisputeOutcome; lastEventAt: number },
  incoming: { outcome: DisputeOutcome; eventAt: number },
): boolean {
  if (isFinal(recorded.outcome)) return false;
  if (isFinal(incoming.outcome)) return true;
  return incoming.eventAt >= recorded.lastEventAt;
}

/**
 * The licence after a lost dispute on its purchase or a renewal: the same end as after the last dunning
 * failure (the money was taken back as if never paid): LOCAL ends, CLOUD is suspended.
 */
export function licenceAfterLostDispute(mode: Mode): 'ENDED' | 'SUSPENDED' {
  return afterLastFailure(mode);
}

/**
 * The credit a lost dispute on a credit purchase takes back: the part of what the purchase credited that the
 * disputed amount paid for (rounded up, as a refund), never more than what is left unused on the ledger
 * (credit already used is not clawed back into a negative balance: it is the money's loss, recorded as the
 * reversal). 0 when nothing is left.
 */
export function creditToDebit(
  purchase: { amountCents: number; creditAmount: number },
  disputedCents: number,
  balance: number,
): number {
  if (purchase.amountCents <= 0 || disputedCents <= 0 || balance <= 0) return 0;
  const share = Math.min(
    purchase.creditAmount,
    Math.ceil((Math.min(disputedCents, purchase.amountCents) * purchase.creditAmount) / purchase.amountCents),
  );
  return Math.min(share, balance);
}
