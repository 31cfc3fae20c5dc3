/**
 * licenceMigrationWorkflow: one per base (id `licence-migration:<baseId>`), transfers the remaining time of
 * an ENTERPRISE v15 licence, free, to an A1 licence of the same base (SPEC §3, last point).
 *
 * 1. check eligibility (authoritative: the service checked already, but things may have changed);
 * 2. create the A1 licence: same edition, mode and connections, ending on the v15 end date, auto-renew off;
 * 3. mark the v15 licence TRANSFERRED to it;
 * 4. start the base's subscriptionWorkflow on that A1 licence, directly ACTIVE in an opening period that ends
 *    with the v15 licence (reminder, then end: the base falls back to STANDARD LOCAL unless renewed);
 * 5. email the confirmation; record the migration COMPLETED.
 *
 * Each step is an idempotent activity keyed by the migration, so a worker crash between steps resumes
 * without duplicating anything. When ops migrated a base that already has a paid A1 licence (override), that
 * licence keeps the base's subscriptionWorkflow; this workflow then carries the migrated licence to its end.
 */
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import type { LicenceMigrationActivities } from '../activities/licence-migrations';
import type { SubscriptionActivities } from '../activities/subscriptions';
import type { SubscriptionSettings } from '../domain/licence';
import { startOfDayMs } from '../domain/licence';
import type { MigrationRefusalCode } from '../domain/migration';
import { addDays, type LocalDate } from '../domain/periods';
import { subscriptionWorkflowId } from './ids';
import { openingPeriodState, subscriptionWorkflow } from './subscription';

export interface LicenceMigrationInput {
  migrationId: string;
  baseId: string;
  settings: SubscriptionSettings;
}

export type LicenceMigrationStep =
  | 'CHECKING'
  | 'CREATING_A1'
  | 'MARKING_V15'
  | 'STARTING_SUBSCRIPTION'
  | 'CONFIRMING'
  | 'COMPLETED'
  | 'REFUSED';

export type LicenceMigrationOutcome =
  | {
      status: 'COMPLETED';
      a1LicenceId: string;
      periodEnd: LocalDate;
      carriedBy: 'SUBSCRIPTION' | 'MIGRATION';
    }
  | { status: 'REFUSED'; code: MigrationRefusalCode; message: string };

export const getLicenceMigrationStepQuery = defineQuery<LicenceMigrationStep>('getLicenceMigrationStep');
/** Waits until the migration is done or refused (not for the end of a licence this workflow carries). */
export const migrationOutcomeUpdate = defineUpdate<LicenceMigrationOutcome>('migrationOutcome');

const migrations = proxyActivities<LicenceMigrationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const subscriptions = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

function alreadyStarted(error: unknown): boolean {
  return (error as { name?: string })?.name === 'WorkflowExecutionAlreadyStartedError';
}

export async function licenceMigrationWorkflow(
  input: LicenceMigrationInput,
): Promise<LicenceMigrationOutcome> {
  const { migrationId } = input;
  let step: LicenceMigrationStep = 'CHECKING';
  let outcome: LicenceMigrationOutcome | undefined;
  setHandler(getLicenceMigrationStepQuery, () => step);
  setHandler(migrationOutcomeUpdate, async () => {
    await condition(() => outcome !== undefined);
    return outcome!;
  });
  const finish = async (result: LicenceMigrationOutcome) => {
    outcome = result;
    await condition(allHandlersFinished);
    return result;
  };

  const checked = await migrations.checkMigration({ migrationId });
  if (!checked.ok) {
    step = 'REFUSED';
    return finish({ status: 'REFUSED', code: checked.code, message: checked.message });
  }

  step = 'CREATING_A1';
  const a1 = await migrations.createA1Licence({
    migrationId,
    today: checked.today,
    subscriptionWorkflowId: subscriptionWorkflowId(input.baseId),
  });
  if (!a1.ok) {
    step = 'REFUSED';
    return finish({ status: 'REFUSED', code: a1.code, message: a1.message });
  }

  step = 'MARKING_V15';
  await migrations.markV15Transferred({ migrationId });

  step = 'STARTING_SUBSCRIPTION';
  let carriedBy: 'SUBSCRIPTION' | 'MIGRATION' = 'MIGRATION';
  if (!checked.a1Running) {
    // period -1: the opening period carried over from v15, [migration day, v15 end); anchored periods
    // (index 0 onwards) would start at its end
    const state = openingPeriodState({
      baseId: input.baseId,
      licenceId: a1.a1LicenceId,
      terms: { edition: a1.edition, mode: a1.mode, connections: a1.connections, period: 'ANNUAL' },
      periodStart: a1.periodStart,
      periodEnd: a1.periodEnd,
    });
    try {
      await startChild(subscriptionWorkflow, {
        workflowId: subscriptionWorkflowId(input.baseId),
        args: [{ state }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      carriedBy = 'SUBSCRIPTION';
    } catch (error) {
      // a subscription of the base started meanwhile: it keeps its licence, this workflow carries ours
      if (!alreadyStarted(error)) throw error;
    }
  }

  step = 'CONFIRMING';
  await migrations.sendMigrationConfirmation({ migrationId });
  await migrations.completeMigration({ migrationId, carriedBy });
  step = 'COMPLETED';
  outcome = { status: 'COMPLETED', a1LicenceId: a1.a1LicenceId, periodEnd: a1.periodEnd, carriedBy };

  if (carriedBy === 'MIGRATION') {
    // the base's subscriptionWorkflow belongs to its paid licence: end the migrated one here, on time
    const endMs = startOfDayMs(a1.periodEnd);
    // like a licence its subscriptionWorkflow carries, warn the customer before the end
    const reminderMs = startOfDayMs(addDays(a1.periodEnd, -input.settings.renewalReminderDays));
    if (Date.now() < reminderMs) {
      await sleep(reminderMs - Date.now());
      await subscriptions.sendLicenceMail({
        licenceId: a1.a1LicenceId,
        kind: 'END_REMINDER',
        periodEnd: a1.periodEnd,
      });
    }
    if (Date.now() < endMs) await sleep(endMs - Date.now());
    await subscriptions.endLicence({ licenceId: a1.a1LicenceId, status: 'ENDED', reason: 'NOT_RENEWED' });
    await subscriptions.sendLicenceMail({
      licenceId: a1.a1LicenceId,
      kind: 'ENDED',
      periodEnd: a1.periodEnd,
    });
  }
  return finish(outcome);
}
