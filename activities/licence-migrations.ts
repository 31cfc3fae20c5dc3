/**
 * Side effects of licenceMigrationWorkflow. Every step is idempotent, keyed by the migration (one per base
 * and per v15 licence): a retried or replayed step finds its earlier work and does not do it twice.
 */
import { billingDetailsOf } from '../domain/billing-party';
import { dayOf } from '../domain/licence';
import { exclusiveEnd, migrationRefusal, type MigrationRefusal } from '../domain/migration';
import { addDays, type LocalDate } from '../domain/periods';
import type { Mailer } from '../infra/mailer';
import type { Db, PrismaClient } from '../infra/prisma';
import { systemActor } from '../services/actor';
import { audit } from '../services/audit';
import { readMigrationFacts } from '../services/migrations/migration-facts';
import { lockBasePurchases } from '../services/subscriptions/purchase-lock';

export interface LicenceMigrationActivityDeps {
  prisma: PrismaClient;
  mailer: Mailer;
}

export type MigrationCheck =
  { ok: true; today: LocalDate; a1Running: boolean } | ({ ok: false } & MigrationRefusal);

export interface A1LicenceFacts {
  a1LicenceId: string;
  edition: 'STANDARD' | 'ENTERPRISE';
  mode: 'LOCAL' | 'CLOUD';
  connections: number;
  /** first day of the A1 licence (the migration day) */
  periodStart: LocalDate;
  /** exclusive: the day after the v15 licence's last day */
  periodEnd: LocalDate;
}

const actor = systemActor('licenceMigrationWorkflow');

export function createLicenceMigrationActivities({ prisma, mailer }: LicenceMigrationActivityDeps) {
  /** The authoritative eligibility check; a refusal is recorded on the migration. */
  async function check(db: Db, migrationId: string, today: LocalDate): Promise<MigrationCheck> {
    const migration = await db.licenceMigration.findUniqueOrThrow({ where: { id: migrationId } });
    const { facts, a1 } = await readMigrationFacts(db, migration.baseId, migration.a1LicenceId);
    const refusal = migrationRefusal({
      v15: facts,
      today,
      a1Running: a1 !== null,
      override: migration.overrideReason !== null,
    });
    if (!refusal) return { ok: true, today, a1Running: a1 !== null };
    await db.licenceMigration.update({
      where: { id: migrationId },
      data: { status: 'REFUSED', refusalCode: refusal.code, refusalMessage: refusal.message },
    });
    await audit(db, actor, {
      action: 'licence_migration.refused',
      entityType: 'LICENCE_MIGRATION',
      entityId: migrationId,
      data: { code: refusal.code },
    });
    return { ok: false, ...refusal };
  }

  return {
    async checkMigration(input: { migrationId: string }): Promise<MigrationCheck> {
      return prisma.$transaction((tx) => check(tx, input.migrationId, dayOf(Date.now())));
    },

    /**
     * Creates the A1 licence (same edition, mode, connections; ends with the v15 licence; auto-renew off;
     * free), keyed by the migration: a retry returns the licence already created. Runs under the base's
     * purchase lock, so a purchase can't slip in between the check and the creation.
     */
    async createA1Licence(input: {
      migrationId: string;
      today: LocalDate;
      /** the base's subscriptionWorkflow, which carries the A1 licence unless this migration already runs one */
      subscriptionWorkflowId: string;
    }): Promise<({ ok: true } & A1LicenceFacts) | ({ ok: false } & MigrationRefusal)> {
      return prisma.$transaction(async (tx) => {
        const first = await tx.licenceMigration.findUniqueOrThrow({ where: { id: input.migrationId } });
        await lockBasePurchases(tx, first.baseId);
        const migration = await tx.licenceMigration.findUniqueOrThrow({ where: { id: input.migrationId } });
        const periodEnd = exclusiveEnd(migration.endDate as LocalDate);
        if (migration.a1LicenceId) {
          const a1 = await tx.licence.findUniqueOrThrow({ where: { id: migration.a1LicenceId } });
          return {
            ok: true as const,
            a1LicenceId: a1.id,
            edition: a1.edition,
            mode: a1.mode,
            connections: a1.connections,
            periodStart: a1.periodStart as LocalDate,
            periodEnd,
          };
        }
        const checked = await check(tx, migration.id, input.today);
        if (!checked.ok) return checked;
        const v15 = await tx.licence.findUniqueOrThrow({ where: { id: migration.v15LicenceId } });
        const base = await tx.base.findUnique({
          where: { id: migration.baseId },
          include: { account: true },
        });
        const account = base?.account?.status === 'ACTIVE' ? base.account : null;
        // renewals (once the customer saves a card) invoice the account's company; until then the
        // licence only needs an address for its emails
        const billing = account
          ? billingDetailsOf(account, migration.email)
          : { companyName: v15.holderName, email: migration.email };
        const a1 = await tx.licence.create({
          data: {
            baseId: migration.baseId,
            version: 'A1',
            edition: migration.edition,
            mode: migration.mode,
            connections: migration.connections,
            // the opening period ends with the v15 licence; were it renewed, it would be yearly from there
            period: 'ANNUAL',
            status: 'ACTIVE',
            anchorDate: periodEnd,
            periodStart: input.today,
            periodEnd,
            autoRenew: false,
            paymentMethod: 'FREE',
            holderName: v15.holderName,
            holderAccountId: account?.id ?? null,
            billing,
            workflowId: checked.a1Running ? migration.workflowId : input.subscriptionWorkflowId,
          },
        });
        await tx.licenceMigration.update({ where: { id: migration.id }, data: { a1LicenceId: a1.id } });
        await audit(tx, actor, {
          action: 'licence.migrated_from_v15',
          entityType: 'LICENCE',
          entityId: a1.id,
          data: { migrationId: migration.id, v15LicenceId: v15.id, lastDay: migration.endDate },
        });
        return {
          ok: true as const,
          a1LicenceId: a1.id,
          edition: a1.edition,
          mode: a1.mode,
          connections: a1.connections,
          periodStart: input.today,
          periodEnd,
        };
      });
    },

    /** The v15 licence is TRANSFERRED to the A1 licence (a no-op once done). */
    async markV15Transferred(input: { migrationId: string }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const migration = await tx.licenceMigration.findUniqueOrThrow({ where: { id: input.migrationId } });
        const { count } = await tx.licence.updateMany({
          where: { id: migration.v15LicenceId, status: { not: 'TRANSFERRED' } },
          data: { status: 'TRANSFERRED', transferredToId: migration.a1LicenceId },
        });
        if (count === 0) return;
        await audit(tx, actor, {
          action: 'licence.transferred',
          entityType: 'LICENCE',
          entityId: migration.v15LicenceId,
          data: { migrationId: migration.id, transferredToId: migration.a1LicenceId },
        });
      });
    },

    /**
     * The confirmation email, sent once: the migration records when it went out. (A crash in the instant
     * between the SMTP answer and that record would send it again on retry: at-least-once, like any mail.)
     */
    async sendMigrationConfirmation(input: { migrationId: string }): Promise<void> {
      const migration = await prisma.licenceMigration.findUniqueOrThrow({ where: { id: input.migrationId } });
      if (migration.confirmationSentAt) return;
      const connections = `${migration.connections} connexion${migration.connections > 1 ? 's' : ''}`;
      await mailer.send({
        to: migration.email,
        subject: 'Votre licence Gestan 15 est transférée vers Gestan A1',
        text:
          `Bonjour,\n\n` +
          `Le reliquat de votre licence Gestan 15 de la base ${migration.baseId} est transféré gracieusement ` +
          `vers une licence Gestan A1 ${migration.edition} ${migration.mode} (${connections}), ` +
          `valable jusqu'au ${migration.endDate} inclus. Votre licence Gestan 15 est désormais marquée transférée.\n\n` +
          `Le renouvellement automatique de la licence A1 est désactivé : à son échéance, la base repassera en ` +
          `STANDARD LOCAL (gratuit). Pour continuer en ${migration.edition}, souscrivez un abonnement A1 depuis ` +
          `l'écran Licence de Gestan à partir du ${addDays(migration.endDate as LocalDate, 1)}.\n\n` +
          `L'équipe Gestan`,
      });
      await prisma.licenceMigration.update({
        where: { id: migration.id },
        data: { confirmationSentAt: new Date() },
      });
    },

    async completeMigration(input: { migrationId: string; carriedBy: 'SUBSCRIPTION' | 'MIGRATION' }) {
      await prisma.$transaction(async (tx) => {
        const { count } = await tx.licenceMigration.updateMany({
          where: { id: input.migrationId, status: 'RUNNING' },
          data: { status: 'COMPLETED', completedAt: new Date() },
        });
        if (count === 0) return;
        await audit(tx, actor, {
          action: 'licence_migration.completed',
          entityType: 'LICENCE_MIGRATION',
          entityId: input.migrationId,
          data: { carriedBy: input.carriedBy },
        });
      });
    },
  };
}

export type LicenceMigrationActivities = ReturnType<typeof createLicenceMigrationActivities>;
