/**
 * monthlyFeesWorkflow: charges every subscribed app's monthly fee on its account's wallet (SPEC §6). Run by
 * the Temporal Schedule `monthly-app-fees` on the 1st of each month (catch-up window: a run missed while
 * the cluster was down still happens), or by hand for a given month.
 *
 * The month comes from the run's scheduled time (`TemporalScheduledStartTime`), not from "now": a run that
 * starts late, or a catch-up, charges the month it was meant for. Each fee's idempotency key is
 * `app-fee:<account>:<app>:<YYYY-MM>`, so a schedule firing twice, an overlapping manual run or a retried
 * activity charges it once. Pages of subscriptions keep the history small; long runs continue-as-new.
 *
 * The run, in order (SPEC §6):
 * 1. fees left unpaid in earlier months are retried (their own month's key: never charged twice);
 * 2. the month's fees are charged; a wallet that can't pay is recorded as an unpaid fee;
 * 3. accounts with newly unpaid fees are mailed ("recharge your credits");
 * 4. the *previous* month's wallet consumption is invoiced, one invoice per account (idempotent per
 *    account and month), then the invoices are mailed.
 * consumptionInvoicesWorkflow runs step 4 alone for a month, by hand (ops).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AppFeeOutcome, CreditActivities } from '../activities/credits';
import { previousMonth } from '../domain/consumption-invoice';
import { monthOf, MONTH_PATTERN } from '../domain/credits';

export type MonthlyFeesPhase = 'RETRY' | 'FEES' | 'INVOICES';

export interface MonthlyFeesInput {
  /** YYYY-MM; default: the month of the scheduled time */
  month?: string;
  /** carried across continue-as-new */
  progress?: MonthlyFeesResult & {
    phase: MonthlyFeesPhase;
    afterId?: string;
    afterAccountId?: number;
    at: string;
  };
}

export interface ConsumptionInvoicesResult {
  /** the month invoiced */
  month: string;
  issued: number;
  alreadyIssued: number;
  mailed: number;
}

export interface MonthlyFeesResult {
  month: string;
  outcomes: Record<AppFeeOutcome, number>;
  refused: { accountId: number; accountAppId: string }[];
  /** unpaid fees of earlier months charged by this run, and those the wallets still can't pay */
  unpaidRetried?: { paid: number; stillUnpaid: number };
  /** accounts mailed about unpaid fees */
  unpaidMailed?: number;
  /** the previous month's consumption invoices */
  consumption?: ConsumptionInvoicesResult;
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
    unpaidRetried: input.progress?.unpaidRetried ?? { paid: 0, stillUnpaid: 0 },
    unpaidMailed: input.progress?.unpaidMailed ?? 0,
    consumption: input.progress?.consumption,
  };
  let phase: MonthlyFeesPhase = input.progress?.phase ?? 'RETRY';
  let afterId = input.progress?.afterId;
  let afterAccountId = input.progress?.afterAccountId;
  const carryOn = () =>
    continueAsNew<typeof monthlyFeesWorkflow>({
      month,
      progress: { ...result, phase, afterId, afterAccountId, at },
    });

  if (phase === 'RETRY') {
    for (;;) {
      const page = await credits.retryUnpaidAppFeesPage({ at, afterAccountId, limit: PAGE });
      result.unpaidRetried!.paid += page.paid;
      result.unpaidRetried!.stillUnpaid += page.stillUnpaid;
      afterAccountId = page.lastAccountId;
      if (!afterAccountId) break;
      if (workflowInfo().continueAsNewSuggested) return carryOn();
    }
    phase = 'FEES';
  }

  if (phase === 'FEES') {
    for (;;) {
      const page = await credits.chargeAppFeesPage({ month, at, afterId, limit: PAGE });
      for (const [k, n] of Object.entries(page.outcomes)) result.outcomes[k as AppFeeOutcome] += n;
      result.refused.push(...page.refused);
      afterId = page.lastId;
      if (!afterId) break;
      if (workflowInfo().continueAsNewSuggested) return carryOn();
    }
    for (;;) {
      const { mailed } = await credits.notifyUnpaidAppFees({ limit: PAGE });
      result.unpaidMailed! += mailed;
      if (mailed < PAGE) break;
    }
    phase = 'INVOICES';
    afterAccountId = undefined;
  }

  const invoiced = await invoiceConsumption(previousMonth(month), result.consumption, afterAccountId);
  if ('continueFrom' in invoiced) {
    result.consumption = invoiced.progress;
    afterAccountId = invoiced.continueFrom;
    return carryOn();
  }
  result.consumption = invoiced;
  return result;
}

/**
 * Step 4 of the monthly run: the month's consumption invoices, page by page, then their mails. Returns where
 * to continue when the history grows long.
 */
async function invoiceConsumption(
  month: string,
  progress: ConsumptionInvoicesResult | undefined,
  startAfter: number | undefined,
): Promise<ConsumptionInvoicesResult | { continueFrom: number; progress: ConsumptionInvoicesResult }> {
  const result = progress ?? { month, issued: 0, alreadyIssued: 0, mailed: 0 };
  let afterAccountId = startAfter;
  for (;;) {
    const page = await credits.issueConsumptionInvoicesPage({ month, afterAccountId, limit: PAGE });
    result.issued += page.issued;
    result.alreadyIssued += page.alreadyIssued;
    afterAccountId = page.lastAccountId;
    if (!afterAccountId) break;
    if (workflowInfo().continueAsNewSuggested) return { continueFrom: afterAccountId, progress: result };
  }
  for (;;) {
    const { mailed } = await credits.mailConsumptionInvoices({ month, limit: PAGE });
    result.mailed += mailed;
    if (mailed < PAGE) break;
  }
  return result;
}

export interface ConsumptionInvoicesInput {
  /** YYYY-MM consumed */
  month: string;
  progress?: ConsumptionInvoicesResult & { afterAccountId: number };
}

/**
 * A month's consumption invoices, by hand (`POST /ops/consumption-invoices`): the same step as the monthly
 * run, idempotent per account and month, so running it before, after or during the monthly run issues each
 * invoice once.
 */
export async function consumptionInvoicesWorkflow(
  input: ConsumptionInvoicesInput,
): Promise<ConsumptionInvoicesResult> {
  if (!MONTH_PATTERN.test(input.month)) throw new Error(`not a month: ${input.month}`);
  const invoiced = await invoiceConsumption(input.month, input.progress, input.progress?.afterAccountId);
  if ('continueFrom' in invoiced)
    return continueAsNew<typeof consumptionInvoicesWorkflow>({
      month: input.month,
      progress: { ...invoiced.progress, afterAccountId: invoiced.continueFrom },
    });
  return invoiced;
}
