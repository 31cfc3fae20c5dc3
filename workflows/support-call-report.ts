/**
 * supportCallReportWorkflow: the report of one support call (id `support-call-report:<callId>`), emailed
 * once to the account after the call is recorded. A workflow rather than a mail from the request: the
 * send is retried until the SMTP server takes it, across crashes.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CreditActivities } from '../activities/credits';

const credits = proxyActivities<CreditActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});

export async function supportCallReportWorkflow(input: { supportCallId: string }): Promise<void> {
  await credits.sendSupportCallReport({ supportCallId: input.supportCallId });
}
