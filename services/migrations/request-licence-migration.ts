/**
 * The customer (or ops on their behalf) asks to transfer the base's v15 licence to A1. Eligibility is checked
 * here first, so a refusal is a 4xx at once and changes nothing; the migration is then recorded and
 * `licenceMigrationWorkflow` (one per base) does the steps, checking again. The answer waits a few seconds for
 * the outcome: COMPLETED (or the refusal) in the common case, RUNNING when no worker answered in time (the
 * ERP then reads `GET /bases/{baseId}/licence/migrations`).
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { LicenceMigration } from '../../generated/prisma/client';
import { AppError } from '../../domain/errors';
import { dayOf } from '../../domain/licence';
import { migrationRefusal, oneMonthAfter } from '../../domain/migration';
import { licenceMigrationWorkflowId } from '../../workflows/ids';
import {
  licenceMigrationWorkflow,
  migrationOutcomeUpdate,
  type LicenceMigrationOutcome,
} from '../../workflows/licence-migration';
import type { Actor } from '../actor';
import { audit } from '../audit';
import type { ServiceDeps } from '../deps';
import { importedEmail, readMigrationFacts } from './migration-facts';

export interface MigrationRequest {
  /** where the confirmation goes; default: the address imported with the v15 licence, then the base's account */
  email?: string;
  /** ops only: migrate although the base already has an A1 paid licence */
  override?: { reason: string };
}

export function migrationView(m: LicenceMigration) {
  return {
    migrationId: m.id,
    baseId: m.baseId,
    status: m.status,
    v15LicenceId: m.v15LicenceId,
    a1LicenceId: m.a1LicenceId,
    edition: m.edition,
    mode: m.mode,
    connections: m.connections,
    /** last day covered, by the v15 licence and now by the A1 licence */
    endDate: m.endDate,
    email: m.email,
    refusal: m.refusalCode ? { code: m.refusalCode, message: m.refusalMessage } : null,
    override: m.overrideReason ? { reason: m.overrideReason, by: m.overriddenBy } : null,
    requestedBy: { type: m.requestedByType, id: m.requestedById },
    confirmationSentAt: m.confirmationSentAt?.toISOString() ?? null,
    createdAt: m.createdAt.toISOString(),
    completedAt: m.completedAt?.toISOString() ?? null,
  };
}

export async function requestLicenceMigration(
  deps: ServiceDeps,
  options: { actor: Actor; baseId: string; request: MigrationRequest; waitMs?: number },
) {
  const { actor, baseId, request } = options;
  if (request.override && actor.type !== 'OPS') {
    throw new AppError('ROLE_REQUIRED', 'Only ops may migrate a base that already has an A1 paid licence');
  }
  const existing = await deps.prisma.licenceMigration.findUnique({ where: { baseId } });
  const { v15, facts, a1 } = await readMigrationFacts(deps.prisma, baseId, existing?.a1LicenceId);
  const today = dayOf(Date.now());
  const refusal = migrationRefusal({
    v15: facts,
    today,
    a1Running: a1 !== null,
    override: !!request.override,
  });
  if (refusal) {
    const details =
      refusal.code === 'MIGRATION_TOO_LATE'
        ? { endDate: facts!.endDate, mustEndAfter: oneMonthAfter(today) }
        : refusal.code === 'A1_LICENCE_ACTIVE'
          ? { licenceId: a1!.id, status: a1!.status }
          : refusal.code === 'ALREADY_TRANSFERRED'
            ? { transferredToId: v15!.transferredToId }
            : undefined;
    throw new AppError(refusal.code, refusal.message, details);
  }

  const base = await deps.prisma.base.findUnique({ where: { id: baseId }, include: { account: true } });
  const email =
    request.email ??
    importedEmail(v15!.billing) ??
    (base?.account?.status === 'ACTIVE' ? base.account.email : undefined);
  if (!email) {
    throw new AppError(
      'MIGRATION_EMAIL_REQUIRED',
      'Give the address the confirmation should go to: none was imported with the v15 licence and the base has no account',
    );
  }

  const workflowId = licenceMigrationWorkflowId(baseId);
  const migration = await deps.prisma.$transaction(async (tx) => {
    const fields = {
      v15LicenceId: v15!.id,
      status: 'RUNNING' as const,
      refusalCode: null,
      refusalMessage: null,
      endDate: facts!.endDate,
      edition: v15!.edition,
      mode: v15!.mode,
      connections: v15!.connections,
      email,
      requestedByType: actor.type,
      requestedById: actor.id,
      overrideReason: request.override?.reason ?? null,
      overriddenBy: request.override ? actor.id : null,
      workflowId,
    };
    const current = await tx.licenceMigration.findUnique({ where: { baseId } });
    // a migration under way is joined as it is; a refused one is asked again
    if (current?.status === 'RUNNING') return current;
    const saved = current
      ? await tx.licenceMigration.update({ where: { id: current.id }, data: fields })
      : await tx.licenceMigration.create({ data: { baseId, ...fields } });
    await audit(tx, actor, {
      action: 'licence_migration.requested',
      entityType: 'LICENCE_MIGRATION',
      entityId: saved.id,
      data: { baseId, v15LicenceId: saved.v15LicenceId, endDate: saved.endDate, override: request.override },
    });
    return saved;
  });

  const handle = await deps.temporal.workflow.start(licenceMigrationWorkflow, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [{ migrationId: migration.id, baseId, settings: deps.billing }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // a base is migrated once: a new run only after a refused one (the service refuses a transferred licence)
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });

  const outcome = await waitFor(handle.executeUpdate(migrationOutcomeUpdate), options.waitMs ?? 10_000);
  if (outcome?.status === 'REFUSED') throw new AppError(outcome.code, outcome.message);
  const latest = await deps.prisma.licenceMigration.findUniqueOrThrow({ where: { id: migration.id } });
  return migrationView(latest);
}

/** The outcome, or undefined when it did not come in time (no worker, or a slow one). */
async function waitFor(
  pending: Promise<LicenceMigrationOutcome>,
  ms: number,
): Promise<LicenceMigrationOutcome | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (error) {
    // the run closed meanwhile (it completed or was refused): the record says how
    const e = error as { name?: string; code?: number };
    if (e?.name === 'WorkflowNotFoundError' || e?.code === 5) return undefined;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

export async function getLicenceMigration(deps: ServiceDeps, baseId: string) {
  const migration = await deps.prisma.licenceMigration.findUnique({ where: { baseId } });
  if (!migration) throw new AppError('MIGRATION_NOT_FOUND', 'No migration was asked for this base');
  return migrationView(migration);
}

export async function listLicenceMigrations(
  deps: ServiceDeps,
  filter: { status?: LicenceMigration['status']; baseId?: string; limit: number; offset: number },
) {
  const where = {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.baseId ? { baseId: filter.baseId } : {}),
  };
  const [total, rows] = await Promise.all([
    deps.prisma.licenceMigration.count({ where }),
    deps.prisma.licenceMigration.findMany({
      where,
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
      skip: filter.offset,
    }),
  ]);
  return { total, items: rows.map(migrationView) };
}
