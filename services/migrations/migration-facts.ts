/** What the migration rules need to know about a base, read the same way by the service and the workflow. */
import type { V15LicenceFacts } from '../../domain/migration';
import type { LocalDate } from '../../domain/periods';
import { addDays } from '../../domain/periods';
import type { Db } from '../../infra/prisma';

export async function readMigrationFacts(db: Db, baseId: string, ownA1LicenceId?: string | null) {
  const v15 = await db.licence.findFirst({
    where: { baseId, version: 'V15' },
    orderBy: { createdAt: 'desc' },
  });
  // an A1 licence bought or being bought; the one this migration created does not count
  const a1 = await db.licence.findFirst({
    where: {
      baseId,
      version: 'A1',
      status: { in: ['PENDING', 'ACTIVE', 'PAST_DUE'] },
      ...(ownA1LicenceId ? { id: { not: ownA1LicenceId } } : {}),
    },
  });
  const facts: V15LicenceFacts | null =
    v15 && v15.periodEnd
      ? { status: v15.status, edition: v15.edition, endDate: addDays(v15.periodEnd as LocalDate, -1) }
      : null;
  return { v15, facts, a1 };
}

/** The address a v15 licence was imported with, if any. */
export function importedEmail(billing: unknown): string | undefined {
  const email = (billing as { email?: unknown } | null)?.email;
  return typeof email === 'string' ? email : undefined;
}
