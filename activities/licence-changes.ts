/**
 * Side effects of the changes a subscriptionWorkflow records for the period end (its renewal applies them,
 * in recordRenewal's transaction): the change is kept on the licence row, where the status screen reads it,
 * with its audit entry.
 */
import type { ScheduledChange } from '../domain/scheduled-change';
import type { PrismaClient } from '../infra/prisma';
import { Prisma } from '../generated/prisma/client';
import { systemActor } from '../services/actor';
import { audit } from '../services/audit';

export interface LicenceChangeActivityDeps {
  prisma: PrismaClient;
}

const actor = systemActor('subscriptionWorkflow');

export function createLicenceChangeActivities({ prisma }: LicenceChangeActivityDeps) {
  return {
    /** The change recorded for the period end (null: cancelled); writing the same value twice is harmless. */
    async saveScheduledChange(input: { licenceId: string; change: ScheduledChange | null }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.licence.update({
          where: { id: input.licenceId },
          data: {
            scheduledChange: input.change
              ? (input.change as unknown as Prisma.InputJsonObject)
              : Prisma.DbNull,
          },
        });
        await audit(tx, actor, {
          action: input.change ? 'licence.change_scheduled' : 'licence.scheduled_change_cancelled',
          entityType: 'LICENCE',
          entityId: input.licenceId,
          data: input.change ? { terms: input.change.terms, requestedOn: input.change.requestedOn } : {},
        });
      });
    },
  };
}

export type LicenceChangeActivities = ReturnType<typeof createLicenceChangeActivities>;
