/**
 * Changes at the period end (`scheduleChangeUpdate`, `cancelScheduledChangeUpdate`): fewer connections, a
 * lower edition or mode, another billing period, an extension removed. Recorded at once (state and licence
 * row), cancellable until the renewal, applied by the renewal of the next period: priced at the new terms
 * (`nextPeriodTerms`), written with the renewal's payment in one transaction (sessions trimmed there), then
 * the state takes the new terms (`applyScheduledChange`). A new billing period starts a new calendar
 * anchored on the day the current period ends.
 */
import { setHandler } from '@temporalio/workflow';
import type { LicenceTerms } from '../../domain/licence';
import { nthPeriod, type LocalDate } from '../../domain/periods';
import { periodEndTerms, type PeriodEndChangeRequest } from '../../domain/scheduled-change';
import { refuse } from '../refuse';
import { requireNoPendingCharge } from './pending-charge';
import { cancelScheduledChangeUpdate, scheduleChangeUpdate } from './messages';
import { licenceChanges } from './proxies';
import type { Subscription } from './state';

/** The terms and dates of the period after the last paid one: a scheduled change's terms, if any. */
export function nextPeriodTerms(sub: Subscription): {
  terms: LicenceTerms;
  start: LocalDate;
  end: LocalDate;
  /** the calendar's new anchor, when the billing period changes */
  anchorDate?: LocalDate;
} {
  const { s } = sub;
  const change = s.scheduledChange;
  if (change && change.terms.period !== s.terms.period) {
    const anchorDate = s.periodEnd!;
    return { terms: change.terms, ...nthPeriod(anchorDate, change.terms.period, 0), anchorDate };
  }
  return {
    terms: change?.terms ?? s.terms,
    ...nthPeriod(s.anchorDate!, s.terms.period, s.paidThroughIndex + 1),
  };
}

/**
 * Once the next period is paid (`periodPaid` done): the state takes the scheduled terms. With a new billing
 * period the calendar restarts at its anchor: the period just paid is its period 0, so this run continues
 * as new with index 0 (`nextRun` adds one to -1).
 */
export function applyScheduledChange(sub: Subscription, anchorDate: LocalDate | undefined): void {
  const { s } = sub;
  if (!s.scheduledChange) return;
  s.terms = s.scheduledChange.terms;
  s.scheduledChange = undefined;
  if (anchorDate) {
    s.anchorDate = anchorDate;
    s.periodIndex = -1;
    s.paidThroughIndex = 0;
  }
}

/** What the state allows; throws the refusal an update answers with. */
function checkSchedulable(sub: Subscription): void {
  const { s } = sub;
  sub.requireUsable();
  const refused = (reason: string, message: string) => refuse('CHANGE_REFUSED', message, { reason });
  if (!s.customerId || !s.paymentMethodId)
    throw refused('NO_SAVED_CARD', 'A change at the period end applies at a renewal charged to a saved card');
  if (s.status === 'PAST_DUE' || s.dunning)
    throw refused(
      'RENEWAL_IN_PROGRESS',
      'The renewal of this period is under way: the change would come too late',
    );
  if (sub.renewedAhead())
    throw refused('RENEWED_AHEAD', 'The next period is already paid at the current terms');
}

function termsOf(sub: Subscription, request: PeriodEndChangeRequest): LicenceTerms {
  const next = periodEndTerms(sub.s.terms, request);
  if (!next.ok)
    throw refuse('CHANGE_REFUSED', `This change can't be scheduled (${next.reason})`, {
      reason: next.reason,
    });
  return next.terms;
}

export function setScheduledChangeHandlers(sub: Subscription): void {
  const { s } = sub;

  setHandler(
    scheduleChangeUpdate,
    // under the money lock: never while the renewal that would apply it is being charged
    (request) =>
      sub.withMoneyLock(async () => {
        checkSchedulable(sub);
        const change = { terms: termsOf(sub, request), requestedOn: sub.today() };
        s.scheduledChange = change;
        await licenceChanges.saveScheduledChange({ licenceId: s.licenceId, change });
        return s;
      }),
    {
      validator: (request: PeriodEndChangeRequest) => {
        checkSchedulable(sub);
        // decided from today's terms: not while a change of them waits for the customer
        requireNoPendingCharge(sub);
        termsOf(sub, request);
      },
    },
  );

  setHandler(
    cancelScheduledChangeUpdate,
    () =>
      sub.withMoneyLock(async () => {
        // the renewal may have applied it while this waited for the lock
        if (!s.scheduledChange) throw noScheduledChange();
        s.scheduledChange = undefined;
        await licenceChanges.saveScheduledChange({ licenceId: s.licenceId, change: null });
        return s;
      }),
    {
      validator: () => {
        sub.requireUsable();
        if (!s.scheduledChange) throw noScheduledChange();
      },
    },
  );
}

const noScheduledChange = () =>
  refuse('NO_SCHEDULED_CHANGE', 'No change is scheduled for the period end of this licence');
