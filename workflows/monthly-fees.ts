/**
 * monthlyFeesWorkflow: charges every subscribed app's monthly fee on its account's wallet (SPEC §6). Run by
 * the Temporal Schedule `monthly-app-fees` on the 1st of each month (catch-up window: a run missed while
 * the cluster was down still happens), or by hand for a given month.
 *
 * The month comes from the run's scheduled time (`TemporalScheduledStartTime`), not from "now": a run that
 * starts late, or a catch-up, charges the month it was meant for. Each fee's idempotency key is
 * `app-fee:<account>:<app>:<YYYY-MM>`, so a schedule firing twice, an overlapping manual run or a retried
 * activity charges it once. Pages of subscriptions keep the history small; long runs continue-as-new.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AppFeeOutcome, CreditActivities } from '../activities/credits';
import { monthOf, MONTH_PATTERN } from '../domain/credits';

export interface MonthlyFeesInput {
  /** YYYY-MM; default: the month of the scheduled time */
  month?: string;
  /** carried across continue-as-new */
  progress?: MonthlyFeesResult & { afterId?: string; at: string };
}

export interface MonthlyFeesResult {
  month: string;
  outcomes: Record<AppFeeOutcome, number>;
  refused: { accountId: number; accountAppId: string }[];
}

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
const PAGE = 200;

const credits = proxyActivities<CreditActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
});

export async function monthlyFeesWorkflow(input: MonthlyFeesInput = {}): Promise<MonthlyFeesResult> {
  const scheduled = workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
  const when = scheduled ?? new Date(Date.now());
  const month = input.progress?.month ?? input.month ?? monthOf(when);
  if (!MONTH_PATTERN.test(month)) throw new Error(`not a month: ${month}`);
  // movements are dated at the scheduled time; a run by hand for a past month, at the month's first instant
  const at =
    input.progress?.at ??
    (input.month && input.month !== monthOf(when) ? `${input.month}-01T00:00:00.000Z` : when.toISOString());

  const result: MonthlyFeesResult = {
    month,
    outcomes: input.progress?.outcomes ?? {
      CHARGED: 0,
      ALREADY_CHARGED: 0,
      INSUFFICIENT_CREDIT: 0,
      NOT_DUE: 0,
    },
    refused: input.progress?.refused ?? [],
  };
  let afterId = input.progress?.afterId;
  for (;;) {
    const page = await credits.chargeAppFeesPage({ month, at, afterId, limit: PAGE });
    for (const [k, n] of Object.entries(page.outcomes)) result.outcomes[k as AppFeeOutcome] += n;
    result.refused.push(...page.refused);
    afterId = page.lastId;
    if (!afterId) return result;
    if (workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof monthlyFeesWorkflow>({ month, progress: { ...result, afterId, at } });
    }
  }
}
