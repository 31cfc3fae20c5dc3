/**
 * A lost dispute on a payment of this licence (docs/disputes.md): the money was taken back, so the licence
 * goes the way of a last dunning failure (domain/disputes.ts: LOCAL ends, CLOUD is suspended) at once, not at
 * the period's end; auto-renew stops. The main loop sees `s.disputeLost` wherever it waits (the period's
 * end, a dunning retry) and ends the run here; the flag is in the state, so a signal that lands while the
 * run continues as new is carried to the next run.
 */
import { licenceAfterLostDispute } from '../../domain/disputes';
import type { DisputeLost } from './dispute-messages';
import { subscriptions } from './proxies';
import type { Subscription } from './state';

/** The signal's handler: the first lost dispute of a usable licence counts, anything later is ignored. */
export function onDisputeLost(sub: Subscription, lost: DisputeLost): void {
  if (sub.s.disputeLost || !sub.usable()) return;
  sub.s.disputeLost = lost;
}

export const disputeLost = (sub: Subscription): boolean => sub.s.disputeLost !== undefined;

/** The end a lost dispute brings: the licence row, the base's sessions trimmed, the email. */
export async function endAfterLostDispute(sub: Subscription): Promise<void> {
  const { s } = sub;
  const finalStatus = licenceAfterLostDispute(s.terms.mode);
  s.status = finalStatus;
  s.autoRenew = false;
  await subscriptions.endLicence({
    licenceId: s.licenceId,
    status: finalStatus,
    reason: `DISPUTE_LOST:${s.disputeLost!.disputeId}`,
  });
  await subscriptions.sendLicenceMail({
    licenceId: s.licenceId,
    kind: finalStatus === 'SUSPENDED' ? 'SUSPENDED' : 'ENDED',
    periodEnd: s.periodEnd,
  });
  sub.replayRequested = false;
}
