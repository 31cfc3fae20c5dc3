/**
 * Ops load the v15 licences of the old licence server, in bulk. Each row is validated on its own; good rows
 * are upserted by base ID (one v15 licence per base), so importing the same file again changes nothing; bad
 * rows are reported with their line and reason and change nothing.
 *
 * The base itself is not created: a `Base` row means "claimed by a machine", and creating it here would make
 * the customer's first machine look like a second one (BASE_ALREADY_CLAIMED). Licences are keyed by base ID
 * alone, so the v15 licence waits for the base to register.
 */
import { dayOf } from '../../domain/licence';
import { exclusiveEnd } from '../../domain/migration';
import { addDays, daysBetween, type LocalDate } from '../../domain/periods';
import { validateImportRows, type ImportRowError, type V15ImportRow } from '../../domain/v15-import';
import { Prisma, type PrismaClient } from '../../infra/prisma';
import type { Actor } from '../actor';
import { audit } from '../audit';
import { importedEmail } from '../migrations/migration-facts';

export interface V15ImportResult {
  received: number;
  imported: number;
  updated: number;
  unchanged: number;
  rejected: number;
  errors: ImportRowError[];
}

type Outcome = 'imported' | 'updated' | 'unchanged' | { error: string };

export async function importV15Licences(
  prisma: PrismaClient,
  options: { actor: Actor; rows: { line: number; value: unknown }[] },
): Promise<V15ImportResult> {
  const { rows, errors } = validateImportRows(options.rows);
  const result: V15ImportResult = {
    received: options.rows.length,
    imported: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    errors: [...errors],
  };
  const today = dayOf(Date.now());
  for (const { line, row } of rows) {
    const outcome = await upsertRow(prisma, options.actor, row, today);
    if (typeof outcome === 'string') result[outcome] += 1;
    else result.errors.push({ line, baseId: row.baseId, reason: outcome.error });
  }
  result.errors.sort((a, b) => a.line - b.line);
  result.rejected = result.errors.length;
  return result;
}

function upsertRow(
  prisma: PrismaClient,
  actor: Actor,
  row: V15ImportRow,
  today: LocalDate,
): Promise<Outcome> {
  const wanted = {
    edition: row.edition,
    mode: row.mode,
    connections: row.connections,
    holderName: row.holder,
    periodEnd: exclusiveEnd(row.endDate),
    // a v15 licence past its last day is kept for the history, ENDED
    status: daysBetween(today, row.endDate) >= 0 ? ('ACTIVE' as const) : ('ENDED' as const),
    billing: row.email ? { email: row.email } : Prisma.DbNull,
  };
  return prisma.$transaction(async (tx): Promise<Outcome> => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`v15-import:${row.baseId}`}))`;
    const existing = await tx.licence.findFirst({
      where: { baseId: row.baseId, version: 'V15' },
      orderBy: { createdAt: 'desc' },
    });
    if (!existing) {
      const created = await tx.licence.create({ data: { baseId: row.baseId, version: 'V15', ...wanted } });
      await audit(tx, actor, {
        action: 'licence.v15_imported',
        entityType: 'LICENCE',
        entityId: created.id,
        data: { ...row },
      });
      return 'imported';
    }
    const same =
      existing.edition === wanted.edition &&
      existing.mode === wanted.mode &&
      existing.connections === wanted.connections &&
      existing.holderName === wanted.holderName &&
      existing.periodEnd === wanted.periodEnd &&
      importedEmail(existing.billing) === row.email &&
      // a licence whose last day has passed since the previous import is marked ENDED now
      (existing.status === wanted.status || existing.status === 'TRANSFERRED');
    if (same) return 'unchanged';
    if (existing.status === 'TRANSFERRED') {
      return { error: 'ALREADY_TRANSFERRED: this v15 licence was migrated to A1 and is no longer changed' };
    }
    await tx.licence.update({
      where: { id: existing.id },
      data: wanted,
    });
    await audit(tx, actor, {
      action: 'licence.v15_updated',
      entityType: 'LICENCE',
      entityId: existing.id,
      data: {
        before: {
          edition: existing.edition,
          mode: existing.mode,
          connections: existing.connections,
          holder: existing.holderName,
          endDate: existing.periodEnd ? addDays(existing.periodEnd as LocalDate, -1) : null,
          email: importedEmail(existing.billing),
        },
        after: { ...row },
      },
    });
    return 'updated';
  });
}
