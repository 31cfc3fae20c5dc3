/**
 * Dunning: what happens after a renewal payment fails. The schedule is policy (DUNNING_RETRY_DAYS, read when
 * a failure happens, not frozen into a running subscription); the licence stays usable (PAST_DUE) until the
 * last retry fails — that is the grace — and then a LOCAL licence ends while a CLOUD one is suspended.
 */
import type { LocalDate } from './periods';
import { addDays } from './periods';
import type { Mode } from './catalog';

export interface DunningPolicy {
  /** days after the period end of each retry, in order; one failure more than retries and it is over */
  dunningRetryDays: readonly number[];
}

/**
 * The day of the next retry after `failures` failed attempts of the renewal due at `periodEnd`, or
 * undefined when the schedule is exhausted (the licence falls back).
 */
export function nextRetryOn(
  policy: DunningPolicy,
  periodEnd: LocalDate,
  failures: number,
): LocalDate | undefined {
  if (failures < 1 || failures > policy.dunningRetryDays.length) return undefined;
  return addDays(periodEnd, policy.dunningRetryDays[failures - 1]!);
}

/** After the last failure: LOCAL licences end (the base falls back to STANDARD LOCAL), CLOUD ones are suspended. */
export function afterLastFailure(mode: Mode): 'SUSPENDED' | 'ENDED' {
  return mode === 'CLOUD' ? 'SUSPENDED' : 'ENDED';
}
